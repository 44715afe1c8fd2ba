"""Stored product types: what each product is typed as, and a user's correction of one type.

The reads and the write behind ``shrinkage products list --type TYPE`` and ``shrinkage
products set-type NAME TYPE``, so the CLI and the dashboard stay thin adapters. The caller
owns the transaction (``DatabaseService.transaction()``) and, after it commits, drops the
cached names and types: ``cache.invalidate(engine, cache.NOMENCLATURE)``.

A correction sticks across re-ingests and refits: loading a report only types products it
creates (``shrinkage.db.load.nomenclature_ids``) and fitting reads the stored type. A keyword
import re-reads only types that the name alone explains (``shrinkage.products.reclassified``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shrinkage.config import DEFAULT_PRODUCT_TYPE_KEYWORDS, OTHER_PRODUCT_TYPE
from shrinkage.db.models import Nomenclature
from shrinkage.db.services import normalize_name
from shrinkage.products import KeywordTable, ProductType, resolve_type


class UnknownProduct(LookupError):
    """A product name that is not in the nomenclature; the message suggests the closest one."""


@dataclass(frozen=True)
class StoredProduct:
    id: int
    name: str
    product_type: str | None
    product_type_code: str | None


@dataclass(frozen=True)
class TypeChange:
    name: str
    old_type: str | None
    new_type: ProductType

    @property
    def changed(self) -> bool:
        return self.old_type != self.new_type.name


def list_products(session: Session, product_type: str | None = None) -> list[StoredProduct]:
    """Products by name, all or of one type (``other`` includes products with no type)."""
    n = Nomenclature
    stmt = select(n.id, n.name, n.product_type, n.product_type_code).order_by(n.name, n.id)
    if product_type == OTHER_PRODUCT_TYPE[0]:
        stmt = stmt.where(or_(n.product_type == product_type, n.product_type.is_(None)))
    elif product_type is not None:
        stmt = stmt.where(n.product_type == product_type)
    return [StoredProduct(*row) for row in session.execute(stmt).tuples()]


def unknown_product_hint(name: str, names: Iterable[str]) -> str:
    """What to tell a user whose product name is not in the nomenclature."""
    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else "ingest a report that lists it first"


def find_product(session: Session, name: str) -> Nomenclature:
    """The product of this name (case, spaces and Ё as Е do not matter); UnknownProduct if none."""
    found = session.scalars(select(Nomenclature).where(Nomenclature.normalized_name == normalize_name(name))).first()
    if found is None:
        hint = unknown_product_hint(name, session.scalars(select(Nomenclature.name)))
        raise UnknownProduct(f"product '{name}' is not in the nomenclature: {hint}")
    return found


def set_product_type(session: Session, name: str, product_type: str,
                     table: KeywordTable = DEFAULT_PRODUCT_TYPE_KEYWORDS) -> TypeChange:
    """Give one product the type a user names (type name or code of ``table``)."""
    new = resolve_type(product_type, table)
    product = find_product(session, name)
    change = TypeChange(product.name, product.product_type, new)
    product.product_type, product.product_type_code = new.name, new.code
    session.flush()
    return change

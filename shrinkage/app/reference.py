"""Storing validated reference data, one file per transaction (all or nothing).

Surplus specifications are keyed by (product, start date) and priority periods by
(start, end): importing the same file twice updates rather than duplicates. The product-type
keyword table has no table in the schema; it is kept as a JSON file (``Settings.
keywords_file``, in the project home) and importing it reclassifies the stored products in the same
transaction (by name only: a type that the product's group or a user gave, which the name alone does
not explain, stays).
Every import invalidates the cached reference data it touches.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from shrinkage.config import DEFAULT_PRODUCT_TYPE_KEYWORDS, get_settings
from shrinkage.db import cache
from shrinkage.db.models import Nomenclature, PriorityPeriod, SurplusSpecification
from shrinkage.db.product_types import unknown_product_hint
from shrinkage.db.services import Crud, DatabaseService, normalize_name
from shrinkage.products import reclassified
from shrinkage.reference_data import ParsedFile, Problem, ReferenceImportError, keyword_table, parse_file

log = logging.getLogger(__name__)

KeywordTable = tuple[tuple[str, str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class ImportOutcome:
    kind: str
    source: str
    inserted: int
    updated: int
    detail: str = ""

    @property
    def message(self) -> str:
        extra = f"; {self.detail}" if self.detail else ""
        return f"{self.source}: {self.inserted} added, {self.updated} updated ({self.kind}){extra}"


def import_reference_file(engine: Engine, kind: str, path: Path, user: str | None = None,
                          keywords_file: Path | None = None) -> ImportOutcome:
    """Validate ``path`` as ``kind`` and store it in one transaction; raises ReferenceImportError."""
    parsed = parse_file(kind, Path(path))
    service = DatabaseService(engine)
    if kind == "surplus-specifications":
        outcome = _store_specifications(service, parsed, user)
    elif kind == "priority-periods":
        outcome = _store_periods(service, parsed, user)
    else:
        outcome = _store_keywords(service, parsed, keywords_file or get_settings().keywords_file)
    log.info("%s", outcome.message)
    return outcome


def _store_specifications(service: DatabaseService, parsed: ParsedFile, user: str | None) -> ImportOutcome:
    inserted = updated = 0
    with service.transaction() as crud:
        products = _product_ids(crud, parsed)
        for row in parsed.rows:
            values = {k: row[k] for k in ("surplus_percentage", "specification_end_date", "is_active", "notes")}
            values["created_by"] = row.get("created_by") or user
            key = {"nomenclature_id": products[row["row"]],
                   "specification_start_date": row["specification_start_date"]}
            if crud.update_or_create(SurplusSpecification, key, values):
                inserted += 1
            else:
                updated += 1
    return ImportOutcome(parsed.kind, parsed.source, inserted, updated)


def _product_ids(crud: Crud, parsed: ParsedFile) -> dict[int, int]:
    """row number -> nomenclature id; every unknown product is a problem with a suggestion."""
    wanted = {row["row"]: normalize_name(row["product"]) for row in parsed.rows}
    found = dict(crud.session.execute(
        select(Nomenclature.normalized_name, Nomenclature.id)
        .where(Nomenclature.normalized_name.in_(sorted(set(wanted.values()))))).all())
    missing = {line: key for line, key in wanted.items() if key not in found}
    if missing:
        names = list(crud.session.scalars(select(Nomenclature.name)))
        problems = []
        for row in parsed.rows:
            if row["row"] in missing:
                hint = unknown_product_hint(row["product"], names)
                problems.append(Problem(row["row"], "product",
                                        f"product '{row['product']}' is not in the nomenclature: {hint}"))
        raise ReferenceImportError(parsed.source, problems)
    return {line: found[key] for line, key in wanted.items()}


def _store_periods(service: DatabaseService, parsed: ParsedFile, user: str | None) -> ImportOutcome:
    inserted = updated = 0
    with service.transaction() as crud:
        for row in parsed.rows:
            key = {"period_start": row["period_start"], "period_end": row["period_end"]}
            values = {"priority_level": row["priority_level"], "description": row.get("description"),
                      "active": row["active"], "created_by": row.get("created_by") or user}
            if crud.update_or_create(PriorityPeriod, key, values):
                inserted += 1
            else:
                updated += 1
    return ImportOutcome(parsed.kind, parsed.source, inserted, updated)


def _store_keywords(service: DatabaseService, parsed: ParsedFile, keywords_file: Path) -> ImportOutcome:
    table = keyword_table(parsed)
    keywords_file = Path(keywords_file)
    previous = product_type_keywords(keywords_file)
    keywords_file.parent.mkdir(parents=True, exist_ok=True)
    staged = keywords_file.with_suffix(keywords_file.suffix + ".tmp")
    staged.write_text(json.dumps([{"product_type": t, "product_type_code": c, "keywords": list(k)}
                                  for t, c, k in table], ensure_ascii=False, indent=2), encoding="utf-8")
    changed = 0
    try:
        with service.transaction() as crud:
            for product in crud.session.scalars(select(Nomenclature)):
                kind = reclassified(product.name, product.product_type, table, previous)
                if kind is not None and (product.product_type, product.product_type_code) != (kind.name, kind.code):
                    product.product_type, product.product_type_code = kind.name, kind.code
                    changed += 1
            crud.session.flush()
            # Publish the file only when the reclassification is about to commit.
            os.replace(staged, keywords_file)
    finally:
        staged.unlink(missing_ok=True)
    cache.invalidate(service.engine, cache.NOMENCLATURE)
    cache.invalidate(_keywords_key(keywords_file), cache.PRODUCT_TYPE_KEYWORDS)
    return ImportOutcome(parsed.kind, parsed.source, len(table), 0,
                         f"{changed} product(s) reclassified; table saved to {keywords_file}")


def _keywords_key(path: Path) -> str:
    return f"file:{Path(path).resolve()}"


def product_type_keywords(keywords_file: Path | None = None) -> KeywordTable:
    """The imported keyword table (cached), else the default of ``shrinkage.config``."""
    path = Path(keywords_file or get_settings().keywords_file)

    def load() -> KeywordTable:
        if not path.is_file():
            return DEFAULT_PRODUCT_TYPE_KEYWORDS
        doc = json.loads(path.read_text(encoding="utf-8"))
        return tuple((d["product_type"], d["product_type_code"], tuple(d["keywords"])) for d in doc)

    return cache.cached(_keywords_key(path), cache.PRODUCT_TYPE_KEYWORDS, load)

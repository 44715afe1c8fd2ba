"""The stores of a chain (``warehouses``): a file's warehouse name -> its row.

A chain exports one statement per store with the same product names; shrinkage is a property
of a product in a store, so every per-store row carries the store's id. A store is one row per
name up to case, spaces and Ё (the identity rule of product names), created on first sight.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from shrinkage.db.bulk import insert_returning_ids_on
from shrinkage.db.models import Warehouse
from shrinkage.db.services import normalize_name


@dataclass(frozen=True)
class StoredWarehouse:
    id: int
    name: str


def warehouse_key(name: str) -> str:
    """The identity of a store's name (as of a product's: case, spaces and Ё do not matter)."""
    return normalize_name(name)


def clean_name(name: str) -> str:
    return " ".join(name.replace("\u00a0", " ").split())


def warehouse_id(connection: Connection, name: str) -> int:
    """The id of the store called ``name``, created when new (in the caller's transaction)."""
    key = warehouse_key(name)
    found = connection.execute(select(Warehouse.id).where(Warehouse.normalized_name == key)).scalar()
    if found is not None:
        return found
    row = {"name": clean_name(name), "normalized_name": key}
    return insert_returning_ids_on(connection, Warehouse.__table__, [row])[0]


def list_warehouses(connection: Connection) -> list[StoredWarehouse]:
    rows = connection.execute(select(Warehouse.id, Warehouse.name).order_by(Warehouse.name, Warehouse.id))
    return [StoredWarehouse(*row) for row in rows]


def find_warehouse(connection: Connection, name: str) -> StoredWarehouse | None:
    row = connection.execute(select(Warehouse.id, Warehouse.name)
                             .where(Warehouse.normalized_name == warehouse_key(name))).first()
    return StoredWarehouse(*row) if row else None

"""Streaming any table out of the database in pages, for `shrinkage export TABLE`.

Tables with an integer ``id`` are read by keyset pagination (``id > last`` ordered by id,
the primary-key index), so the millionth row costs what the first did; OFFSET paging and
the per-page COUNT of ``Crud.list`` would grow with the table. Filters use the service
layer's ``filter_clauses`` so the same ``{"column__op": value}`` syntax works everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Engine

from shrinkage.db.models import Base
from shrinkage.db.services import DatabaseService, filter_clauses


class UnknownTable(LookupError):
    pass


def table_names() -> list[str]:
    return sorted(Base.metadata.tables)


def table(name: str) -> Table:
    try:
        return Base.metadata.tables[name]
    except KeyError:
        raise UnknownTable(f"no table '{name}': choose one of {', '.join(table_names())}") from None


def count_rows(engine: Engine, name: str, filters: Mapping[str, Any] | None = None) -> int:
    tbl = table(name)
    with DatabaseService(engine).transaction() as crud:
        counted = select(func.count()).select_from(tbl).where(*filter_clauses(tbl, filters))
        return crud.session.execute(counted).scalar_one()


def iter_pages(engine: Engine, name: str, page_rows: int = 5000,
               filters: Mapping[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
    """The table's rows as lists of dicts (column -> value), ``page_rows`` at a time, by key."""
    tbl = table(name)
    clauses = filter_clauses(tbl, filters)
    keyed = "id" in tbl.c and tbl.c["id"].primary_key
    with DatabaseService(engine).transaction() as crud:
        if not keyed:  # association tables: small, composite keys; one ordered pass
            stmt = select(tbl).where(*clauses).order_by(*tbl.primary_key.columns)
            result = crud.session.execute(stmt.execution_options(yield_per=page_rows))
            for part in result.mappings().partitions(page_rows):
                yield [dict(r) for r in part]
            return
        last = None
        while True:
            stmt = select(tbl).where(*clauses)
            if last is not None:
                stmt = stmt.where(tbl.c["id"] > last)
            rows = [dict(r) for r in crud.session.execute(stmt.order_by(tbl.c["id"]).limit(page_rows)).mappings()]
            if not rows:
                return
            yield rows
            last = rows[-1]["id"]

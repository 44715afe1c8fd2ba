"""Archive old time-series rows (and back), and clean up obsolete rows."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, MetaData, Table, and_, delete, exists, func, insert, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import aliased

from shrinkage.config import CONFIG
from shrinkage.db.catalog import TABLES
from shrinkage.db.catalog import live_table as _live

log = logging.getLogger(__name__)

ARCHIVE_SCHEMA = "archive"


def archive_table(connection: Connection, table: Table) -> Table:
    """Same columns, no constraints: ``archive.<name>`` on PostgreSQL, ``archive_<name>`` on SQLite."""
    columns = [Column(c.name, c.type) for c in table.columns]
    if connection.dialect.name == "postgresql":
        return Table(table.name, MetaData(), *columns, schema=ARCHIVE_SCHEMA)
    return Table(f"archive_{table.name}", MetaData(), *columns)


def _archive_plan(before: datetime) -> list[tuple[Table, Any]]:
    """(table, rows to move) children first: calculation rows older than ``before`` and all hanging on them."""
    calc, coef, bm = _live("calculation_data"), _live("coefficients"), _live("batch_movements")
    old_calc = select(calc.c.id).where(calc.c.calculation_date < before)
    old_coef = select(coef.c.id).where(coef.c.calculation_data_id.in_(old_calc))
    return [
        (_live("forecasts"), _live("forecasts").c.coefficient_id.in_(old_coef)),
        (coef, coef.c.calculation_data_id.in_(old_calc)),
        (_live("preliminary_forecasts"), _live("preliminary_forecasts").c.calculation_data_id.in_(old_calc)),
        (_live("validation_errors"), _live("validation_errors").c.calculation_data_id.in_(old_calc)),
        (_live("data_lineage"), _live("data_lineage").c.calculation_data_id.in_(old_calc)),
        (bm, or_(bm.c.calculation_data_id.in_(old_calc), bm.c.document_datetime < before)),
        (calc, calc.c.calculation_date < before),
    ]


ARCHIVED_PARENTS_FIRST = [table for table, _ in reversed(_archive_plan(datetime(2000, 1, 1)))]


def archive(engine: Engine, before: datetime) -> dict[str, int]:
    """Move calculation rows dated before ``before`` (and their movements, coefficients,
    forecasts, errors, lineage) to the archive, in one transaction. Rows per table moved."""
    moved: dict[str, int] = {}
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {ARCHIVE_SCHEMA}")
        for table, condition in _archive_plan(before):
            target = archive_table(conn, table)
            target.create(conn, checkfirst=True)
            names = [c.name for c in target.columns]
            conn.execute(insert(target).from_select(names, select(*[table.c[n] for n in names]).where(condition)))
            moved[table.name] = conn.execute(delete(table).where(condition)).rowcount
    log.info("archived rows before %s: %s", before.date(), moved)
    return moved


def archived_tables(connection: Connection) -> list[Table]:
    if connection.dialect.name == "postgresql":
        present = (set(connection.dialect.get_table_names(connection, schema=ARCHIVE_SCHEMA))
                   if connection.dialect.has_schema(connection, ARCHIVE_SCHEMA) else set())
    else:
        present = set(connection.dialect.get_table_names(connection))
    tables = []
    for table in ARCHIVED_PARENTS_FIRST:
        candidate = archive_table(connection, table)
        if candidate.name in present:
            tables.append(candidate)
    return tables


def restore_archive(engine: Engine) -> dict[str, int]:
    """Put every archived row back (parents first) and empty the archive. Rows per table."""
    restored: dict[str, int] = {}
    with engine.begin() as conn:
        for stored in archived_tables(conn):
            live_name = stored.name.removeprefix("archive_") if stored.schema is None else stored.name
            live = _live(live_name)
            names = [c.name for c in stored.columns if c.name in live.c]
            conn.execute(insert(live).from_select(names, select(*[stored.c[n] for n in names])))
            restored[live_name] = conn.execute(delete(stored)).rowcount
    log.info("restored archived rows: %s", restored)
    return restored


# --- cleanup ----------------------------------------------------------------------------

def _cleanup_plan(connection: Connection, cutoff: datetime) -> dict[str, tuple[Table, Any]]:
    errors, sources, products = _live("validation_errors"), _live("source_data"), _live("nomenclature")
    newer = aliased(sources)
    referencing = [fk.parent for t in TABLES for fk in t.foreign_keys if fk.column.table is products]
    for stored in archived_tables(connection):  # archived rows keep their products alive
        if "nomenclature_id" in stored.c:
            referencing.append(stored.c.nomenclature_id)
    unused = and_(products.c.created_at < cutoff,
                  *[~exists().where(column == products.c.id) for column in referencing])
    return {
        "resolved validation errors": (errors, and_(errors.c.resolved.is_(True),
                                                    errors.c.resolution_date < cutoff)),
        "rejected source files replaced by a later version": (sources, and_(
            sources.c.processed.is_(False), sources.c.upload_date < cutoff,
            exists().where(newer.c.file_name == sources.c.file_name, newer.c.processed.is_(True),
                           newer.c.upload_date > sources.c.upload_date))),
        "products no row refers to": (products, unused),
    }


def cleanup(engine: Engine, *, older_than_days: int = CONFIG.operations.cleanup_after_days,
            dry_run: bool = False) -> dict[str, int]:
    """Delete obsolete rows older than the cut (or only count them with ``dry_run``).

    Conservative on purpose: resolved validation errors, rejected files that a later
    version of the same file replaced, and products nothing (not even the archive) refers to.
    """
    cutoff = datetime.now() - timedelta(days=older_than_days)
    found: dict[str, int] = {}
    with engine.begin() as conn:
        for what, (table, condition) in _cleanup_plan(conn, cutoff).items():
            if dry_run:
                found[what] = conn.execute(select(func.count()).select_from(table).where(condition)).scalar_one()
            else:
                found[what] = conn.execute(delete(table).where(condition)).rowcount
    log.info("cleanup%s (older than %d days): %s", " (dry run)" if dry_run else "", older_than_days, found)
    return found

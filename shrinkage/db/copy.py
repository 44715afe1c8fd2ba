"""Copy every table into an empty database (typically SQLite -> PostgreSQL), verified by row
counts and order-independent checksums (fingerprints)."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alembic import command
from sqlalchemy import Table, insert, select, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

from shrinkage.config import CONFIG, mask_url
from shrinkage.db import migrate
from shrinkage.db.analytics_views import refresh_analytics
from shrinkage.db.catalog import TABLES, OpsError, quote, row_counts, secret_free
from shrinkage.db.engine import describe_target, make_engine

log = logging.getLogger(__name__)

_CHECKSUM_MOD = 2 ** 128


def canonical_value(value: Any) -> str:
    """One text form per value, the same whether it was read from SQLite or PostgreSQL."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)  # shortest round-trip form: both databases hold the same double
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def row_digest(row: Iterable[Any]) -> int:
    encoded = json.dumps([canonical_value(v) for v in row], ensure_ascii=False).encode("utf-8")
    return int.from_bytes(hashlib.sha256(encoded).digest()[:16], "big")


@dataclass(frozen=True)
class Fingerprint:
    rows: int
    checksum: str  # sum of per-row digests mod 2**128: independent of row order


def table_fingerprint(connection: Connection, table: Table, chunk_rows: int = 20_000) -> Fingerprint:
    total, rows = 0, 0
    result = connection.execute(select(*table.columns).execution_options(yield_per=chunk_rows))
    for row in result:
        total = (total + row_digest(row)) % _CHECKSUM_MOD
        rows += 1
    return Fingerprint(rows, f"{total:032x}")


def fingerprints(connection: Connection) -> dict[str, Fingerprint]:
    present = set(connection.dialect.get_table_names(connection))
    return {t.name: table_fingerprint(connection, t) for t in TABLES if t.name in present}


# --- copy between databases --------------------------------------------------------------

@dataclass
class CopyReport:
    tables: dict[str, int] = field(default_factory=dict)  # rows copied per table
    fingerprints: dict[str, Fingerprint] = field(default_factory=dict)


def _copy_text(value: Any) -> str:
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _csv_chunk(rows: list) -> io.StringIO:
    """CSV for COPY: NULL is an unquoted empty field, every value is quoted (so '' stays '')."""
    out = io.StringIO()
    for row in rows:
        out.write(",".join("" if v is None else '"' + _copy_text(v).replace('"', '""') + '"' for v in row))
        out.write("\n")
    out.seek(0)
    return out


def _write_rows(connection: Connection, table: Table, rows: list) -> None:
    try:
        _write_rows_unchecked(connection, table, rows)
    except (DBAPIError, connection.dialect.loaded_dbapi.Error) as exc:
        detail = " ".join(str(getattr(exc, "orig", exc)).split())[:500]
        raise OpsError(f"copying table {table.name} failed: {detail}. The target was rolled back and is "
                       "unchanged; fix the reported row in the source and retry") from None


def _write_rows_unchecked(connection: Connection, table: Table, rows: list) -> None:
    if connection.dialect.name == "postgresql":
        columns = ", ".join(quote(connection, c.name) for c in table.columns)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.copy_expert(f"COPY {quote(connection, table.name)} ({columns}) FROM STDIN WITH (FORMAT csv)",
                               _csv_chunk(rows))
        finally:
            cursor.close()
        return
    names = [c.name for c in table.columns]
    connection.execute(insert(table), [dict(zip(names, row)) for row in rows])


def _reset_sequences(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        return  # SQLite's rowid continues from the largest id by itself
    for table in TABLES:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        connection.execute(text(
            f"SELECT setval(pg_get_serial_sequence(:t, 'id'), "
            f"(SELECT COALESCE(max(id), 0) + 1 FROM {quote(connection, table.name)}), false)"),
            {"t": table.name})


def _upgrade_in_transaction(engine: Engine, connection: Connection) -> None:
    cfg = migrate.alembic_config(engine)
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def copy_database(source_url: URL | str, target_url: URL | str, *,
                  chunk_rows: int = CONFIG.operations.copy_chunk_rows,
                  progress: Callable[[str, int], None] | None = None) -> CopyReport:
    """Copy every table from ``source`` into an empty ``target`` (typically SQLite -> PostgreSQL).

    One transaction on the target: migrate it to head, refuse if it holds data, copy the
    tables parents first in chunks (COPY on PostgreSQL), reset the id sequences, then
    compare row counts and checksums with the source. Any mismatch or error rolls it all
    back, so the target is as it was.
    """
    source_url, target_url = make_url(source_url), make_url(target_url)
    if source_url == target_url:
        raise OpsError("--from and --to are the same database")
    source = make_engine(source_url, null_pool=True)
    target = make_engine(target_url, null_pool=True)
    report = CopyReport()
    try:
        head = migrate.head_revision()
        current = migrate.current_revision(source)
        if current != head:
            raise OpsError(f"the source {describe_target(source_url)} is at revision {current or 'base'}, not "
                           f"{head}: run `shrinkage db upgrade` on it first")
        with source.connect() as src:
            expected = fingerprints(src)
        with target.begin() as dst:
            _upgrade_in_transaction(target, dst)
            occupied = {t: n for t, n in row_counts(dst).items() if n}
            if occupied:
                listing = ", ".join(f"{t} ({n} rows)" for t, n in occupied.items())
                raise OpsError(f"the target {describe_target(target_url)} already holds data: {listing}. "
                               "`db copy` only fills an empty database; nothing was changed")
            with source.connect() as src:
                for table in TABLES:
                    report.tables[table.name] = _copy_table(src, dst, table, chunk_rows, progress)
            _reset_sequences(dst)
            got = fingerprints(dst)
            wrong = [t for t in expected if got.get(t) != expected[t]]
            if wrong:
                details = "; ".join(f"{t}: source {expected[t].rows} rows / {expected[t].checksum[:12]}, "
                                    f"target {got[t].rows} rows / {got[t].checksum[:12]}" for t in wrong)
                raise OpsError(f"copy verification failed ({details}); the target was rolled back and is unchanged")
            report.fingerprints = got
        refresh_analytics(target)
    except DBAPIError as exc:
        detail = " ".join(str(getattr(exc, "orig", exc)).split())[:500]
        raise OpsError(secret_free(
            f"copy into the {describe_target(target_url)} failed: {detail}. "
            "The target was rolled back and is unchanged; fix the reported row in the source and retry",
            source_url, target_url)) from None
    finally:
        source.dispose()
        target.dispose()
    log.info("copied %d rows in %d tables from %s to %s", sum(report.tables.values()), len(report.tables),
             mask_url(source_url), mask_url(target_url))
    return report


def _copy_table(src: Connection, dst: Connection, table: Table, chunk_rows: int,
                progress: Callable[[str, int], None] | None) -> int:
    copied = 0
    order = [c for c in table.primary_key.columns] or list(table.columns)
    result = src.execute(select(*table.columns).order_by(*order).execution_options(yield_per=chunk_rows))
    for chunk in result.partitions(chunk_rows):
        _write_rows(dst, table, [tuple(r) for r in chunk])
        copied += len(chunk)
        if progress is not None:
            progress(table.name, len(chunk))
    return copied

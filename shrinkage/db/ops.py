"""Database operations: backup / restore, copy between databases, archive, cleanup, stats, roles.

Every function takes an engine (or URLs) and returns what it did; the CLI
(``shrinkage/cli_ops.py``) only prints. Rules kept throughout:

- values always travel as bound parameters (or COPY data); identifiers only come from the
  ORM metadata, the system catalogs or constants here, and are quoted by the dialect;
- a password never appears in a command line, a message or a log line: the PostgreSQL
  tools get it through ``PGPASSWORD`` in their own environment, messages go through
  :func:`shrinkage.config.scrub_secrets`;
- anything that changes data runs in one transaction, so a failure leaves nothing half done.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Column, MetaData, Table, and_, delete, exists, func, insert, or_, select, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import aliased

from shrinkage.config import CONFIG, OperationsSettings, get_settings, mask_url, scrub_secrets
from shrinkage.db import migrate
from shrinkage.db.analytics_views import refresh_analytics
from shrinkage.db.engine import describe_target, make_engine
from shrinkage.db.models import Base
from shrinkage.db.sqlfiles import read_sql
from shrinkage.db.timeseries import our_hypertables, timescaledb_installed

log = logging.getLogger(__name__)

TABLES: list[Table] = list(Base.metadata.sorted_tables)  # parents before children
ARCHIVE_SCHEMA = "archive"
ROLES = {"owner": "shrinkage_owner", "app": "shrinkage_app", "reporting": "shrinkage_reporting"}
_ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_CHECKSUM_MOD = 2 ** 128


class OpsError(RuntimeError):
    """An operation that cannot go ahead; the message says why and what to do."""


def _secret_free(message: str, *urls: URL) -> str:
    return scrub_secrets(message, *[u.password for u in urls if isinstance(u.password, str)])


def _q(connection: Connection, identifier: str) -> str:
    return connection.dialect.identifier_preparer.quote(identifier)


def row_counts(connection: Connection) -> dict[str, int]:
    """Rows per ORM table present in the database (absent tables are left out)."""
    present = set(connection.dialect.get_table_names(connection))
    return {t.name: connection.execute(select(func.count()).select_from(t)).scalar_one()
            for t in TABLES if t.name in present}


def has_data(connection: Connection) -> bool:
    return any(row_counts(connection).values())


# --- backup / restore ---------------------------------------------------------------------

def find_pg_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore`` on PATH, else the newest /usr/lib/postgresql/*/bin one."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: str) -> int:
        match = re.search(r"/postgresql/(\d+)/", path)
        return int(match.group(1)) if match else 0

    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version, reverse=True)
    if not candidates:
        raise OpsError(f"{name} was not found on PATH or in /usr/lib/postgresql/*/bin: install the "
                       "PostgreSQL client tools (apt-get install postgresql-client) of the server's version")
    return candidates[0]


def _run_pg_tool(args: list[str], url: URL, what: str) -> subprocess.CompletedProcess:
    """Run a client tool with connection details as options and the password only in its env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    env["PGCONNECT_TIMEOUT"] = str(get_settings().connect_timeout)
    connection_args = ["--host", url.host or "localhost", "--port", str(url.port or 5432),
                       "--username", url.username or "postgres", "--no-password"]
    result = subprocess.run([*args, *connection_args], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = _secret_free(result.stderr.strip() or result.stdout.strip(), url)
        raise OpsError(f"{what} of the {describe_target(url)} failed (exit {result.returncode}): {detail}")
    return result


def default_backup_path(url: URL, settings: OperationsSettings = CONFIG.operations) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if url.get_backend_name() == "sqlite":
        stem = Path(url.database or "memory").stem
        return settings.backup_dir / f"{stem}-{stamp}.sqlite"
    return settings.backup_dir / f"{url.database}-{stamp}.dump"


def backup(engine: Engine, out: Path | None = None) -> Path:
    """A full backup: ``pg_dump -Fc`` on PostgreSQL, the online backup API on SQLite."""
    url = engine.url
    out = Path(out) if out is not None else default_backup_path(url)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise OpsError("an in-memory SQLite database cannot be backed up: use a file URL")
        with engine.connect() as conn:  # checkpoint the WAL so the copy is self-contained
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        source = sqlite3.connect(url.database)
        target = sqlite3.connect(partial)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        _run_pg_tool([find_pg_tool("pg_dump"), "--format=custom", "--file", str(partial),
                      "--dbname", url.database or "postgres"], url, "pg_dump")
    partial.replace(out)
    log.info("backup of %s written to %s (%d bytes)", mask_url(url), out, out.stat().st_size)
    return out


def restore(engine: Engine, path: Path, *, clean: bool = False) -> None:
    """Load a backup made by :func:`backup` into the engine's database.

    Refuses a database that already holds tables unless ``clean`` (which replaces them).
    PostgreSQL: one transaction (``--single-transaction --exit-on-error``), owners and
    grants left out (apply ``shrinkage db roles`` afterwards).
    """
    path = Path(path)
    if not path.is_file():
        raise OpsError(f"backup file {path} does not exist: pass the path that `shrinkage db backup` printed")
    url = engine.url
    with engine.connect() as conn:
        tables = [t for t in conn.dialect.get_table_names(conn) if t != "alembic_version"]
        tsdb = timescaledb_installed(conn)
    if tables and not clean:
        raise OpsError(f"the {describe_target(url)} already holds {len(tables)} tables: restore only into an "
                       "empty database, or pass --clean to replace its contents with the backup")
    if url.get_backend_name() == "sqlite":
        try:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise OpsError(f"{path} is not a SQLite backup ({exc}): pass a file made by `shrinkage db backup`") from None
        engine.dispose()
        target = sqlite3.connect(url.database)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        log.info("restored %s into %s", path, mask_url(url))
        return
    if tsdb:  # TimescaleDB's catalog must not fire its triggers while objects are recreated
        with engine.begin() as conn:
            conn.execute(text("SELECT timescaledb_pre_restore()"))
    try:
        args = [find_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                "--single-transaction", "--dbname", url.database or "postgres"]
        if clean:
            args += ["--clean", "--if-exists"]
        _run_pg_tool([*args, str(path)], url, "pg_restore")
    finally:
        if tsdb:
            with engine.begin() as conn:
                conn.execute(text("SELECT timescaledb_post_restore()"))
    log.info("restored %s into %s", path, mask_url(url))


def backup_before_upgrade(engine: Engine) -> Path | None:
    """Back up a non-empty PostgreSQL database before its schema changes; None when not needed."""
    if engine.url.get_backend_name() != "postgresql":
        return None
    with engine.connect() as conn:
        if not has_data(conn):
            return None
    return backup(engine)


# --- fingerprints: row counts and order-independent checksums -------------------------------

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
        columns = ", ".join(_q(connection, c.name) for c in table.columns)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.copy_expert(f"COPY {_q(connection, table.name)} ({columns}) FROM STDIN WITH (FORMAT csv)",
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
            f"(SELECT COALESCE(max(id), 0) + 1 FROM {_q(connection, table.name)}), false)"),
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
        raise OpsError(_secret_free(
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


# --- archive ----------------------------------------------------------------------------

def _live(name: str) -> Table:
    return Base.metadata.tables[name]


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


# --- stats ------------------------------------------------------------------------------

@dataclass(frozen=True)
class TableStat:
    name: str
    rows: int
    total_bytes: int | None
    kind: str  # "table" | "hypertable"


@dataclass(frozen=True)
class QueryStat:
    calls: int
    mean_ms: float
    total_ms: float
    query: str


@dataclass(frozen=True)
class IndexStat:
    table: str
    index: str
    scans: int
    total_bytes: int


@dataclass(frozen=True)
class DatabaseStats:
    database: str
    backend: str
    size_bytes: int | None
    tables: list[TableStat]
    indexes: list[IndexStat]
    slow_queries: list[QueryStat] | None
    slow_queries_note: str
    pool: dict[str, Any]


def pool_state(engine: Engine) -> dict[str, Any]:
    pool = engine.pool
    state: dict[str, Any] = {"class": type(pool).__name__, "status": pool.status()}
    for name in ("size", "checkedin", "checkedout", "overflow"):
        method = getattr(pool, name, None)
        if callable(method):
            state[name] = method()
    settings = get_settings()
    state["configured"] = {"pool_size": settings.pool_size, "max_overflow": settings.max_overflow,
                           "pool_recycle": settings.pool_recycle, "pool_pre_ping": settings.pool_pre_ping}
    return state


def _hide_secrets_in_query(query: str) -> str:
    if re.search(r"password|passwd|secret", query, re.I):
        return "[statement hidden: it mentions a password]"
    return scrub_secrets(" ".join(query.split()))


def stats(engine: Engine, top: int = CONFIG.operations.stats_top) -> DatabaseStats:
    """Table sizes and row counts, index usage, the slowest statements, the pool's state."""
    with engine.connect() as conn:
        counts = row_counts(conn)
        if conn.dialect.name == "sqlite":
            page = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            tables = [TableStat(name, n, None, "table") for name, n in counts.items()]
            return DatabaseStats(mask_url(engine.url), "sqlite", page * pages, tables, [], None,
                                 "SQLite keeps no statement statistics", pool_state(engine))
        hyper = set(our_hypertables(conn))
        tables = []
        for name, n in counts.items():
            size_sql = ("SELECT hypertable_size(CAST(:t AS regclass))" if name in hyper
                        else "SELECT pg_total_relation_size(CAST(:t AS regclass))")
            size = conn.execute(text(size_sql), {"t": name}).scalar_one()
            tables.append(TableStat(name, n, size, "hypertable" if name in hyper else "table"))
        tables.sort(key=lambda t: -(t.total_bytes or 0))
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        indexes = [IndexStat(*r) for r in conn.execute(text(
            "SELECT relname, indexrelname, idx_scan, pg_relation_size(indexrelid) FROM pg_stat_user_indexes "
            "WHERE schemaname = current_schema() ORDER BY idx_scan, pg_relation_size(indexrelid) DESC LIMIT :n"),
            {"n": top})]
        slow, note = None, "pg_stat_statements is not installed: CREATE EXTENSION pg_stat_statements " \
                           "(and add it to shared_preload_libraries) to see the slowest statements"
        installed = conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')")).scalar_one()
        if installed:
            try:
                rows = conn.execute(text(
                    "SELECT calls, mean_exec_time, total_exec_time, query FROM pg_stat_statements "
                    "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "ORDER BY mean_exec_time DESC LIMIT :n"), {"n": top}).all()
                slow = [QueryStat(c, float(mean), float(total), _hide_secrets_in_query(q)) for c, mean, total, q in rows]
                note = f"the {len(slow)} slowest statements by mean time"
            except DBAPIError as exc:
                conn.rollback()
                note = f"pg_stat_statements is installed but not readable: {str(exc.orig).splitlines()[0]}"
    return DatabaseStats(mask_url(engine.url), "timescaledb" if hyper else "postgresql", size, tables, indexes,
                         slow, note, pool_state(engine))


# --- roles ------------------------------------------------------------------------------

def apply_roles(engine: Engine, members: Mapping[str, Iterable[str]] | None = None) -> None:
    """Create / refresh the three roles of sql/roles.sql and grant them to login users.

    ``members`` maps a role key (owner / app / reporting) to existing login role names.
    Run as a superuser or the database owner; the application itself never needs this.
    """
    if engine.url.get_backend_name() != "postgresql":
        raise OpsError("roles exist on PostgreSQL only; SQLite has no users")
    with engine.begin() as conn:
        conn.exec_driver_sql(read_sql("roles.sql"), execution_options={"no_parameters": True})
        for key, users in (members or {}).items():
            if key not in ROLES:
                raise OpsError(f"unknown role '{key}': use one of {', '.join(ROLES)}")
            for user in users:
                if not _ROLE_NAME.match(user):
                    raise OpsError(f"'{user}' is not a plain role name (letters, digits, _; up to 63)")
                exists_ = conn.execute(text("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :u)"),
                                       {"u": user}).scalar_one()
                if not exists_:
                    raise OpsError(f"login role '{user}' does not exist: CREATE ROLE {user} LOGIN first "
                                   "(set its password outside this tool)")
                conn.exec_driver_sql(f"GRANT {ROLES[key]} TO {_q(conn, user)}")
                if key == "owner":  # what the migrator creates must belong to the owner role
                    conn.exec_driver_sql(f"ALTER ROLE {_q(conn, user)} SET role = '{ROLES[key]}'")
    log.info("roles applied: %s", ", ".join(ROLES.values()))

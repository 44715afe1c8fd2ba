"""Table sizes and row counts, index usage, the slowest statements, the connection pool."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from shrinkage.config import CONFIG, get_settings, mask_url, scrub_secrets
from shrinkage.db.catalog import row_counts
from shrinkage.db.timeseries import our_hypertables


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
                slow = [QueryStat(c, float(mean), float(total), _hide_secrets_in_query(q))
                        for c, mean, total, q in rows]
                note = f"the {len(slow)} slowest statements by mean time"
            except DBAPIError as exc:
                conn.rollback()
                note = f"pg_stat_statements is installed but not readable: {str(exc.orig).splitlines()[0]}"
    return DatabaseStats(mask_url(engine.url), "timescaledb" if hyper else "postgresql", size, tables, indexes,
                         slow, note, pool_state(engine))

"""The analytical relations users query most, with the same names and columns everywhere.

Two layers (``sql/analytics``): a base layer per product / model and week / month, and
views on top that add names and product types. The base layer is what differs:

- TimescaleDB: continuous aggregates (real-time: un-materialised rows are aggregated on
  the fly, so results are current even between refreshes), refreshed by policies;
- PostgreSQL: materialized views, refreshed by :func:`refresh_analytics` after each load;
- SQLite: plain views (small databases; always current).
"""

from __future__ import annotations

import logging
from string import Template

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from shrinkage.config import CONFIG, TimeSeriesPolicies
from shrinkage.db.sqlfiles import read_sql, run_sql_file, split_statements
from shrinkage.db.timeseries import add_refresh_policies

log = logging.getLogger(__name__)

BASE_RELATIONS = ("agg_product_weekly", "agg_product_monthly", "agg_forecast_model_monthly")
ANALYTICS_VIEWS = (
    "shrinkage_product_weekly", "shrinkage_product_monthly",
    "shrinkage_type_weekly", "shrinkage_type_monthly", "forecast_accuracy_monthly",
)
# Statements naming ${grain} are written once per grain: (grain, bucket unit).
GRAINS = (("weekly", "week"), ("monthly", "month"))


def _bucket(kind: str, unit: str, column: str) -> str:
    if kind == "sqlite":
        modifiers = "'start of day', 'weekday 0', '-6 days'" if unit == "week" else "'start of month'"
        return f"datetime({column}, {modifiers})"
    if kind == "timescaledb":
        return f"time_bucket(INTERVAL '1 {unit}', {column})"
    return f"date_trunc('{unit}', {column})"


def per_grain(script: str, kind: str | None = None, **values: str) -> list[str]:
    """The statements of a script with its placeholders filled; a statement naming ``${grain}``
    comes once per grain, where ``${bucket_calculation_date}`` is the bucket at that grain
    in the SQL of database ``kind``."""
    statements = []
    for statement in split_statements(script):
        if "${grain}" not in statement:
            statements.append(Template(statement).substitute(values))
            continue
        for grain, unit in GRAINS:
            buckets = {"bucket_calculation_date": _bucket(kind, unit, "calculation_date")} if kind else {}
            statements.append(Template(statement).substitute(values, grain=grain, **buckets))
    return statements


def base_layer_sql(kind: str) -> list[str]:
    """The statements of sql/analytics/base.sql for one database kind (sqlite, postgresql, timescaledb)."""
    create, options, finish = {
        "sqlite": ("CREATE VIEW", "", ""),
        "postgresql": ("CREATE MATERIALIZED VIEW", "", "WITH DATA"),
        "timescaledb": ("CREATE MATERIALIZED VIEW",
                        " WITH (timescaledb.continuous, timescaledb.materialized_only = false)",
                        "WITH NO DATA"),
    }[kind]
    return per_grain(read_sql("analytics/base.sql"), kind, create=create, options=options, finish=finish,
                     month_forecast_date=_bucket(kind, "month", "forecast_date"))


def create_analytics_relations(connection: Connection, kind: str,
                               policies: TimeSeriesPolicies = CONFIG.timeseries) -> None:
    for statement in [*base_layer_sql(kind), *per_grain(read_sql("analytics/views.sql"))]:
        connection.exec_driver_sql(statement)
    if kind == "postgresql":
        run_sql_file(connection, "analytics/refresh_postgresql.sql")
    elif kind == "timescaledb":
        add_refresh_policies(connection, BASE_RELATIONS, policies)


def analytics_kind(connection: Connection) -> str | None:
    """Which flavour of the base layer this database holds (None: not created yet)."""
    name = BASE_RELATIONS[0]
    if connection.dialect.name == "sqlite":
        found = connection.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = :n"),
                                   {"n": name}).first()
        return "sqlite" if found else None
    relkind = connection.execute(text(
        "SELECT relkind FROM pg_class WHERE relname = :n AND relnamespace = CAST(current_schema() AS regnamespace)"),
        {"n": name}).scalar()
    return {"m": "postgresql", "v": "timescaledb"}.get(relkind)


def drop_analytics_relations(connection: Connection) -> None:
    kind = analytics_kind(connection)
    for name in ANALYTICS_VIEWS:
        connection.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
    if kind is None:
        return
    relation = "VIEW" if kind == "sqlite" else "MATERIALIZED VIEW"
    for name in BASE_RELATIONS:
        connection.exec_driver_sql(f"DROP {relation} IF EXISTS {name}")
    if kind == "postgresql":
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS shrinkage_refresh_analytics()")


def refresh_analytics(engine: Engine) -> str | None:
    """Bring the base layer up to date after a load; returns the kind refreshed (None: nothing to do).

    TimescaleDB refuses to refresh a continuous aggregate inside a transaction block, so
    that path uses an autocommit connection. A role that does not own the aggregates (the
    application role) cannot refresh them: the refresh policies do it, so that only logs.
    """
    with engine.connect() as connection:
        kind = analytics_kind(connection)
    if kind == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("SELECT shrinkage_refresh_analytics()"))
    elif kind == "timescaledb":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for name in BASE_RELATIONS:
                try:
                    connection.execute(text("CALL refresh_continuous_aggregate(CAST(:v AS regclass), NULL, NULL)"),
                                       {"v": name})
                except DBAPIError as exc:
                    if getattr(exc.orig, "pgcode", None) != "42501":  # insufficient_privilege
                        raise
                    log.warning("cannot refresh %s as this role (%s); its refresh policy will", name,
                                str(exc.orig).strip().splitlines()[0])
    log.debug("analytics refreshed (%s)", kind)
    return kind if kind in ("postgresql", "timescaledb") else None

"""The analytical relations users query most, with the same names and columns everywhere.

Two layers (``sql/analytics``): a base layer per product / model and week / month, and
views on top that add names and product types. The base layer is what differs:

- TimescaleDB: continuous aggregates (real-time: un-materialised rows are aggregated on
  the fly, so results are current even between refreshes), refreshed by policies;
- PostgreSQL: materialized views, refreshed by :func:`refresh_analytics` after each load;
- SQLite: plain views (small databases; always current).

Beside them, the forecast views (``sql/curves/views.sql``): the curves in force, the stock on
hand per batch and its expected loss, computed in SQL with ``shrinkage_curve`` /
``shrinkage_batch_loss`` (``shrinkage.db.curve_functions``), the same on all three databases.

Both are per store (warehouse) and product since migration 0005. A migration builds its own
revision's relations: ``revision`` names the snapshot under ``sql/revisions`` (see its
README) that migrations 0002 and 0004 and 0005's downgrade build; None builds the head.
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
CURVE_VIEWS = (  # in dependency order
    "shrinkage_active_curves", "shrinkage_stock_on_hand",
    "shrinkage_batch_forecast", "shrinkage_product_forecast",
)
# The relations as migration 0004 left them (per product, before stores were told apart).
BEFORE_WAREHOUSES = "0004"


def _read(name: str, revision: str | None) -> str:
    return read_sql(f"revisions/{revision}/{name}" if revision else name)


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


def base_layer_sql(kind: str, revision: str | None = None) -> list[str]:
    """The statements of sql/analytics/base.sql for one database kind (sqlite, postgresql, timescaledb)."""
    create, options, finish = {
        "sqlite": ("CREATE VIEW", "", ""),
        "postgresql": ("CREATE MATERIALIZED VIEW", "", "WITH DATA"),
        "timescaledb": ("CREATE MATERIALIZED VIEW",
                        " WITH (timescaledb.continuous, timescaledb.materialized_only = false)",
                        "WITH NO DATA"),
    }[kind]
    return per_grain(_read("analytics/base.sql", revision), kind, create=create, options=options, finish=finish,
                     month_forecast_date=_bucket(kind, "month", "forecast_date"))


def _json_number(dialect: str, path: str) -> str:
    """A number (or text) of ``c.fit_details`` at ``path`` ('family', 'params.a', ...)."""
    if dialect == "sqlite":
        return f"json_extract(c.fit_details, '$.{path}')"
    keys = path.split(".")
    head = "".join(f" -> '{k}'" for k in keys[:-1])
    value = f"(c.fit_details{head} ->> '{keys[-1]}')"
    return value if path == "family" else f"CAST({value} AS double precision)"


def curve_views_sql(dialect: str, horizons: tuple[int, ...] = CONFIG.fit_run.forecast_horizons_days,
                    revision: str | None = None) -> str:
    """sql/curves/views.sql for 'sqlite' or 'postgresql' (TimescaleDB is PostgreSQL here)."""
    if not horizons:
        raise ValueError("the forecast views need at least one horizon (CONFIG.fit_run.forecast_horizons_days)")
    arrival = "coalesce(batch_arrival, first_document)"
    if dialect == "sqlite":
        # julianday is exact to the millisecond it is computed from; rounding the difference
        # to whole milliseconds gives the same float as pandas' (as_of - arrival) / 1 day.
        age = (f"max(round((julianday(as_of) - julianday({arrival})) * 86400000.0) / 86400000.0, 0.0)")
        text_order = ""
    else:
        age = f"greatest(CAST(EXTRACT(EPOCH FROM (as_of - {arrival})) AS double precision) / 86400.0, 0)"
        text_order = 'COLLATE "C"'  # byte order = the order of Python strings (revision 0004 only)
    return Template(_read("curves/views.sql", revision)).substitute(
        json_family=_json_number(dialect, "family"), json_a=_json_number(dialect, "params.a"),
        json_b=_json_number(dialect, "params.b"), json_c=_json_number(dialect, "params.c"),
        json_surplus_rate=_json_number(dialect, "surplus_rate"), age_days=age,
        text_order=text_order, horizons="VALUES " + ", ".join(f"({int(h)})" for h in horizons))


def create_curve_views(connection: Connection, revision: str | None = None) -> None:
    """The forecast views; on PostgreSQL the SQL functions they call must exist (SQLite
    connections get them from the engine's connect hook)."""
    for statement in split_statements(curve_views_sql(connection.dialect.name, revision=revision)):
        connection.exec_driver_sql(statement, execution_options={"no_parameters": True})


def drop_curve_views(connection: Connection) -> None:
    for name in reversed(CURVE_VIEWS):
        connection.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")


def create_analytics_relations(connection: Connection, kind: str,
                               policies: TimeSeriesPolicies = CONFIG.timeseries, revision: str | None = None) -> None:
    for statement in [*base_layer_sql(kind, revision), *per_grain(_read("analytics/views.sql", revision))]:
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

"""TimescaleDB: hypertables, the keys they force on us, and the compression / retention policies.

A hypertable only accepts unique indexes that contain its time column, which has three
consequences handled here (the migration 0002 docstring says why this shape was chosen):

- primary keys become ``(id, <time column>)``; ``id`` stays unique in practice because
  only its sequence fills it (nothing enforces that across chunks any more);
- unique constraints without the time column get it appended (marked by a comment so a
  downgrade restores the original);
- foreign keys that point AT a hypertable cannot exist (they need a unique index on ``id``
  alone): they become triggers with the same names and the same ON DELETE behaviour
  (``sql/timescaledb/fk_triggers.sql``). Foreign keys FROM a hypertable to plain tables
  are ordinary foreign keys.

Every identifier that reaches DDL comes from this module's constants or from the system
catalogs and is quoted by the dialect's identifier preparer; values are bound parameters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from shrinkage.config import TimeSeriesPolicies
from shrinkage.db.sqlfiles import run_sql_file

log = logging.getLogger(__name__)

# table -> its time column (the partitioning dimension)
HYPERTABLES: dict[str, str] = {
    "calculation_data": "calculation_date",
    "forecasts": "forecast_date",
    "analytics": "last_updated",
    "batch_movements": "document_datetime",
}
# Compressed chunks are stored per segment: the column the queries filter on.
SEGMENT_BY: dict[str, str] = {
    "calculation_data": "nomenclature_id",
    "forecasts": "model_id",
    "analytics": "nomenclature_id",
    "batch_movements": "nomenclature_id",
}
WIDENED_MARKER = "shrinkage: time column appended for the hypertable"
_ACTIONS = {"c": "cascade", "n": "set null"}


@dataclass(frozen=True)
class TriggerForeignKey:
    """A foreign key kept as a pair of triggers (its name is the constraint's name)."""

    name: str
    child: str
    column: str
    parent: str
    parent_column: str
    on_delete: str  # "cascade" | "set null"


def _q(connection: Connection, identifier: str) -> str:
    return connection.dialect.identifier_preparer.quote(identifier)


def timescaledb_installed(connection: Connection) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    return connection.execute(text(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')")).scalar_one()


def timescaledb_usable(connection: Connection, policies: TimeSeriesPolicies) -> bool:
    """Installed, or available and preloaded (CREATE EXTENSION fails without the preload)."""
    if connection.dialect.name != "postgresql" or not policies.use_timescaledb:
        return False
    if timescaledb_installed(connection):
        return True
    available = connection.execute(text(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')")).scalar_one()
    if not available:
        return False
    preload = connection.execute(text("SELECT current_setting('shared_preload_libraries')")).scalar_one()
    if "timescaledb" not in preload:
        log.warning("timescaledb is available but not in shared_preload_libraries: "
                    "using plain PostgreSQL (materialized views, no hypertables)")
        return False
    return True


def database_kind(connection: Connection, policies: TimeSeriesPolicies) -> str:
    """'sqlite', 'postgresql' or 'timescaledb': which flavour of the time-series objects to build."""
    if connection.dialect.name == "sqlite":
        return "sqlite"
    return "timescaledb" if timescaledb_usable(connection, policies) else "postgresql"


def our_hypertables(connection: Connection) -> list[str]:
    if not timescaledb_installed(connection):
        return []
    found = set(connection.execute(text(
        "SELECT hypertable_name FROM timescaledb_information.hypertables "
        "WHERE hypertable_schema = current_schema()")).scalars())
    return [t for t in HYPERTABLES if t in found]


def foreign_keys_pointing_at(connection: Connection, parent: str) -> list[TriggerForeignKey]:
    rows = connection.execute(text(
        "SELECT c.conname, c.conrelid::regclass::text, a.attname, pa.attname, c.confdeltype "
        "FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1] "
        "WHERE c.contype = 'f' AND c.confrelid = CAST(:parent AS regclass) "
        "ORDER BY c.conname"), {"parent": parent}).all()
    keys = []
    for name, child, column, parent_column, action in rows:
        if action not in _ACTIONS:
            raise RuntimeError(f"foreign key {name} on {child} uses ON DELETE '{action}', which the "
                               "hypertable triggers do not implement: extend sql/timescaledb/fk_triggers.sql")
        keys.append(TriggerForeignKey(name, child.strip('"'), column, parent, parent_column, _ACTIONS[action]))
    return keys


def trigger_foreign_keys(connection: Connection) -> list[TriggerForeignKey]:
    """The trigger pairs in place, read back from the parent-side triggers' arguments."""
    rows = connection.execute(text(
        "SELECT t.tgname, t.tgrelid::regclass::text, "
        "encode(t.tgargs, 'escape') FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE p.proname = 'shrinkage_fk_on_parent_delete' AND NOT t.tgisinternal "
        "AND t.tgrelid = ANY (SELECT oid FROM pg_class WHERE relnamespace = CAST(current_schema() AS regnamespace)) "
        "ORDER BY t.tgname")).all()
    keys = []
    for name, parent, raw_args in rows:
        child, column, action, parent_column = raw_args.split("\\000")[:4]
        keys.append(TriggerForeignKey(name, child, column, parent.strip('"'), parent_column, action))
    return keys


def _replace_foreign_key_with_triggers(connection: Connection, key: TriggerForeignKey) -> None:
    q = lambda ident: _q(connection, ident)  # noqa: E731 - local shorthand
    connection.exec_driver_sql(f"ALTER TABLE {q(key.child)} DROP CONSTRAINT {q(key.name)}")
    args = ", ".join(f"'{a}'" for a in (key.column, key.parent, key.parent_column))
    connection.exec_driver_sql(
        f"CREATE TRIGGER {q(key.name)} BEFORE INSERT OR UPDATE OF {q(key.column)} ON {q(key.child)} "
        f"FOR EACH ROW EXECUTE FUNCTION shrinkage_fk_check_parent({args})")
    args = ", ".join(f"'{a}'" for a in (key.child, key.column, key.on_delete, key.parent_column))
    connection.exec_driver_sql(
        f"CREATE TRIGGER {q(key.name)} AFTER DELETE ON {q(key.parent)} "
        f"FOR EACH ROW EXECUTE FUNCTION shrinkage_fk_on_parent_delete({args})")


def _unique_constraints(connection: Connection, table: str) -> list[tuple[str, list[str], str | None]]:
    rows = connection.execute(text(
        "SELECT c.conname, array_agg(a.attname ORDER BY k.ord), obj_description(c.oid, 'pg_constraint') "
        "FROM pg_constraint c CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
        "WHERE c.contype = 'u' AND c.conrelid = CAST(:t AS regclass) GROUP BY c.conname, c.oid"),
        {"t": table}).all()
    return [(name, list(columns), comment) for name, columns, comment in rows]


def _widen_keys(connection: Connection, table: str, time_column: str) -> None:
    q = lambda ident: _q(connection, ident)  # noqa: E731
    pk = f"pk_{table}"
    connection.exec_driver_sql(f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(pk)}")
    connection.exec_driver_sql(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(pk)} PRIMARY KEY (id, {q(time_column)})")
    for name, columns, _comment in _unique_constraints(connection, table):
        if time_column in columns:
            continue
        widened = [*columns, time_column]
        new_name = f"uq_{table}_{'_'.join(widened)}"[:63]
        connection.exec_driver_sql(f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(name)}")
        connection.exec_driver_sql(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(new_name)} "
                                   f"UNIQUE ({', '.join(q(c) for c in widened)})")
        connection.exec_driver_sql(f"COMMENT ON CONSTRAINT {q(new_name)} ON {q(table)} IS '{WIDENED_MARKER}'")


def convert_to_hypertables(connection: Connection, policies: TimeSeriesPolicies) -> None:
    """Create the extension, make the four time-series tables hypertables (data kept)."""
    connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS timescaledb")
    run_sql_file(connection, "timescaledb/fk_triggers.sql")
    for parent in HYPERTABLES:
        for key in foreign_keys_pointing_at(connection, parent):
            _replace_foreign_key_with_triggers(connection, key)
    for table, time_column in HYPERTABLES.items():
        _widen_keys(connection, table, time_column)
        connection.execute(text(
            "SELECT create_hypertable(CAST(:t AS regclass), by_range(:c, CAST(:chunk AS interval)), "
            "migrate_data => true, create_default_indexes => false)"),
            {"t": table, "c": time_column, "chunk": timedelta(days=policies.chunk_days)})
        connection.exec_driver_sql(
            f"ALTER TABLE {_q(connection, table)} SET (timescaledb.compress, "
            f"timescaledb.compress_segmentby = '{SEGMENT_BY[table]}', "
            f"timescaledb.compress_orderby = '{time_column} DESC')")
    log.info("hypertables: %s", ", ".join(HYPERTABLES))


def apply_policies(connection: Connection, policies: TimeSeriesPolicies) -> None:
    """(Re)set the compression and retention policies of every hypertable to ``policies``."""
    for table in our_hypertables(connection):
        params = {"t": table}
        connection.execute(text("SELECT remove_compression_policy(CAST(:t AS regclass), if_exists => true)"), params)
        connection.execute(text("SELECT remove_retention_policy(CAST(:t AS regclass), if_exists => true)"), params)
        connection.execute(text(
            "SELECT add_compression_policy(CAST(:t AS regclass), compress_after => CAST(:age AS interval))"),
            {**params, "age": timedelta(days=policies.compress_after_days)})
        if policies.retention_days is not None:
            connection.execute(text(
                "SELECT add_retention_policy(CAST(:t AS regclass), drop_after => CAST(:age AS interval))"),
                {**params, "age": timedelta(days=policies.retention_days)})


def add_refresh_policies(connection: Connection, aggregates: tuple[str, ...], policies: TimeSeriesPolicies) -> None:
    for name in aggregates:
        connection.execute(text(
            "SELECT add_continuous_aggregate_policy(CAST(:v AS regclass), "
            "start_offset => CAST(:start AS interval), end_offset => INTERVAL '1 hour', "
            "schedule_interval => CAST(:every AS interval), if_not_exists => true)"),
            {"v": name, "start": timedelta(days=policies.refresh_window_days),
             "every": timedelta(hours=policies.refresh_every_hours)})


def policy_jobs(connection: Connection) -> list[tuple[int, str, str]]:
    """(job_id, proc_name, relation) of every policy job on this schema's relations."""
    if not timescaledb_installed(connection):
        return []
    return [tuple(r) for r in connection.execute(text(
        "SELECT job_id, proc_name, hypertable_name FROM timescaledb_information.jobs "
        "WHERE hypertable_schema = current_schema() ORDER BY job_id")).all()]


def set_policies(engine: Engine, policies: TimeSeriesPolicies) -> list[tuple[int, str, str]] | None:
    """An operation: apply ``policies`` to the hypertables in one transaction and return the
    policy jobs; None when the database has no hypertables (TimescaleDB not in use)."""
    with engine.begin() as conn:
        if not our_hypertables(conn):
            return None
        apply_policies(conn, policies)
        return policy_jobs(conn)


def _rebuild_as_plain_table(connection: Connection, table: str) -> None:
    """Same name, columns, data, constraints and indexes; no chunks. (No 'un-hypertable' exists.)"""
    q = lambda ident: _q(connection, ident)  # noqa: E731
    params = {"t": table}
    indexes = connection.execute(text(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = CAST(:t AS regclass) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
        "AND c.conrelid = i.indrelid)"), params).scalars().all()
    constraints = connection.execute(text(
        "SELECT conname, contype, pg_get_constraintdef(oid), obj_description(oid, 'pg_constraint') "
        "FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u', 'c', 'f') "
        "ORDER BY contype = 'p' DESC, conname"), params).all()
    uniques = {name: columns for name, columns, _ in _unique_constraints(connection, table)}
    sequence = connection.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), params).scalar_one()
    plain = f"{table}__plain"
    if sequence:
        connection.exec_driver_sql(f"ALTER SEQUENCE {sequence} OWNED BY NONE")
    connection.exec_driver_sql(f"CREATE TABLE {q(plain)} (LIKE {q(table)} INCLUDING DEFAULTS INCLUDING STORAGE)")
    connection.exec_driver_sql(f"INSERT INTO {q(plain)} SELECT * FROM {q(table)}")
    connection.exec_driver_sql(f"DROP TABLE {q(table)}")
    connection.exec_driver_sql(f"ALTER TABLE {q(plain)} RENAME TO {q(table)}")
    if sequence:
        connection.exec_driver_sql(f"ALTER SEQUENCE {sequence} OWNED BY {q(table)}.id")
    time_column = HYPERTABLES[table]
    for name, kind, definition, comment in constraints:
        if kind == "p":
            definition = "PRIMARY KEY (id)"
        elif kind == "u" and comment == WIDENED_MARKER:
            original = [c for c in uniques[name] if c != time_column]
            name = f"uq_{table}_{'_'.join(original)}"[:63]
            definition = f"UNIQUE ({', '.join(q(c) for c in original)})"
        connection.exec_driver_sql(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} {definition}")
    for definition in indexes:
        connection.exec_driver_sql(definition)


def revert_hypertables(connection: Connection) -> None:
    """Undo convert_to_hypertables: plain tables, original keys, real foreign keys."""
    keys = trigger_foreign_keys(connection)
    for table in our_hypertables(connection):
        _rebuild_as_plain_table(connection, table)
    for key in keys:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {_q(connection, key.name)} ON {_q(connection, key.child)}")
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {_q(connection, key.name)} ON {_q(connection, key.parent)}")
        action = "CASCADE" if key.on_delete == "cascade" else "SET NULL"
        connection.exec_driver_sql(
            f"ALTER TABLE {_q(connection, key.child)} ADD CONSTRAINT {_q(connection, key.name)} "
            f"FOREIGN KEY ({_q(connection, key.column)}) REFERENCES {_q(connection, key.parent)} "
            f"({_q(connection, key.parent_column)}) ON DELETE {action}")
    run_sql_file(connection, "timescaledb/fk_triggers_drop.sql")

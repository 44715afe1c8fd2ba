"""Migration 0002 on the TimescaleDB test double: hypertables, aggregates, policies, downgrade.

One server for the module (it holds one database): the tests run in file order and the
last one downgrades to base.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from shrinkage.config import CONFIG
from shrinkage.db import migrate
from shrinkage.db import models as m
from shrinkage.db.analytics_views import ANALYTICS_VIEWS, BASE_RELATIONS, refresh_analytics
from shrinkage.db.engine import make_engine
from shrinkage.db.timeseries import HYPERTABLES, apply_policies, policy_jobs, trigger_foreign_keys
from tests.db_ops_helpers import (
    ANALYTICS_COLUMNS,
    Seeded,
    expected_analytics,
    read_analytics,
    seed_timeseries,
    view_columns,
)
from tests.tsdb_server import TsdbServer

pytestmark = pytest.mark.timescaledb
WEEKS = 8


@pytest.fixture(scope="module")
def ts_engine(tsdb: TsdbServer) -> Iterator[sa.Engine]:
    engine = make_engine(tsdb.url, null_pool=True)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def seeded(ts_engine: sa.Engine) -> Seeded:
    return seed_timeseries(ts_engine, weeks=WEEKS)


def table_dump(conn: sa.Connection, table: str) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))]


def chunk_states(conn: sa.Connection, table: str) -> list[bool]:
    return list(conn.execute(sa.text(
        "SELECT is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = :t ORDER BY range_start"),
        {"t": table}).scalars())


def run_job(engine: sa.Engine, relation: str, proc_name: str) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        job_id = conn.execute(sa.text(
            "SELECT job_id FROM timescaledb_information.jobs WHERE hypertable_name = :r AND proc_name = :p"),
            {"r": relation, "p": proc_name}).scalar_one()
        conn.execute(sa.text("CALL run_job(:id)"), {"id": job_id})


def _describe(item) -> tuple:
    """A diff entry of compare_metadata as plain names (modify_* entries come wrapped in a list)."""
    if isinstance(item, list):
        (kind, _schema, table, column, *_rest), = item
        return kind, table, column
    kind, obj = item[0], item[1]
    if kind in ("add_column", "remove_column"):
        return kind, item[2], item[3].name
    columns = tuple(c.name for c in (obj.columns if hasattr(obj, "columns") else obj.column_keys))
    return kind, obj.name, columns


# The head ORM against revision 0001: migration 0003's composite key on batch_movements, which
# 0005 widens by the store, and 0005's stores, flags and per-store indexes.
PER_STORE = ("analytics", "coefficients", "forecasts", "preliminary_forecasts", "source_data", "surplus_patterns",
             "surplus_recommendations")
REVISION_0003_AND_0005_CHANGES = sorted([
    ("modify_nullable", "batch_movements", "calculation_data_id"),
    ("add_index", "uq_calculation_data_row_identity", ("id", "source_data_id", "nomenclature_id", "warehouse_id")),
    ("remove_index", "ix_batch_movements_source_data_id", ("source_data_id",)),
    ("remove_index", "ix_batch_movements_nomenclature_id", ("nomenclature_id",)),
    ("remove_fk", "fk_batch_movements_calculation_data_id_calculation_data", ("calculation_data_id",)),
    ("remove_fk", "fk_batch_movements_source_data_id_source_data", ("source_data_id",)),
    ("remove_fk", "fk_batch_movements_nomenclature_id_nomenclature", ("nomenclature_id",)),
    ("add_fk", "fk_batch_movements_calculation_data_id_calculation_data",
     ("calculation_data_id", "source_data_id", "nomenclature_id", "warehouse_id")),
    ("add_table", "warehouses", ("id", "name", "normalized_name", "created_at", "updated_at")),
    *[("add_column", t, "warehouse_id") for t in (*PER_STORE, "calculation_data", "batch_movements")],
    *[("add_fk", f"fk_{t}_warehouse_id_warehouses", ("warehouse_id",)) for t in (*PER_STORE, "calculation_data")],
    *[("add_index", f"ix_{t}_warehouse_id", ("warehouse_id",)) for t in PER_STORE],
    ("add_column", "batch_movements", "superseded"),
    ("add_column", "calculation_data", "start_unknown"),
    ("add_column", "nomenclature", "product_type_source"),
    ("remove_index", "ix_batch_movements_product_time", ("nomenclature_id", "document_datetime")),
    ("add_index", "ix_batch_movements_store_product_time", ("warehouse_id", "nomenclature_id", "document_datetime")),
    ("add_index", "ix_calculation_data_store_product_date", ("warehouse_id", "nomenclature_id", "calculation_date")),
])


def test_upgrade_makes_hypertables_with_weekly_chunks(ts_engine, seeded):
    assert migrate.current_revision(ts_engine) == migrate.head_revision()
    with ts_engine.connect() as conn:
        hypertables = set(conn.execute(sa.text(
            "SELECT hypertable_name FROM timescaledb_information.hypertables")).scalars())
        assert hypertables == set(HYPERTABLES)
        for table in ("calculation_data", "batch_movements", "forecasts", "analytics"):
            assert len(chunk_states(conn, table)) >= WEEKS, table
        pk = conn.execute(sa.text(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'pk_calculation_data'")).scalar_one()
        assert pk == "PRIMARY KEY (id, calculation_date)"


def test_continuous_aggregates_equal_plain_sql_and_the_oracle(ts_engine, seeded):
    with ts_engine.connect() as conn:
        kinds = set(conn.execute(sa.text(
            "SELECT view_name FROM timescaledb_information.continuous_aggregates")).scalars())
        assert kinds == set(BASE_RELATIONS)
        for view in ANALYTICS_VIEWS:
            assert view_columns(conn, view) == ANALYTICS_COLUMNS[view]
        live = read_analytics(conn)  # real-time aggregation: current before any refresh
    assert refresh_analytics(ts_engine) == "timescaledb"
    with ts_engine.connect() as conn:
        materialised = read_analytics(conn)
        weekly_plain = {(r[0], r[1], r[2]): tuple(r[3:]) for r in conn.execute(sa.text(
            "SELECT date_trunc('week', calculation_date), warehouse_id, nomenclature_id, count(*), sum(incoming), "
            "sum(inventory_shrinkage_total), avg(adjusted_shrinkage_rate), "
            "sum(CASE WHEN manual_review_required THEN 1 ELSE 0 END) FROM calculation_data GROUP BY 1, 2, 3"))}
        monthly_accuracy_plain = {(r[0], r[1]): tuple(r[2:]) for r in conn.execute(sa.text(
            "SELECT date_trunc('month', f.forecast_date), mo.name, count(*), count(f.actual_value), "
            "avg(f.accuracy), avg(abs(f.deviation)) FROM forecasts f LEFT JOIN models mo ON mo.id = f.model_id "
            "GROUP BY 1, 2"))}
        schema, table = conn.execute(sa.text(
            "SELECT materialization_hypertable_schema, materialization_hypertable_name "
            "FROM timescaledb_information.continuous_aggregates WHERE view_name = 'agg_product_weekly'")).one()
        materialised_rows = conn.execute(sa.text(f'SELECT sum(calc_rows) FROM "{schema}"."{table}"')).scalar_one()
    assert materialised == live == expected_analytics(seeded)
    assert materialised["product_weekly"] == weekly_plain
    assert materialised["accuracy_monthly"] == monthly_accuracy_plain
    assert materialised_rows == len(seeded.calculations)


def test_foreign_keys_pointing_at_hypertables_are_enforced_by_triggers(ts_engine, seeded):
    with ts_engine.connect() as conn:
        names = {k.name for k in trigger_foreign_keys(conn)}
    assert "fk_coefficients_calculation_data_id_calculation_data" in names
    assert "fk_analytics_ai_patterns_analytics_id_analytics" in names
    with pytest.raises(IntegrityError, match="foreign key"):
        with ts_engine.begin() as conn:
            conn.execute(sa.insert(m.Coefficient.__table__).values(calculation_data_id=10**9, model_id=1))
    calc = seeded.calculations[0]
    movement = {"calculation_data_id": calc["id"], "source_data_id": calc["source_data_id"],
                "warehouse_id": calc["warehouse_id"], "source_row": 10**6, "document_type": "Реализация",
                "document_kind": "sale",
                "document_datetime": calc["calculation_date"]}
    other_product = next(c["nomenclature_id"] for c in seeded.calculations
                         if c["nomenclature_id"] != calc["nomenclature_id"])
    other_store = next(c["warehouse_id"] for c in seeded.calculations if c["warehouse_id"] != calc["warehouse_id"])
    with pytest.raises(IntegrityError, match="foreign key"):  # the key checks file and product too (0003)
        with ts_engine.begin() as conn:
            conn.execute(sa.insert(m.BatchMovement.__table__).values(**movement, nomenclature_id=other_product))
    with pytest.raises(IntegrityError, match="foreign key"):  # ... and the store (0005)
        with ts_engine.begin() as conn:
            conn.execute(sa.insert(m.BatchMovement.__table__).values(
                **{**movement, "warehouse_id": other_store}, nomenclature_id=calc["nomenclature_id"]))
    victim = seeded.calculations[-1]["id"]
    with ts_engine.begin() as conn:
        lineage = conn.execute(sa.insert(m.DataLineage.__table__).values(
            calculation_data_id=victim, process_name="t", status="success", lineage_key="fk-test")
            .returning(m.DataLineage.id)).scalar_one()
        conn.execute(sa.delete(m.CalculationData.__table__).where(m.CalculationData.id == victim))
        left = [conn.execute(sa.text(f"SELECT count(*) FROM {t} WHERE calculation_data_id = :i"), {"i": victim})
                .scalar_one() for t in ("coefficients", "batch_movements", "validation_errors")]
        forecasts = conn.execute(sa.text("SELECT count(*) FROM forecasts")).scalar_one()
        nulled = conn.execute(sa.text("SELECT calculation_data_id FROM data_lineage WHERE id = :i"),
                              {"i": lineage}).scalar_one()
        conn.rollback()  # keep the module's data intact for the next tests
    assert left == [0, 0, 0] and nulled is None
    assert forecasts == len(seeded.forecasts) - 1  # cascaded through the coefficient


def test_orm_and_database_differ_only_by_the_deliberate_changes(ts_engine):
    with ts_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), m.Base.metadata)
    deliberate_fks = {
        "fk_coefficients_calculation_data_id_calculation_data",
        "fk_validation_errors_calculation_data_id_calculation_data",
        "fk_preliminary_forecasts_calculation_data_id_calculation_data",
        "fk_data_lineage_calculation_data_id_calculation_data",
        "fk_batch_movements_calculation_data_id_calculation_data",
        "fk_analytics_priority_periods_analytics_id_analytics",
        "fk_analytics_ai_patterns_analytics_id_analytics",
    }
    added_fks = {d[1].name for d in diff if d[0] == "add_fk"}
    uniques = {(d[0], d[1].table.name, tuple(c.name for c in d[1].columns))
               for d in diff if d[0] in ("add_constraint", "remove_constraint")}
    # The unique index that backs batch_movements' composite key elsewhere (migration 0003).
    added_indexes = {d[1].name for d in diff if d[0] == "add_index"}
    assert added_fks == deliberate_fks
    assert uniques == {("add_constraint", "batch_movements", ("source_data_id", "source_row")),
                       ("remove_constraint", "batch_movements", ("source_data_id", "source_row", "document_datetime"))}
    assert added_indexes == {"uq_calculation_data_row_identity"}
    assert len(diff) == len(added_fks) + len(uniques) + len(added_indexes)


def test_compression_job_compresses_and_data_reads_back(ts_engine, seeded):
    with ts_engine.connect() as conn:
        before = {t: table_dump(conn, t) for t in HYPERTABLES}
        analytics_before = read_analytics(conn)
        assert not any(chunk_states(conn, "calculation_data"))
    for table in HYPERTABLES:
        run_job(ts_engine, table, "policy_compression")
    with ts_engine.connect() as conn:
        states = {t: chunk_states(conn, t) for t in HYPERTABLES}
        after = {t: table_dump(conn, t) for t in HYPERTABLES}
        analytics_after = read_analytics(conn)
    assert all(all(s) and s for s in states.values()), states  # the 2024 data is older than 30 days
    assert after == before
    assert analytics_after == analytics_before
    with ts_engine.begin() as conn:  # compressed chunks still take rows through the FK triggers
        conn.execute(sa.insert(m.Coefficient.__table__).values(
            calculation_data_id=seeded.calculations[0]["id"], model_id=1))


def test_retention_policy_is_off_by_default_and_drops_old_chunks_when_set(ts_engine, seeded):
    with ts_engine.connect() as conn:
        assert not [j for j in policy_jobs(conn) if j[1] == "policy_retention"]
        first_week_ends = conn.execute(sa.text(
            "SELECT min(range_end) AT TIME ZONE 'UTC' FROM timescaledb_information.chunks "
            "WHERE hypertable_name = 'batch_movements'")
        ).scalar_one()
    keep_days = (dt.datetime.now() - first_week_ends).days  # drops only the first week's chunk
    with ts_engine.begin() as conn:
        apply_policies(conn, dataclasses.replace(CONFIG.timeseries, retention_days=keep_days))
    run_job(ts_engine, "batch_movements", "policy_retention")
    with ts_engine.connect() as conn:
        oldest = conn.execute(sa.text("SELECT min(document_datetime) FROM batch_movements")).scalar_one()
        remaining = conn.execute(sa.text("SELECT count(*) FROM batch_movements")).scalar_one()
    expected_oldest = min(c["calculation_date"] for c in seeded.calculations
                          if c["calculation_date"] - dt.timedelta(hours=1) >= first_week_ends)
    assert oldest == expected_oldest - dt.timedelta(hours=1)
    assert 0 < remaining < len(seeded.calculations)
    with ts_engine.begin() as conn:
        apply_policies(conn, CONFIG.timeseries)
        assert not [j for j in policy_jobs(conn) if j[1] == "policy_retention"]


def test_downgrade_keeps_data_then_base_leaves_nothing_behind(ts_engine):
    with ts_engine.connect() as conn:
        counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in HYPERTABLES}
    migrate.downgrade(ts_engine, "0001")
    with ts_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM timescaledb_information.hypertables")).scalar_one() == 0
        assert {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in HYPERTABLES} == counts
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), m.Base.metadata)
    # Real foreign keys and the original keys are back; what remains is what 0003 and 0005 changed.
    assert sorted(map(_describe, diff)) == REVISION_0003_AND_0005_CHANGES
    migrate.downgrade(ts_engine, "base")
    with ts_engine.connect() as conn:
        relations = conn.execute(sa.text(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relname NOT LIKE 'alembic_version%'")).scalars().all()
        jobs = conn.execute(sa.text(
            "SELECT count(*) FROM timescaledb_information.jobs WHERE job_id >= 1000")).scalar_one()
        aggregates = conn.execute(sa.text(
            "SELECT count(*) FROM timescaledb_information.continuous_aggregates")).scalar_one()
        functions = conn.execute(sa.text(
            "SELECT proname FROM pg_proc WHERE proname LIKE 'shrinkage%'")).scalars().all()
    assert relations == [] and jobs == 0 and aggregates == 0 and functions == []

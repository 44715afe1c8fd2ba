"""Migration 0004 on the TimescaleDB test double: the curve functions and the forecast views
over hypertables (calculation_data, batch_movements) agree with Python; without plpython3u
the migration says so and builds the rest."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import pytest
import sqlalchemy as sa

from shrinkage.db import curve_functions, migrate
from shrinkage.db.analytics_views import CURVE_VIEWS
from shrinkage.db.engine import make_engine
from shrinkage.db.timeseries import our_hypertables
from tests.curve_helpers import batch_key, grid_rows, python_curve, python_forecast, seed_store, view_forecast
from tests.tsdb_server import TsdbServer, start_tsdb_server

pytestmark = pytest.mark.timescaledb


@pytest.fixture(scope="module")
def tsdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TsdbServer]:
    with start_tsdb_server(tmp_path_factory.mktemp("tsdb-curves")) as server:
        yield server


@pytest.fixture(scope="module")
def migration_log(tsdb: TsdbServer) -> list[str]:
    """Messages of the curve module while the double is migrated to head."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("shrinkage.db.curve_functions")
    logger.addHandler(handler)
    engine = make_engine(tsdb.url, null_pool=True)
    try:
        migrate.upgrade(engine)
    finally:
        logger.removeHandler(handler)
        engine.dispose()
    return [r.getMessage() for r in records]


@pytest.fixture(scope="module")
def ts_engine(tsdb: TsdbServer, migration_log) -> Iterator[sa.Engine]:
    engine = make_engine(tsdb.url, null_pool=True)
    yield engine
    engine.dispose()


def test_functions_and_views_exist_on_hypertables(ts_engine, migration_log):
    with ts_engine.connect() as conn:
        assert {"calculation_data", "batch_movements"} <= set(our_hypertables(conn))
        views = set(conn.exec_driver_sql(
            "SELECT viewname FROM pg_views WHERE schemaname = current_schema()").scalars())
        assert set(CURVE_VIEWS) <= views
        if curve_functions.plpython_available(conn):  # a real server given by SHRINKAGE_TEST_TSDB_URL
            assert curve_functions.plpython_functions_present(conn)
        else:  # the PGlite double has no PL/Python: the migration says so and builds the rest
            assert curve_functions.plpython_functions_present(conn) == []
            assert any("PL/Python functions not created" in m and "plpython3u" in m for m in migration_log)


def test_sql_curve_equals_python_on_a_grid_of_ages(ts_engine):
    rows = grid_rows()
    with ts_engine.connect() as conn:
        got = [conn.execute(sa.text("SELECT shrinkage_curve(:family, :a, :b, :c, :t)"), chunk).scalar_one()
               for chunk in rows[::7]]
    expected = [python_curve(r["family"], tuple(v for v in (r["a"], r["b"], r["c"]) if v is not None), [r["t"]])[0]
                for r in rows[::7]]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_forecast_views_equal_the_python_forecast(ts_engine):
    seed_store(ts_engine)
    expected = batch_key(python_forecast(ts_engine))
    with ts_engine.connect() as conn:
        got = batch_key(view_forecast(conn))
    assert len(expected) > 0 and list(got["batch_arrival"]) == list(expected["batch_arrival"])
    np.testing.assert_array_equal(got["quantity"], expected["quantity"])
    np.testing.assert_allclose(got["expected_loss_kg"], expected["expected_loss_kg"], rtol=1e-12, atol=1e-15)


def test_downgrade_removes_the_curve_objects(ts_engine):
    migrate.downgrade(ts_engine, "0003")
    with ts_engine.connect() as conn:
        views = set(conn.exec_driver_sql("SELECT viewname FROM pg_views").scalars())
        functions = set(conn.exec_driver_sql(
            "SELECT proname FROM pg_proc WHERE proname IN ('shrinkage_curve', 'shrinkage_batch_loss')").scalars())
    assert not views & set(CURVE_VIEWS)
    assert functions == set()
    migrate.upgrade(ts_engine)

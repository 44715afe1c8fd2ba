"""Curves inside the database (migration 0004) on SQLite and a real PostgreSQL 15 server:
the SQL functions against shrinkage.modeling.curves on a grid of ages, the forecast views
against the Python forecast, the PL/Python functions, a migration without superuser rights
and the downgrade."""

from __future__ import annotations

import logging
import uuid

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from shrinkage.db import curve_functions, migrate
from shrinkage.db.analytics_views import CURVE_VIEWS
from shrinkage.db.engine import make_engine
from shrinkage.modeling.curves import FAMILIES, MAX_FRACTION, make_family
from shrinkage.modeling.forecast import expected_loss
from tests.curve_helpers import (
    AGES,
    HORIZONS,
    PARAMETER_SETS,
    batch_key,
    grid_rows,
    params_of,
    python_curve,
    python_fits,
    python_forecast,
    seed_store,
    view_forecast,
)

RTOL, ATOL = 1e-12, 1e-15


def sql_values(engine: sa.Engine, expression: str, rows: list[dict]) -> np.ndarray:
    """``expression`` over a temporary table of ``rows`` (columns family, a, b, c, t, q, n), in order."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE grid (id integer PRIMARY KEY, family varchar(32), a float, b float, "
            "c float, t float, q float, n float)")
        conn.execute(sa.text("INSERT INTO grid VALUES (:id, :family, :a, :b, :c, :t, :q, :n)"),
                     [{"q": None, "n": None, **row, "id": i} for i, row in enumerate(rows)])
        values = conn.exec_driver_sql(f"SELECT {expression} FROM grid ORDER BY id").scalars().all()
        conn.exec_driver_sql("DROP TABLE grid")
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def python_values(rows: list[dict]) -> np.ndarray:
    out = []
    for row in rows:
        values = tuple(v for v in (row["a"], row["b"], row["c"]) if v is not None)
        out.append(python_curve(row["family"], values, [row["t"]])[0])
    return np.array(out)


def test_the_database_knows_the_modelling_code_s_families_and_cap():
    assert curve_functions.CURVE_FAMILIES == tuple(FAMILIES) == tuple(PARAMETER_SETS)
    assert curve_functions.MAX_FRACTION == MAX_FRACTION


def test_sql_curve_equals_python_on_a_grid_of_ages(engine):
    rows = grid_rows()
    expected = python_values(rows)
    assert (expected == MAX_FRACTION).any() and (expected == 0).any()  # the grid reaches both ends
    got = sql_values(engine, "shrinkage_curve(family, a, b, c, t)", rows)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    main = [r for r in rows if r["family"] == "exp_linear"]
    np.testing.assert_allclose(sql_values(engine, "shrinkage_curve(a, b, c, t)", main),
                               python_values(main), rtol=RTOL, atol=ATOL)


def test_sql_batch_loss_equals_python_expected_loss(engine):
    rows = []
    for horizon in (1.0, 7.0, 30.0):
        for i, row in enumerate(grid_rows()[::3]):
            rows.append({**row, "t": max(row["t"], 0.0), "q": 0.5 + i % 7, "n": horizon})
    got = sql_values(engine, "shrinkage_batch_loss(family, a, b, c, q, t, n)", rows)
    expected = []
    for row in rows:
        values = tuple(v for v in (row["a"], row["b"], row["c"]) if v is not None)
        curve = make_family(row["family"], params_of(row["family"], values))
        expected.append(expected_loss(curve, [row["q"]], [row["t"]], row["n"])[0])
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14)


def test_sql_functions_return_null_for_missing_or_unknown_inputs(engine):
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT shrinkage_curve('exp_linear', 0.1, 0.2, NULL, 5), shrinkage_curve('power', 0.1, NULL, NULL, 5), "
            "shrinkage_curve('cubic', 0.1, 0.2, 0.3, 5), shrinkage_curve(NULL, 0.1, 0.2, 0.3, 5), "
            "shrinkage_curve(0.1, 0.2, 0.001, NULL), shrinkage_curve('linear', 0.001, NULL, NULL, 5), "
            "shrinkage_batch_loss('linear', 0.001, NULL, NULL, NULL, 5, 7)").one()
    assert list(row[:5]) == [None] * 5 and row[5] == pytest.approx(0.005) and row[6] is None


def test_forecast_views_equal_the_python_forecast(engine):
    store = seed_store(engine)
    expected = batch_key(python_forecast(engine))
    with engine.connect() as conn:
        got = batch_key(view_forecast(conn))
        totals = pd.read_sql(sa.text(
            "SELECT nomenclature_id, horizon_days, expected_loss_kg, batches FROM shrinkage_product_forecast"), conn)
        curves = pd.read_sql(sa.text("SELECT nomenclature_id, family, a, b FROM shrinkage_active_curves"), conn)
    ids = store.products
    # the cases the store was built for are in the Python answer the views must match
    assert set(expected["nomenclature_id"]) == {ids[k] for k in ("EXP", "QUAD", "POW", "LOG", "OLD")}
    assert len(expected[expected["nomenclature_id"] == ids["EXP"]]) == 4 * len(HORIZONS)
    assert set(expected.loc[expected["nomenclature_id"] == ids["QUAD"], "quantity"]) == {6.5, 0.0006}
    assert curves.set_index("nomenclature_id").loc[ids["QUAD"], "b"] == -2.5e-6
    assert curves.set_index("nomenclature_id").loc[ids["POW"], "a"] == 0.01  # rolled back to version 1
    assert curves.set_index("nomenclature_id").loc[ids["LOG"], "a"] == 0.015  # latest period's row
    assert ids["LIN"] in set(curves["nomenclature_id"]) and ids["NOFIT"] not in set(curves["nomenclature_id"])

    pd.testing.assert_frame_equal(got[["nomenclature_id", "horizon_days", "batch_arrival"]],
                                  expected[["nomenclature_id", "horizon_days", "batch_arrival"]],
                                  check_dtype=False)
    np.testing.assert_array_equal(got["quantity"], expected["quantity"])
    np.testing.assert_allclose(got["age_days"], expected["age_days"], rtol=1e-14, atol=0)
    np.testing.assert_allclose(got["expected_loss_kg"], expected["expected_loss_kg"], rtol=1e-12, atol=1e-15)
    python_totals = expected.groupby(["nomenclature_id", "horizon_days"]).agg(
        total=("total", "first"), python_batches=("quantity", "size")).reset_index()
    merged = totals.merge(python_totals, on=["nomenclature_id", "horizon_days"], how="outer")
    assert len(merged) == len(totals) == len(python_totals)
    np.testing.assert_allclose(merged["expected_loss_kg"], merged["total"], rtol=1e-12, atol=1e-12)
    assert (merged["batches"] == merged["python_batches"]).all()


def plpython_or_skip(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        if not curve_functions.plpython_available(conn):
            pytest.skip("the PostgreSQL server has no plpython3u extension: install the Debian package "
                        "postgresql-plpython3-15 (CI does) to run this test")
        assert set(curve_functions.plpython_functions_present(conn)) == {
            "shrinkage_expected_loss", "shrinkage_product_curve"}, \
            "plpython3u is available but 0004 did not create the functions"


@pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)
def test_plpython_functions_evaluate_the_model_in_force(engine):
    plpython_or_skip(engine)
    store = seed_store(engine)
    fits = python_fits(engine)
    forecast = python_forecast(engine)
    ids = store.products
    with engine.connect() as conn:
        for key in ("EXP", "QUAD", "POW", "LOG", "LIN", "OLD"):
            product = ids[key]
            curve = sa.text("SELECT shrinkage_product_curve(:p, :t)")
            got = [conn.execute(curve, {"p": product, "t": float(t)}).scalar_one() for t in AGES[::5]]
            np.testing.assert_allclose(got, fits[product].predict(AGES[::5]), rtol=1e-12, atol=1e-15, err_msg=key)
            for horizon in HORIZONS:
                loss = conn.execute(sa.text("SELECT shrinkage_expected_loss(:p, :h)"),
                                    {"p": product, "h": horizon}).scalar_one()
                rows = forecast[(forecast["nomenclature_id"] == product) & (forecast["horizon_days"] == horizon)]
                assert loss == pytest.approx(rows["total"].iloc[0] if len(rows) else 0.0, rel=1e-12, abs=1e-12), key
        assert conn.execute(sa.text("SELECT shrinkage_expected_loss(:p, 7), shrinkage_product_curve(:p, 7)"),
                            {"p": ids["NOFIT"]}).one() == (None, None)
        assert conn.exec_driver_sql("SELECT shrinkage_expected_loss(NULL, 7)").scalar_one() is None


@pytest.mark.postgres
def test_migration_without_superuser_builds_all_but_plpython(pg_server, caplog):
    admin = make_engine(pg_server.admin_url, null_pool=True)
    name, password = f"migrator_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"CREATE ROLE {name} LOGIN PASSWORD :pw"), {"pw": password})
        conn.exec_driver_sql(f"CREATE DATABASE {name} OWNER {name}")
    admin.dispose()
    engine = make_engine(pg_server.url_for(name).set(username=name, password=password), null_pool=True)
    try:
        with caplog.at_level(logging.WARNING, logger="shrinkage.db.curve_functions"):
            migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        message = " ".join(r.getMessage() for r in caplog.records)
        assert "PL/Python functions not created" in message and "superuser" in message
        assert password not in message
        with engine.connect() as conn:
            assert curve_functions.plpython_functions_present(conn) == []
            assert conn.exec_driver_sql("SELECT shrinkage_curve(0.04, 0.15, 0.0002, 10)").scalar_one() == \
                pytest.approx(python_curve("exp_linear", (0.04, 0.15, 0.0002), [10.0])[0], rel=1e-12)
            for view in CURVE_VIEWS:
                conn.exec_driver_sql(f"SELECT count(*) FROM {view}").scalar_one()
        migrate.downgrade(engine, "0003")
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def curve_objects(conn: sa.Connection) -> tuple[set, set]:
    if conn.dialect.name == "sqlite":
        views = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'view'").scalars())
        return views & set(CURVE_VIEWS), set()
    views = set(conn.exec_driver_sql(
        "SELECT viewname FROM pg_views WHERE schemaname = current_schema()").scalars())
    functions = set(conn.exec_driver_sql(
        "SELECT proname FROM pg_proc WHERE pronamespace = CAST(current_schema() AS regnamespace) "
        "AND proname IN ('shrinkage_curve', 'shrinkage_batch_loss', 'shrinkage_product_curve', "
        "'shrinkage_expected_loss')").scalars())
    return views & set(CURVE_VIEWS), functions


def test_downgrade_removes_the_curve_objects_and_upgrade_restores_them(engine):
    with engine.connect() as conn:
        views, functions = curve_objects(conn)
    assert views == set(CURVE_VIEWS)
    if engine.dialect.name == "postgresql":
        assert {"shrinkage_curve", "shrinkage_batch_loss"} <= functions
    migrate.downgrade(engine, "0003")
    with engine.connect() as conn:
        assert curve_objects(conn) == (set(), set())
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert curve_objects(conn) == (views, functions)


@pytest.fixture(scope="module")
def demo_statements(tmp_path_factory):
    """Weekly statements of a small simulated store (the files analysts drop in the inbox)."""
    from shrinkage.demo import simulate_store
    from shrinkage.demo.writer import write_statements
    written = write_statements(simulate_store(weeks=6, products=8, seed=3, errors=1),
                               tmp_path_factory.mktemp("curves-demo"))
    return [p for p in written if p.suffix == ".xlsx"]


@pytest.mark.slow
def test_product_forecast_view_equals_the_forecasts_a_fit_run_writes(engine, demo_statements):
    from shrinkage.app.fit import run_fit
    from shrinkage.app.ingest import ingest_paths
    outcomes = ingest_paths(engine, demo_statements)
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]
    run_fit(engine, created_by="test")
    with engine.connect() as conn:
        written = pd.read_sql(sa.text(
            "SELECT cd.nomenclature_id, f.horizon_days, f.forecast_date, f.forecast_value "
            "FROM forecasts f JOIN coefficients c ON c.id = f.coefficient_id "
            "JOIN calculation_data cd ON cd.id = c.calculation_data_id"), conn)
        view = pd.read_sql(sa.text(
            "SELECT nomenclature_id, horizon_days, as_of, expected_loss_kg FROM shrinkage_product_forecast"), conn)
    assert len(written) >= 10 and written["forecast_value"].gt(0).any()
    written["forecast_date"] = pd.to_datetime(written["forecast_date"])
    view["as_of"] = pd.to_datetime(view["as_of"])
    merged = written.merge(view, left_on=["nomenclature_id", "horizon_days", "forecast_date"],
                           right_on=["nomenclature_id", "horizon_days", "as_of"], how="outer")
    assert len(merged) == len(written) == len(view)
    # the table keeps the forecast floored at 0; the view keeps the signed sum
    np.testing.assert_allclose(merged["expected_loss_kg"].clip(lower=0), merged["forecast_value"],
                               rtol=1e-10, atol=1e-12)


@pytest.mark.postgres
def test_reporting_role_reads_the_forecast_views_and_calls_the_functions(pg_server, pg_head_template):
    from shrinkage.db import roles
    url = pg_server.create_database(template=pg_head_template)
    admin = make_engine(url, null_pool=True)
    store = seed_store(admin)
    expected = python_forecast(admin)
    name, password = f"bi_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE ROLE {name} LOGIN PASSWORD :pw"), {"pw": password})
        plpython = bool(curve_functions.plpython_functions_present(conn))
    roles.apply_roles(admin, {"reporting": [name]})
    admin.dispose()
    bi = make_engine(url.set(username=name, password=password), null_pool=True)
    try:
        product = store.products["EXP"]
        of_product = (expected["nomenclature_id"] == product) & (expected["horizon_days"] == 7)
        total = expected.loc[of_product, "total"].iloc[0]
        with bi.connect() as conn:
            got = conn.execute(sa.text(
                "SELECT expected_loss_kg FROM shrinkage_product_forecast"
                " WHERE nomenclature_id = :p AND horizon_days = 7"),
                {"p": product}).scalar_one()
            assert got == pytest.approx(total, rel=1e-12)
            any_horizon = conn.execute(sa.text(
                "SELECT sum(shrinkage_batch_loss(c.family, c.a, c.b, c.c, s.quantity, s.age_days, 7)) "
                "FROM shrinkage_stock_on_hand s JOIN shrinkage_active_curves c USING (nomenclature_id) "
                "WHERE nomenclature_id = :p"), {"p": product}).scalar_one()
            assert any_horizon == pytest.approx(total, rel=1e-12)
            if plpython:
                assert conn.execute(sa.text("SELECT shrinkage_expected_loss(:p, 7)"), {"p": product}).scalar_one() \
                    == pytest.approx(total, rel=1e-12)
    finally:
        bi.dispose()

"""The curves inside the database (migration 0004): how fast SQL answers what Python answers.

1. S(t) for 1,000,000 (family, parameters, age) rows: the inlined SQL function on PostgreSQL
   15 and the registered Python function on SQLite, against the naive way of a BI tool
   without them: fetch the rows and evaluate in Python (numpy, shrinkage.modeling.curves).
2. The expected loss of the stock on hand over 7 and 14 days for every product of a store
   with ``--products`` products x ``--documents`` documents x ``--batches`` batch lines:
   ``SELECT * FROM shrinkage_product_forecast`` (and the PL/Python ``shrinkage_expected_loss``
   per product on PostgreSQL) against the Python path (load the movements, build the
   exposure, coefficients in force, forecast_loss per product), with the totals compared.

Run from the repository root: ``python -m benchmarks.curve_functions [--products N]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from shrinkage.db import curve_functions, migrate
from shrinkage.db.bulk import insert_frame
from shrinkage.db.engine import make_engine, session_scope
from shrinkage.db.models import Base
from shrinkage.modeling.curves import make_family
from tests.curve_helpers import python_forecast
from tests.pg_server import start_pg_server

START = datetime(2024, 1, 1, 8, 0, 0)
GRID_ROWS = 1_000_000
PARAMS = {"a": 0.05, "b": 0.1, "c": 0.0005}


def seconds(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def curve_grid(engine: sa.Engine, label: str) -> None:
    if engine.dialect.name == "postgresql":
        rows = f"SELECT g * CAST(0.001 AS double precision) AS t FROM generate_series(1, {GRID_ROWS}) g"
    else:
        rows = (f"WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {GRID_ROWS}) "
                "SELECT i * 0.001 AS t FROM g")
    a, b, c = PARAMS.values()
    with engine.connect() as conn:
        in_sql, total = seconds(lambda: conn.exec_driver_sql(
            f"SELECT sum(shrinkage_curve('exp_linear', {a}, {b}, {c}, t)) FROM ({rows}) x").scalar_one())
        fetch, ages = seconds(lambda: np.array(conn.exec_driver_sql(rows).scalars().all(), dtype=float))
    numpy_s, python_total = seconds(lambda: make_family("exp_linear", PARAMS).predict(ages).sum())
    assert abs(total - python_total) <= 1e-9 * abs(python_total), (total, python_total)
    print(f"[{label}] S(t) of {GRID_ROWS:,} ages in SQL: {in_sql:.2f} s; "
          f"fetch + numpy (no function in the database): {fetch + numpy_s:.2f} s "
          f"(fetch {fetch:.2f} s, numpy {numpy_s:.3f} s)")


def seed(engine: sa.Engine, products: int, documents: int, batches: int) -> None:
    """One file; per product ``documents`` sales documents over ``batches`` batch lines; two fit
    runs of the main family with the second one active."""
    t = Base.metadata.tables
    rng = np.random.default_rng(0)
    with engine.begin() as conn:
        conn.execute(sa.insert(t["warehouses"]), [{"name": "Склад", "normalized_name": "склад"}])
        conn.execute(sa.insert(t["source_data"]), [{"file_name": "bench.xls", "file_hash": "bench-curves",
                                                     "warehouse_id": 1}])
        conn.execute(sa.insert(t["nomenclature"]), [
            {"name": f"ТОВАР {i}", "normalized_name": f"товар {i}"} for i in range(products)])
        conn.execute(sa.insert(t["calculation_data"]), [
            {"source_data_id": 1, "warehouse_id": 1, "nomenclature_id": i + 1,
             "calculation_date": START + timedelta(days=90)}
            for i in range(products)])
        conn.execute(sa.insert(t["models"]), [{"name": "exp_linear", "model_type": "shrinkage_curve", "version": "1"}])
        for version, active in (("1", False), ("2", True)):
            conn.execute(sa.insert(t["ml_model_registry"]), [{
                "model_id": 1, "model_name": "exp_linear", "version": version, "is_active": active,
                "training_date": START + timedelta(days=int(version)),
                "parameters": {"family": "exp_linear", "products": {}}}])
    p, d, k = np.meshgrid(np.arange(products), np.arange(documents), np.arange(batches), indexing="ij")
    p, d, k = p.ravel(), d.ravel(), k.ravel()
    when = pd.Timestamp(START) + pd.to_timedelta(d * 3 + p % 7, unit="D") + pd.to_timedelta(p % 1440, unit="min")
    arrival = pd.Timestamp(START) - pd.to_timedelta(k * 11 + 1, unit="D") + pd.to_timedelta(k * 37, unit="s")
    closing = np.round(rng.uniform(0.0, 5.0, len(p)) * (documents - d) / documents, 3)
    frame = pd.DataFrame({
        "source_data_id": 1, "warehouse_id": 1, "nomenclature_id": p + 1, "calculation_data_id": p + 1,
        "source_row": np.arange(len(p)), "document_type": "Отчет о продажах", "document_kind": "sale",
        "document_number": [f"{x:015d}" for x in d], "document_datetime": when, "batch_arrival": arrival,
        "is_labelled": True, "opening": closing + 0.1, "incoming": 0.0, "outgoing": 0.1, "closing": closing})
    with session_scope(engine) as session:
        insert_frame(session, t["batch_movements"], frame)
    fits = []
    for run in (1, 2):
        a = rng.uniform(0.01, 0.1, products).tolist()
        b = rng.uniform(0.02, 1.0, products).tolist()
        c = rng.uniform(0.0, 0.001, products).tolist()
        fits += [{"calculation_data_id": i + 1, "model_id": 1, "ml_model_registry_id": run,
                  "coefficient_a": a[i], "coefficient_b": b[i], "coefficient_c": c[i],
                  "fit_details": {"family": "exp_linear", "params": {"a": a[i], "b": b[i], "c": c[i]}}}
                 for i in range(products)]
    with engine.begin() as conn:
        conn.execute(sa.insert(t["coefficients"]), fits)
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")


def forecast(engine: sa.Engine, label: str, products: int) -> None:
    with engine.connect() as conn:
        in_sql, view = seconds(lambda: pd.read_sql(sa.text(
            "SELECT nomenclature_id, horizon_days, expected_loss_kg FROM shrinkage_product_forecast"), conn))
        plpython = bool(curve_functions.plpython_functions_present(conn))
        if plpython:
            per_product, _ = seconds(lambda: conn.exec_driver_sql(
                "SELECT id, shrinkage_expected_loss(id, 7) FROM nomenclature").all())
    in_python, frame = seconds(lambda: python_forecast(engine))
    totals = frame.groupby(["nomenclature_id", "horizon_days"])["total"].first()
    merged = view.set_index(["nomenclature_id", "horizon_days"])["expected_loss_kg"].reindex(totals.index)
    worst = float(np.max(np.abs(merged.to_numpy() - totals.to_numpy())))
    print(f"[{label}] forecast of {products:,} products, 2 horizons: view {in_sql:.2f} s, Python path "
          f"{in_python:.2f} s; largest difference {worst:.1e} kg")
    if plpython:
        print(f"[{label}] PL/Python shrinkage_expected_loss for every product (7 days): {per_product:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--documents", type=int, default=20)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    movements = args.products * args.documents * args.batches
    print(f"store: {args.products:,} products, {movements:,} batch movements")
    server = start_pg_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for label, url in (("postgresql", server.create_database()),
                               ("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}")):
                engine = make_engine(url, null_pool=True) if label == "postgresql" else make_engine(url)
                migrate.upgrade(engine)
                curve_grid(engine, label)
                seed(engine, args.products, args.documents, args.batches)
                forecast(engine, label, args.products)
                engine.dispose()
    finally:
        server.stop()


if __name__ == "__main__":
    main()

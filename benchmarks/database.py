"""Bulk load and the main analytical queries on 1,000,000 batch movements.

Plain PostgreSQL 15 (the test server of tests/pg_server.py) against the TimescaleDB test
double (tests/tsdb_server.py, PGlite + TimescaleDB compiled to WASM: a functional double,
so its absolute times say little about a real TimescaleDB server; compare plans, not
speeds). The naive baseline is row-by-row executemany of the same rows.

Run from the repository root: ``python -m benchmarks.database [--rows N] [--tsdb-rows N]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from shrinkage.db import migrate, queries
from shrinkage.db.bulk import insert_frame
from shrinkage.db.engine import make_engine, session_scope
from shrinkage.db.models import BatchMovement
from tests.pg_server import start_pg_server
from tests.tsdb_server import TsdbServerError, start_tsdb_server

PRODUCTS = 1000
START = datetime(2022, 1, 3)
NAIVE_ROWS = 20_000


def movements(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    minutes = np.sort(rng.integers(0, 3 * 365 * 24 * 60, rows))
    return pd.DataFrame({
        "source_data_id": 1,
        "nomenclature_id": rng.integers(1, PRODUCTS + 1, rows),
        "source_row": np.arange(rows),
        "document_type": "Реализация товаров",
        "document_kind": "sale",
        "document_datetime": pd.Timestamp(START) + pd.to_timedelta(minutes, unit="min"),
        "opening": 10.0, "incoming": 0.0,
        "outgoing": np.round(rng.uniform(0, 2, rows), 3), "closing": 8.0,
    })


def prepare(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO source_data (file_name, file_hash) VALUES ('bench.xls', 'bench')"))
        conn.execute(sa.text("INSERT INTO nomenclature (name, normalized_name) "
                             "SELECT 'P ' || g, 'p ' || g FROM generate_series(1, :n) g"), {"n": PRODUCTS})


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median milliseconds of ``repeats`` calls."""
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def run(label: str, engine: sa.Engine, rows: int, bucket: str, repeats: int) -> None:
    prepare(engine)
    frame = movements(rows)
    t0 = time.perf_counter()
    for start in range(0, rows, 250_000):  # bounded transactions
        with session_scope(engine) as session:
            insert_frame(session, BatchMovement.__table__, frame.iloc[start:start + 250_000])
    load_s = time.perf_counter() - t0
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE batch_movements")
    print(f"[{label}] COPY load of {rows:,} movements: {load_s:.1f} s, {rows / load_s:,.0f} rows/s")

    rng = np.random.default_rng(1)

    def product_month() -> None:
        product = int(rng.integers(1, PRODUCTS + 1))
        day = START + timedelta(days=int(rng.integers(0, 1000)))
        with engine.connect() as conn:
            conn.execute(queries.movements_in_range(1, product, day, day + timedelta(days=30))).all()

    def monthly_totals() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text(
                f"SELECT {bucket}, nomenclature_id, sum(outgoing), count(*) FROM batch_movements "
                "GROUP BY 1, 2")).all()

    def one_week_all_products() -> None:
        day = START + timedelta(days=int(rng.integers(0, 1000)))
        with engine.connect() as conn:
            conn.execute(sa.text(
                "SELECT nomenclature_id, sum(outgoing) FROM batch_movements "
                "WHERE document_datetime >= :a AND document_datetime < :b GROUP BY 1"),
                {"a": day, "b": day + timedelta(days=7)}).all()

    print(f"[{label}] one product, one month of movements: {timed(product_month, repeats * 10):.1f} ms")
    print(f"[{label}] all products, one week, summed:      {timed(one_week_all_products, repeats * 5):.1f} ms")
    print(f"[{label}] monthly totals per product (full scan): {timed(monthly_totals, repeats):.0f} ms")


def naive_baseline(engine: sa.Engine) -> None:
    """Row-at-a-time INSERTs through executemany: what the COPY path replaces."""
    frame = movements(NAIVE_ROWS, seed=7).assign(source_row=lambda f: f["source_row"] + 10_000_000)
    records = frame.astype(object).to_dict("records")
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.insert(BatchMovement.__table__), records)
    elapsed = time.perf_counter() - t0
    print(f"[baseline] executemany INSERT of {NAIVE_ROWS:,} rows: {elapsed:.1f} s, {NAIVE_ROWS / elapsed:,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tsdb-rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    server = start_pg_server()
    try:
        engine = make_engine(server.create_database(), null_pool=True)
        run("postgresql", engine, args.rows, "date_trunc('month', document_datetime)", args.repeats)
        naive_baseline(engine)
        engine.dispose()
    finally:
        server.stop()
    if args.tsdb_rows <= 0:
        return
    try:
        tsdb = start_tsdb_server(Path(tempfile.mkdtemp(prefix="bench-tsdb-")))
    except TsdbServerError as exc:
        print(f"[timescaledb] skipped: {exc}")
        return
    try:
        engine = make_engine(tsdb.url, null_pool=True)
        run("timescaledb-double", engine, args.tsdb_rows, "time_bucket(INTERVAL '1 month', document_datetime)",
            args.repeats)
        engine.dispose()
    finally:
        tsdb.stop()


if __name__ == "__main__":
    main()

"""Ingest speed: our path (calamine, GX validation, COPY) vs a naive baseline, in one run.

The baseline is what one would write first: openpyxl reads the sheet, pandas ``to_sql``
writes every row (no validation, no normalisation). Each measurement runs in a fresh
process so that its peak memory is its own. Usage::

    python benchmarks/ingest.py [--rows 200000] [--pg-url URL]

Without ``--pg-url`` a throwaway PostgreSQL 15 server is started (as the tests do).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure_ours(path: Path, url: str) -> dict:
    from shrinkage.app.ingest import ingest_file
    from shrinkage.db import migrate
    from shrinkage.db.engine import make_engine

    engine = make_engine(url)
    migrate.upgrade(engine)
    from shrinkage.config import CONFIG
    from shrinkage.quality.gx_backend import warm_up

    warm_up(CONFIG)  # GX import and suite building are one-offs per process, not per file
    started = time.perf_counter()
    outcome = ingest_file(engine, path)
    elapsed = time.perf_counter() - started
    assert outcome.status == "loaded", outcome.message
    return {"seconds": elapsed, "rows": outcome.rows_read}


def measure_naive(path: Path, url: str) -> dict:
    import openpyxl
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    started = time.perf_counter()
    sheet = openpyxl.load_workbook(path, read_only=True, data_only=True).active
    rows = [r for r in sheet.iter_rows(values_only=True)]
    frame = pd.DataFrame(rows).astype(str)
    frame.columns = [f"c{i}" for i in range(frame.shape[1])]
    frame.to_sql("naive_rows", engine, if_exists="replace", index=False, chunksize=10_000)
    return {"seconds": time.perf_counter() - started, "rows": len(rows)}


def child(kind: str, path: str, url: str) -> None:
    result = (measure_ours if kind == "ours" else measure_naive)(Path(path), url)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_child(kind: str, path: Path, url: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(path), url],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{kind} on {url.split('@')[-1]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "FILE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    sys.path.insert(0, str(ROOT))  # the benchmark borrows the tests' throwaway server
    from shrinkage.demo import write_large_statement
    from tests.pg_server import start_pg_server

    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    statement = work / "large.xlsx"
    started = time.perf_counter()
    written = write_large_statement(statement, args.rows, seed=1)
    print(f"statement: {written:,} data rows, {statement.stat().st_size / 1e6:.1f} MB "
          f"(generated in {time.perf_counter() - started:.1f} s)")

    server = None
    if args.pg_url:
        pg_urls = [args.pg_url, args.pg_url]
    else:
        server = start_pg_server()
        pg_urls = [server.create_database().render_as_string(hide_password=False) for _ in range(2)]
    try:
        targets = {
            "PostgreSQL": pg_urls,
            "SQLite": [f"sqlite:///{work / 'ours.db'}", f"sqlite:///{work / 'naive.db'}"],
        }
        print(f"{'database':<11} {'path':<28} {'seconds':>8} {'rows/s':>10} {'peak MB':>8}")
        for name, (ours_url, naive_url) in targets.items():
            ours = run_child("ours", statement, ours_url)
            naive = run_child("naive", statement, naive_url)
            for label, r in (("ours (calamine+GX+COPY)", ours), ("naive (openpyxl+to_sql)", naive)):
                print(f"{name:<11} {label:<28} {r['seconds']:>8.2f} {r['rows'] / r['seconds']:>10,.0f} "
                      f"{r['peak_mb']:>8.0f}")
            print(f"{name:<11} speed-up vs naive: {naive['seconds'] / ours['seconds']:.1f}x "
                  "(ours also validates and normalises)")
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()

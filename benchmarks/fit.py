"""Fit quality and speed from the database against the generator's truth and the naive baseline.

1. A 12-week store of the project's generator (all product types, keying errors) is written
   as weekly 1C statements and ingested into a temporary SQLite database. The fit runs from
   the database after week 10, then for weeks 11 and 12 once on the week without its last
   day (no count yet: preliminary forecasts) and once on the whole week, so the forecasts of
   one run meet their counts in a later one (forecast and preliminary MAPE).
2. The last run is compared with the truth: median |S(t) error| at 7, 14, 30 days for this
   method and for the naive y = L/B fit on the same data, the surplus-rate error of products
   that have one, anomaly recall and precision against the injected keying errors.
3. Speed: 1,000 products x 52 weekly counts. Ingesting 52 x 1,000-product statements takes
   far longer than the fit, so the exposure is built directly from the simulator's documents
   (the same contract the database load produces) and only the fit is timed.

Usage::

    python -m benchmarks.fit [--products 32] [--errors 12] [--seed 0] [--speed-products 1000]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from shrinkage.app.analytics import write_analytics
from shrinkage.app.fit import fit_and_register, load_observations
from shrinkage.app.forecasts import write_forecasts
from shrinkage.app.ingest import ingest_paths
from shrinkage.app.surplus import write_surplus
from shrinkage.db import migrate
from shrinkage.db.engine import make_engine
from shrinkage.db.services import normalize_name
from shrinkage.demo import simulate_store
from shrinkage.demo.writer import statement_file_name, write_statement_xlsx
from shrinkage.modeling.baseline import fit_naive_baseline
from shrinkage.modeling.curves import make_family
from shrinkage.modeling.exposure import build_exposure
from shrinkage.modeling.fitting import ShrinkageFitter
from tests.modeling_helpers import store_movements

AGES = np.array([7.0, 14.0, 30.0])
WEEKS = 12
FIRST_FIT_WEEK = 10


def fit_from_database(engine):
    observations = load_observations(engine)
    run = fit_and_register(engine, observations, created_by="benchmark")
    forecasts = write_forecasts(engine, observations)
    write_surplus(engine, run)
    write_analytics(engine, run)
    return observations, run, forecasts


def quality(products: int, errors: int, seed: int) -> None:
    sim = simulate_store(weeks=WEEKS, products=products, seed=seed, errors=errors)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths, partials = [], []
        for statement in sim.statements:
            path = tmp / statement_file_name(statement)
            write_statement_xlsx(statement, path)
            paths.append(path)
            # the same week without its last day (no count yet): preliminary forecasts
            partial = sim.statement_for(statement.period_start,
                                        statement.period_end - timedelta(days=1))
            partial_path = tmp / "partial" / statement_file_name(partial)
            write_statement_xlsx(partial, partial_path)
            partials.append(partial_path)
        engine = make_engine(f"sqlite:///{tmp / 'bench.db'}")
        migrate.upgrade(engine)
        t0 = time.perf_counter()
        ingest_paths(engine, paths[:FIRST_FIT_WEEK])
        fit_from_database(engine)
        for path, partial_path in zip(paths[FIRST_FIT_WEEK:], partials[FIRST_FIT_WEEK:]):
            ingest_paths(engine, [partial_path])
            fit_from_database(engine)
            ingest_paths(engine, [path])
            observations, run, forecasts = fit_from_database(engine)
        elapsed = time.perf_counter() - t0
        engine.dispose()

    by_name = {normalize_name(name): pid for pid, name in observations.names.items()}
    rows = []
    naive = observations.naive
    for truth in sim.products:
        product = by_name[normalize_name(truth.name)]
        fit = run.fits.get(product)
        if fit is None:
            continue
        true_s = make_family("exp_linear", {"a": truth.curve.a, "b": truth.curve.b,
                                            "c": truth.curve.c}).predict(AGES)
        own = naive[naive["product"] == product]
        naive_s = fit_naive_baseline(own).predict(AGES) if len(own) >= 3 else np.full(3, np.nan)
        rows.append({
            "product": truth.name.strip(), "type": truth.product_type, "method": fit.method,
            "family": fit.family, **{f"err{int(a)}": e for a, e in zip(AGES, (fit.predict(AGES) - true_s) * 100)},
            **{f"naive{int(a)}": e for a, e in zip(AGES, (naive_s - true_s) * 100)},
            "r_true": truth.surplus_rate, "r_fit": fit.surplus_rate,
        })
    table = pd.DataFrame(rows)
    print(f"store: {WEEKS} weeks x {products} products (seed {seed}), {len(sim.errors)} keying "
          f"errors; ingest + 5 fit runs from SQLite in {elapsed:.1f} s")
    print(f"last run: {run.summary.products_fitted} products fitted {run.summary.methods}, "
          f"families {run.summary.families}")
    print("\nmedian |S(t) error|, percentage points (truth: the generator's curves)")
    print(f"{'age':>6} {'exposure fit':>13} {'naive L/B':>10} {'naive / ours':>13}")
    for age in (7, 14, 30):
        ours = table[f"err{age}"].abs().median()
        base = table[f"naive{age}"].abs().median()
        print(f"{age:>5}d {ours:>13.4f} {base:>10.4f} {base / ours:>12.1f}x")
    with_r = table[table["r_true"] > 0]
    r_err = (with_r["r_fit"] - with_r["r_true"]).abs() * 100
    print(f"\nsurplus rate, {len(with_r)} products with r > 0: median |error| {r_err.median():.3f} pp, "
          f"max {r_err.max():.3f} pp")

    scores = run.scores
    names = observations.names
    flagged = {(normalize_name(names[p]), str(d)) for p, d in
               scores.loc[scores["anomalous"], ["product", "doc_number"]].itertuples(index=False)}
    injected = {(normalize_name(e.product), f"{e.doc_number:015d}") for e in sim.errors}
    hits = flagged & injected
    recall = len(hits) / len(injected) if injected else float("nan")
    precision = len(hits) / len(flagged) if flagged else float("nan")
    print(f"anomalies: {len(flagged)} flagged, {len(injected)} injected, recall {recall:.0%}, "
          f"precision {precision:.0%}")
    print("forecasts compared with the counts that came after them, median absolute % error:")
    print(f"  loss of the stock on hand over 7/14 days (booked shortage put on that stock by "
          f"the forecast's coefficients): {_percent(forecasts.forecast_mape)}")
    print(f"  preliminary forecasts (shortage expected at the next count): "
          f"{_percent(forecasts.preliminary_mape)}")
    worst = table.reindex(table["err14"].abs().sort_values(ascending=False).index).head(5)
    print("\nlargest S(14) errors:")
    print(worst[["product", "type", "method", "family", "err7", "err14", "err30"]]
          .round(3).to_string(index=False))


def _percent(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{100 * fraction:.1f} %"


def speed(products: int, weeks: int = 52, n_jobs: int = 2, seed: int = 1) -> None:
    t0 = time.perf_counter()
    sim = simulate_store(weeks=weeks, products=products, seed=seed)
    movements = store_movements(sim)
    types = {p.name: p.product_type for p in sim.products}
    t1 = time.perf_counter()
    exposure = build_exposure(movements)
    t2 = time.perf_counter()
    fitter = ShrinkageFitter(n_jobs=n_jobs).fit(exposure, product_types=types)
    t3 = time.perf_counter()
    print(f"\nspeed: {products} products x {weeks} weeks ({len(movements):,} batch lines, "
          f"{int(exposure.counts['usable'].sum()):,} usable counts; simulated in {t1 - t0:.0f} s)")
    print(f"  exposure {t2 - t1:.1f} s, fit {t3 - t2:.1f} s (n_jobs={n_jobs}): "
          f"{len(fitter.fits_) / (t3 - t2):.1f} products/s; exposure + fit {t3 - t1:.1f} s "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=32)
    parser.add_argument("--errors", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--speed-products", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    quality(args.products, args.errors, args.seed)
    if args.speed_products:
        speed(args.speed_products, n_jobs=args.jobs)


if __name__ == "__main__":
    main()

"""Speed of the exposure fit: products x weekly counts fitted per second (all families, AICc).

Run from the repository root:  python -m benchmarks.modeling_fit_speed [n_products] [weeks] [n_jobs]
The store simulator is slow Python, so a few distinct products are simulated and repeated
under new names; the fit treats every copy as its own product.
"""

from __future__ import annotations

import os
import sys
import time

import pandas as pd

from shrinkage.modeling.baseline import fit_naive_baseline, naive_observations
from shrinkage.modeling.exposure import build_exposure
from shrinkage.modeling.fitting import ShrinkageFitter
from tests.modeling_helpers import dried_products, simulate

DISTINCT = 40


def main(n_products: int = 1000, weeks: int = 52, n_jobs: int = 2) -> None:
    t0 = time.perf_counter()
    sim = simulate(dried_products(DISTINCT, surplus_rate=0.03), weeks=weeks, seed=7)
    copies = []
    for i in range(-(-n_products // DISTINCT)):
        copy = sim.movements.copy()
        copy["product"] = copy["product"] + f"-{i:03d}"
        copies.append(copy)
    movements = pd.concat(copies, ignore_index=True)
    keep = movements["product"].isin(movements["product"].unique()[:n_products])
    movements = movements[keep].reset_index(drop=True)
    t1 = time.perf_counter()
    exposure = build_exposure(movements)
    t2 = time.perf_counter()
    types = {p: ("dried" if i % 2 else "smoked") for i, p in enumerate(exposure.products)}
    fitter = ShrinkageFitter(n_jobs=n_jobs).fit(exposure, product_types=types)
    t3 = time.perf_counter()
    fit_naive_baseline(naive_observations(movements))
    t4 = time.perf_counter()
    n_counts = int(exposure.counts["usable"].sum())
    print(f"movements: {len(movements):,} batch rows, {exposure.counts.shape[0]:,} counts "
          f"({n_counts:,} usable), {len(exposure.K):,} segments; simulated in {t1 - t0:.1f} s")
    print(f"build_exposure: {t2 - t1:.2f} s")
    print(f"fit ({len(fitter.fits_)} products, {len(fitter.type_fits_)} type fits, "
          f"n_jobs={n_jobs}): {t3 - t2:.2f} s = {len(fitter.fits_) / (t3 - t2):.1f} products/s")
    print(f"naive baseline fit: {t4 - t3:.2f} s")
    print(f"total exposure + fit: {t3 - t1:.2f} s (load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs: other processes slow it)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)

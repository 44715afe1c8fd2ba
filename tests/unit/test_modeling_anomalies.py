"""Robustness to keying errors, the anomaly detector, product clusters and seasonal effects."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from shrinkage.config import CONFIG
from shrinkage.modeling.anomalies import (
    anomaly_patterns,
    cluster_products,
    human_error_probability,
    score_counts,
    seasonal_effects,
)
from shrinkage.modeling.curves import make_family
from shrinkage.modeling.exposure import build_exposure
from shrinkage.modeling.fitting import ShrinkageFitter
from tests.modeling_helpers import dried_products, random_errors, simulate, true_curve

TRUE_S = make_family("exp_linear", {"a": 0.03, "b": 0.2, "c": 0.0005})
AGES = np.array([7.0, 14.0])
WEEKS = 26


@pytest.fixture(scope="module")
def store_with_errors():
    products = dried_products(10, surplus_rate=0.03)
    sim = simulate(products, weeks=WEEKS, seed=1,
                   errors=random_errors(products, WEEKS, rate=0.08, seed=101))
    exposure = build_exposure(sim.movements)
    robust = ShrinkageFitter(families=("exp_linear",)).fit(exposure, sim.product_types)
    return sim, exposure, robust


def _max_error_pp(fitter):
    return np.array([np.abs(f.predict(AGES) - TRUE_S.predict(AGES)).max() * 100
                     for f in fitter.fits_.values()])


def test_robust_fit_resists_injected_keying_errors(store_with_errors):
    sim, exposure, robust = store_with_errors
    assert len(sim.injected) >= 15
    plain_settings = dataclasses.replace(CONFIG.modeling, robust_loss="linear", reject_z=1e9)
    plain = ShrinkageFitter(settings=plain_settings, families=("exp_linear",)).fit(
        exposure, sim.product_types)
    robust_err, plain_err = _max_error_pp(robust), _max_error_pp(plain)
    assert robust_err.max() < 0.2
    assert np.median(plain_err) > 3 * np.median(robust_err)
    assert np.abs(robust.type_fits_["dried"].predict(AGES) - TRUE_S.predict(AGES)).max() < 0.0015


def test_anomaly_detector_finds_injected_errors(store_with_errors):
    sim, exposure, robust = store_with_errors
    scores = score_counts(exposure, robust.fits_)
    injected = {(p, pd.Timestamp(t)) for p, t, _ in sim.injected}
    flagged = {(p, pd.Timestamp(t)) for p, t in
               scores.loc[scores["anomalous"], ["product", "count_datetime"]].itertuples(index=False)}
    hits = len(injected & flagged)
    assert hits / len(injected) >= 0.8
    assert hits / len(flagged) >= 0.6
    # the count after an error reverses it and says which count it reverses
    reversals = scores[scores["compensating"]]
    assert len(reversals) >= len(injected) // 2
    for row in reversals.itertuples(index=False):
        previous = scores[(scores["product"] == row.product)
                          & (scores["doc_number"] == row.reverses_doc_number)]
        assert previous["anomalous"].all()
    clean = scores[~scores["anomalous"] & ~scores["compensating"]]
    assert clean["human_error_probability"].median() < 0.05
    patterns = anomaly_patterns(scores)
    assert len(patterns) == int(scores["anomalous"].sum())
    assert all(p.confidence >= CONFIG.modeling.anomaly_probability for p in patterns)
    json.dumps([p.to_dict() for p in patterns])


def test_human_error_probability_rises_with_the_residual():
    z = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 50.0])
    p = human_error_probability(z, prior=0.02, error_scale=10.0)
    assert np.all(np.diff(p) > 0)
    assert p[2] < 0.05 and p[5] > 0.99 and p[6] == pytest.approx(1.0)
    assert human_error_probability(-4.0, 0.02, 10.0) == pytest.approx(p[4])


def test_clusters_separate_fast_and_slow_drying_products():
    dried = dried_products(5, prefix="D")
    frozen = dried_products(5, prefix="F", curve=true_curve("linear", a=0.0001),
                            product_type="frozen")
    sim = simulate(dried + frozen, weeks=10, seed=4)
    fitter = ShrinkageFitter(families=("exp_linear", "linear")).fit(
        build_exposure(sim.movements), sim.product_types)
    patterns = cluster_products(fitter.fits_)
    groups = sorted(sorted(p.affected) for p in patterns)
    assert groups == [[p.name for p in dried], [p.name for p in frozen]]
    assert all(0.5 < p.confidence <= 1.0 for p in patterns)
    json.dumps([p.to_dict() for p in patterns])
    assert cluster_products(list(fitter.fits_.values())[:2]) == []


def _scores(month_shift: dict[int, float], n_per_month: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    rows = []
    for month in (1, 2, 3, 4):
        z = rng.normal(month_shift.get(month, 0.0), 1.0, n_per_month)
        for i, value in enumerate(z):
            rows.append({"product": f"P{i % 5}", "product_type": "dried",
                         "count_datetime": pd.Timestamp(2025, month, 1 + i % 28),
                         "z": value, "residual": value * 0.01, "expected": 0.2,
                         "anomalous": False, "compensating": False})
    return pd.DataFrame(rows)


def test_seasonal_effect_is_found_in_the_shifted_month_only():
    found = seasonal_effects(_scores({3: 1.2}))
    assert [p.evidence["month"] for p in found] == [3]
    assert found[0].confidence > 0.99 and found[0].evidence["mean_z"] > 0.8
    assert "more shortage" in found[0].description
    json.dumps([p.to_dict() for p in found])
    assert seasonal_effects(_scores({})) == []

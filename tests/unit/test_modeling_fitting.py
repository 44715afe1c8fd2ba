"""Fitting S and r from count shortages on simulated stores with a known truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from shrinkage.modeling.baseline import fit_naive_baseline, naive_observations
from shrinkage.modeling.curves import make_family
from shrinkage.modeling.exposure import build_exposure
from shrinkage.modeling.fitting import INDIVIDUAL, POOLED, SHRUNK, ShrinkageFitter, aicc, priority_weights
from tests.modeling_helpers import FAMILY_EXAMPLES, dried_products, simulate, true_curve

TRUE_S = make_family("exp_linear", {"a": 0.03, "b": 0.2, "c": 0.0005})
AGES = np.array([7.0, 14.0])


def _covered(exposure, product, age=14.0) -> bool:
    """Whether the data reach that age, so S there is measured, not extrapolated."""
    return exposure.product(product).age_end.max() >= age


@pytest.fixture(scope="module")
def clean_store():
    sim = simulate(dried_products(8), weeks=12, seed=11)
    exposure = build_exposure(sim.movements)
    fitter = ShrinkageFitter(families=("exp_linear",)).fit(exposure, sim.product_types)
    return sim, exposure, fitter


def test_exposure_fit_recovers_s7_and_s14_within_015_pp(clean_store):
    sim, exposure, fitter = clean_store
    covered = [p for p in exposure.products if _covered(exposure, p)]
    assert len(covered) >= 6
    for product in covered:
        fit = fitter.fits_[product]
        assert fit.method == INDIVIDUAL and fit.n_observations == 12
        error_pp = (fit.predict(AGES) - TRUE_S.predict(AGES)) * 100
        assert np.abs(error_pp).max() < 0.15, (product, error_pp)
    pooled = fitter.type_fits_["dried"]
    assert np.abs(pooled.predict(AGES) - TRUE_S.predict(AGES)).max() * 100 < 0.15


def test_exposure_fit_is_at_least_five_times_closer_than_the_naive_baseline(clean_store):
    sim, exposure, fitter = clean_store
    naive = naive_observations(sim.movements)
    exposure_errors, naive_errors = [], []
    for product in exposure.products:
        truth = TRUE_S.predict(AGES)
        exposure_errors.append(np.abs(fitter.fits_[product].predict(AGES) - truth).mean())
        own = fit_naive_baseline(naive[naive["product"] == product])
        naive_errors.append(np.abs(own.predict(AGES) - truth).mean())
    assert np.mean(naive_errors) >= 5 * np.mean(exposure_errors)
    pooled_naive = fit_naive_baseline(naive)
    assert np.abs(pooled_naive.predict(AGES) - TRUE_S.predict(AGES)).max() * 100 > 0.3


def test_surplus_rate_on_receipt_is_recovered_within_half_a_point():
    sim = simulate(dried_products(8, surplus_rate=0.05), weeks=12, seed=12)
    exposure = build_exposure(sim.movements)
    fitter = ShrinkageFitter(families=("exp_linear",)).fit(exposure, sim.product_types)
    for fit in fitter.fits_.values():
        assert fit.surplus_source == "estimated"
        assert fit.surplus_rate == pytest.approx(0.05, abs=0.005)
    assert fitter.type_fits_["dried"].surplus_rate == pytest.approx(0.05, abs=0.005)


def test_surplus_specification_fixes_r():
    sim = simulate(dried_products(6, surplus_rate=0.04), weeks=8, seed=13)
    exposure = build_exposure(sim.movements)
    fitter = ShrinkageFitter(families=("exp_linear",)).fit(
        exposure, sim.product_types, surplus_rates={"P000": 0.04})
    assert fitter.fits_["P000"].surplus_rate == 0.04
    assert fitter.fits_["P000"].surplus_source == "specified"
    assert fitter.fits_["P001"].surplus_source == "estimated"


@pytest.mark.parametrize("family, params", FAMILY_EXAMPLES)
def test_aicc_picks_the_true_family_on_clean_data(family, params):
    products = dried_products(6, curve=true_curve(family, **params), prefix=family[:3])
    sim = simulate(products, weeks=26, seed=3, count_noise_kg=0.001)
    fitter = ShrinkageFitter().fit(build_exposure(sim.movements), sim.product_types)
    chosen = [fit.family for fit in fitter.fits_.values()]
    assert chosen.count(family) >= 5, chosen
    assert fitter.type_fits_["dried"].family == family


def test_few_counts_borrow_from_the_product_type_and_say_how():
    sim = simulate(dried_products(8), weeks=12, seed=14)
    moves = sim.movements
    cut = {"P006": pd.Timestamp("2025-01-27"), "P007": pd.Timestamp("2025-01-13")}
    for product, until in cut.items():
        moves = moves[(moves["product"] != product) | (moves["doc_datetime"] < until)]
    exposure = build_exposure(moves)
    fitter = ShrinkageFitter(families=("exp_linear",)).fit(exposure, sim.product_types)
    shrunk, pooled = fitter.fits_["P006"], fitter.fits_["P007"]
    assert (shrunk.method, shrunk.n_observations) == (SHRUNK, 3)
    assert (pooled.method, pooled.n_observations) == (POOLED, 1)
    assert pooled.params == fitter.type_fits_["dried"].params
    assert fitter.fits_["P000"].method == INDIVIDUAL
    assert abs(shrunk.predict([7.0])[0] - TRUE_S.predict([7.0])[0]) * 100 < 0.3


def test_products_without_a_type_share_one_pool_and_results_are_json():
    sim = simulate(dried_products(3), weeks=8, seed=15)
    fitter = ShrinkageFitter(families=("exp_linear", "linear")).fit(build_exposure(sim.movements))
    assert set(fitter.type_fits_) == {"all"}
    fit = fitter.fits_["P000"]
    payload = json.loads(json.dumps(fit.to_dict()))
    assert payload["family"] in {"exp_linear", "linear"}
    assert set(payload["candidates"]) == {"exp_linear", "linear"}
    assert 0.9 < payload["r2"] <= 1.0 and payload["rmse"] > 0 and payload["mae"] > 0
    frame = pd.DataFrame([f.to_dict() for f in fitter.fits_.values()])
    assert list(frame["product"]) == ["P000", "P001", "P002"]


def test_priority_periods_weight_counts_by_level():
    times = pd.to_datetime(["2025-01-05", "2025-01-15", "2025-02-10"])
    periods = pd.DataFrame({
        "period_start": pd.to_datetime(["2025-01-10", "2025-01-01"]),
        "period_end": pd.to_datetime(["2025-01-20", "2025-01-31"]),
        "priority_level": [3, 1],
        "active": [True, True],
    })
    assert priority_weights(times, periods, step=1.0).tolist() == [2.0, 4.0, 1.0]
    periods.loc[0, "active"] = False
    assert priority_weights(times, periods, step=0.5).tolist() == [1.5, 1.5, 1.0]
    assert priority_weights(times, None, step=1.0).tolist() == [1.0, 1.0, 1.0]


def test_aicc_penalises_parameters_and_refuses_too_few_points():
    assert aicc(1.0, 20, 3) > aicc(1.0, 20, 1)
    assert aicc(1.0, 4, 3) == float("inf")

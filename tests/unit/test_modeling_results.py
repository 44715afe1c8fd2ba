"""The pure pieces of a fit run: de-duplication, turnover observations, coefficient columns,
forecast actuals, surplus advice and pattern checks, and the keying-error pre-screen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shrinkage.demo import simulate_store
from shrinkage.modeling.curves import make_family
from shrinkage.modeling.exposure import build_exposure
from shrinkage.modeling.fitting import ShrinkageFitter
from shrinkage.modeling.forecast import forecast_loss
from shrinkage.modeling.observations import dedupe_movements, turnover_observations
from shrinkage.modeling.results import (
    absolute_percentage_error,
    coefficient_values,
    fit_details,
    fit_from_details,
    next_count_target,
    period_rates,
    pre_shrinkage,
    stock_forecast_actual,
    window_count_rows,
)
from shrinkage.modeling.surplus import recommend_surplus, validate_pattern
from tests.modeling_helpers import dried_products, hand_movements, simulate, store_movements


def test_overlapping_files_keep_one_copy_of_each_line_from_the_newest_file():
    movements = hand_movements()
    a = movements.assign(source_data_id=1, source_row=np.arange(len(movements)))
    overlap = movements[movements["product"] == "A"].head(4)
    b = overlap.assign(source_data_id=2, source_row=np.arange(len(overlap)), closing=overlap["closing"])
    both = pd.concat([a, b], ignore_index=True)
    deduped = dedupe_movements(both)
    assert len(deduped) == len(movements)
    assert (deduped.loc[deduped["doc_number"].isin(["R1", "S1"]), "source_data_id"] == 2).all()
    # two unlabelled lines of one document are two lines, not duplicates
    c = movements[movements["product"] == "C"]
    twice = pd.concat([c, c], ignore_index=True).assign(source_data_id=1, source_row=range(2 * len(c)))
    assert len(dedupe_movements(twice)) == 2 * len(c)


def test_turnover_observation_follows_the_domain_formula():
    calc = pd.DataFrame({
        "calculation_id": [1, 2], "product": [10, 11], "initial_balance": [10.0, 5.0],
        "incoming": [10.0, 0.0], "outgoing": [15.0, 2.0], "final_balance": [4.5, 3.0],
        "storage_days": [6, None],
        "inventory_period_start": pd.to_datetime(["2025-03-01", "2025-03-01"]),
        "inventory_period_end": pd.to_datetime(["2025-03-08", "2025-03-08"]),
    })
    obs = turnover_observations(calc, {10: 0.05})
    # (10 + 10.5 - 15 - 4.5) / 20.5
    assert obs.loc[0, "y"] == pytest.approx(1.0 / 20.5)
    assert obs.loc[0, "t_days"] == 6 and obs.loc[1, "t_days"] == pytest.approx(7.0)
    assert obs["informative"].tolist() == [True, False]  # a closed balance carries no signal


def test_coefficient_columns_hold_each_familys_parameters_by_position():
    assert coefficient_values("exp_linear", {"a": 0.03, "b": 0.2, "c": 0.001}) == {
        "coefficient_a": 0.03, "coefficient_b": 0.2, "coefficient_c": 0.001}
    assert coefficient_values("linear", {"a": 0.001}) == {
        "coefficient_a": 0.001, "coefficient_b": None, "coefficient_c": None}
    # a flattening quadratic has b < 0: the column (>= 0 by the schema) stays empty
    assert coefficient_values("quadratic", {"a": 0.002, "b": -1e-6})["coefficient_b"] is None


def test_fit_details_round_trip_and_pre_shrinkage():
    sim = simulate(dried_products(2), weeks=8, seed=3)
    fitter = ShrinkageFitter(families=("exp_linear",)).fit(build_exposure(sim.movements))
    fit = next(iter(fitter.fits_.values()))
    again = fit_from_details(fit.product, fit_details(fit))
    ages = np.array([3.0, 7.0, 30.0])
    assert np.allclose(again.predict(ages), fit.predict(ages))
    factor, amount = pre_shrinkage(fit, [2.0, 1.0], [10.0, 0.0])
    s10 = float(fit.predict([10.0])[0])
    assert factor == pytest.approx(2.0 * s10 / 3.0)
    assert amount == pytest.approx(2.0 * s10 / (1 - s10))
    effective, adjusted = period_rates(0.2, 0.3, 8.0, 2.0, 0.5)
    assert effective == pytest.approx(0.02) and adjusted == pytest.approx(0.3 / 10.5)


def test_forecast_windows_wait_for_a_count_near_the_horizon():
    t0 = pd.Timestamp("2025-03-09 22:00")
    forecasts = pd.DataFrame({"product": [1, 1, 2], "forecast_date": [t0, t0, t0],
                              "horizon_days": [7, 14, 7]})
    counts = pd.DataFrame({"product": [1, 1, 1], "observed": [0.5, 0.2, 0.3],
                           "count_datetime": [t0, t0 + pd.Timedelta(days=7, hours=1),
                                              t0 + pd.Timedelta(days=13, hours=23)]})
    rows = window_count_rows(forecasts, counts, slack_days=1.0)
    actual = [np.nan if r is None else float(counts.loc[r, "observed"].sum()) for r in rows]
    assert actual[0] == pytest.approx(0.2)  # the count at the forecast time is not in it
    assert actual[1] == pytest.approx(0.5)
    assert np.isnan(actual[2])  # product 2 not counted yet
    gaps = pd.Series(pd.to_datetime(["2025-03-02", "2025-03-09", "2025-03-16"]))
    assert next_count_target(gaps, "2025-03-22") == pd.Timestamp("2025-03-23")
    assert next_count_target(gaps, "2025-03-30") == pd.Timestamp("2025-03-30")


def test_surplus_is_recommended_where_receipts_are_heavier_and_patterns_validated():
    products = dried_products(2, prefix="G", surplus_rate=0.05) + dried_products(2, prefix="N")
    sim = simulate(products, weeks=12, seed=5)
    exposure = build_exposure(sim.movements)
    fits = ShrinkageFitter().fit(exposure, sim.product_types).fits_
    advice = {a.product: a for a in recommend_surplus(exposure, fits)}
    assert set(advice) == {"G000", "G001"}
    for a in advice.values():
        assert a.percentage == pytest.approx(5.0, abs=0.5) and 0.5 < a.confidence <= 1
        assert a.supporting_data["n_counts_with_receipts"] >= 6
    assert recommend_surplus(exposure, fits, fixed_products={"G000", "G001"}) == []
    checks = validate_pattern(exposure, fits["G000"], 5.0, None, auto_confirm_threshold=0.005)
    assert len(checks) >= 6
    assert all(c.auto_confirmed == (abs(c.deviation) < 0.5) for c in checks)
    assert np.median([abs(c.deviation) for c in checks]) < 0.5
    wrong = validate_pattern(exposure, fits["G000"], 9.0, None, auto_confirm_threshold=0.005)
    assert all(c.result == "deviates" and not c.auto_confirmed for c in wrong)
    later = validate_pattern(exposure, fits["G000"], 5.0, checks[-2].count_datetime, 0.005)
    assert len(later) == 1


def test_a_keying_error_and_its_reversal_do_not_drag_the_curve_and_surplus_rate():
    """Found by benchmarks/fit.py: fitted together from the start, an error pair could be
    explained by a huge fast loss cancelled by a huge surplus rate."""
    sim = simulate_store(weeks=12, products=32, seed=0, errors=12)
    name = "ФОРЕЛЬ СЛАБОСОЛЕНАЯ ФИЛЕ"
    assert any(e.product == name for e in sim.errors)
    movements = store_movements(sim)
    movements = movements[movements["product"] == name]
    fit = ShrinkageFitter().fit(build_exposure(movements)).fits_[name]
    truth = next(p for p in sim.products if p.name == name)
    true_s = make_family("exp_linear", {"a": truth.curve.a, "b": truth.curve.b, "c": truth.curve.c})
    ages = np.array([7.0, 14.0])
    assert np.abs(fit.predict(ages) - true_s.predict(ages)).max() * 100 < 0.15
    assert abs(fit.surplus_rate - truth.surplus_rate) < 0.005


def test_stock_forecast_actual_scores_the_true_curve_near_zero_whatever_the_sales():
    """A forecast from the true curve meets its count with a tiny error once the booked
    shortage is put on the forecast's stock; compared raw, the sales and receipts of the
    week make it look badly off."""
    truth = make_family("exp_linear", {"a": 0.04, "b": 0.15, "c": 0.0004})
    sim = simulate(dried_products(6, curve=truth.predict, surplus_rate=0.03), weeks=8,
                   seed=21, count_noise_kg=0.001)
    full = build_exposure(sim.movements)
    cutoff = full.counts.loc[full.counts["count_no"] == 5, "count_datetime"].max()
    before = build_exposure(sim.movements[sim.movements["doc_datetime"] <= cutoff])
    forecasts = pd.DataFrame([
        {"product": p, "forecast_date": stock["as_of"].iloc[0], "horizon_days": 7,
         "forecast_value": forecast_loss(truth, stock, 7).total}
        for p, stock in before.on_hand.groupby("product")])
    windows = window_count_rows(forecasts, full.counts, slack_days=1.0)
    assert windows.notna().all()

    def fair_and_raw_ape(curve):
        forecast = np.array([forecast_loss(curve, before.on_hand[before.on_hand["product"] == p],
                                           7).total for p in forecasts["product"]])
        booked, expected = [], []
        for product, rows in zip(forecasts["product"], windows):
            pe = full.product(product, usable_only=False)
            per_count = dict(zip(pe.count_rows, pe.expected_shortage(curve, curve.theta_, 0.03)))
            booked.append(full.counts.loc[rows, "observed"].sum())
            expected.append(sum(per_count[r] for r in rows))
        actual = stock_forecast_actual(forecast, booked, expected, 0.01)
        return (np.median(absolute_percentage_error(forecast, actual, 0.01)),
                np.median(absolute_percentage_error(forecast, booked, 0.01)))

    fair, raw = fair_and_raw_ape(truth)
    assert fair < 0.05
    assert raw > 0.2
    # a curve twice too steep forecasts twice the loss, and is scored so
    wrong = make_family("exp_linear", {"a": 0.08, "b": 0.15, "c": 0.0008})
    assert fair_and_raw_ape(wrong)[0] > 0.5
    # a model that expected 20 % less than the count booked is 20 % off on the stock too
    assert stock_forecast_actual([1.0], [1.2], [1.0], 0.01)[0] == pytest.approx(1.2)

"""Forecasts (loss of stock on hand, preliminary shortage) and the naive baseline, by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from shrinkage.modeling.baseline import fit_naive_baseline, naive_observations
from shrinkage.modeling.curves import make_family
from shrinkage.modeling.exposure import build_exposure
from shrinkage.modeling.fitting import CurveFit
from shrinkage.modeling.forecast import forecast_loss, preliminary_forecast
from tests.modeling_helpers import hand_movements


def _linear_fit(product, a=0.01, r=0.0) -> CurveFit:
    return CurveFit(product=product, family="linear", params={"a": a}, surplus_rate=r,
                    surplus_source="specified", r2=1.0, rmse=0.0, mae=0.0, aicc=0.0,
                    n_observations=2, method="individual", noise_scale=0.01)


def test_loss_of_stock_on_hand_matches_the_formula_by_hand():
    stock = pd.DataFrame({
        "batch_arrival": [pd.Timestamp("2025-03-01"), pd.NaT],
        "quantity": [2.0, 3.0],
        "age_days": [5.0, 0.0],
    })
    got = forecast_loss(make_family("linear", {"a": 0.01}), stock, horizon_days=7)
    # 2 kg aged 5 days: 2 (0.12 - 0.05) / 0.95; 3 kg fresh: 3 * 0.07
    first, second = 2 * 0.07 / 0.95, 3 * 0.07
    assert got.total == pytest.approx(first + second)
    assert [b.expected_loss for b in got.batches] == pytest.approx([first, second])
    payload = json.loads(json.dumps(got.to_dict()))
    assert payload["batches"][0]["batch_arrival"] == "2025-03-01T00:00:00"
    assert payload["batches"][1]["batch_arrival"] is None


def test_forecast_accepts_a_fitted_result_and_grows_with_the_horizon():
    fit = _linear_fit("A")
    stock = pd.DataFrame({"quantity": [10.0], "age_days": [3.0]})
    week, fortnight = forecast_loss(fit, stock, 7).total, forecast_loss(fit, stock, 14).total
    assert 0 < week < fortnight


def test_preliminary_forecast_adds_booked_movements_and_projected_stock():
    exposure = build_exposure(hand_movements())
    fit = _linear_fit("A", r=0.02)
    got = preliminary_forecast(exposure, fit, "2025-03-12")
    # booked since the last count: b2 3.95 kg from age 4 to 5 days
    recorded = 3.95 * 0.01 / (1 - 0.04)
    # projected: 2.95 kg on hand at age 5, from 9 to 12 March
    projected = 2.95 * 0.03 / (1 - 0.05)
    assert got.recorded == pytest.approx(recorded)
    assert got.projected == pytest.approx(projected)
    assert got.surplus == 0.0  # nothing received since the last count
    assert got.expected_shortage == pytest.approx(recorded + projected)
    assert got.period_start == pd.Timestamp("2025-03-08")
    assert json.dumps(got.to_dict())


def test_naive_observation_of_the_domain_example():
    d = pd.Timestamp
    arrival = d("2025-02-21 08:40")
    rows = [
        ("X", d("2025-03-03 21:05:10"), "sale", "301", arrival, 4.1, 0.0, 1.95, 2.15),
        ("X", d("2025-03-04 09:15"), "receipt", "77", arrival, 2.15, 0.0, 0.0, 2.15),
        ("X", d("2025-03-04 09:15"), "receipt", "77", d("2025-03-04 09:15"), 0.0, 2.0, 0.0, 2.0),
        ("X", d("2025-03-05 22:30"), "count", "12", arrival, 2.15, 0.0, 0.036, 2.114),
        ("X", d("2025-03-05 22:30"), "count", "12", d("2025-03-04 09:15"), 2.0, 0.0, 0.0, 2.0),
    ]
    moves = pd.DataFrame(rows, columns=["product", "doc_datetime", "doc_kind", "doc_number",
                                        "batch_arrival", "opening", "incoming", "outgoing",
                                        "closing"]).assign(labelled=True)
    obs = naive_observations(moves)
    assert len(obs) == 2
    first = obs.iloc[0]
    assert first["y"] == pytest.approx(0.036 / 2.150)
    assert first["t_end"] == pytest.approx(12.58, abs=0.005)
    assert obs.iloc[1]["y"] == 0.0
    curve = fit_naive_baseline(obs, family="linear")
    assert curve.predict(np.array([12.58]))[0] > 0

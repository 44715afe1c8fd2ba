"""Curve families: shape constraints, gradients, direct fits."""

from __future__ import annotations

import numpy as np
import pytest

from shrinkage.modeling.curves import FAMILIES, MAX_FRACTION, Quadratic, make_family
from tests.modeling_helpers import FAMILY_EXAMPLES

AGES = np.linspace(0.0, 400.0, 801)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_starts_at_zero_and_never_decreases_inside_its_bounds(name):
    family = make_family(name)
    rng = np.random.default_rng(0)
    for _ in range(200):
        theta = family.lower + rng.random(family.n_params) * (family.upper - family.lower)
        s = family.curve(AGES, theta)
        assert s[0] == pytest.approx(0.0, abs=1e-12)
        assert np.all(np.diff(s) >= -1e-12)
        assert np.all((s >= 0) & (s <= MAX_FRACTION))


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_gradient_matches_finite_differences(name):
    family = make_family(name)
    theta = family.clip_theta(family.starts(0.002)[0])
    t = np.array([0.5, 3.0, 7.0, 14.0, 30.0])
    grad = family.gradient(t, theta)
    for j in range(family.n_params):
        h = 1e-6 * max(abs(theta[j]), 1e-4)
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        numeric = (family.curve(t, up) - family.curve(t, down)) / (2 * h)
        assert grad[:, j] == pytest.approx(numeric, rel=1e-5, abs=1e-10)


@pytest.mark.parametrize("name, params", FAMILY_EXAMPLES)
def test_fit_on_points_recovers_the_parameters(name, params):
    truth = make_family(name, params)
    t = np.linspace(0.5, 40, 60)
    fitted = make_family(name).fit(t, truth.predict(t))
    for key, value in params.items():
        assert fitted.params_[key] == pytest.approx(value, rel=1e-3, abs=1e-7)


def test_quadratic_may_flatten_but_not_turn_down_before_its_horizon():
    family = Quadratic(horizon_days=100.0)
    # the steepest allowed flattening: slope a + 2 b t reaches 0 exactly at the horizon
    theta = np.array([0.004, 0.0])
    params = family.params_from_theta(theta)
    assert params["b"] == pytest.approx(-0.004 / 200.0)
    s = family.curve(np.linspace(0, 100, 101), theta)
    assert np.all(np.diff(s) >= -1e-15)
    assert Quadratic(params, horizon_days=100.0).theta_ == pytest.approx(theta)


def test_predict_needs_parameters_and_unknown_family_is_named():
    with pytest.raises(ValueError, match="call fit"):
        make_family("linear").predict([1.0])
    with pytest.raises(ValueError, match="unknown curve family 'cubic'"):
        make_family("cubic")

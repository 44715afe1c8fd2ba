"""Curve families S(t): the cumulative fraction of weight lost after t days in storage.

Each family is a small scikit-learn style estimator. Fitting code works on an internal
parameter vector ``theta`` (box-bounded, so that scipy's ``least_squares`` can enforce every
constraint with plain bounds) and each family maps it to the public coefficients it reports.
Families also return the analytic gradient dS/dtheta, because the exposure fit evaluates
thousands of segments per product and finite differences would multiply that cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
from scipy.optimize import least_squares

# S is a fraction of the weight; the exposure formula divides by 1 - S, so S is capped below 1.
MAX_FRACTION = 0.95
# Smallest per-day loss rate used to scale starting points (a product that never loses weight).
MIN_RATE_HINT = 1e-6


class CurveFamily:
    """Base of the families: bounds, starts, S(t) and its gradient, fit on (t, y) points."""

    name: ClassVar[str]
    param_names: ClassVar[tuple[str, ...]]
    # (lowest, highest) of each parameter, in param_names order.
    bounds: ClassVar[tuple[tuple[float, float], ...]]

    def __init__(self, params: Mapping[str, float] | None = None):
        self.params = dict(params) if params is not None else None
        if params is not None:
            self.theta_ = self.theta_from_params(params)
            self.params_ = self.params_from_theta(self.theta_)

    @property
    def lower(self) -> np.ndarray:
        return np.array([low for low, _ in self.bounds])

    @property
    def upper(self) -> np.ndarray:
        return np.array([high for _, high in self.bounds])

    # ---- what each family defines -------------------------------------------------------
    def starts(self, rate_hint: float) -> list[np.ndarray]:
        """Starting thetas scaled by ``rate_hint`` (a rough loss fraction per day)."""
        raise NotImplementedError

    def _curve(self, t: np.ndarray, theta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _gradient(self, t: np.ndarray, theta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def params_from_theta(self, theta: np.ndarray) -> dict[str, float]:
        return {name: float(v) for name, v in zip(self.param_names, theta)}

    def theta_from_params(self, params: Mapping[str, float]) -> np.ndarray:
        return np.array([float(params[name]) for name in self.param_names])

    # ---- shared behaviour ---------------------------------------------------------------
    @property
    def n_params(self) -> int:
        return len(self.param_names)

    def clip_theta(self, theta: np.ndarray) -> np.ndarray:
        """Theta moved strictly inside the bounds (least_squares rejects starts on them)."""
        lo, hi = self.lower, self.upper
        span = hi - lo
        return np.clip(np.asarray(theta, dtype=float), lo + 1e-9 * span, hi - 1e-9 * span)

    def curve(self, t, theta) -> np.ndarray:
        """S(t) for an internal theta, vectorised over t, capped at MAX_FRACTION."""
        t = np.maximum(np.asarray(t, dtype=float), 0.0)
        return np.minimum(self._curve(t, np.asarray(theta, dtype=float)), MAX_FRACTION)

    def gradient(self, t, theta) -> np.ndarray:
        """dS/dtheta, shape (len(t), n_params); zero where S is capped."""
        return self.curve_and_gradient(t, theta)[1]

    def curve_and_gradient(self, t, theta) -> tuple[np.ndarray, np.ndarray]:
        """S(t) (capped) and dS/dtheta together: the Jacobian of a fit needs both, once."""
        t = np.maximum(np.asarray(t, dtype=float), 0.0)
        theta = np.asarray(theta, dtype=float)
        raw = self._curve(t, theta)
        grad = self._gradient(t, theta)
        capped = raw >= MAX_FRACTION
        if capped.any():
            grad[capped] = 0.0
            raw = np.minimum(raw, MAX_FRACTION)
        return raw, grad

    def predict(self, t) -> np.ndarray:
        """S(t) with the fitted (or given) parameters."""
        self._check_fitted()
        return self.curve(t, self.theta_)

    def fit(self, t, y, sample_weight=None, loss: str = "linear", f_scale: float = 1.0):
        """Fit S directly to points (t, y): what the naive baseline does."""
        t = np.asarray(t, dtype=float)
        y = np.asarray(y, dtype=float)
        w = np.sqrt(np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, float))
        positive = (t > 0) & np.isfinite(y)
        rate = float(np.median(y[positive] / t[positive])) if positive.any() else MIN_RATE_HINT
        best = None
        for start in self.starts(max(rate, MIN_RATE_HINT)):
            result = least_squares(
                lambda th: w * (self.curve(t, th) - y),
                self.clip_theta(start),
                jac=lambda th: w[:, None] * self.gradient(t, th),
                bounds=(self.lower, self.upper), loss=loss, f_scale=f_scale, method="trf",
            )
            if best is None or result.cost < best.cost:
                best = result
        self.theta_ = best.x
        self.params_ = self.params_from_theta(best.x)
        self.cost_ = float(best.cost)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "theta_"):
            raise ValueError(f"{self.name} curve has no parameters yet: call fit() or pass params")

    def __repr__(self) -> str:
        shown = getattr(self, "params_", None)
        return f"{type(self).__name__}({shown})"


class ExponentialLinear(CurveFamily):
    """S = a(1 - e^(-bt)) + ct: fast evaporation toward a, plus slow drift c per day."""

    name = "exp_linear"
    param_names = ("a", "b", "c")
    bounds = ((0.0, 0.3), (0.005, 5.0), (0.0, 0.002))

    def starts(self, r):
        return [np.array([10 * r, 0.1, 0.1 * r]), np.array([3 * r, 0.5, 0.3 * r]),
                np.array([30 * r, 0.03, 0.0]), np.array([2 * r, 2.0, 0.5 * r])]

    def _curve(self, t, theta):
        a, b, c = theta
        return a * -np.expm1(-b * t) + c * t

    def _gradient(self, t, theta):
        a, b, c = theta
        e = np.exp(-b * t)
        return np.column_stack([1.0 - e, a * t * e, t])


class Linear(CurveFamily):
    """S = a t: constant loss per day (the shape of the coarsest official norms)."""

    name = "linear"
    param_names = ("a",)
    bounds = ((0.0, 0.01),)

    def starts(self, rate_hint):
        return [np.array([rate_hint])]

    def _curve(self, t, theta):
        return theta[0] * t

    def _gradient(self, t, theta):
        return t[:, None].copy()


class Power(CurveFamily):
    """S = a t^b with 0 < b <= 1: loss that slows down with age, no asymptote."""

    name = "power"
    param_names = ("a", "b")
    bounds = ((0.0, 0.3), (0.05, 1.0))

    def starts(self, r):
        return [np.array([r * 7 ** 0.5, 0.5]), np.array([r, 0.95]), np.array([r * 7 ** 0.75, 0.25])]

    def _curve(self, t, theta):
        a, b = theta
        return a * np.power(t, b)

    def _gradient(self, t, theta):
        a, b = theta
        tb = np.power(t, b)
        log_t = np.log(np.where(t > 0, t, 1.0))
        return np.column_stack([tb, a * tb * log_t])


class Logarithmic(CurveFamily):
    """S = a ln(1 + bt): slowing loss, the log-shaped alternative to the power law."""

    name = "logarithmic"
    param_names = ("a", "b")
    bounds = ((0.0, 0.3), (0.001, 20.0))

    def starts(self, r):
        return [np.array([7 * r / np.log1p(0.3 * 7), 0.3]), np.array([7 * r / np.log1p(3 * 7), 3.0]),
                np.array([7 * r / np.log1p(0.03 * 7), 0.03])]

    def _curve(self, t, theta):
        a, b = theta
        return a * np.log1p(b * t)

    def _gradient(self, t, theta):
        a, b = theta
        return np.column_stack([np.log1p(b * t), a * t / (1.0 + b * t)])


class Quadratic(CurveFamily):
    """S = a t + b t^2, non-decreasing on [0, horizon].

    b may be negative (a flattening loss), but then the slope a + 2bt must stay >= 0 up to the
    horizon. Fitting uses theta = (a, beta) with b = beta - a / (2 horizon) and beta >= 0, so
    the slope at the horizon is 2 beta horizon >= 0 and plain box bounds hold the constraint.
    """

    name = "quadratic"
    param_names = ("a", "b")
    bounds = ((0.0, 0.01), (0.0, 2e-4))  # of theta = (a, beta)

    def __init__(self, params: Mapping[str, float] | None = None, horizon_days: float = 400.0):
        self.horizon_days = float(horizon_days)
        super().__init__(params)

    def starts(self, r):
        return [np.array([r, r / (2 * self.horizon_days)]), np.array([2 * r, 0.0]),
                np.array([0.5 * r, 0.01 * r])]

    def _b(self, theta):
        return theta[1] - theta[0] / (2.0 * self.horizon_days)

    def _curve(self, t, theta):
        return theta[0] * t + self._b(theta) * t * t

    def _gradient(self, t, theta):
        t2 = t * t
        return np.column_stack([t - t2 / (2.0 * self.horizon_days), t2])

    def params_from_theta(self, theta):
        return {"a": float(theta[0]), "b": float(self._b(theta))}

    def theta_from_params(self, params):
        a = float(params["a"])
        return np.array([a, float(params["b"]) + a / (2.0 * self.horizon_days)])


FAMILIES: dict[str, type[CurveFamily]] = {
    cls.name: cls for cls in (ExponentialLinear, Linear, Power, Logarithmic, Quadratic)
}


def make_family(name: str, params: Mapping[str, float] | None = None,
                quadratic_horizon_days: float = 400.0) -> CurveFamily:
    """A family estimator by name (optionally with known parameters)."""
    try:
        cls = FAMILIES[name]
    except KeyError:
        raise ValueError(
            f"unknown curve family {name!r}: choose one of {', '.join(FAMILIES)}"
        ) from None
    if cls is Quadratic:
        return Quadratic(params, horizon_days=quadratic_horizon_days)
    return cls(params)

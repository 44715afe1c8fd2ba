"""From fitted curves to the figures the tables hold: coefficient columns, per-period
pre-shrinkage and rates, registry metrics, forecast accuracy. Pure functions.

Coefficient columns (``coefficients.coefficient_a/b/c``) hold the chosen family's own
parameters by position, so ``model_id`` (the family) says how to read them:

==============  =====================  ======  ======
family          a                      b       c
==============  =====================  ======  ======
exp_linear      a (asymptote)          b       c
linear          a (per day)            NULL    NULL
power           a                      b       NULL
logarithmic     a                      b       NULL
quadratic       a (per day)            b*      NULL
==============  =====================  ======  ======

``*`` the quadratic's b may be negative (a flattening curve) while the column is >= 0 by
the schema; a negative b is stored as NULL. ``fit_details.params`` always holds the exact
parameters, and that is what forecasts read back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from shrinkage.modeling.curves import make_family
from shrinkage.modeling.fitting import INDIVIDUAL, CurveFit

DAY = pd.Timedelta(days=1)
COEFFICIENT_COLUMNS = ("coefficient_a", "coefficient_b", "coefficient_c")


def coefficient_values(family: str, params: Mapping[str, float]) -> dict[str, float | None]:
    """The family's parameters in the a/b/c columns by position (negative values as NULL)."""
    curve = make_family(family)
    out: dict[str, float | None] = dict.fromkeys(COEFFICIENT_COLUMNS)
    for column, name in zip(COEFFICIENT_COLUMNS, curve.param_names):
        value = float(params[name])
        out[column] = value if value >= 0 else None
    return out


def _finite(value) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def fit_details(fit: CurveFit) -> dict:
    """What the coefficient row says about its fit (JSON-able)."""
    return {
        "family": fit.family, "params": {k: float(v) for k, v in fit.params.items()},
        "method": fit.method, "surplus_rate": float(fit.surplus_rate),
        "surplus_source": fit.surplus_source, "n_observations": int(fit.n_observations),
        "r2": _finite(fit.r2), "rmse": _finite(fit.rmse), "mae": _finite(fit.mae),
        "aicc": _finite(fit.aicc), "noise_scale_kg": float(fit.noise_scale),
        "product_type": fit.product_type,
        "quadratic_horizon_days": fit.quadratic_horizon_days,
    }


def fit_from_details(product, details: Mapping) -> CurveFit:
    """A CurveFit (without residuals) rebuilt from stored ``fit_details``, for forecasts."""
    nan = float("nan")
    return CurveFit(
        product=product, family=details["family"], params=dict(details["params"]),
        surplus_rate=float(details.get("surplus_rate") or 0.0),
        surplus_source=details.get("surplus_source", "none"),
        r2=details.get("r2") if details.get("r2") is not None else nan,
        rmse=details.get("rmse") if details.get("rmse") is not None else nan,
        mae=details.get("mae") if details.get("mae") is not None else nan,
        aicc=details.get("aicc") if details.get("aicc") is not None else nan,
        n_observations=int(details.get("n_observations") or 0),
        method=details.get("method", INDIVIDUAL),
        noise_scale=float(details.get("noise_scale_kg") or 0.0),
        product_type=details.get("product_type"),
        quadratic_horizon_days=float(details.get("quadratic_horizon_days") or 400.0),
    )


def fit_accuracy(fit: CurveFit) -> float | None:
    """1 - MAE / mean |observed shortage| of the fitted counts, in [0, 1] (None: no counts)."""
    if not len(fit.residuals):
        return None
    observed = np.asarray(fit.residuals) + np.asarray(fit.expected)
    scale = float(np.mean(np.abs(observed)))
    if scale <= 0:
        return None
    return float(np.clip(1.0 - float(np.mean(np.abs(fit.residuals))) / scale, 0.0, 1.0))


def pre_shrinkage(fit: CurveFit, opening_kg, age_days) -> tuple[float, float]:
    """(S(t_start) of the stock on hand, weighted by kg; kg it had already lost).

    A batch weighing B now at age t weighed B / (1 - S(t)) on arrival, so it has lost
    B S(t) / (1 - S(t)).
    """
    opening_kg = np.asarray(opening_kg, dtype=float)
    if opening_kg.sum() <= 0:
        return 0.0, 0.0
    s = fit.predict(np.asarray(age_days, dtype=float))
    factor = float(np.sum(opening_kg * s) / opening_kg.sum())
    amount = float(np.sum(opening_kg * s / (1.0 - s)))
    return factor, amount


def period_rates(expected_kg: float | None, shortage_kg: float | None, opening_kg: float,
                 incoming_kg: float, pre_amount_kg: float) -> tuple[float | None, float | None]:
    """(effective_shrinkage_rate, adjusted_shrinkage_rate) of one product period.

    effective = the model's expected loss over the period / (opening + incoming), the same
    base as the turnover observation; adjusted = the booked shortage / the fresh-equivalent
    weight handled (opening + what it had already lost + incoming), i.e. net of the stock's
    pre-shrinkage.
    """
    base = float(opening_kg or 0.0) + float(incoming_kg or 0.0)
    effective = float(expected_kg) / base if expected_kg is not None and base > 0 else None
    fresh = base + float(pre_amount_kg or 0.0)
    adjusted = float(shortage_kg) / fresh if shortage_kg is not None and fresh > 0 else None
    return effective, adjusted


def registry_metrics(fits: Iterable[CurveFit]) -> dict:
    """Median R², RMSE, MAE over the products fitted with one family, and the sizes."""
    fits = list(fits)
    def median(key):
        values = [getattr(f, key) for f in fits if np.isfinite(getattr(f, key))]
        return float(np.median(values)) if values else None
    methods = pd.Series([f.method for f in fits], dtype=object).value_counts().to_dict()
    return {
        "median_r2": median("r2"), "median_rmse_kg": median("rmse"),
        "median_mae_kg": median("mae"), "n_products": len(fits),
        "n_observations": int(sum(f.n_observations for f in fits)),
        "methods": {str(k): int(v) for k, v in methods.items()},
    }


def absolute_percentage_error(forecast, actual, floor_kg: float) -> np.ndarray:
    """|actual - forecast| / max(|actual|, floor): near-zero actuals do not explode."""
    forecast = np.asarray(forecast, dtype=float)
    actual = np.asarray(actual, dtype=float)
    return np.abs(actual - forecast) / np.maximum(np.abs(actual), floor_kg)


def accuracy_from_ape(ape) -> np.ndarray:
    """Accuracy in [0, 1]: 1 - APE, floored at 0."""
    return np.clip(1.0 - np.asarray(ape, dtype=float), 0.0, 1.0)


def window_count_rows(forecasts: pd.DataFrame, counts: pd.DataFrame,
                      slack_days: float) -> pd.Series:
    """For each forecast whose horizon has been counted, the labels of ``counts`` in it
    (else None).

    ``forecasts``: product, forecast_date, horizon_days; ``counts``: product,
    count_datetime. A forecast's window holds the counts in (forecast_date, forecast_date +
    horizon + slack]; it is complete once a count at or after forecast_date + horizon -
    slack has arrived.
    """
    out: list = [None] * len(forecasts)
    if forecasts.empty or counts.empty:
        return pd.Series(out, index=forecasts.index, dtype=object)
    slack = pd.Timedelta(days=slack_days)
    times_of = {p: pd.to_datetime(g["count_datetime"]).sort_values()
                for p, g in counts.groupby("product")}
    for i, row in enumerate(forecasts.itertuples(index=False)):
        times = times_of.get(row.product)
        if times is None:
            continue
        start = pd.Timestamp(row.forecast_date)
        end = start + pd.Timedelta(days=float(row.horizon_days))
        inside = (times > start) & (times <= end + slack)
        if inside.any() and times[inside].max() >= end - slack:
            out[i] = list(times.index[inside])
    return pd.Series(out, index=forecasts.index, dtype=object)


def stock_forecast_actual(forecast_kg, booked_kg, expected_kg, floor_kg: float) -> np.ndarray:
    """The actual of a forecast of the stock on hand: its loss as the counts found it.

    A forecast (docs/DOMAIN.md) is the loss over N days of the stock on hand if it stayed on the
    shelf. The count that follows books something else: the loss of everything that sat on
    the shelf in its interval (that stock as it sold down, plus what arrived and sold after
    the forecast, minus surplus on receipts). Compared raw, the two differ by the flows, not
    by the model's error. Which batch lost what cannot be read off the count (one batch's
    count line is a noisy unit, docs/DOMAIN.md), so the booked shortage is put on the forecast's
    stock in proportion to what the forecast's own coefficients expected for the window's
    counts with their real flows (``expected_kg``): actual = forecast * booked / expected.
    The error is then the count's surprise under the coefficients the forecast used, and a
    perfect model scores 0 % whatever the sales did. ``floor_kg`` keeps a near-zero
    expectation from exploding the ratio.
    """
    forecast_kg = np.asarray(forecast_kg, dtype=float)
    booked_kg = np.asarray(booked_kg, dtype=float)
    expected_kg = np.asarray(expected_kg, dtype=float)
    return forecast_kg * booked_kg / np.maximum(expected_kg, floor_kg)


def next_count_target(count_times: pd.Series, period_end) -> pd.Timestamp:
    """When the next count of a product is due: its last count plus its usual interval (the
    median gap), or ``period_end`` when that is later or there is no rhythm to go by."""
    period_end = pd.Timestamp(period_end)
    times = pd.to_datetime(pd.Series(count_times)).dropna().sort_values()
    if len(times) < 2:
        return period_end
    due = times.iloc[-1] + times.diff().dropna().median()
    return max(due, period_end)

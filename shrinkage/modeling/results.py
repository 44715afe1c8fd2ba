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


def window_actuals(forecasts: pd.DataFrame, counts: pd.DataFrame, slack_days: float) -> pd.Series:
    """Actual shortage (kg) for each forecast whose horizon has been counted, else NaN.

    ``forecasts``: product, forecast_date, horizon_days; ``counts``: product,
    count_datetime, observed. The actual is the sum of the shortages booked at the counts
    in (forecast_date, forecast_date + horizon + slack], known once the data reach at least
    forecast_date + horizon - slack (a count near the horizon's end has arrived).
    """
    out = pd.Series(np.nan, index=forecasts.index, dtype=float)
    if forecasts.empty or counts.empty:
        return out
    slack = pd.Timedelta(days=slack_days)
    by_product = {p: g.sort_values("count_datetime") for p, g in counts.groupby("product")}
    for idx, row in forecasts.iterrows():
        group = by_product.get(row["product"])
        if group is None:
            continue
        start = pd.Timestamp(row["forecast_date"])
        end = start + pd.Timedelta(days=float(row["horizon_days"]))
        times = pd.to_datetime(group["count_datetime"])
        inside = (times > start) & (times <= end + slack)
        if inside.any() and times[inside].max() >= end - slack:
            out[idx] = float(group.loc[inside, "observed"].sum())
    return out


def next_count_target(count_times: pd.Series, period_end) -> pd.Timestamp:
    """When the next count of a product is due: its last count plus its usual interval (the
    median gap), or ``period_end`` when that is later or there is no rhythm to go by."""
    period_end = pd.Timestamp(period_end)
    times = pd.to_datetime(pd.Series(count_times)).dropna().sort_values()
    if len(times) < 2:
        return period_end
    due = times.iloc[-1] + times.diff().dropna().median()
    return max(due, period_end)

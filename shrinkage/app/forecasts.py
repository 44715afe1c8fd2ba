"""Forecasts and their accuracy: actuals of earlier forecasts as counts arrive, the registry's
forecast MAPEs, new forecasts of the stock on hand and preliminary forecasts of open periods."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from scipy import stats
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from shrinkage.app.common import DAY, now, timestamp
from shrinkage.config import CONFIG
from shrinkage.db import forecasts as store
from shrinkage.db.coefficients import active_coefficients
from shrinkage.db.engine import session_scope
from shrinkage.db.registry import merge_metrics
from shrinkage.modeling.forecast import forecast_loss, preliminary_forecast
from shrinkage.modeling.observations import Observations
from shrinkage.modeling.results import (
    absolute_percentage_error,
    accuracy_from_ape,
    fit_from_details,
    next_count_target,
    stock_forecast_actual,
    window_count_rows,
)


@dataclass(frozen=True)
class ForecastSummary:
    """What a forecast step did; the MAPEs (fractions) are over every forecast compared so
    far: ``forecast_mape`` of the stock-on-hand forecasts (actuals as in
    :func:`shrinkage.modeling.results.stock_forecast_actual`), ``preliminary_mape`` of the
    preliminary forecasts against the count that closed their period."""

    forecasts: int
    preliminary_forecasts: int
    forecast_actuals_filled: int
    preliminary_actuals_filled: int
    forecast_mape: float | None
    preliminary_mape: float | None = None


def fits_in_force(active: pd.DataFrame) -> dict:
    return {row.product: fit_from_details(row.product, row.fit_details) for row in active.itertuples(index=False)}


def write_forecasts(engine: Engine, observations: Observations | None = None,
                    horizons=None) -> ForecastSummary:
    """Fill actuals of earlier forecasts whose counts have arrived (and the registry's
    forecast MAPEs), then forecast the loss of each product's stock on hand over each
    horizon and the shortage of each open period, from the coefficients in force."""
    if observations is None:
        from shrinkage.app.fit import load_observations

        observations = load_observations(engine)
    horizons = tuple(horizons or CONFIG.fit_run.forecast_horizons_days)
    exposure = observations.exposure
    if exposure is None:
        return ForecastSummary(0, 0, 0, 0, None)
    counts = exposure.counts[["product", "count_datetime", "observed"]].copy()
    counts["count_datetime"] = pd.to_datetime(counts["count_datetime"])
    with session_scope(engine) as session:
        filled = _fill_forecast_actuals(session, exposure, counts)
        pre_filled = _fill_preliminary_actuals(session, counts)
        mape, pre_mape = _update_registry_mape(session)
        active = active_coefficients(session.connection())
        fits = fits_in_force(active)
        coefficient_of = dict(zip(active["product"], active["coefficient_id"]))
        model_of = dict(zip(active["product"], active["model_id"]))
        registry_of = dict(zip(active["product"], active["ml_model_registry_id"]))
        n_forecasts = _new_forecasts(session, exposure, fits, coefficient_of, model_of, horizons)
        n_pre = _new_preliminary(session, observations, fits, model_of, registry_of)
    return ForecastSummary(n_forecasts, n_pre, filled, pre_filled, mape, pre_mape)


def _fill_forecast_actuals(session: Session, exposure, counts: pd.DataFrame) -> int:
    """Actual, deviation and accuracy of the forecasts whose window has been counted.

    The actual is the booked shortage of the window's counts put on the forecast's stock
    by the forecast's own coefficients (:func:`stock_forecast_actual`): those coefficients
    give the counts' expected shortage with their real flows, out of sample.
    """
    s = CONFIG.fit_run
    open_ = store.open_forecasts(session, with_fit=True)
    if open_.empty:
        return 0
    open_["forecast_date"] = pd.to_datetime(open_["forecast_date"])
    windows = window_count_rows(open_, counts, s.forecast_window_slack_days)
    known = open_[windows.notna()]
    if known.empty:
        return 0
    expected_of: dict = {}  # (product, coefficients) -> expected shortage per counts row
    booked, expected = [], []
    for idx, row in known.iterrows():
        rows = windows[idx]
        key = (row["product"], repr(row["fit_details"]))
        if key not in expected_of:
            expected_of[key] = _expected_by_count(exposure, row["product"], row["fit_details"])
        booked.append(float(counts.loc[rows, "observed"].sum()))
        expected.append(float(sum(expected_of[key].get(r, 0.0) for r in rows)))
    actual = stock_forecast_actual(known["forecast_value"], booked, expected, s.accuracy_floor_kg)
    ape = absolute_percentage_error(known["forecast_value"], actual, s.accuracy_floor_kg)
    store.set_forecast_actuals(session, [
        {"id": int(i), "actual_value": float(a), "deviation": float(a - v), "accuracy": float(acc)}
        for i, a, v, acc in zip(known["id"], actual, known["forecast_value"], accuracy_from_ape(ape))
    ])
    return len(known)


def _expected_by_count(exposure, product, details) -> dict:
    """Expected shortage (kg) of each of the product's counts (by row of exposure.counts)
    under the coefficients of ``details`` and the counts' real flows."""
    fit = fit_from_details(product, details or {})
    pe = exposure.product(product, usable_only=False)
    curve = fit.curve()
    values = pe.expected_shortage(curve, curve.theta_, fit.surplus_rate)
    return dict(zip(pe.count_rows.tolist(), values.tolist()))


def _fill_preliminary_actuals(session: Session, counts: pd.DataFrame) -> int:
    s = CONFIG.fit_run
    by_product = {k: g.sort_values("count_datetime") for k, g in counts.groupby("product")}
    updates = []
    for pid, expected, history, product in store.open_preliminary(session):
        history = history or {}
        start = history.get("period_start") or history.get("last_document")
        group = by_product.get(product)
        if group is None or start is None:
            continue
        later = group[group["count_datetime"] > pd.Timestamp(start)]
        if later.empty:
            continue
        actual = float(later["observed"].iloc[0])
        signed = history.get("expected_shortage_kg", expected)
        ape = absolute_percentage_error([signed], [actual], s.accuracy_floor_kg)
        updates.append({"id": pid, "actual_shrinkage": actual,
                        "forecast_accuracy": float(accuracy_from_ape(ape)[0])})
    store.set_preliminary_actuals(session, updates)
    return len(updates)


def _update_registry_mape(session: Session) -> tuple[float | None, float | None]:
    """Median absolute percentage errors of every compared forecast and preliminary
    forecast: per registry version into its accuracy_metrics (``forecast_mape``,
    ``forecast_mape_by_horizon``, ``preliminary_mape``), and overall (returned, in that
    order)."""
    done = store.compared_forecasts(session)
    done["ape"] = absolute_percentage_error(done["forecast_value"], done["actual_value"],
                                            CONFIG.fit_run.accuracy_floor_kg)
    pre = compared_preliminary(session)
    metrics_of: dict[int, dict] = {}
    for registry_id, group in done.groupby("ml_model_registry_id"):
        metrics_of.setdefault(int(registry_id), {}).update({
            "forecast_mape": float(group["ape"].median()), "forecast_n": int(len(group)),
            "forecast_mape_by_horizon": {
                str(int(h)): float(g["ape"].median()) for h, g in group.groupby("horizon_days")},
        })
    for registry_id, group in pre.dropna(subset=["ml_model_registry_id"]).groupby("ml_model_registry_id"):
        metrics_of.setdefault(int(registry_id), {}).update({
            "preliminary_mape": float(group["ape"].median()), "preliminary_n": int(len(group))})
    merge_metrics(session, metrics_of)
    forecast_mape = float(done["ape"].median()) if len(done) else None
    preliminary_mape = float(pre["ape"].median()) if len(pre) else None
    return forecast_mape, preliminary_mape


def compared_preliminary(session: Session) -> pd.DataFrame:
    """Preliminary forecasts that met their count: product, expected (signed, kg), actual,
    ape, accuracy and the registry version whose coefficients made them (None for rows
    written before that was recorded)."""
    frame = pd.DataFrame([{
        "product": product,
        # the column holds the expectation floored at 0; the history keeps it signed
        "expected": float((history or {}).get("expected_shortage_kg", expected)),
        "actual": float(actual), "accuracy": accuracy,
        "ml_model_registry_id": (history or {}).get("ml_model_registry_id"),
    } for product, expected, actual, accuracy, history in store.compared_preliminary_rows(session)],
        columns=["product", "expected", "actual", "accuracy", "ml_model_registry_id"])
    frame["ape"] = absolute_percentage_error(frame["expected"], frame["actual"], CONFIG.fit_run.accuracy_floor_kg)
    return frame


def _new_forecasts(session: Session, exposure, fits: dict, coefficient_of: dict,
                   model_of: dict, horizons) -> int:
    rows = []
    for product, stock in exposure.on_hand.groupby("product", sort=False):
        fit = fits.get(product)
        if fit is None:
            continue
        as_of = pd.Timestamp(stock["as_of"].iloc[0]).to_pydatetime()
        for horizon in horizons:
            loss = forecast_loss(fit, stock, horizon)
            rows.append({"coefficient_id": int(coefficient_of[product]),
                         "model_id": int(model_of[product]),
                         "forecast_value": max(float(loss.total), 0.0),
                         "forecast_date": as_of, "horizon_days": int(horizon), "product": product})
    if not rows:
        return 0
    frame = pd.DataFrame(rows)
    # a forecast of the same stock and horizon not yet compared is replaced (e.g. after a
    # rollback, the forecast is remade from the coefficients now in force)
    stale: list[int] = []
    open_ = store.open_forecasts(session)
    if len(open_):
        open_["forecast_date"] = pd.to_datetime(open_["forecast_date"])
        key = ["product", "forecast_date", "horizon_days"]
        matched = open_.merge(frame[key].assign(forecast_date=pd.to_datetime(frame["forecast_date"])), on=key)
        stale = matched["id"].astype(int).tolist()
    store.replace_open_forecasts(session, frame.drop(columns="product"), stale)
    return len(frame)


def _new_preliminary(session: Session, observations: Observations, fits: dict,
                     model_of: dict, registry_of: dict) -> int:
    """A preliminary forecast for each calculation row whose period has no count yet and
    lies after its product's last count."""
    s = CONFIG.fit_run
    exposure = observations.exposure
    counts = exposure.counts
    counted = set(observations.count_calculations["calculation_id"].dropna().astype(int))
    last_count = counts.groupby("product")["count_datetime"].max()
    with_movements = set(observations.movements["calculation_id"].dropna().astype(int))
    rows = []
    for row in observations.calculations.itertuples(index=False):
        cid = int(row.calculation_id)
        fit = fits.get(row.product)
        if fit is None or cid in counted or cid not in with_movements:
            continue
        period_end = pd.Timestamp(row.calculation_date)
        last = last_count.get(row.product)
        if last is not None and not pd.isna(last) and period_end <= pd.Timestamp(last):
            continue  # an idle period whose shortage a later count already booked
        product_counts = counts.loc[counts["product"] == row.product, "count_datetime"]
        target = next_count_target(product_counts, period_end)
        forecast = preliminary_forecast(exposure, fit, target)
        start = forecast.period_start if forecast.period_start is not None else (
            pd.Timestamp(row.inventory_period_start) if not pd.isna(row.inventory_period_start)
            else forecast.last_document)
        days = max((target - start) / DAY, 0.0) if start is not None else None
        sigma = max(fit.noise_scale, 1e-9)
        confidence = float(2.0 * stats.norm.cdf(
            s.preliminary_tolerance_share * abs(forecast.expected_shortage) / sigma) - 1.0)
        history = forecast.to_dict()
        history["expected_shortage_kg"] = forecast.expected_shortage
        history["target"] = target.isoformat()
        if registry_of.get(row.product) is not None:
            history["ml_model_registry_id"] = int(registry_of[row.product])
        history["period_start"] = None if start is None else pd.Timestamp(start).isoformat()
        rows.append({
            "calculation_data_id": cid, "forecast_model_id": model_of.get(row.product),
            "forecast_period_days": None if days is None else int(round(days)),
            "expected_shrinkage": max(forecast.expected_shortage, 0.0),
            "confidence_level": min(max(confidence, 0.0), 1.0),
            "forecast_date": timestamp(forecast.last_document) or now(),
            "pre_shrinkage_adjusted": True,
            "adjusted_expected_shrinkage": max(forecast.recorded + forecast.projected, 0.0),
            "batch_storage_history": history,
            "notes": f"expected shortage at {target:%Y-%m-%d %H:%M} (next count due)",
        })
    if not rows:
        return 0
    store.replace_open_preliminary(session, rows)
    return len(rows)

"""Forecasts from a fitted curve: loss of the stock on hand over the next N days, and the
shortage to expect at the end of a period that has no count yet (preliminary forecast).

Stock already t days old has lost S(t) of its arrival weight; over the next N days it loses
the further share (S(t + N) - S(t)) / (1 - S(t)) of what is left. Forecasts assume no sales
in the horizon, i.e. they are the loss of today's stock if it stayed on the shelf.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from shrinkage.modeling.curves import CurveFamily
from shrinkage.modeling.exposure import Exposure
from shrinkage.modeling.fitting import CurveFit

DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class BatchLoss:
    batch_arrival: str | None
    quantity: float
    age_days: float
    expected_loss: float


@dataclass(frozen=True)
class LossForecast:
    """Expected loss (kg) over ``horizon_days`` of the given stock, total and per batch."""

    horizon_days: float
    total: float
    batches: tuple[BatchLoss, ...]

    def to_dict(self) -> dict:
        return {
            "horizon_days": self.horizon_days,
            "total": self.total,
            "batches": [vars(b).copy() for b in self.batches],
        }


def expected_loss(curve: CurveFamily | CurveFit, quantity, age_days, horizon_days) -> np.ndarray:
    """Σ-able per-batch loss B (S(t + N) - S(t)) / (1 - S(t)), vectorised."""
    quantity = np.asarray(quantity, dtype=float)
    age = np.asarray(age_days, dtype=float)
    s0 = curve.predict(age)
    s1 = curve.predict(age + np.asarray(horizon_days, dtype=float))
    return quantity * (s1 - s0) / (1.0 - s0)


def forecast_loss(curve: CurveFamily | CurveFit, stock: pd.DataFrame,
                  horizon_days: float) -> LossForecast:
    """Loss over the next ``horizon_days`` of ``stock`` (columns quantity, age_days and
    optionally batch_arrival), e.g. one product's rows of :attr:`Exposure.on_hand`."""
    loss = expected_loss(curve, stock["quantity"], stock["age_days"], horizon_days)
    arrivals = stock["batch_arrival"] if "batch_arrival" in stock else [None] * len(stock)
    batches = tuple(
        BatchLoss(
            batch_arrival=None if pd.isna(a) else pd.Timestamp(a).isoformat(),
            quantity=float(q), age_days=float(t), expected_loss=float(v),
        )
        for a, q, t, v in zip(arrivals, stock["quantity"], stock["age_days"], loss)
    )
    return LossForecast(float(horizon_days), float(loss.sum()), batches)


@dataclass(frozen=True)
class PreliminaryForecast:
    """Shortage expected at ``period_end`` for a product whose last count is ``period_start``.

    ``recorded`` is the loss over the movements already on the books since the last count,
    ``projected`` the loss of the stock on hand from the last document to ``period_end``,
    ``surplus`` the r Q credit for receipts since the last count.
    """

    product: object
    period_start: pd.Timestamp | None
    last_document: pd.Timestamp | None
    period_end: pd.Timestamp
    expected_shortage: float
    recorded: float
    projected: float
    surplus: float
    stock: LossForecast

    def to_dict(self) -> dict:
        def iso(x):
            return None if x is None or pd.isna(x) else pd.Timestamp(x).isoformat()
        return {
            "product": self.product.item() if isinstance(self.product, np.generic)
            else self.product,
            "period_start": iso(self.period_start), "last_document": iso(self.last_document),
            "period_end": iso(self.period_end), "expected_shortage": self.expected_shortage,
            "recorded": self.recorded, "projected": self.projected, "surplus": self.surplus,
            "stock": self.stock.to_dict(),
        }


def preliminary_forecast(exposure: Exposure, fit: CurveFit, period_end,
                         received_since_count: float | None = None) -> PreliminaryForecast:
    """Expected shortage at ``period_end`` since the product's last count.

    Uses the same exposure segments as the fit for the movements already booked after the last
    count, then projects the stock on hand at the last document to ``period_end``.
    """
    product = fit.product
    period_end = pd.Timestamp(period_end)
    curve = fit.curve()
    K, a0, a1 = exposure.pending_segments(product)
    s = curve.predict(np.concatenate([a0, a1]))
    s0, s1 = s[: len(K)], s[len(K):]
    recorded = float(np.sum(K * (s1 - s0) / (1.0 - s0)))

    stock = exposure.on_hand[exposure.on_hand["product"] == product]
    last_doc = pd.Timestamp(stock["as_of"].iloc[0]) if len(stock) else None
    horizon = max((period_end - last_doc) / DAY, 0.0) if last_doc is not None else 0.0
    stock_forecast = forecast_loss(curve, stock, horizon)

    counts = exposure.counts[exposure.counts["product"] == product]
    period_start = pd.Timestamp(counts["count_datetime"].max()) if len(counts) else None
    if received_since_count is None:
        received_since_count = _received_since_last_count(exposure, product)
    surplus = fit.surplus_rate * received_since_count
    return PreliminaryForecast(
        product=product, period_start=period_start, last_document=last_doc,
        period_end=period_end,
        expected_shortage=recorded + stock_forecast.total - surplus,
        recorded=recorded, projected=stock_forecast.total, surplus=float(surplus),
        stock=stock_forecast,
    )


def _received_since_last_count(exposure: Exposure, product) -> float:
    return float(exposure.pending_received.get(product, 0.0))

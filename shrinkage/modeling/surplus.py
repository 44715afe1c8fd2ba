"""Surplus on receipt from the fitted counts: recommendations and pattern validations. Pure.

The fit estimates r jointly with S. At one count with Q kg received in its interval, the
expected shortage is (exposure loss) - r Q, so the surplus that count itself implies is
r_i = r - residual_i / Q_i (residual = observed - expected shortage). That per-count figure
is what a pattern is validated against, and the spread of the residuals gives r's
standard error: se(r) ≈ sigma / sqrt(Σ Q_i²) (the curve held fixed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from shrinkage.config import CONFIG, FitRunSettings
from shrinkage.modeling.exposure import Exposure
from shrinkage.modeling.fitting import CurveFit

METHOD = "exposure fit: r estimated jointly with S(t) over the counts (robust)"


@dataclass(frozen=True)
class SurplusAdvice:
    """A recommended surplus rate for one product (percentage = 100 r)."""

    product: object
    percentage: float
    confidence: float
    period_start: pd.Timestamp | None
    period_end: pd.Timestamp | None
    method: str
    supporting_data: dict = field(default_factory=dict)


def _fit_counts(exposure: Exposure, fit: CurveFit) -> pd.DataFrame:
    rows = np.asarray(fit.count_rows, dtype=int)
    counts = exposure.counts.iloc[rows]
    return pd.DataFrame({
        "doc_number": counts["doc_number"].to_numpy(),
        "count_datetime": pd.to_datetime(counts["count_datetime"]).to_numpy(),
        "interval_start": pd.to_datetime(counts["interval_start"]).to_numpy(),
        "observed": counts["observed"].to_numpy(float),
        "received": counts["received"].to_numpy(float),
        "residual": np.asarray(fit.residuals, dtype=float),
    })


def recommend_surplus(exposure: Exposure, fits: Mapping, fixed_products=(),
                      settings: FitRunSettings | None = None) -> list[SurplusAdvice]:
    """Products whose estimated r is significantly above 0 (and at least the minimum rate).

    Products whose r is fixed by a surplus specification (``fixed_products``) are skipped:
    their r was not estimated. Confidence = (2 Φ(z) - 1) scaled down while fewer than
    ``surplus_full_confidence_counts`` counts had receipts; supporting data holds every number used,
    including the counts that found more stock than the books.
    """
    s = settings or CONFIG.fit_run
    fixed = set(fixed_products)
    out = []
    for product, fit in fits.items():
        if product in fixed or fit.surplus_source != "estimated" or not fit.count_rows:
            continue
        counts = _fit_counts(exposure, fit)
        with_receipts = counts[counts["received"] > s.surplus_min_received_kg]
        q2 = float(np.sum(with_receipts["received"] ** 2))
        if q2 <= 0:
            continue
        se = max(fit.noise_scale, 1e-12) / np.sqrt(q2)
        z = fit.surplus_rate / se
        if fit.surplus_rate < s.surplus_min_rate or z < s.surplus_min_z:
            continue
        per_count = (fit.surplus_rate - with_receipts["residual"] / with_receipts["received"])
        surplus_counts = counts[counts["observed"] < 0]
        coverage = min(1.0, len(with_receipts) / s.surplus_full_confidence_counts)
        confidence = float(np.clip((2.0 * stats.norm.cdf(z) - 1.0) * coverage, 0.0, 1.0))
        out.append(SurplusAdvice(
            product=product, percentage=round(100.0 * fit.surplus_rate, 4),
            confidence=confidence,
            period_start=pd.Timestamp(counts["interval_start"].min()),
            period_end=pd.Timestamp(counts["count_datetime"].max()),
            method=METHOD,
            supporting_data={
                "surplus_rate": float(fit.surplus_rate), "standard_error": float(se),
                "z": float(z), "family": fit.family, "fit_method": fit.method,
                "n_counts": int(len(counts)), "n_counts_with_receipts": int(len(with_receipts)),
                "received_kg": float(with_receipts["received"].sum()),
                "per_count_rate_median": float(np.median(per_count)),
                "per_count_rate_iqr": [float(np.percentile(per_count, 25)),
                                       float(np.percentile(per_count, 75))],
                "counts_with_more_stock_than_books": int(len(surplus_counts)),
                "surplus_found_at_counts_kg": float(-surplus_counts["observed"].sum()),
                "noise_scale_kg": float(fit.noise_scale),
            },
        ))
    return out


@dataclass(frozen=True)
class PatternCheck:
    """One count's validation of a surplus pattern (percentages, deviation in points)."""

    doc_number: str
    count_datetime: pd.Timestamp
    received_kg: float
    actual_percentage: float
    predicted_percentage: float
    deviation: float
    result: str  # "confirmed" | "deviates"
    auto_confirmed: bool


def validate_pattern(exposure: Exposure, fit: CurveFit, predicted_percentage: float,
                     after, auto_confirm_threshold: float,
                     settings: FitRunSettings | None = None) -> list[PatternCheck]:
    """Check a pattern's percentage at every count after ``after`` that had receipts.

    The actual surplus at a count is r_i = r - residual / Q (see the module doc). A count
    whose |actual - predicted| (as a fraction) is under ``auto_confirm_threshold`` is
    "confirmed" and confirmed automatically; otherwise it "deviates" and waits for a user.
    """
    s = settings or CONFIG.fit_run
    if not fit.count_rows:
        return []
    counts = _fit_counts(exposure, fit)
    if after is not None and not pd.isna(after):
        counts = counts[counts["count_datetime"] > pd.Timestamp(after)]
    counts = counts[counts["received"] > s.surplus_min_received_kg]
    out = []
    for row in counts.itertuples(index=False):
        actual = 100.0 * (fit.surplus_rate - row.residual / row.received)
        deviation = actual - float(predicted_percentage)
        within = abs(deviation) / 100.0 < auto_confirm_threshold
        out.append(PatternCheck(
            doc_number=str(row.doc_number), count_datetime=pd.Timestamp(row.count_datetime),
            received_kg=float(row.received), actual_percentage=float(actual),
            predicted_percentage=float(predicted_percentage), deviation=float(deviation),
            result="confirmed" if within else "deviates", auto_confirmed=bool(within),
        ))
    return out

"""Everything a report shows, gathered once: tables, headline figures and curve points.

The database queries live in :mod:`shrinkage.db.report_queries`; this module turns their
frames into the report's tables (product names joined, S(t) evaluated at 7/14/30 days,
reasons spelled out) with pure functions, so every writer (Excel, CSV, PDF, markdown) shows
the same numbers. ``TABLE_FIELDS`` is the contract templates are validated against.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from shrinkage.config import CONFIG, ReportSettings
from shrinkage.db import report_queries as q
from shrinkage.modeling.curves import FAMILIES, make_family
from shrinkage.reports.period import ReportPeriod

log = logging.getLogger(__name__)

REPORT_AGES = (7, 14, 30)
POOLED_METHODS = ("pooled",)

TABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "coefficients": (
        "coefficient_id", "product", "product_type", "model", "model_version", "registry_version",
        "family", "method", "pooled", "a", "b", "c", "r2", "n_observations", "s7", "s14", "s30",
        "surplus_rate", "surplus_source", "calculation_date",
    ),
    "forecasts": (
        "forecast_id", "product", "product_type", "forecast_date", "horizon_days", "forecast_value",
        "actual_value", "deviation", "accuracy", "model",
    ),
    "preliminary_forecasts": (
        "preliminary_forecast_id", "product", "product_type", "period_start", "period_end",
        "forecast_date", "forecast_period_days", "expected_shrinkage", "adjusted_expected_shrinkage",
        "confidence_level", "actual_shrinkage", "forecast_accuracy", "notes",
    ),
    "surplus_recommendations": (
        "recommendation_id", "product", "product_type", "recommended_rate", "recommended_percentage",
        "confidence_level", "analysis_period_start", "analysis_period_end", "calculation_method",
        "created_date",
    ),
    "review_rows": (
        "calculation_data_id", "product", "product_type", "file_name", "period_start", "period_end",
        "shrinkage_kg", "shrinkage_fraction", "human_error_probability", "data_quality_flag", "reason",
    ),
    "quality_errors": ("file_name", "error_type", "severity_level", "errors", "unresolved", "example"),
}

SUMMARY_FIELDS: tuple[str, ...] = (
    "period_start", "period_end", "generated_at", "products", "calculation_rows", "counted_rows",
    "shrinkage_kg", "mean_shrinkage", "coefficients", "pooled_products", "model_versions",
    "forecasts", "forecasts_with_actual", "mean_forecast_accuracy", "preliminary_forecasts",
    "pending_recommendations", "flagged_rows", "open_errors", "files_with_errors",
)

SOURCES = ("summary", "curves", *TABLE_FIELDS)


@dataclass(frozen=True)
class CurveSet:
    """Fitted curves on an age grid and observed points, per product type (long frames)."""

    ages: np.ndarray
    # product_type, product, n_observations, family, s (one row per product and age)
    curves: pd.DataFrame
    # product_type, product, t, y
    observed: pd.DataFrame

    @property
    def product_types(self) -> list[str]:
        return sorted(set(self.curves["product_type"]) | set(self.observed["product_type"]))

    def curves_of(self, product_type: str) -> dict[str, np.ndarray]:
        """product -> S on ``ages`` for one type, in drawing order."""
        part = self.curves[self.curves["product_type"] == product_type]
        return {name: group["s"].to_numpy() for name, group in part.groupby("product", sort=False)}

    def observed_of(self, product_type: str) -> pd.DataFrame:
        return self.observed[self.observed["product_type"] == product_type]


@dataclass(frozen=True)
class ReportData:
    period: ReportPeriod
    tables: dict[str, pd.DataFrame]
    summary: dict[str, object]
    curves: CurveSet
    generated_at: datetime = field(default_factory=datetime.now)


# --- pure transformations ------------------------------------------------------------------

def curve_of(fit_details: dict | None, model_type: str | None, a, b, c):
    """The fitted S(t) of one coefficients row, or None when its family is not known."""
    details = fit_details if isinstance(fit_details, dict) else {}
    family = details.get("family") or (model_type if model_type in FAMILIES else None)
    if family not in FAMILIES:
        return None
    params = details.get("params")
    if not isinstance(params, dict):
        names = FAMILIES[family].param_names
        params = dict(zip(names, (a, b, c)))
    try:
        return make_family(family, {k: float(v) for k, v in params.items()})
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("coefficients of family %s cannot be evaluated: %s", family, exc)
        return None


def coefficients_table(raw: pd.DataFrame) -> pd.DataFrame:
    """Coefficients with the fit's particulars spelled out and S at the report ages."""
    frame = raw.copy()
    details = frame["fit_details"].map(lambda d: d if isinstance(d, dict) else {})
    frame["family"] = [d.get("family") or (m if m in FAMILIES else None)
                       for d, m in zip(details, frame["model_type"])]
    frame["method"] = details.map(lambda d: d.get("method"))
    frame["pooled"] = frame["method"].isin(POOLED_METHODS)
    frame["n_observations"] = pd.to_numeric(details.map(lambda d: d.get("n_observations")), errors="coerce")
    frame["surplus_rate"] = pd.to_numeric(details.map(lambda d: d.get("surplus_rate")), errors="coerce")
    frame["surplus_source"] = details.map(lambda d: d.get("surplus_source"))
    curves = [curve_of(d, m, a, b, c) for d, m, a, b, c in
              zip(frame["fit_details"], frame["model_type"], frame["a"], frame["b"], frame["c"])]
    for age in REPORT_AGES:
        frame[f"s{age}"] = [float(cv.predict(np.array([age]))[0]) if cv is not None else np.nan
                            for cv in curves]
    return frame


def review_table(raw: pd.DataFrame, review_probability: float) -> pd.DataFrame:
    frame = raw.copy()
    exposed = frame["initial_balance"].astype(float).fillna(0) + frame["incoming"].astype(float).fillna(0)
    frame["shrinkage_fraction"] = (frame["shrinkage_kg"].astype(float) / exposed.where(exposed > 0))
    frame["reason"] = [reason_for_review(text, p, review_probability)
                       for text, p in zip(frame["reason"], frame["human_error_probability"])]
    return frame


def reason_for_review(recorded: str | None, probability, threshold: float) -> str:
    """The recorded validation messages, else the probability that triggered the flag."""
    if isinstance(recorded, str) and recorded.strip():
        return recorded.strip()
    if probability is not None and not pd.isna(probability) and float(probability) >= threshold:
        return f"вероятность ошибки {float(probability):.0%} ≥ {threshold:.0%}"
    return "отмечено для проверки"


def curve_set(coefficients: pd.DataFrame, observed: pd.DataFrame, max_age_days: float,
              points: int, max_per_type: int) -> CurveSet:
    """Curves of the best-documented products of each type on a common age grid, with their counts.

    A period's shortage share is not S(t) itself (the stock had many ages and part of it was
    sold on the way), so each count is drawn where it puts its product's curve: S(t) at the
    stock's mean age, scaled by observed / expected shortage for that period. A count that
    agrees with the model sits on the curve; one that does not sits proportionally off it.
    """
    ages = np.linspace(0.0, float(max_age_days), int(points))
    rows, drawn = [], {}
    ranked = coefficients.assign(_n=coefficients["n_observations"].fillna(0)).sort_values(
        ["product_type", "_n", "product"], ascending=[True, False, True])
    for ptype, group in ranked.groupby("product_type", sort=True):
        for row in group.head(max_per_type).itertuples(index=False):
            curve = curve_of(row.fit_details, row.model_type, row.a, row.b, row.c)
            if curve is None:
                continue
            drawn[row.product] = curve
            for age, s in zip(ages, curve.predict(ages)):
                rows.append((ptype, row.product, row.n_observations, row.family, float(age), float(s)))
    curves = pd.DataFrame(rows, columns=["product_type", "product", "n_observations", "family", "t", "s"])
    comparable = observed[observed["product"].isin(list(drawn)) & (observed["expected_fraction"] > 0)
                          & (observed["t"] <= float(max_age_days))].copy()
    scale = comparable["y"] / comparable["expected_fraction"]
    comparable["y"] = [float(drawn[p].predict(np.array([t]))[0]) * k
                       for p, t, k in zip(comparable["product"], comparable["t"], scale)]
    points_frame = comparable[["product_type", "product", "t", "y"]]
    return CurveSet(ages, curves, points_frame.reset_index(drop=True))


def headline(period: ReportPeriod, calc: dict, tables: dict[str, pd.DataFrame],
             registry: pd.DataFrame, generated_at: datetime) -> dict[str, object]:
    """The summary figures, computed from the gathered tables."""
    coefficients = tables["coefficients"]
    forecasts = tables["forecasts"]
    errors = tables["quality_errors"]
    with_actual = forecasts[forecasts["actual_value"].notna()]
    return {
        "period_start": period.start,
        "period_end": period.end,
        "generated_at": generated_at,
        "products": int(calc["products"] or 0),
        "calculation_rows": int(calc["calculation_rows"] or 0),
        "counted_rows": int(calc["counted_rows"] or 0),
        "shrinkage_kg": float(calc["shrinkage_kg"]),
        "mean_shrinkage": (calc["shrinkage_kg"] / calc["exposed_kg"]) if calc["exposed_kg"] > 0 else None,
        "coefficients": len(coefficients),
        "pooled_products": int(coefficients["pooled"].sum()) if len(coefficients) else 0,
        "model_versions": ", ".join(f"{m} v{v}" for m, v in zip(registry["model_name"],
                                                                 registry["registry_version"])) or "—",
        "forecasts": len(forecasts),
        "forecasts_with_actual": len(with_actual),
        "mean_forecast_accuracy": (float(with_actual["accuracy"].mean())
                                   if with_actual["accuracy"].notna().any() else None),
        "preliminary_forecasts": len(tables["preliminary_forecasts"]),
        "pending_recommendations": len(tables["surplus_recommendations"]),
        "flagged_rows": len(tables["review_rows"]),
        "open_errors": int(errors["unresolved"].sum()) if len(errors) else 0,
        "files_with_errors": (int(errors.loc[errors["unresolved"] > 0, "source_data_id"].nunique())
                              if len(errors) else 0),
    }


# --- the one gathering step (I/O) ------------------------------------------------------------

def resolve_period(engine: Engine, period: ReportPeriod | str | tuple | None) -> ReportPeriod:
    """The requested period, else the span of the data, else today."""
    chosen = ReportPeriod.coerce(period)
    if chosen is not None:
        return chosen
    start, end = q.data_period(engine)
    if start is None or end is None:
        today = date.today()
        return ReportPeriod(today, today)
    return ReportPeriod(pd.Timestamp(start).date(), pd.Timestamp(end).date())


def gather(engine: Engine, period: ReportPeriod | str | tuple | None = None,
           settings: ReportSettings = CONFIG.reports, *, max_age_days: float | None = None,
           max_curves_per_type: int | None = None) -> ReportData:
    """Read every table of the report for ``period`` (default: the span of the data).

    ``max_age_days`` / ``max_curves_per_type`` override the settings (a template's chart options).
    """
    chosen = resolve_period(engine, period)
    start, end = chosen.bounds()
    coefficients = coefficients_table(q.with_products(engine, q.coefficients(engine)))
    registry = q.active_registry(engine)
    coefficients["registry_version"] = coefficients["registry_id"].map(
        registry.set_index("registry_id")["registry_version"])
    tables = {
        "coefficients": coefficients.sort_values(["product_type", "product"]).reset_index(drop=True),
        "forecasts": q.with_products(engine, q.forecasts(engine, start, end)),
        "preliminary_forecasts": q.with_products(engine, q.preliminary_forecasts(engine, start, end)),
        "surplus_recommendations": q.with_products(engine, q.pending_recommendations(engine)),
        "review_rows": review_table(q.with_products(engine, q.review_rows(engine, start, end)),
                                    CONFIG.quality.review_probability),
        "quality_errors": q.quality_errors_by_file(engine, start, end),
    }
    observed = q.observed_points(engine, start, end)
    curves = curve_set(tables["coefficients"], observed, max_age_days or settings.curve_max_age_days,
                       settings.curve_points, max_curves_per_type or settings.max_curves_per_type)
    generated_at = datetime.now().replace(microsecond=0)
    summary = headline(chosen, q.calculation_summary(engine, start, end), tables, registry, generated_at)
    log.info("report data for %s: %s", chosen.label, {k: len(v) for k, v in tables.items()})
    return ReportData(chosen, tables, summary, curves, generated_at)

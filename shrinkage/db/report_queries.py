"""What the reports read: a few parameterised queries, each returning a DataFrame.

Every query is SQLAlchemy Core with bound parameters and is shaped to use an index:
coefficients of the active registry versions go through ``ix_coefficients_ml_model_registry_id``,
forecasts through ``ix_forecasts_coefficient_id``, rows flagged for review through the
partial index ``ix_calculation_data_needs_review`` (the bare boolean predicate is what lets
SQLite and PostgreSQL match a partial index), and period filters through
``ix_calculation_data_period``. Product names and types and the active registry versions
come from the TTL cache (:mod:`shrinkage.db.cache`), not from a join on every query.

Units: shrinkage quantities in kg; fractions as fractions (0.05 = 5 %); the plan's
``*_surplus_percentage`` columns hold percent points (5.0 = 5 %) and are turned into
fractions here (``recommended_rate``) so that every report formats them alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
from sqlalchemy import Select, case, func, literal_column, or_, select
from sqlalchemy.engine import Engine

from shrinkage.db import cache
from shrinkage.db.models import (
    CalculationData,
    Coefficient,
    Forecast,
    MLModelRegistry,
    Model,
    Nomenclature,
    PreliminaryForecast,
    SourceData,
    SurplusRecommendation,
    ValidationError,
)

PERCENT_POINTS = 100.0
# The bare boolean, exactly the partial index's predicate: SQLAlchemy renders the mapped
# column as "= 1" on SQLite, which SQLite's planner does not match to the index.
NEEDS_REVIEW = literal_column("calculation_data.manual_review_required")

NOMENCLATURE_COLUMNS = ["nomenclature_id", "product", "product_type", "product_type_code"]
REGISTRY_COLUMNS = ["registry_id", "model_name", "registry_version", "registry_model_id", "algorithm_type"]


def _frame(engine: Engine, stmt: Select, columns: list[str]) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def _overlaps(start_col, end_col, start: datetime | None, end: datetime | None) -> list:
    """Rows whose [start_col, end_col] meets [start, end]; open ends and NULLs are lenient."""
    clauses = []
    if end is not None:
        clauses.append(or_(start_col.is_(None), start_col <= end))
    if start is not None:
        clauses.append(or_(end_col.is_(None), end_col >= start))
    return clauses


# --- cached reference data ---------------------------------------------------------------

def _load_nomenclature(engine: Engine) -> pd.DataFrame:
    stmt = select(Nomenclature.id, Nomenclature.name, Nomenclature.product_type,
                  Nomenclature.product_type_code)
    frame = _frame(engine, stmt, NOMENCLATURE_COLUMNS)
    frame["product_type"] = frame["product_type"].fillna("other")
    return frame.set_index("nomenclature_id")


def nomenclature(engine: Engine, needed: Iterable[int] = ()) -> pd.DataFrame:
    """Products by id (name, type, type code), cached; reloaded once if an id is not known yet."""
    frame = cache.cached(engine, cache.NOMENCLATURE, lambda: _load_nomenclature(engine))
    missing = set(needed) - set(frame.index)
    if missing:
        cache.invalidate(engine, cache.NOMENCLATURE)
        frame = cache.cached(engine, cache.NOMENCLATURE, lambda: _load_nomenclature(engine))
    return frame


def active_registry(engine: Engine) -> pd.DataFrame:
    """The active registry version of every model (cached)."""
    def load() -> pd.DataFrame:
        stmt = (select(MLModelRegistry.id, MLModelRegistry.model_name, MLModelRegistry.version,
                       MLModelRegistry.model_id, MLModelRegistry.algorithm_type)
                .where(MLModelRegistry.is_active.is_(True)).order_by(MLModelRegistry.id))
        return _frame(engine, stmt, REGISTRY_COLUMNS)

    return cache.cached(engine, cache.ACTIVE_REGISTRY, load)


def with_products(engine: Engine, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with product, product_type, product_type_code joined on nomenclature_id."""
    names = nomenclature(engine, frame["nomenclature_id"].dropna().astype(int).unique())
    joined = frame.join(names, on="nomenclature_id")
    joined["product_type"] = joined["product_type"].fillna("other")
    return joined


# --- report tables -----------------------------------------------------------------------

COEFFICIENT_COLUMNS = [
    "coefficient_id", "calculation_data_id", "nomenclature_id", "model_id", "model", "model_type",
    "model_version", "a", "b", "c", "r2", "calculation_date", "registry_id", "fit_details",
]


def coefficients(engine: Engine) -> pd.DataFrame:
    """The latest coefficients of each product under the active registry versions."""
    registry = active_registry(engine)
    if registry.empty:
        return pd.DataFrame(columns=COEFFICIENT_COLUMNS)
    stmt = (
        select(Coefficient.id, Coefficient.calculation_data_id, CalculationData.nomenclature_id,
               Coefficient.model_id, Model.name, Model.model_type, Model.version,
               Coefficient.coefficient_a, Coefficient.coefficient_b, Coefficient.coefficient_c,
               Coefficient.accuracy_r2, Coefficient.calculation_date,
               Coefficient.ml_model_registry_id, Coefficient.fit_details)
        .join(CalculationData, CalculationData.id == Coefficient.calculation_data_id)
        .join(Model, Model.id == Coefficient.model_id)
        .where(Coefficient.ml_model_registry_id.in_(registry["registry_id"].tolist()))
        .order_by(Coefficient.id)
    )
    frame = _frame(engine, stmt, COEFFICIENT_COLUMNS)
    # One row per product: the newest fit wins when a version holds several.
    return frame.drop_duplicates("nomenclature_id", keep="last").reset_index(drop=True)


FORECAST_COLUMNS = [
    "forecast_id", "coefficient_id", "nomenclature_id", "forecast_date", "horizon_days",
    "forecast_value", "actual_value", "deviation", "accuracy", "model",
]


def forecasts(engine: Engine, start: datetime | None = None, end: datetime | None = None) -> pd.DataFrame:
    """Forecasts made from the active coefficients, optionally dated inside [start, end]."""
    registry = active_registry(engine)
    if registry.empty:
        return pd.DataFrame(columns=FORECAST_COLUMNS)
    active_coefficients = (select(Coefficient.id)
                           .where(Coefficient.ml_model_registry_id.in_(registry["registry_id"].tolist())))
    clauses = [Forecast.coefficient_id.in_(active_coefficients)]
    if start is not None:
        clauses.append(Forecast.forecast_date >= start)
    if end is not None:
        clauses.append(Forecast.forecast_date <= end)
    stmt = (
        select(Forecast.id, Forecast.coefficient_id, CalculationData.nomenclature_id,
               Forecast.forecast_date, Forecast.horizon_days, Forecast.forecast_value,
               Forecast.actual_value, Forecast.deviation, Forecast.accuracy, Model.name)
        .join(Coefficient, Coefficient.id == Forecast.coefficient_id)
        .join(CalculationData, CalculationData.id == Coefficient.calculation_data_id)
        .outerjoin(Model, Model.id == Forecast.model_id)
        .where(*clauses)
        .order_by(Forecast.forecast_date, Forecast.id)
    )
    return _frame(engine, stmt, FORECAST_COLUMNS)


PRELIMINARY_COLUMNS = [
    "preliminary_forecast_id", "calculation_data_id", "nomenclature_id", "period_start", "period_end",
    "forecast_date", "forecast_period_days", "expected_shrinkage", "adjusted_expected_shrinkage",
    "confidence_level", "actual_shrinkage", "forecast_accuracy", "notes",
]


def preliminary_forecasts(engine: Engine, start: datetime | None = None,
                          end: datetime | None = None) -> pd.DataFrame:
    """Preliminary forecasts whose calculation period meets [start, end]."""
    stmt = (
        select(PreliminaryForecast.id, PreliminaryForecast.calculation_data_id,
               CalculationData.nomenclature_id, CalculationData.inventory_period_start,
               func.coalesce(CalculationData.preliminary_period_end, CalculationData.inventory_period_end),
               PreliminaryForecast.forecast_date, PreliminaryForecast.forecast_period_days,
               PreliminaryForecast.expected_shrinkage, PreliminaryForecast.adjusted_expected_shrinkage,
               PreliminaryForecast.confidence_level, PreliminaryForecast.actual_shrinkage,
               PreliminaryForecast.forecast_accuracy, PreliminaryForecast.notes)
        .join(CalculationData, CalculationData.id == PreliminaryForecast.calculation_data_id)
        .where(*_overlaps(CalculationData.inventory_period_start, CalculationData.inventory_period_end,
                          start, end))
        .order_by(PreliminaryForecast.forecast_date, PreliminaryForecast.id)
    )
    return _frame(engine, stmt, PRELIMINARY_COLUMNS)


RECOMMENDATION_COLUMNS = [
    "recommendation_id", "nomenclature_id", "recommended_percentage", "confidence_level",
    "analysis_period_start", "analysis_period_end", "calculation_method", "created_date",
]


def pending_recommendations(engine: Engine) -> pd.DataFrame:
    """Surplus recommendations awaiting a decision (is_accepted NULL), newest first.

    Pending ones are shown whatever the report period: a decision is due either way.
    """
    stmt = (
        select(SurplusRecommendation.id, SurplusRecommendation.nomenclature_id,
               SurplusRecommendation.recommended_surplus_percentage,
               SurplusRecommendation.confidence_level, SurplusRecommendation.analysis_period_start,
               SurplusRecommendation.analysis_period_end, SurplusRecommendation.calculation_method,
               SurplusRecommendation.created_date)
        .where(SurplusRecommendation.is_accepted.is_(None))
        .order_by(SurplusRecommendation.created_date.desc(), SurplusRecommendation.id.desc())
    )
    frame = _frame(engine, stmt, RECOMMENDATION_COLUMNS)
    frame["recommended_rate"] = frame["recommended_percentage"].astype(float) / PERCENT_POINTS
    return frame


REVIEW_COLUMNS = [
    "calculation_data_id", "nomenclature_id", "source_data_id", "file_name", "period_start",
    "period_end", "initial_balance", "incoming", "shrinkage_kg", "human_error_probability",
    "data_quality_flag", "reason",
]


def review_rows(engine: Engine, start: datetime | None = None, end: datetime | None = None) -> pd.DataFrame:
    """Calculation rows flagged for manual review, with the recorded reason."""
    stmt = (
        select(CalculationData.id, CalculationData.nomenclature_id, CalculationData.source_data_id,
               SourceData.file_name, CalculationData.inventory_period_start,
               CalculationData.inventory_period_end, CalculationData.initial_balance,
               CalculationData.incoming, CalculationData.inventory_shrinkage_total,
               CalculationData.human_error_probability, CalculationData.data_quality_flag,
               CalculationData.validation_errors)
        .join(SourceData, SourceData.id == CalculationData.source_data_id)
        .where(NEEDS_REVIEW,
               *_overlaps(CalculationData.inventory_period_start, CalculationData.inventory_period_end,
                          start, end))
        .order_by(CalculationData.human_error_probability.desc(), CalculationData.id)
    )
    return _frame(engine, stmt, REVIEW_COLUMNS)


QUALITY_COLUMNS = ["source_data_id", "file_name", "error_type", "severity_level", "errors",
                   "unresolved", "example"]


def quality_errors_by_file(engine: Engine, start: datetime | None = None,
                           end: datetime | None = None) -> pd.DataFrame:
    """Validation errors counted per file, error type and severity (with one example)."""
    file_id = func.coalesce(ValidationError.source_data_id, CalculationData.source_data_id)
    unresolved = func.sum(case((ValidationError.resolved.is_(False), 1), else_=0))
    stmt = (
        select(SourceData.id, SourceData.file_name, ValidationError.error_type,
               ValidationError.severity_level, func.count(ValidationError.id), unresolved,
               func.min(ValidationError.description))
        .select_from(ValidationError)
        .outerjoin(CalculationData, CalculationData.id == ValidationError.calculation_data_id)
        .join(SourceData, SourceData.id == file_id)
        .where(*_overlaps(SourceData.period_start, SourceData.period_end, start, end))
        .group_by(SourceData.id, SourceData.file_name, ValidationError.error_type,
                  ValidationError.severity_level)
        .order_by(SourceData.file_name, SourceData.id, ValidationError.error_type)
    )
    frame = _frame(engine, stmt, QUALITY_COLUMNS)
    frame[["errors", "unresolved"]] = frame[["errors", "unresolved"]].fillna(0).astype(int)
    return frame


OBSERVATION_COLUMNS = ["calculation_data_id", "nomenclature_id", "storage_days", "period_start",
                       "period_end", "initial_balance", "incoming", "shrinkage_kg", "expected_fraction"]


def observed_points(engine: Engine, start: datetime | None = None, end: datetime | None = None) -> pd.DataFrame:
    """Observed shrinkage per calculation row: t (days), y (fraction of stock exposed) and the
    fraction the active model expected for the same period (``expected_fraction``).

    t is the row's storage_days, else the length of its period; y = shrinkage total /
    (opening + incoming). Rows without a count or without stock give no point.
    """
    exposed = func.coalesce(CalculationData.initial_balance, 0.0) + func.coalesce(CalculationData.incoming, 0.0)
    registry_ids = active_registry(engine)["registry_id"].tolist()
    expected = (select(Coefficient.effective_shrinkage_rate)
                .where(Coefficient.calculation_data_id == CalculationData.id,
                       Coefficient.ml_model_registry_id.in_(registry_ids))
                .order_by(Coefficient.id.desc()).limit(1).scalar_subquery())
    stmt = (
        select(CalculationData.id, CalculationData.nomenclature_id, CalculationData.storage_days,
               CalculationData.inventory_period_start, CalculationData.inventory_period_end,
               CalculationData.initial_balance, CalculationData.incoming,
               CalculationData.inventory_shrinkage_total, expected)
        .where(CalculationData.inventory_shrinkage_total.is_not(None), exposed > 0,
               *_overlaps(CalculationData.inventory_period_start, CalculationData.inventory_period_end,
                          start, end))
        .order_by(CalculationData.id)
    )
    frame = _frame(engine, stmt, OBSERVATION_COLUMNS)
    length = (pd.to_datetime(frame["period_end"]) - pd.to_datetime(frame["period_start"])).dt.days
    frame["t"] = pd.to_numeric(frame["storage_days"], errors="coerce").fillna(length).astype(float)
    denominator = frame["initial_balance"].fillna(0.0).astype(float) + frame["incoming"].fillna(0.0).astype(float)
    frame["y"] = frame["shrinkage_kg"].astype(float) / denominator
    frame["expected_fraction"] = pd.to_numeric(frame["expected_fraction"], errors="coerce")
    return with_products(engine, frame.dropna(subset=["t", "y"]))


CALCULATION_SUMMARY_COLUMNS = ["calculation_rows", "products", "counted_rows", "shrinkage_kg",
                               "exposed_kg", "period_start", "period_end"]


def calculation_summary(engine: Engine, start: datetime | None = None,
                        end: datetime | None = None) -> dict:
    """Headline counts of the calculation rows in [start, end] (one aggregate query)."""
    exposed = func.coalesce(CalculationData.initial_balance, 0.0) + func.coalesce(CalculationData.incoming, 0.0)
    counted = CalculationData.inventory_shrinkage_total.is_not(None)
    stmt = select(
        func.count(CalculationData.id),
        func.count(func.distinct(CalculationData.nomenclature_id)),
        func.sum(case((counted, 1), else_=0)),
        func.sum(CalculationData.inventory_shrinkage_total),
        func.sum(case((counted, exposed), else_=0.0)),
        func.min(CalculationData.inventory_period_start),
        func.max(CalculationData.inventory_period_end),
    ).where(*_overlaps(CalculationData.inventory_period_start, CalculationData.inventory_period_end,
                       start, end))
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    values = dict(zip(CALCULATION_SUMMARY_COLUMNS, row))
    for key in ("counted_rows",):
        values[key] = int(values[key] or 0)
    for key in ("shrinkage_kg", "exposed_kg"):
        values[key] = float(values[key] or 0.0)
    return values


def data_period(engine: Engine) -> tuple[datetime | None, datetime | None]:
    """First period start and last period end over all calculation rows (None when empty)."""
    summary = calculation_summary(engine)
    return summary["period_start"], summary["period_end"]


def open_errors_filter() -> dict:
    """Service-layer filters of the validation errors still to be resolved."""
    return {"resolved": False}


def needs_review_filter() -> dict:
    """Service-layer filters of the rows still flagged for manual review."""
    return {"manual_review_required": True}


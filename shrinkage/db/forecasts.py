"""Forecasts of the stock on hand and preliminary forecasts: open ones, actuals, new rows."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from shrinkage.db.bulk import insert_frame
from shrinkage.db.models import CalculationData, Coefficient, Forecast, PreliminaryForecast


def open_forecasts(session: Session, with_fit: bool = False) -> pd.DataFrame:
    """Forecasts without an actual yet: id, value, date, horizon, product (and fit details)."""
    f, c, cd = Forecast, Coefficient, CalculationData
    columns = [f.id, f.forecast_value, f.forecast_date, f.horizon_days, cd.nomenclature_id.label("product")]
    if with_fit:
        columns.append(c.fit_details)
    return pd.read_sql(
        select(*columns)
        .join(c, c.id == f.coefficient_id).join(cd, cd.id == c.calculation_data_id)
        .where(f.actual_value.is_(None)), session.connection())


def compared_forecasts(session: Session) -> pd.DataFrame:
    """Forecasts with an actual: value, actual, horizon and the registry version that made them."""
    f, c = Forecast, Coefficient
    return pd.read_sql(
        select(f.forecast_value, f.actual_value, f.horizon_days, c.ml_model_registry_id)
        .join(c, c.id == f.coefficient_id).where(f.actual_value.is_not(None)), session.connection())


def forecast_accuracy(session: Session) -> pd.DataFrame:
    """product, accuracy, model_id of every forecast compared so far."""
    return pd.read_sql(
        select(CalculationData.nomenclature_id.label("product"), Forecast.accuracy, Coefficient.model_id)
        .join(Coefficient, Coefficient.id == Forecast.coefficient_id)
        .join(CalculationData, CalculationData.id == Coefficient.calculation_data_id)
        .where(Forecast.accuracy.is_not(None)), session.connection())


def set_forecast_actuals(session: Session, rows: list[dict]) -> None:
    """rows: id, actual_value, deviation, accuracy."""
    if rows:
        session.execute(update(Forecast), rows)


def replace_open_forecasts(session: Session, frame: pd.DataFrame, stale_ids: list[int]) -> None:
    """New forecasts; open ones of the same stock and horizon (``stale_ids``) go first."""
    if stale_ids:
        session.execute(delete(Forecast).where(Forecast.id.in_(stale_ids)))
    insert_frame(session, Forecast.__table__, frame)


def open_preliminary(session: Session) -> list[tuple]:
    """(id, expected_shrinkage, batch_storage_history, product) of preliminary forecasts without an actual."""
    p, cd = PreliminaryForecast, CalculationData
    return [tuple(r) for r in session.execute(
        select(p.id, p.expected_shrinkage, p.batch_storage_history, cd.nomenclature_id)
        .join(cd, cd.id == p.calculation_data_id).where(p.actual_shrinkage.is_(None))).all()]


def compared_preliminary_rows(session: Session) -> list[tuple]:
    """(product, expected, actual, accuracy, history) of preliminary forecasts that met their count."""
    p, cd = PreliminaryForecast, CalculationData
    return [tuple(r) for r in session.execute(
        select(cd.nomenclature_id, p.expected_shrinkage, p.actual_shrinkage,
               p.forecast_accuracy, p.batch_storage_history)
        .join(cd, cd.id == p.calculation_data_id).where(p.actual_shrinkage.is_not(None))).all()]


def set_preliminary_actuals(session: Session, rows: list[dict]) -> None:
    """rows: id, actual_shrinkage, forecast_accuracy."""
    if rows:
        session.execute(update(PreliminaryForecast), rows)


def replace_open_preliminary(session: Session, rows: list[dict]) -> None:
    """New preliminary forecasts; the open ones of the same calculation rows go first."""
    ids = [r["calculation_data_id"] for r in rows]
    session.execute(delete(PreliminaryForecast).where(
        PreliminaryForecast.calculation_data_id.in_(ids), PreliminaryForecast.actual_shrinkage.is_(None)))
    session.execute(insert(PreliminaryForecast), rows)

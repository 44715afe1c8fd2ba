"""A fit run from the database: observations in; models, registry, coefficients, forecasts,
surplus, analytics and patterns out. The only modelling code that speaks SQL.

The steps are separate functions so the orchestration can run them as separate assets:
``load_observations`` -> ``fit_and_register`` -> ``write_forecasts`` / ``write_surplus`` /
``write_analytics``; :func:`run_fit` chains them for the CLI. Each returns a small summary
dataclass (``FitRun`` also carries the in-memory fits the later steps need).

Which coefficients are "in force": a coefficient row is eligible when its registry version
is the active version of its model or an older one (a version newer than the active one
has been rolled back); per product the newest eligible fit run wins (training date, then
id), and in it the row of the product's latest calculation period. So rolling model X back
to version v makes every product whose newest fit was an X fit after v fall back to its
newest fit up to then (of X at v, or of another family in that run).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from scipy import stats
from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, aliased

from shrinkage.config import CONFIG
from shrinkage.db.bulk import insert_frame, insert_returning_ids
from shrinkage.db.engine import session_scope
from shrinkage.db.models import (
    AIPattern,
    Analytics,
    BatchMovement,
    CalculationData,
    Coefficient,
    FeedbackPreference,
    Forecast,
    MLModelRegistry,
    Model,
    Nomenclature,
    PatternValidation,
    PreliminaryForecast,
    PriorityPeriod,
    SurplusPattern,
    SurplusRecommendation,
    SurplusSpecification,
    analytics_ai_patterns,
)
from shrinkage.db.services import Crud, NotFound, activate_registry_version
from shrinkage.modeling.anomalies import (
    anomaly_patterns,
    cluster_products,
    score_counts,
    seasonal_effects,
)
from shrinkage.modeling.fitting import INDIVIDUAL, ShrinkageFitter
from shrinkage.modeling.forecast import forecast_loss, preliminary_forecast
from shrinkage.modeling.observations import Observations, build_observations
from shrinkage.modeling.results import (
    absolute_percentage_error,
    accuracy_from_ape,
    coefficient_values,
    fit_accuracy,
    fit_details,
    fit_from_details,
    next_count_target,
    period_rates,
    pre_shrinkage,
    registry_metrics,
    stock_forecast_actual,
    window_count_rows,
)
from shrinkage.modeling.surplus import recommend_surplus, validate_pattern

log = logging.getLogger(__name__)

DAY = pd.Timedelta(days=1)
MODEL_TYPE = "shrinkage_curve"
# algorithm_type is String(64): the short name; parameters say the rest.
ALGORITHM = "robust exposure least squares + AICc"
PATTERN_TYPES = ("anomaly", "cluster", "seasonal_effect")
ANOMALY_FLAG = "anomaly"
# Flags that mean "nothing found": the fit may replace them, never the others.
CLEAR_FLAGS = (None, "ok", "unchecked")
MAX_AFFECTED_CHARS = 1000
FAMILY_DESCRIPTIONS = {
    "exp_linear": "S(t) = a(1 - exp(-b t)) + c t",
    "linear": "S(t) = a t",
    "power": "S(t) = a t^b",
    "logarithmic": "S(t) = a ln(1 + b t)",
    "quadratic": "S(t) = a t + b t^2 (non-decreasing to the horizon)",
}

Progress = Callable[[str], None]


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _ts(value) -> datetime | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


# ======================================================================================
# 1. Observations
# ======================================================================================

def load_observations(engine: Engine) -> Observations:
    """Batch movements (de-duplicated), calculation rows, product names and types, fixed
    surplus rates of active specifications, and active priority periods."""
    bm, n = BatchMovement, Nomenclature
    with engine.connect() as conn:
        movements = pd.read_sql(select(
            bm.nomenclature_id.label("product"), bm.document_datetime.label("doc_datetime"),
            bm.document_kind.label("doc_kind"), bm.document_number.label("doc_number"),
            bm.batch_arrival, bm.is_labelled.label("labelled"), bm.opening, bm.incoming,
            bm.outgoing, bm.closing, bm.source_data_id, bm.source_row,
            bm.calculation_data_id.label("calculation_id"),
        ), conn)
        cd = CalculationData
        calculations = pd.read_sql(select(
            cd.id.label("calculation_id"), cd.nomenclature_id.label("product"),
            cd.source_data_id, cd.initial_balance, cd.incoming, cd.outgoing, cd.final_balance,
            cd.storage_days, cd.calculation_date, cd.inventory_period_start,
            cd.inventory_period_end, cd.inventory_shrinkage_total,
        ), conn)
        products = conn.execute(select(n.id, n.name, n.product_type)).all()
        specs = conn.execute(
            select(SurplusSpecification.nomenclature_id, SurplusSpecification.surplus_percentage)
            .where(SurplusSpecification.is_active.is_(True))
            .order_by(SurplusSpecification.specification_start_date, SurplusSpecification.id)
        ).all()
        periods = pd.read_sql(
            select(PriorityPeriod.period_start, PriorityPeriod.period_end,
                   PriorityPeriod.priority_level).where(PriorityPeriod.active.is_(True)), conn)
    for col in ("doc_datetime", "batch_arrival"):
        movements[col] = pd.to_datetime(movements[col])
    movements["doc_number"] = movements["doc_number"].fillna("").astype(str)
    for col in ("calculation_date", "inventory_period_start", "inventory_period_end"):
        calculations[col] = pd.to_datetime(calculations[col])
    names = {pid: name for pid, name, _ in products}
    types = {pid: (ptype or "other") for pid, _, ptype in products}
    # the latest active specification per product wins
    surplus_rates = {pid: float(pct) / 100.0 for pid, pct in specs}
    for col in ("period_start", "period_end"):
        periods[col] = pd.to_datetime(periods[col])
    observations = build_observations(movements, calculations, names, types, surplus_rates,
                                      periods if len(periods) else None)
    log.info("observations: %d products, %d usable counts, %d duplicate lines dropped, "
             "%d turnover observations", observations.n_products, observations.n_counts,
             observations.duplicates_dropped, len(observations.turnover))
    return observations


# ======================================================================================
# 2. Fit, registry, coefficients
# ======================================================================================

@dataclass(frozen=True)
class FitSummary:
    version: str | None
    products_fitted: int
    methods: dict
    families: dict
    median_r2: float | None
    coefficient_rows: int
    anomalies: int
    review_items: int
    skipped: int
    duplicates_dropped: int = 0
    turnover_observations: int = 0


@dataclass
class FitRun:
    """A fit run's in-memory results for the steps that follow it."""

    observations: Observations
    fits: dict
    type_fits: dict
    scores: pd.DataFrame
    version: str | None
    registry_ids: dict  # family -> ml_model_registry.id of this run
    model_ids: dict  # family -> models.id
    summary: FitSummary


def ensure_models(crud: Crud, families=None, version: str | None = None) -> dict[str, int]:
    """One ``models`` row per curve family at the code's version (created when missing)."""
    version = version or CONFIG.fit_run.model_version
    families = tuple(families or CONFIG.modeling.families)
    existing = dict(crud.session.execute(
        select(Model.name, Model.id).where(Model.version == version, Model.name.in_(families))
    ).tuples().all())
    for family in families:
        if family not in existing:
            existing[family] = crud.create(
                Model, name=family, model_type=MODEL_TYPE, version=version,
                description=FAMILY_DESCRIPTIONS.get(family, family)).id
    return existing


def next_registry_version(session: Session) -> str:
    """The next fit run number: one more than any numeric registry version so far."""
    versions = session.scalars(select(MLModelRegistry.version)).all()
    numbers = [int(v) for v in versions if str(v).isdigit()]
    return str(max(numbers, default=0) + 1)


def fit_and_register(engine: Engine, observations: Observations | None = None, *,
                     created_by: str | None = None, n_jobs: int = 1,
                     progress: Progress | None = None) -> FitRun:
    """Fit every product, register a new version per family (activated), write coefficients
    per calculation row and the fit's figures and anomaly scores on calculation_data."""
    observations = observations or load_observations(engine)
    step = progress or (lambda _name: None)
    if observations.exposure is None:
        summary = FitSummary(None, 0, {}, {}, None, 0, 0, 0, 0)
        return FitRun(observations, {}, {}, pd.DataFrame(), None, {}, {}, summary)
    exposure = observations.exposure
    fitter = ShrinkageFitter(n_jobs=n_jobs).fit(
        exposure, product_types=observations.product_types,
        surplus_rates=observations.surplus_rates,
        priority_periods=observations.priority_periods)
    step("fit")
    scores = score_counts(exposure, fitter.fits_)
    fits = fitter.fits_
    families = tuple(CONFIG.modeling.families)
    with session_scope(engine) as session:
        crud = Crud(session)
        model_ids = ensure_models(crud, families)
        version = next_registry_version(session)
        trained = _now()
        registry_ids = {}
        for family in families:
            chosen = [f for f in fits.values() if f.family == family]
            types = {str(t): {"params": tf.params, "surplus_rate": tf.surplus_rate}
                     for t, tf in fitter.type_fits_.items() if tf.family == family}
            registry_ids[family] = crud.create(
                MLModelRegistry, model_id=model_ids[family], model_name=family, version=version,
                algorithm_type=ALGORITHM, training_date=trained, created_by=created_by,
                is_active=False,
                parameters={
                    "family": family, "model_version": CONFIG.fit_run.model_version,
                    "algorithm": ("robust least squares of count shortages under the exposure "
                                  "model, family chosen per product by AICc"),
                    "robust_loss": CONFIG.modeling.robust_loss,
                    "products": {str(f.product): {
                        "name": observations.names.get(f.product), "params": f.params,
                        "method": f.method, "surplus_rate": f.surplus_rate} for f in chosen},
                    "type_curves": types,
                },
                accuracy_metrics=registry_metrics(chosen),
                notes=f"fit run {version}",
            ).id
            activate_registry_version(crud, family, version)
        coefficient_rows, review = _write_coefficients(
            session, observations, fits, scores, model_ids, registry_ids)
    step("register")
    methods = pd.Series([f.method for f in fits.values()], dtype=object).value_counts()
    chosen_families = pd.Series([f.family for f in fits.values()], dtype=object).value_counts()
    r2 = [f.r2 for f in fits.values() if np.isfinite(f.r2)]
    summary = FitSummary(
        version=version, products_fitted=len(fits),
        methods={str(k): int(v) for k, v in methods.items()},
        families={str(k): int(v) for k, v in chosen_families.items()},
        median_r2=float(np.median(r2)) if r2 else None, coefficient_rows=coefficient_rows,
        anomalies=int(scores["anomalous"].sum()) if len(scores) else 0,
        review_items=review, skipped=len(fitter.skipped_),
        duplicates_dropped=observations.duplicates_dropped,
        turnover_observations=len(observations.turnover),
    )
    log.info("fit run %s: %s", version, summary)
    return FitRun(observations, fits, fitter.type_fits_, scores, version, registry_ids,
                  model_ids, summary)


def _period_openings(observations: Observations) -> pd.DataFrame:
    """Per calculation row: the batches on hand at its first document (opening kg, age days)."""
    mv = observations.movements
    if mv.empty:
        return pd.DataFrame(columns=["calculation_id", "opening", "age_days"])
    first = mv.groupby("calculation_id")["doc_datetime"].transform("min")
    rows = mv[(mv["doc_datetime"] == first) & (mv["opening"] > 0) & mv["batch_arrival"].notna()]
    rows = rows.drop_duplicates(["calculation_id", "batch_arrival", "source_row"])
    return pd.DataFrame({
        "calculation_id": rows["calculation_id"].to_numpy(),
        "opening": rows["opening"].to_numpy(float),
        "age_days": ((rows["doc_datetime"] - rows["batch_arrival"]) / DAY).clip(lower=0).to_numpy(),
    })


def _write_coefficients(session: Session, observations: Observations, fits: dict,
                        scores: pd.DataFrame, model_ids: dict, registry_ids: dict) -> tuple[int, int]:
    """Coefficient rows for every calculation row of every fitted product, and the fit's
    figures on calculation_data. Returns (coefficient rows, rows needing review)."""
    calc = observations.calculations
    calc = calc[calc["product"].isin(list(fits))]
    if calc.empty:
        return 0, 0
    # counts -> the calculation rows (files) that list them; scores per count
    links = observations.count_calculations
    scored = scores[["product", "doc_number", "count_datetime", "expected",
                     "human_error_probability", "anomalous"]].copy() if len(scores) else \
        pd.DataFrame(columns=["product", "doc_number", "count_datetime", "expected",
                              "human_error_probability", "anomalous"])
    scored["count_datetime"] = pd.to_datetime(scored["count_datetime"])
    per_count = links.merge(scored, on=["product", "doc_number", "count_datetime"], how="left")
    per_count["anomalous"] = per_count["anomalous"].astype("boolean").fillna(False).astype(bool)
    per_count["expected"] = per_count["expected"].astype(float)
    by_calc = per_count.groupby("calculation_id").agg(
        expected=("expected", lambda s: s.sum(min_count=1)),
        probability=("human_error_probability", "max"),
        anomalous=("anomalous", "any"),
    )
    openings = _period_openings(observations)
    openings_by_calc = {cid: g for cid, g in openings.groupby("calculation_id")}
    # turnover observations ride along in fit_details of their rows
    turnover = observations.turnover.set_index("calculation_id") if len(observations.turnover) \
        else pd.DataFrame()
    existing = _existing_quality(session, calc["calculation_id"].tolist())

    coefficient_rows, calc_updates = [], []
    now = _now()
    for row in calc.itertuples(index=False):
        fit = fits[row.product]
        cid = int(row.calculation_id)
        opening = openings_by_calc.get(cid)
        factor, pre_amount = (pre_shrinkage(fit, opening["opening"], opening["age_days"])
                              if opening is not None else (0.0, 0.0))
        agg = by_calc.loc[cid] if cid in by_calc.index else None
        expected = None if agg is None or pd.isna(agg["expected"]) else float(agg["expected"])
        shortage = None if pd.isna(row.inventory_shrinkage_total) else float(row.inventory_shrinkage_total)
        effective, adjusted = period_rates(expected, shortage, row.initial_balance or 0.0,
                                           row.incoming or 0.0, pre_amount)
        details = fit_details(fit)
        details["period_expected_shortage_kg"] = expected
        if cid in turnover.index:
            details["turnover_observation"] = {
                k: (None if pd.isna(v) else (bool(v) if k == "informative" else float(v)))
                for k, v in turnover.loc[cid, ["t_days", "y", "shortage_kg", "informative"]].items()}
        coefficient_rows.append({
            "calculation_data_id": cid, "model_id": model_ids[fit.family],
            "ml_model_registry_id": registry_ids[fit.family],
            **coefficient_values(fit.family, fit.params),
            "accuracy_r2": float(fit.r2) if np.isfinite(fit.r2) else None,
            "calculation_date": now, "adjusted_for_pre_shrinkage": bool(pre_amount > 0),
            "pre_shrinkage_factor": factor, "effective_shrinkage_rate": effective,
            "fit_details": details,
        })
        old = existing.get(cid, {})
        probability = None if agg is None or pd.isna(agg["probability"]) else float(agg["probability"])
        old_probability = old.get("human_error_probability")
        merged_probability = max([p for p in (probability, old_probability) if p is not None],
                                 default=None)
        anomalous = bool(agg["anomalous"]) if agg is not None else False
        review = bool(old.get("manual_review_required")) or anomalous or (
            merged_probability is not None
            and merged_probability >= CONFIG.quality.review_probability)
        flag = old.get("data_quality_flag")
        if anomalous and flag in CLEAR_FLAGS:
            flag = ANOMALY_FLAG
        calc_updates.append({
            "id": cid, "pre_shrinkage_amount": pre_amount, "adjusted_shrinkage_rate": adjusted,
            "human_error_probability": merged_probability, "manual_review_required": review,
            "data_quality_flag": flag,
        })
    frame = pd.DataFrame(coefficient_rows)
    insert_frame(session, Coefficient.__table__, frame)
    session.execute(update(CalculationData), calc_updates)
    return len(frame), sum(u["manual_review_required"] for u in calc_updates)


def _existing_quality(session: Session, calc_ids: list[int]) -> dict[int, dict]:
    out = {}
    cd = CalculationData
    for start in range(0, len(calc_ids), 500):
        chunk = calc_ids[start:start + 500]
        for cid, prob, review, flag in session.execute(
            select(cd.id, cd.human_error_probability, cd.manual_review_required,
                   cd.data_quality_flag).where(cd.id.in_(chunk))
        ).all():
            out[cid] = {"human_error_probability": prob, "manual_review_required": review,
                        "data_quality_flag": flag}
    return out


# ======================================================================================
# Coefficients in force (active registry versions)
# ======================================================================================

def active_coefficients(engine_or_session) -> pd.DataFrame:
    """One row per product: the coefficient in force (see the module doc) with its model,
    registry version and fit details."""
    # eligible: fitted by the active version of its model or an older one
    c, r, cd, m = Coefficient, MLModelRegistry, CalculationData, Model
    active = aliased(MLModelRegistry)
    query = (
        select(c.id.label("coefficient_id"), c.model_id, c.ml_model_registry_id,
               c.coefficient_a, c.coefficient_b, c.coefficient_c, c.accuracy_r2, c.fit_details,
               cd.nomenclature_id.label("product"), cd.calculation_date,
               r.version, r.model_name, r.training_date, m.name.label("family"))
        .join(r, r.id == c.ml_model_registry_id).join(cd, cd.id == c.calculation_data_id)
        .join(m, m.id == c.model_id)
        .join(active, (active.model_name == r.model_name) & active.is_active.is_(True))
        .where(or_(r.training_date < active.training_date,
                   and_(r.training_date == active.training_date, r.id <= active.id)))
    )
    if isinstance(engine_or_session, Session):
        frame = pd.read_sql(query, engine_or_session.connection())
    else:
        with engine_or_session.connect() as conn:
            frame = pd.read_sql(query, conn)
    if frame.empty:
        return frame
    frame = frame.sort_values(
        ["product", "training_date", "ml_model_registry_id", "calculation_date", "coefficient_id"],
        ascending=[True, False, False, False, False], kind="stable")
    return frame.drop_duplicates("product").reset_index(drop=True)


def _fits_in_force(active: pd.DataFrame) -> dict:
    return {row.product: fit_from_details(row.product, row.fit_details)
            for row in active.itertuples(index=False)}


# ======================================================================================
# 3. Forecasts
# ======================================================================================

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


def write_forecasts(engine: Engine, observations: Observations | None = None,
                    horizons=None) -> ForecastSummary:
    """Fill actuals of earlier forecasts whose counts have arrived (and the registry's
    forecast MAPEs), then forecast the loss of each product's stock on hand over each
    horizon and the shortage of each open period, from the coefficients in force."""
    observations = observations or load_observations(engine)
    s = CONFIG.fit_run
    horizons = tuple(horizons or s.forecast_horizons_days)
    exposure = observations.exposure
    if exposure is None:
        return ForecastSummary(0, 0, 0, 0, None)
    counts = exposure.counts[["product", "count_datetime", "observed"]].copy()
    counts["count_datetime"] = pd.to_datetime(counts["count_datetime"])
    with session_scope(engine) as session:
        filled = _fill_forecast_actuals(session, exposure, counts)
        pre_filled = _fill_preliminary_actuals(session, counts)
        mape, pre_mape = _update_registry_mape(session)
        active = active_coefficients(session)
        fits = _fits_in_force(active)
        coefficient_of = dict(zip(active["product"], active["coefficient_id"]))
        model_of = dict(zip(active["product"], active["model_id"]))
        registry_of = dict(zip(active["product"], active["ml_model_registry_id"]))
        n_forecasts = _new_forecasts(session, exposure, fits, coefficient_of, model_of, horizons)
        n_pre = _new_preliminary(session, observations, fits, model_of, registry_of)
    return ForecastSummary(n_forecasts, n_pre, filled, pre_filled, mape, pre_mape)


def _open_forecasts(session: Session, with_fit: bool = False) -> pd.DataFrame:
    f, c, cd = Forecast, Coefficient, CalculationData
    columns = [f.id, f.forecast_value, f.forecast_date, f.horizon_days,
               cd.nomenclature_id.label("product")]
    if with_fit:
        columns.append(c.fit_details)
    return pd.read_sql(
        select(*columns)
        .join(c, c.id == f.coefficient_id).join(cd, cd.id == c.calculation_data_id)
        .where(f.actual_value.is_(None)), session.connection())


def _fill_forecast_actuals(session: Session, exposure, counts: pd.DataFrame) -> int:
    """Actual, deviation and accuracy of the forecasts whose window has been counted.

    The actual is the booked shortage of the window's counts put on the forecast's stock
    by the forecast's own coefficients (:func:`stock_forecast_actual`): those coefficients
    give the counts' expected shortage with their real flows, out of sample.
    """
    s = CONFIG.fit_run
    open_ = _open_forecasts(session, with_fit=True)
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
    session.execute(update(Forecast), [
        {"id": int(i), "actual_value": float(a), "deviation": float(a - v),
         "accuracy": float(acc)}
        for i, a, v, acc in zip(known["id"], actual, known["forecast_value"],
                                accuracy_from_ape(ape))
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
    p, cd = PreliminaryForecast, CalculationData
    open_ = session.execute(
        select(p.id, p.expected_shrinkage, p.batch_storage_history, cd.nomenclature_id)
        .join(cd, cd.id == p.calculation_data_id).where(p.actual_shrinkage.is_(None))
    ).all()
    by_product = {k: g.sort_values("count_datetime") for k, g in counts.groupby("product")}
    updates = []
    for pid, expected, history, product in open_:
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
    if updates:
        session.execute(update(PreliminaryForecast), updates)
    return len(updates)


def _update_registry_mape(session: Session) -> tuple[float | None, float | None]:
    """Median absolute percentage errors of every compared forecast and preliminary
    forecast: per registry version into its accuracy_metrics (``forecast_mape``,
    ``forecast_mape_by_horizon``, ``preliminary_mape``), and overall (returned, in that
    order)."""
    s = CONFIG.fit_run
    f, c = Forecast, Coefficient
    done = pd.read_sql(
        select(f.forecast_value, f.actual_value, f.horizon_days, c.ml_model_registry_id)
        .join(c, c.id == f.coefficient_id).where(f.actual_value.is_not(None)),
        session.connection())
    done["ape"] = absolute_percentage_error(done["forecast_value"], done["actual_value"],
                                            s.accuracy_floor_kg)
    pre = compared_preliminary(session)
    metrics_of: dict[int, dict] = {}
    for registry_id, group in done.groupby("ml_model_registry_id"):
        metrics_of.setdefault(int(registry_id), {}).update({
            "forecast_mape": float(group["ape"].median()), "forecast_n": int(len(group)),
            "forecast_mape_by_horizon": {
                str(int(h)): float(g["ape"].median()) for h, g in group.groupby("horizon_days")},
        })
    for registry_id, group in pre.dropna(subset=["ml_model_registry_id"]).groupby(
            "ml_model_registry_id"):
        metrics_of.setdefault(int(registry_id), {}).update({
            "preliminary_mape": float(group["ape"].median()), "preliminary_n": int(len(group))})
    for registry_id, new_metrics in metrics_of.items():
        entry = session.get(MLModelRegistry, registry_id)
        if entry is not None:
            entry.accuracy_metrics = {**(entry.accuracy_metrics or {}), **new_metrics}
    session.flush()
    forecast_mape = float(done["ape"].median()) if len(done) else None
    preliminary_mape = float(pre["ape"].median()) if len(pre) else None
    return forecast_mape, preliminary_mape


def compared_preliminary(session: Session) -> pd.DataFrame:
    """Preliminary forecasts that met their count: product, expected (signed, kg), actual,
    ape, accuracy and the registry version whose coefficients made them (None for rows
    written before that was recorded)."""
    s = CONFIG.fit_run
    p, cd = PreliminaryForecast, CalculationData
    rows = session.execute(
        select(cd.nomenclature_id, p.expected_shrinkage, p.actual_shrinkage,
               p.forecast_accuracy, p.batch_storage_history)
        .join(cd, cd.id == p.calculation_data_id).where(p.actual_shrinkage.is_not(None))
    ).all()
    frame = pd.DataFrame([{
        "product": product,
        # the column holds the expectation floored at 0; the history keeps it signed
        "expected": float((history or {}).get("expected_shortage_kg", expected)),
        "actual": float(actual), "accuracy": accuracy,
        "ml_model_registry_id": (history or {}).get("ml_model_registry_id"),
    } for product, expected, actual, accuracy, history in rows],
        columns=["product", "expected", "actual", "accuracy", "ml_model_registry_id"])
    frame["ape"] = absolute_percentage_error(frame["expected"], frame["actual"],
                                             s.accuracy_floor_kg)
    return frame


def _new_forecasts(session: Session, exposure, fits: dict, coefficient_of: dict,
                   model_of: dict, horizons) -> int:
    on_hand = exposure.on_hand
    rows = []
    for product, stock in on_hand.groupby("product", sort=False):
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
    open_ = _open_forecasts(session)
    if len(open_):
        open_["forecast_date"] = pd.to_datetime(open_["forecast_date"])
        key = ["product", "forecast_date", "horizon_days"]
        stale = open_.merge(frame[key].assign(forecast_date=pd.to_datetime(frame["forecast_date"])),
                            on=key)
        if len(stale):
            session.execute(delete(Forecast).where(Forecast.id.in_(stale["id"].astype(int).tolist())))
    insert_frame(session, Forecast.__table__, frame.drop(columns="product"))
    return len(frame)


def _new_preliminary(session: Session, observations: Observations, fits: dict,
                     model_of: dict, registry_of: dict) -> int:
    """A preliminary forecast for each calculation row whose period has no count yet and
    lies after its product's last count."""
    s = CONFIG.fit_run
    exposure = observations.exposure
    counts = exposure.counts
    calc = observations.calculations
    counted = set(observations.count_calculations["calculation_id"].dropna().astype(int))
    last_count = counts.groupby("product")["count_datetime"].max()
    with_movements = set(observations.movements["calculation_id"].dropna().astype(int))
    rows = []
    for row in calc.itertuples(index=False):
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
            "forecast_date": _ts(forecast.last_document) or _now(),
            "pre_shrinkage_adjusted": True,
            "adjusted_expected_shrinkage": max(forecast.recorded + forecast.projected, 0.0),
            "batch_storage_history": history,
            "notes": f"expected shortage at {target:%Y-%m-%d %H:%M} (next count due)",
        })
    if not rows:
        return 0
    ids = [r["calculation_data_id"] for r in rows]
    session.execute(delete(PreliminaryForecast).where(
        PreliminaryForecast.calculation_data_id.in_(ids),
        PreliminaryForecast.actual_shrinkage.is_(None)))
    session.execute(insert(PreliminaryForecast), rows)
    return len(rows)


# ======================================================================================
# 4. Surplus
# ======================================================================================

@dataclass(frozen=True)
class SurplusSummary:
    recommendations: int
    validations: int
    auto_confirmed: int
    awaiting_user: int


def default_feedback_preference(crud: Crud) -> FeedbackPreference:
    """The active feedback preference; a default one is created when there is none."""
    pref = crud.session.scalars(
        select(FeedbackPreference).where(FeedbackPreference.is_active.is_(True))
        .order_by(FeedbackPreference.id.desc())).first()
    if pref is None:
        s = CONFIG.fit_run
        pref = crud.create(FeedbackPreference, feedback_frequency=s.default_feedback_frequency,
                           auto_confirm_threshold=s.default_auto_confirm_threshold,
                           is_active=True)
    return pref


def write_surplus(engine: Engine, run: FitRun) -> SurplusSummary:
    """Recommendations from this fit (replacing undecided ones) and validations of every
    active surplus pattern at the counts it has not seen yet."""
    exposure = run.observations.exposure
    if exposure is None or not run.fits:
        return SurplusSummary(0, 0, 0, 0)
    with session_scope(engine) as session:
        crud = Crud(session)
        pref = default_feedback_preference(crud)
        threshold = pref.auto_confirm_threshold
        if threshold is None:
            threshold = CONFIG.fit_run.default_auto_confirm_threshold
        patterns = session.scalars(
            select(SurplusPattern).where(SurplusPattern.is_active.is_(True))).all()
        patterned = {p.nomenclature_id for p in patterns if p.nomenclature_id is not None}
        fixed = set(run.observations.surplus_rates) | patterned
        advice = recommend_surplus(exposure, run.fits, fixed_products=fixed)
        session.execute(delete(SurplusRecommendation).where(
            SurplusRecommendation.is_accepted.is_(None)))
        now = _now()
        if advice:
            session.execute(insert(SurplusRecommendation), [{
                "nomenclature_id": int(a.product), "recommended_surplus_percentage": a.percentage,
                "confidence_level": a.confidence, "analysis_period_start": _ts(a.period_start),
                "analysis_period_end": _ts(a.period_end), "calculation_method": a.method,
                "supporting_data": a.supporting_data, "created_date": now,
            } for a in advice])
        n_valid = n_auto = 0
        for pattern in patterns:
            products = ([pattern.nomenclature_id] if pattern.nomenclature_id is not None else
                        [p for p, t in run.observations.product_types.items()
                         if t == pattern.product_type])
            after = pattern.last_validated_date
            if after is None and pattern.created_from_recommendation is not None:
                after = pattern.created_from_recommendation.analysis_period_end
            newest = after
            for product in products:
                fit = run.fits.get(product)
                if fit is None:
                    continue
                checks = validate_pattern(exposure, fit, pattern.surplus_percentage, after,
                                          threshold)
                for check in checks:
                    session.add(PatternValidation(
                        surplus_pattern_id=pattern.id,
                        validation_date=check.count_datetime.to_pydatetime(),
                        actual_surplus_percentage=check.actual_percentage,
                        predicted_surplus_percentage=check.predicted_percentage,
                        deviation=check.deviation, validation_result=check.result,
                        user_feedback=f"count {check.doc_number}, {check.received_kg:.3f} kg received",
                        is_confirmed=True if check.auto_confirmed else None,
                        confirmation_date=now if check.auto_confirmed else None))
                    n_auto += check.auto_confirmed
                    newest = max(newest, check.count_datetime.to_pydatetime()) \
                        if newest is not None else check.count_datetime.to_pydatetime()
                n_valid += len(checks)
                pattern.validation_count = (pattern.validation_count or 0) + len(checks)
            if newest is not None and newest != pattern.last_validated_date:
                pattern.last_validated_date = newest
            if pattern.feedback_preference_id is None:
                pattern.feedback_preference_id = pref.id
    return SurplusSummary(len(advice), n_valid, n_auto, n_valid - n_auto)


def accept_recommendation(engine: Engine, recommendation_id: int, *,
                          create_specification: bool = False, created_by: str | None = None,
                          condition: str = "on receipt") -> int:
    """Accept a recommendation: a surplus pattern (and optionally a specification that the
    next fit honours as a fixed r). Returns the pattern id."""
    with session_scope(engine) as session:
        crud = Crud(session)
        rec = _undecided(crud, recommendation_id)
        now = _now()
        rec.is_accepted, rec.acceptance_date = True, now
        pref = default_feedback_preference(crud)
        ptype = session.scalar(select(Nomenclature.product_type)
                               .where(Nomenclature.id == rec.nomenclature_id))
        pattern = crud.create(
            SurplusPattern, nomenclature_id=rec.nomenclature_id, product_type=ptype,
            surplus_percentage=rec.recommended_surplus_percentage, pattern_condition=condition,
            is_active=True, created_from_recommendation_id=rec.id,
            confidence_level=rec.confidence_level, feedback_preference_id=pref.id)
        if create_specification:
            crud.create(SurplusSpecification, nomenclature_id=rec.nomenclature_id,
                        surplus_percentage=rec.recommended_surplus_percentage,
                        specification_start_date=rec.analysis_period_start or now,
                        is_active=True, created_by=created_by,
                        notes=f"from surplus recommendation #{rec.id}")
        return pattern.id


def reject_recommendation(engine: Engine, recommendation_id: int) -> None:
    """Record that the user rejected a recommendation (kept, so it is not asked again)."""
    with session_scope(engine) as session:
        rec = _undecided(Crud(session), recommendation_id)
        rec.is_accepted, rec.acceptance_date = False, _now()


def _undecided(crud: Crud, recommendation_id: int) -> SurplusRecommendation:
    try:
        rec = crud.require(SurplusRecommendation, recommendation_id)
    except NotFound:
        raise NotFound(f"no surplus recommendation #{recommendation_id}: "
                       "see `shrinkage surplus list` for the open ones") from None
    if rec.is_accepted is not None:
        state = "accepted" if rec.is_accepted else "rejected"
        raise ValueError(f"surplus recommendation #{recommendation_id} was already {state} "
                         f"on {rec.acceptance_date:%Y-%m-%d}")
    return rec


def confirm_validation(engine: Engine, validation_id: int, confirmed: bool = True,
                       feedback: str | None = None) -> None:
    """A user's verdict on a pattern validation; the pattern's feedback count grows."""
    with session_scope(engine) as session:
        crud = Crud(session)
        validation = crud.require(PatternValidation, validation_id)
        now = _now()
        validation.is_confirmed, validation.confirmation_date = confirmed, now
        if feedback:
            validation.user_feedback = feedback
        pattern = validation.surplus_pattern
        pattern.feedback_count = (pattern.feedback_count or 0) + 1
        pattern.last_feedback_date = now


def list_recommendations(engine: Engine, include_decided: bool = False) -> pd.DataFrame:
    r, n = SurplusRecommendation, Nomenclature
    query = (select(r.id, n.name.label("product"), r.recommended_surplus_percentage,
                    r.confidence_level, r.analysis_period_start, r.analysis_period_end,
                    r.is_accepted)
             .join(n, n.id == r.nomenclature_id).order_by(r.id))
    if not include_decided:
        query = query.where(r.is_accepted.is_(None))
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


# ======================================================================================
# 5. Analytics and patterns
# ======================================================================================

@dataclass(frozen=True)
class AnalyticsSummary:
    analytics_rows: int
    patterns: dict = field(default_factory=dict)


def write_analytics(engine: Engine, run: FitRun) -> AnalyticsSummary:
    """Per product (and per model) analytics for this run's registry versions, and the
    ai_patterns of this run (replacing the previous run's)."""
    if not run.fits:
        return AnalyticsSummary(0, {})
    obs = run.observations
    counts = obs.exposure.counts
    calc_counts = obs.calculations.groupby("product").size()
    with session_scope(engine) as session:
        forecast_acc = pd.read_sql(
            select(CalculationData.nomenclature_id.label("product"), Forecast.accuracy,
                   Coefficient.model_id)
            .join(Coefficient, Coefficient.id == Forecast.coefficient_id)
            .join(CalculationData, CalculationData.id == Coefficient.calculation_data_id)
            .where(Forecast.accuracy.is_not(None)), session.connection())
        # forecasts of the stock on hand and preliminary forecasts alike, each compared
        # with the counts that came after it
        preliminary_acc = compared_preliminary(session)[["product", "accuracy"]]
        parts = [part.dropna() for part in (forecast_acc[["product", "accuracy"]],
                                            preliminary_acc)]
        compared = pd.concat([part for part in parts if len(part)] or parts[:1])
        acc_by_product = compared.groupby("product")["accuracy"].mean().to_dict()
        session.execute(delete(Analytics).where(
            Analytics.ml_model_registry_id.in_(list(run.registry_ids.values()))))
        now = _now()
        rows = []
        for product, fit in run.fits.items():
            mine = counts[counts["product"] == product]
            accuracy = acc_by_product.get(product)
            if accuracy is None or pd.isna(accuracy):
                accuracy = fit_accuracy(fit)
            rows.append({
                "nomenclature_id": int(product), "model_id": run.model_ids[fit.family],
                "ml_model_registry_id": run.registry_ids[fit.family],
                "avg_accuracy": None if accuracy is None else float(accuracy),
                "total_calculations": int(calc_counts.get(product, 0)),
                "period_start": _ts(pd.to_datetime(mine["interval_start"]).min()) if len(mine) else None,
                "period_end": _ts(pd.to_datetime(mine["count_datetime"]).max()) if len(mine) else None,
                "last_updated": now,
            })
        for family, registry_id in run.registry_ids.items():
            chosen = [r for r in rows if r["model_id"] == run.model_ids[family]]
            if not chosen:
                continue
            accs = [r["avg_accuracy"] for r in chosen if r["avg_accuracy"] is not None]
            starts = [r["period_start"] for r in chosen if r["period_start"] is not None]
            ends = [r["period_end"] for r in chosen if r["period_end"] is not None]
            rows.append({
                "nomenclature_id": None, "model_id": run.model_ids[family],
                "ml_model_registry_id": registry_id,
                "avg_accuracy": float(np.median(accs)) if accs else None,
                "total_calculations": int(sum(r["total_calculations"] for r in chosen)),
                "period_start": min(starts) if starts else None,
                "period_end": max(ends) if ends else None, "last_updated": now,
            })
        analytics_ids = insert_returning_ids(session, Analytics.__table__, rows)
        analytics_of = {r["nomenclature_id"]: i for r, i in zip(rows, analytics_ids)
                        if r["nomenclature_id"] is not None}
        patterns = _write_patterns(session, run, analytics_of)
    return AnalyticsSummary(len(rows), patterns)


def _write_patterns(session: Session, run: FitRun, analytics_of: dict) -> dict:
    names = run.observations.names
    found = [*anomaly_patterns(run.scores),
             *cluster_products([f for f in run.fits.values() if f.method == INDIVIDUAL]),
             *(seasonal_effects(run.scores) if len(run.scores) else [])]
    session.execute(delete(AIPattern).where(AIPattern.pattern_type.in_(PATTERN_TYPES)))
    if not found:
        return {}
    now = _now()
    rows = []
    for pattern in found:
        affected_names = [names.get(p, str(p)) for p in pattern.affected]
        text = ", ".join(affected_names)
        if len(text) > MAX_AFFECTED_CHARS:
            text = text[:MAX_AFFECTED_CHARS] + " …"
        rows.append({
            "pattern_type": pattern.pattern_type, "description": _named(pattern.description, run),
            "confidence_level": float(np.clip(pattern.confidence, 0.0, 1.0)),
            "affected_nomenclature": text, "discovery_date": now,
            "pattern_data": {**_jsonable(pattern.evidence), "fit_run": run.version,
                             "nomenclature_ids": [int(p) for p in pattern.affected]},
        })
    ids = insert_returning_ids(session, AIPattern.__table__, rows)
    links = [{"analytics_id": analytics_of[p], "ai_pattern_id": pid}
             for pattern, pid in zip(found, ids) if pattern.pattern_type == "anomaly"
             for p in pattern.affected if p in analytics_of]
    if links:
        session.execute(insert(analytics_ai_patterns), links)
    return pd.Series([p.pattern_type for p in found]).value_counts().to_dict()


def _named(description: str, run: FitRun) -> str:
    """Pattern descriptions name products by id in the core; show their names instead."""
    for product in sorted(run.fits, key=lambda p: -len(str(p))):
        token = f"of {product}:"
        if token in description:
            description = description.replace(token, f"of {run.observations.names.get(product, product)}:")
    return description


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


# ======================================================================================
# 7. The whole run
# ======================================================================================

@dataclass(frozen=True)
class FitRunSummary:
    fit: FitSummary
    forecasts: ForecastSummary
    surplus: SurplusSummary
    analytics: AnalyticsSummary

    STEPS = ("load", "fit", "register", "forecasts", "surplus", "analytics")


def run_fit(engine: Engine, *, created_by: str | None = None, n_jobs: int = 1,
            progress: Progress | None = None) -> FitRunSummary:
    """Everything from the database: observations, fits, registry, forecasts, surplus,
    analytics and patterns. ``progress(step)`` is called after each of FitRunSummary.STEPS."""
    step = progress or (lambda _name: None)
    observations = load_observations(engine)
    step("load")
    run = fit_and_register(engine, observations, created_by=created_by, n_jobs=n_jobs,
                           progress=step)
    forecasts = write_forecasts(engine, observations)
    step("forecasts")
    surplus = write_surplus(engine, run)
    step("surplus")
    analytics = write_analytics(engine, run)
    step("analytics")
    return FitRunSummary(run.summary, forecasts, surplus, analytics)


# ======================================================================================
# Registry: list, compare, rollback; export
# ======================================================================================

def list_registry(engine: Engine) -> pd.DataFrame:
    r = MLModelRegistry
    with engine.connect() as conn:
        frame = pd.read_sql(select(r.id, r.model_name, r.version, r.is_active, r.training_date,
                                   r.created_by, r.accuracy_metrics)
                            .order_by(r.model_name, r.training_date, r.id), conn)
    return frame


def compare_versions(engine: Engine, version_a: str, version_b: str,
                     model_name: str | None = None) -> pd.DataFrame:
    """Metrics of two registry versions side by side, one row per (model, metric)."""
    r = MLModelRegistry
    query = select(r.model_name, r.version, r.accuracy_metrics).where(
        r.version.in_([version_a, version_b]))
    if model_name:
        query = query.where(r.model_name == model_name)
    with engine.connect() as conn:
        found = conn.execute(query).all()
    if not {v for _, v, _ in found} >= {version_a, version_b}:
        missing = {version_a, version_b} - {v for _, v, _ in found}
        raise NotFound(f"registry has no version {', '.join(sorted(missing))}"
                       + (f" of model {model_name!r}" if model_name else "")
                       + ": see `shrinkage model list`")
    rows = {}
    for model, version, metrics in found:
        for key, value in (metrics or {}).items():
            if isinstance(value, (dict, list)):
                continue
            rows.setdefault((model, key), {})[version] = value
    frame = pd.DataFrame([{"model": m, "metric": k, version_a: v.get(version_a),
                           version_b: v.get(version_b)} for (m, k), v in sorted(rows.items())])
    return frame


def rollback_model(engine: Engine, model_name: str, to_version: str | None = None) -> tuple[str | None, str]:
    """Activate ``to_version`` of a model, or the version trained before the active one.
    Returns (previously active version, now active version)."""
    r = MLModelRegistry
    with session_scope(engine) as session:
        versions = session.execute(
            select(r.version, r.is_active).where(r.model_name == model_name)
            .order_by(r.training_date, r.id)).all()
        if not versions:
            raise NotFound(f"model {model_name!r} has no registry versions: "
                           "see `shrinkage model list`")
        active = next((v for v, is_active in versions if is_active), None)
        if to_version is None:
            order = [v for v, _ in versions]
            index = order.index(active) if active in order else len(order)
            if index == 0:
                raise ValueError(f"model {model_name!r} version {active} is the oldest: "
                                 "nothing to roll back to")
            to_version = order[index - 1]
        activate_registry_version(Crud(session), model_name, to_version)
    log.info("model %s: active version %s -> %s", model_name, active, to_version)
    return active, to_version


EXPORT_COLUMNS = ("nomenclature", "product_type", "model", "a", "b", "c", "r2",
                  "n_observations", "pooled", "surplus_rate", "S7", "S14", "S30")


def export_coefficients(engine: Engine) -> pd.DataFrame:
    """One row per product from the coefficients in force (S at 7/14/30 days as fractions)."""
    active = active_coefficients(engine)
    if active.empty:
        return pd.DataFrame(columns=list(EXPORT_COLUMNS))
    with engine.connect() as conn:
        products = dict((pid, (name, ptype)) for pid, name, ptype in conn.execute(
            select(Nomenclature.id, Nomenclature.name, Nomenclature.product_type)).all())
    rows = []
    for row in active.itertuples(index=False):
        fit = fit_from_details(row.product, row.fit_details)
        s7, s14, s30 = fit.predict(np.array([7.0, 14.0, 30.0]))
        name, ptype = products.get(row.product, (str(row.product), None))
        rows.append({
            "nomenclature": name, "product_type": ptype, "model": row.family,
            "a": row.coefficient_a, "b": row.coefficient_b, "c": row.coefficient_c,
            "r2": row.accuracy_r2, "n_observations": fit.n_observations,
            "pooled": fit.method != INDIVIDUAL, "surplus_rate": fit.surplus_rate,
            "S7": float(s7), "S14": float(s14), "S30": float(s30),
        })
    return pd.DataFrame(rows, columns=list(EXPORT_COLUMNS)).sort_values("nomenclature",
                                                                        ignore_index=True)


__all__ = [
    "AnalyticsSummary", "FitRun", "FitRunSummary", "FitSummary", "ForecastSummary",
    "SurplusSummary", "accept_recommendation", "active_coefficients", "compare_versions",
    "confirm_validation", "export_coefficients", "fit_and_register", "list_recommendations",
    "list_registry", "load_observations", "reject_recommendation", "rollback_model",
    "run_fit", "write_analytics", "write_forecasts", "write_surplus",
]

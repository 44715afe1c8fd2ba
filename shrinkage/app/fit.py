"""A fit run from the database: observations in; models, registry, coefficients out.

``load_observations`` -> ``fit_and_register`` are the steps the Dagster store assets run
one by one (forecasts, surplus and analytics follow in their own modules); :func:`run_fit`
chains all of them for the CLI. ``FitRun`` carries the in-memory fits the later steps need.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from shrinkage.app.common import DAY, Progress, no_progress, now
from shrinkage.config import CONFIG
from shrinkage.db.coefficients import quality_of, write_coefficients
from shrinkage.db.engine import session_scope
from shrinkage.db.observations import read_fit_inputs
from shrinkage.db.registry import activate_registry_version, add_version, ensure_models, next_registry_version
from shrinkage.db.services import Crud
from shrinkage.modeling.anomalies import score_counts
from shrinkage.modeling.fitting import ShrinkageFitter
from shrinkage.modeling.observations import Observations, build_observations
from shrinkage.modeling.results import coefficient_values, fit_details, period_rates, pre_shrinkage, registry_metrics

log = logging.getLogger(__name__)

# algorithm_type is String(64): the short name; parameters say the rest.
ALGORITHM = "robust exposure least squares + AICc"
ANOMALY_FLAG = "anomaly"
# Flags that mean "nothing found": the fit may replace them, never the others.
CLEAR_FLAGS = (None, "ok", "unchecked")
FAMILY_DESCRIPTIONS = {
    "exp_linear": "S(t) = a(1 - exp(-b t)) + c t",
    "linear": "S(t) = a t",
    "power": "S(t) = a t^b",
    "logarithmic": "S(t) = a ln(1 + b t)",
    "quadratic": "S(t) = a t + b t^2 (non-decreasing to the horizon)",
}


def load_observations(engine: Engine) -> Observations:
    """Batch movements (de-duplicated), calculation rows, product names and types, fixed
    surplus rates of active specifications, and active priority periods."""
    with engine.connect() as conn:
        inputs = read_fit_inputs(conn)
    observations = build_observations(inputs.movements, inputs.calculations, inputs.names, inputs.types,
                                      inputs.surplus_rates, inputs.priority_periods)
    log.info("observations: %d products, %d usable counts, %d duplicate lines dropped, "
             "%d turnover observations", observations.n_products, observations.n_counts,
             observations.duplicates_dropped, len(observations.turnover))
    return observations


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


def fit_and_register(engine: Engine, observations: Observations | None = None, *,
                     created_by: str | None = None, n_jobs: int = 1,
                     progress: Progress | None = None) -> FitRun:
    """Fit every product, register a new version per family (activated), write coefficients
    per calculation row and the fit's figures and anomaly scores on calculation_data."""
    observations = observations or load_observations(engine)
    step = progress or no_progress
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
        model_ids = ensure_models(crud, families, CONFIG.fit_run.model_version, FAMILY_DESCRIPTIONS)
        version = next_registry_version(session)
        trained = now()
        registry_ids = {}
        for family in families:
            chosen = [f for f in fits.values() if f.family == family]
            types = {str(t): {"params": tf.params, "surplus_rate": tf.surplus_rate}
                     for t, tf in fitter.type_fits_.items() if tf.family == family}
            registry_ids[family] = add_version(
                crud, model_id=model_ids[family], family=family, version=version, algorithm=ALGORITHM,
                trained=trained, created_by=created_by,
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
                metrics=registry_metrics(chosen))
            activate_registry_version(crud, family, version)
        calc = observations.calculations
        fitted_rows = calc.loc[calc["product"].isin(list(fits)), "calculation_id"].astype(int).tolist()
        coefficients, updates = coefficient_rows(observations, fits, scores, model_ids, registry_ids,
                                                 quality_of(session, fitted_rows))
        write_coefficients(session, coefficients, updates)
        review = sum(u["manual_review_required"] for u in updates)
    step("register")
    methods = pd.Series([f.method for f in fits.values()], dtype=object).value_counts()
    chosen_families = pd.Series([f.family for f in fits.values()], dtype=object).value_counts()
    r2 = [f.r2 for f in fits.values() if np.isfinite(f.r2)]
    summary = FitSummary(
        version=version, products_fitted=len(fits),
        methods={str(k): int(v) for k, v in methods.items()},
        families={str(k): int(v) for k, v in chosen_families.items()},
        median_r2=float(np.median(r2)) if r2 else None, coefficient_rows=len(coefficients),
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


SCORE_COLUMNS = ["product", "doc_number", "count_datetime", "expected", "human_error_probability", "anomalous"]


def coefficient_rows(observations: Observations, fits: dict, scores: pd.DataFrame, model_ids: dict,
                     registry_ids: dict, existing: dict[int, dict]) -> tuple[pd.DataFrame, list[dict]]:
    """Coefficient rows for every calculation row of every fitted product, and the fit's
    figures for those calculation rows (``existing``: their quality columns so far)."""
    calc = observations.calculations
    calc = calc[calc["product"].isin(list(fits))]
    if calc.empty:
        return pd.DataFrame(), []
    # counts -> the calculation rows (files) that list them; scores per count
    links = observations.count_calculations
    scored = scores[SCORE_COLUMNS].copy() if len(scores) else pd.DataFrame(columns=SCORE_COLUMNS)
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

    coefficients, calc_updates = [], []
    stamp = now()
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
        coefficients.append({
            "calculation_data_id": cid, "model_id": model_ids[fit.family],
            "ml_model_registry_id": registry_ids[fit.family],
            **coefficient_values(fit.family, fit.params),
            "accuracy_r2": float(fit.r2) if np.isfinite(fit.r2) else None,
            "calculation_date": stamp, "adjusted_for_pre_shrinkage": bool(pre_amount > 0),
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
    return pd.DataFrame(coefficients), calc_updates


@dataclass(frozen=True)
class FitRunSummary:
    fit: FitSummary
    forecasts: object  # app.forecasts.ForecastSummary
    surplus: object  # app.surplus.SurplusSummary
    analytics: object  # app.analytics.AnalyticsSummary

    STEPS = ("load", "fit", "register", "forecasts", "surplus", "analytics")


def run_fit(engine: Engine, *, created_by: str | None = None, n_jobs: int = 1,
            progress: Progress | None = None) -> FitRunSummary:
    """Everything from the database: observations, fits, registry, forecasts, surplus,
    analytics and patterns. ``progress(step)`` is called after each of FitRunSummary.STEPS."""
    from shrinkage.app.analytics import write_analytics
    from shrinkage.app.forecasts import write_forecasts
    from shrinkage.app.surplus import write_surplus

    step = progress or no_progress
    observations = load_observations(engine)
    step("load")
    run = fit_and_register(engine, observations, created_by=created_by, n_jobs=n_jobs, progress=step)
    forecasts = write_forecasts(engine, observations)
    step("forecasts")
    surplus = write_surplus(engine, run)
    step("surplus")
    analytics = write_analytics(engine, run)
    step("analytics")
    return FitRunSummary(run.summary, forecasts, surplus, analytics)

"""Surplus decisions: recommendations from a fit, validations of accepted patterns at every new
count, and a user's verdicts (accept / reject a recommendation, confirm a validation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy.engine import Engine

from shrinkage.app.common import now, timestamp
from shrinkage.config import CONFIG
from shrinkage.db import surplus as store
from shrinkage.db.engine import session_scope
from shrinkage.db.models import PatternValidation, SurplusPattern, SurplusSpecification
from shrinkage.db.services import Crud
from shrinkage.modeling.surplus import recommend_surplus, validate_pattern

if TYPE_CHECKING:
    from shrinkage.app.fit import FitRun


@dataclass(frozen=True)
class SurplusSummary:
    recommendations: int
    validations: int
    auto_confirmed: int
    awaiting_user: int


def _preference(crud: Crud):
    s = CONFIG.fit_run
    return store.feedback_preference(crud, s.default_feedback_frequency, s.default_auto_confirm_threshold)


def write_surplus(engine: Engine, run: FitRun) -> SurplusSummary:
    """Recommendations from this fit (replacing undecided ones) and validations of every
    active surplus pattern at the counts it has not seen yet."""
    exposure = run.observations.exposure
    if exposure is None or not run.fits:
        return SurplusSummary(0, 0, 0, 0)
    with session_scope(engine) as session:
        pref = _preference(Crud(session))
        threshold = pref.auto_confirm_threshold
        if threshold is None:
            threshold = CONFIG.fit_run.default_auto_confirm_threshold
        patterns = store.active_patterns(session)
        patterned = {p.nomenclature_id for p in patterns if p.nomenclature_id is not None}
        fixed = set(run.observations.surplus_rates) | patterned
        advice = recommend_surplus(exposure, run.fits, fixed_products=fixed)
        stamp = now()
        store.replace_pending_recommendations(session, [{
            "nomenclature_id": int(a.product), "recommended_surplus_percentage": a.percentage,
            "confidence_level": a.confidence, "analysis_period_start": timestamp(a.period_start),
            "analysis_period_end": timestamp(a.period_end), "calculation_method": a.method,
            "supporting_data": a.supporting_data, "created_date": stamp,
        } for a in advice])
        n_valid = n_auto = 0
        for pattern in patterns:
            checked, auto = _validate(session, run, pattern, threshold, stamp)
            n_valid += checked
            n_auto += auto
            if pattern.feedback_preference_id is None:
                pattern.feedback_preference_id = pref.id
    return SurplusSummary(len(advice), n_valid, n_auto, n_valid - n_auto)


def _validate(session, run: FitRun, pattern: SurplusPattern, threshold: float, stamp) -> tuple[int, int]:
    """Validations of one pattern at the counts after its last one: (written, auto-confirmed)."""
    exposure = run.observations.exposure
    products = ([pattern.nomenclature_id] if pattern.nomenclature_id is not None else
                [p for p, t in run.observations.product_types.items() if t == pattern.product_type])
    after = pattern.last_validated_date
    if after is None and pattern.created_from_recommendation is not None:
        after = pattern.created_from_recommendation.analysis_period_end
    newest = after
    n_valid = n_auto = 0
    for product in products:
        fit = run.fits.get(product)
        if fit is None:
            continue
        checks = validate_pattern(exposure, fit, pattern.surplus_percentage, after, threshold)
        for check in checks:
            when = check.count_datetime.to_pydatetime()
            store.add_validation(
                session, surplus_pattern_id=pattern.id, validation_date=when,
                actual_surplus_percentage=check.actual_percentage,
                predicted_surplus_percentage=check.predicted_percentage,
                deviation=check.deviation, validation_result=check.result,
                user_feedback=f"count {check.doc_number}, {check.received_kg:.3f} kg received",
                is_confirmed=True if check.auto_confirmed else None,
                confirmation_date=stamp if check.auto_confirmed else None)
            n_auto += check.auto_confirmed
            newest = max(newest, when) if newest is not None else when
        n_valid += len(checks)
        pattern.validation_count = (pattern.validation_count or 0) + len(checks)
    if newest is not None and newest != pattern.last_validated_date:
        pattern.last_validated_date = newest
    return n_valid, n_auto


def accept_recommendation(engine: Engine, recommendation_id: int, *,
                          create_specification: bool = False, created_by: str | None = None,
                          condition: str = "on receipt") -> int:
    """Accept a recommendation: a surplus pattern (and optionally a specification that the
    next fit honours as a fixed r). Returns the pattern id."""
    with session_scope(engine) as session:
        crud = Crud(session)
        rec = store.undecided_recommendation(crud, recommendation_id)
        stamp = now()
        rec.is_accepted, rec.acceptance_date = True, stamp
        pref = _preference(crud)
        pattern = crud.create(
            SurplusPattern, nomenclature_id=rec.nomenclature_id,
            product_type=store.product_type_of(session, rec.nomenclature_id),
            surplus_percentage=rec.recommended_surplus_percentage, pattern_condition=condition,
            is_active=True, created_from_recommendation_id=rec.id,
            confidence_level=rec.confidence_level, feedback_preference_id=pref.id)
        if create_specification:
            crud.create(SurplusSpecification, nomenclature_id=rec.nomenclature_id,
                        surplus_percentage=rec.recommended_surplus_percentage,
                        specification_start_date=rec.analysis_period_start or stamp,
                        is_active=True, created_by=created_by,
                        notes=f"from surplus recommendation #{rec.id}")
        return pattern.id


def reject_recommendation(engine: Engine, recommendation_id: int) -> None:
    """Record that the user rejected a recommendation (kept, so it is not asked again)."""
    with session_scope(engine) as session:
        rec = store.undecided_recommendation(Crud(session), recommendation_id)
        rec.is_accepted, rec.acceptance_date = False, now()


def confirm_validation(engine: Engine, validation_id: int, confirmed: bool = True,
                       feedback: str | None = None) -> None:
    """A user's verdict on a pattern validation; the pattern's feedback count grows."""
    with session_scope(engine) as session:
        validation = Crud(session).require(PatternValidation, validation_id)
        stamp = now()
        validation.is_confirmed, validation.confirmation_date = confirmed, stamp
        if feedback:
            validation.user_feedback = feedback
        pattern = validation.surplus_pattern
        pattern.feedback_count = (pattern.feedback_count or 0) + 1
        pattern.last_feedback_date = stamp


def list_recommendations(engine: Engine, include_decided: bool = False) -> pd.DataFrame:
    with engine.connect() as conn:
        return store.recommendations_frame(conn, include_decided)

"""Surplus recommendations, patterns, pattern validations and the feedback preference."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from shrinkage.db.models import (
    FeedbackPreference,
    Nomenclature,
    PatternValidation,
    SurplusPattern,
    SurplusRecommendation,
)
from shrinkage.db.services import Crud, NotFound


def feedback_preference(crud: Crud, frequency: str, auto_confirm_threshold: float) -> FeedbackPreference:
    """The active feedback preference; one with these defaults is created when there is none."""
    pref = crud.session.scalars(
        select(FeedbackPreference).where(FeedbackPreference.is_active.is_(True))
        .order_by(FeedbackPreference.id.desc())).first()
    if pref is None:
        pref = crud.create(FeedbackPreference, feedback_frequency=frequency,
                           auto_confirm_threshold=auto_confirm_threshold, is_active=True)
    return pref


def active_patterns(session: Session) -> Sequence[SurplusPattern]:
    return session.scalars(select(SurplusPattern).where(SurplusPattern.is_active.is_(True))).all()


def replace_pending_recommendations(session: Session, rows: list[dict]) -> None:
    """Undecided recommendations go; decided ones stay (a decision is kept)."""
    session.execute(delete(SurplusRecommendation).where(SurplusRecommendation.is_accepted.is_(None)))
    if rows:
        session.execute(insert(SurplusRecommendation), rows)


def add_validation(session: Session, **values) -> None:
    session.add(PatternValidation(**values))


def undecided_recommendation(crud: Crud, recommendation_id: int) -> SurplusRecommendation:
    """The recommendation, which must still await a decision (NotFound / ValueError say why not)."""
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


def product_type_of(session: Session, nomenclature_id: int) -> str | None:
    return session.scalar(select(Nomenclature.product_type).where(Nomenclature.id == nomenclature_id))


def recommendations_frame(conn: Connection, include_decided: bool = False) -> pd.DataFrame:
    r, n = SurplusRecommendation, Nomenclature
    query = (select(r.id, n.name.label("product"), r.recommended_surplus_percentage,
                    r.confidence_level, r.analysis_period_start, r.analysis_period_end, r.is_accepted)
             .join(n, n.id == r.nomenclature_id).order_by(r.id))
    if not include_decided:
        query = query.where(r.is_accepted.is_(None))
    return pd.read_sql(query, conn)


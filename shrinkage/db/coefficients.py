"""Coefficient rows and the fit's figures on calculation rows; which coefficients are in force.

Which coefficients are "in force": a coefficient row is eligible when its registry version
is the active version of its model or an older one (a version newer than the active one
has been rolled back); per product the newest eligible fit run wins (training date, then
id), and in it the row of the product's latest calculation period. So rolling model X back
to version v makes every product whose newest fit was an X fit after v fall back to its
newest fit up to then (of X at v, or of another family in that run).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

from shrinkage.db.bulk import insert_frame
from shrinkage.db.models import CalculationData, Coefficient, MLModelRegistry, Model

LOOKUP_CHUNK = 500


def active_coefficients(conn: Connection) -> pd.DataFrame:
    """One row per product: the coefficient in force (see the module doc) with its model,
    registry version and fit details."""
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
    frame = pd.read_sql(query, conn)
    if frame.empty:
        return frame
    frame = frame.sort_values(
        ["product", "training_date", "ml_model_registry_id", "calculation_date", "coefficient_id"],
        ascending=[True, False, False, False, False], kind="stable")
    return frame.drop_duplicates("product").reset_index(drop=True)


def quality_of(session: Session, calc_ids: list[int]) -> dict[int, dict]:
    """The quality columns a fit may raise but never clear, per calculation row."""
    out = {}
    cd = CalculationData
    for start in range(0, len(calc_ids), LOOKUP_CHUNK):
        chunk = calc_ids[start:start + LOOKUP_CHUNK]
        for cid, prob, review, flag in session.execute(
            select(cd.id, cd.human_error_probability, cd.manual_review_required,
                   cd.data_quality_flag).where(cd.id.in_(chunk))
        ).all():
            out[cid] = {"human_error_probability": prob, "manual_review_required": review,
                        "data_quality_flag": flag}
    return out


def write_coefficients(session: Session, coefficients: pd.DataFrame, calculation_updates: list[dict]) -> None:
    """Coefficient rows (bulk) and the fit's figures on their calculation rows (by id)."""
    insert_frame(session, Coefficient.__table__, coefficients)
    if calculation_updates:
        session.execute(update(CalculationData), calculation_updates)

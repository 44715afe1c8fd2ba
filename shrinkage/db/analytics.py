"""Analytics rows per product and model, AI patterns and their links to analytics."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from shrinkage.db.bulk import insert_returning_ids
from shrinkage.db.models import AIPattern, Analytics, analytics_ai_patterns


def replace_analytics(session: Session, registry_ids: Iterable[int], rows: list[dict]) -> list[int]:
    """The analytics rows of these registry versions, replaced; ids of the new rows in order."""
    session.execute(delete(Analytics).where(Analytics.ml_model_registry_id.in_(list(registry_ids))))
    return insert_returning_ids(session, Analytics.__table__, rows)


def replace_patterns(session: Session, pattern_types: Iterable[str], rows: list[dict]) -> list[int]:
    """The AI patterns of these types, replaced; ids of the new rows in order."""
    session.execute(delete(AIPattern).where(AIPattern.pattern_type.in_(list(pattern_types))))
    return insert_returning_ids(session, AIPattern.__table__, rows) if rows else []


def link_patterns(session: Session, links: list[dict]) -> None:
    """rows: analytics_id, ai_pattern_id."""
    if links:
        session.execute(insert(analytics_ai_patterns), links)

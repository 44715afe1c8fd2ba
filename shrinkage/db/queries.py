"""The reads the pipeline and the reports run most, as statements the indexes are built for.

Kept here (not inline in callers) so the performance tests can check their plans:
``tests/integration/test_db_performance.py`` asserts each one uses its index.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select

from shrinkage.db.models import BatchMovement, CalculationData


def movements_in_range(warehouse_id: int, nomenclature_id: int, start: datetime, end: datetime) -> Select:
    """A store's product's batch movements in [start, end): ix_batch_movements_store_product_time."""
    return (select(BatchMovement)
            .where(BatchMovement.warehouse_id == warehouse_id, BatchMovement.nomenclature_id == nomenclature_id,
                   BatchMovement.document_datetime >= start, BatchMovement.document_datetime < end)
            .order_by(BatchMovement.document_datetime))


def calculation_history(nomenclature_id: int, since: datetime | None = None) -> Select:
    """A product's calculation rows by date: ix_calculation_data_nomenclature_date."""
    stmt = select(CalculationData).where(CalculationData.nomenclature_id == nomenclature_id)
    if since is not None:
        stmt = stmt.where(CalculationData.calculation_date >= since)
    return stmt.order_by(CalculationData.calculation_date)


def rows_needing_review(limit: int = 500) -> Select:
    """Calculation rows flagged for manual review: the partial ix_calculation_data_needs_review."""
    return (select(CalculationData)
            .where(CalculationData.manual_review_required)  # bare column: matches the partial index predicate
            .order_by(CalculationData.nomenclature_id)
            .limit(limit))

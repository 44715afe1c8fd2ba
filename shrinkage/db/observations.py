"""What a fit run reads: batch movements, calculation rows, products, fixed surplus rates,
priority periods, as frames (the modelling turns them into observations).

Per store (migration 0005): both frames carry ``warehouse_id``; shrinkage is a property of a
product in a store, so the modelling keys by (warehouse_id, product) and two stores' documents
never meet in one product's stream. Movements are the current copies only (a document repeated
by an overlapping export counts once, in the most recent export's version:
``shrinkage.db.documents``), in posting order: by time, then the statement's row order
(``source_data_id``, ``source_row``), never by document number. ``calculations.start_unknown``:
the store's books of the product do not continue from the file before (a missing export), so
the first count in that row's period has no known start.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection

from shrinkage.db.models import BatchMovement, CalculationData, Nomenclature, PriorityPeriod, SurplusSpecification


@dataclass(frozen=True)
class FitInputs:
    movements: pd.DataFrame
    calculations: pd.DataFrame
    names: dict
    types: dict
    surplus_rates: dict  # product -> fixed rate (fraction) of its latest active specification
    priority_periods: pd.DataFrame | None


def read_fit_inputs(conn: Connection) -> FitInputs:
    bm, cd, n = BatchMovement, CalculationData, Nomenclature
    movements = pd.read_sql(select(
        bm.warehouse_id, bm.nomenclature_id.label("product"), bm.document_datetime.label("doc_datetime"),
        bm.document_kind.label("doc_kind"), bm.document_number.label("doc_number"),
        bm.batch_arrival, bm.is_labelled.label("labelled"), bm.opening, bm.incoming,
        bm.outgoing, bm.closing, bm.source_data_id, bm.source_row,
        bm.calculation_data_id.label("calculation_id"),
    ).where(bm.superseded.is_(False)).order_by(
        bm.warehouse_id, bm.nomenclature_id, bm.document_datetime, bm.source_data_id, bm.source_row), conn)
    calculations = pd.read_sql(select(
        cd.id.label("calculation_id"), cd.warehouse_id, cd.nomenclature_id.label("product"),
        cd.source_data_id, cd.initial_balance, cd.incoming, cd.outgoing, cd.final_balance,
        cd.storage_days, cd.calculation_date, cd.inventory_period_start,
        cd.inventory_period_end, cd.inventory_shrinkage_total, cd.start_unknown,
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
    for col in ("period_start", "period_end"):
        periods[col] = pd.to_datetime(periods[col])
    return FitInputs(
        movements=movements, calculations=calculations,
        names={pid: name for pid, name, _ in products},
        types={pid: (ptype or "other") for pid, _, ptype in products},
        surplus_rates={pid: float(pct) / 100.0 for pid, pct in specs},  # the latest one wins
        priority_periods=periods if len(periods) else None,
    )

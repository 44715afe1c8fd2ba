"""Writing one normalised source file into the schema, in the caller's single transaction.

Idempotent by content: a file whose hash is already stored changes nothing (even renamed).
A changed file with the same name is a new source version: the old version's rows go
(by cascade) in the same transaction the new ones arrive in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from shrinkage.db.bulk import insert_frame, insert_returning_ids
from shrinkage.db.models import BatchMovement, CalculationData, Nomenclature, SourceData, ValidationError
from shrinkage.db.services import normalize_name
from shrinkage.db.warehouses import warehouse_id
from shrinkage.normalise import NormalisedReport

LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class SourceFile:
    """What identifies a file: its name, where it was, and its content hash."""

    file_name: str
    file_path: str
    file_hash: str


@dataclass
class StoreResult:
    source_data_id: int
    replaced_source_ids: list[int] = field(default_factory=list)
    calculation_rows: int = 0
    movement_rows: int = 0
    validation_errors: int = 0
    new_products: int = 0
    calculation_ids: dict[str, int] = field(default_factory=dict)


def find_stored(session: Session, file_hash: str) -> SourceData | None:
    return session.scalars(select(SourceData).where(SourceData.file_hash == file_hash)).first()


def nomenclature_ids(session: Session, calculations: pd.DataFrame) -> tuple[dict[str, int], int]:
    """product name -> nomenclature id, creating the products not yet known."""
    names = calculations["product"].tolist()
    keys = {name: normalize_name(name) for name in names}
    wanted = sorted(set(keys.values()))
    known: dict[str, int] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start:start + LOOKUP_CHUNK]
        known.update(session.execute(
            select(Nomenclature.normalized_name, Nomenclature.id).where(Nomenclature.normalized_name.in_(chunk))
        ).tuples().all())
    missing = calculations[~calculations["product"].map(keys).isin(known)].drop_duplicates("product")
    missing = missing[~missing["product"].map(keys).duplicated()]
    rows = [
        {"name": name, "normalized_name": keys[name], "product_type": ptype, "product_type_code": code}
        for name, ptype, code in missing[["product", "product_type", "product_type_code"]].itertuples(index=False)
    ]
    for row, new_id in zip(rows, insert_returning_ids(session, Nomenclature.__table__, rows)):
        known[row["normalized_name"]] = new_id
    return {name: known[key] for name, key in keys.items()}, len(rows)


def store_source(session: Session, source: SourceFile, normalised: NormalisedReport, *,
                 report_kind: str, period_start: datetime | None, period_end: datetime | None,
                 warehouse: str, quality_score: float | None) -> StoreResult:
    """Write a file's rows under its store ``warehouse`` (created when new)."""
    # Earlier versions under this name, and this very content if it was rejected before
    # (validation rules or thresholds may have changed since).
    replaced = list(session.scalars(
        select(SourceData.id).where(
            ((SourceData.file_name == source.file_name) & (SourceData.file_hash != source.file_hash))
            | ((SourceData.file_hash == source.file_hash) & SourceData.processed.is_(False))
        )
    ))
    if replaced:
        session.execute(delete(SourceData).where(SourceData.id.in_(replaced)))

    store = warehouse_id(session.connection(), warehouse)
    source_id = insert_returning_ids(session, SourceData.__table__, [{
        "file_name": source.file_name, "file_path": source.file_path, "file_hash": source.file_hash,
        "upload_date": datetime.now().replace(microsecond=0), "processed": True,
        "quality_score": quality_score, "report_kind": report_kind,
        "period_start": period_start, "period_end": period_end, "warehouse": warehouse, "warehouse_id": store,
    }])[0]
    result = StoreResult(source_data_id=source_id, replaced_source_ids=replaced)

    calc = normalised.calculations
    product_ids, result.new_products = nomenclature_ids(session, calc)
    calc_rows = calc.drop(columns=["product", "product_type", "product_type_code"]).assign(
        source_data_id=source_id, warehouse_id=store, nomenclature_id=calc["product"].map(product_ids))
    calc_rows = calc_rows.astype(object).where(calc_rows.notna(), None)
    calc_ids = insert_returning_ids(session, CalculationData.__table__, calc_rows.to_dict("records"))
    calc_id_of = result.calculation_ids = dict(zip(calc["product"], calc_ids))
    result.calculation_rows = len(calc_ids)

    movements = normalised.movements
    if not movements.empty:
        frame = movements.drop(columns="product").assign(
            source_data_id=source_id, warehouse_id=store,
            nomenclature_id=movements["product"].map(product_ids).astype("int64"),
            calculation_data_id=movements["product"].map(calc_id_of).astype("int64"),
        )
        result.movement_rows = insert_frame(session, BatchMovement.__table__, frame)

    result.validation_errors = _insert_errors(session, normalised.errors, source_id, calc_id_of)
    return result


def _insert_errors(session: Session, errors: pd.DataFrame, source_id: int, calc_id_of: dict[str, int]) -> int:
    if errors.empty:
        return 0
    frame = errors.drop(columns="product").assign(
        source_data_id=source_id, calculation_data_id=errors["product"].map(calc_id_of).astype("Int64"))
    return insert_frame(session, ValidationError.__table__, frame)


QUALITY_COLUMNS = ["data_quality_flag", "human_error_probability", "manual_review_required",
                   "inventory_confidence", "validation_errors"]


def record_validation(session: Session, result: StoreResult, quality: pd.DataFrame, errors: pd.DataFrame,
                      quality_score: float | None) -> None:
    """Validation arriving after the rows: the per-product quality columns, the file's score, the errors.

    Lets the rows go in while validation still runs (same transaction, so a blocking
    validation still leaves nothing behind).
    """
    ids = quality["product"].map(result.calculation_ids)
    rows = quality.assign(calc_id=ids)[[*QUALITY_COLUMNS, "calc_id"]]
    rows = rows.astype(object).where(rows.notna(), None).to_dict("records")
    table = CalculationData.__table__
    session.execute(update(table).where(table.c.id == bindparam("calc_id"))
                    .values({c: bindparam(c) for c in QUALITY_COLUMNS}), rows)
    session.execute(update(SourceData).where(SourceData.id == result.source_data_id)
                    .values(quality_score=quality_score))
    result.validation_errors = _insert_errors(session, errors, result.source_data_id, result.calculation_ids)


def record_rejected_source(session: Session, source: SourceFile, errors: pd.DataFrame, *,
                           report_kind: str | None, quality_score: float | None) -> int:
    """A file that failed a blocking check: keep the file's identity and why, none of its data."""
    stored = find_stored(session, source.file_hash)
    if stored is not None:
        session.execute(delete(ValidationError).where(ValidationError.source_data_id == stored.id))
        source_id = stored.id
    else:
        source_id = insert_returning_ids(session, SourceData.__table__, [{
            "file_name": source.file_name, "file_path": source.file_path, "file_hash": source.file_hash,
            "processed": False, "quality_score": quality_score, "report_kind": report_kind,
        }])[0]
    if not errors.empty:
        insert_frame(session, ValidationError.__table__,
                     errors.drop(columns="product").assign(source_data_id=source_id))
    return source_id

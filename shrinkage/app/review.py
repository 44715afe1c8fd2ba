"""Review decisions: list what awaits a reviewer, resolve a validation error, clear a flagged row.

Decisions go through the service layer in one transaction. A cleared row keeps its history:
the reviewer's note is appended to the row's ``validation_errors`` text (the schema has no
separate notes column there), and the row's open validation errors are resolved with the
same note, since the reviewer has looked at exactly those reasons.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy.engine import Engine

from shrinkage.db.models import CalculationData, SourceData, ValidationError
from shrinkage.db.report_queries import needs_review_filter, nomenclature, open_errors_filter
from shrinkage.db.services import DatabaseService, NotFound, Page

ERROR_COLUMNS = ["id", "severity", "type", "file", "product", "description", "resolved"]
ROW_COLUMNS = ["id", "product", "file", "period", "shrinkage_kg", "p_error", "flag", "reason"]


class AlreadyResolved(ValueError):
    pass


@dataclass(frozen=True)
class ReviewOutcome:
    kind: str  # "error" or "row"
    id: int
    resolved_errors: int
    message: str


@dataclass(frozen=True)
class ReviewPage:
    """One page of a review listing: the rows to show and where the page stands."""

    frame: pd.DataFrame
    page: int
    pages: int
    total: int


def _stamp(note: str | None, user: str | None, when: datetime) -> str:
    who = f" ({user})" if user else ""
    return f"{when:%Y-%m-%d %H:%M}{who}: {note or 'resolved'}"


def resolve_validation_error(engine: Engine, error_id: int, note: str | None = None,
                             user: str | None = None, now: datetime | None = None) -> ReviewOutcome:
    """Mark one validation error resolved with a date and the reviewer's note."""
    when = now or datetime.now().replace(microsecond=0)
    with DatabaseService(engine).transaction() as crud:
        error = crud.get(ValidationError, error_id)
        if error is None:
            raise NotFound(f"validation error {error_id} does not exist: "
                           "see `shrinkage review list --kind errors` for the open ones")
        if error.resolved:
            raise AlreadyResolved(f"validation error {error_id} was already resolved on "
                                  f"{error.resolution_date:%Y-%m-%d}" if error.resolution_date
                                  else f"validation error {error_id} was already resolved")
        notes = "\n".join(filter(None, [error.notes, _stamp(note, user, when)]))
        crud.update(ValidationError, error_id, resolved=True, resolution_date=when, notes=notes)
    return ReviewOutcome("error", error_id, 1, f"validation error {error_id} resolved")


def clear_review_flag(engine: Engine, row_id: int, note: str | None = None,
                      user: str | None = None, now: datetime | None = None) -> ReviewOutcome:
    """Clear ``manual_review_required`` on a calculation row, note why, resolve its open errors."""
    when = now or datetime.now().replace(microsecond=0)
    stamp = _stamp(note, user, when)
    with DatabaseService(engine).transaction() as crud:
        row = crud.get(CalculationData, row_id)
        if row is None:
            raise NotFound(f"calculation row {row_id} does not exist: "
                           "see `shrinkage review list --kind rows` for the flagged ones")
        if not row.manual_review_required:
            raise AlreadyResolved(f"calculation row {row_id} is not flagged for review")
        history = "\n".join(filter(None, [row.validation_errors, f"reviewed {stamp}"]))
        crud.update(CalculationData, row_id, manual_review_required=False, validation_errors=history)
        resolved = crud.update_where(
            ValidationError, {"calculation_data_id": row_id, "resolved": False},
            resolved=True, resolution_date=when, notes=stamp)
    return ReviewOutcome("row", row_id, resolved,
                         f"row {row_id} cleared for use; {resolved} of its validation error(s) resolved")


# --- listings -------------------------------------------------------------------------------


def _names(engine: Engine, nomenclature_ids: Iterable) -> dict[int, str]:
    ids = [int(i) for i in nomenclature_ids if i is not None]
    return nomenclature(engine, ids)["product"].to_dict()


def _file_names(service: DatabaseService, ids: Iterable) -> dict[int, str]:
    wanted = sorted({int(i) for i in ids if i is not None})
    if not wanted:
        return {}
    rows = service.list(SourceData, filters={"id__in": wanted}, page_size=len(wanted)).items
    return {r.id: r.file_name for r in rows}


def _page(frame: pd.DataFrame, listing: Page) -> ReviewPage:
    return ReviewPage(frame, listing.page, listing.pages, listing.total)


def list_errors(engine: Engine, page: int, page_size: int, severities: Sequence[str] = (),
                include_resolved: bool = False) -> ReviewPage:
    """Validation errors, newest first, with their file and product."""
    service = DatabaseService(engine)
    filters = {} if include_resolved else open_errors_filter()
    if severities:
        filters["severity_level__in"] = list(severities)
    listing = service.list(ValidationError, filters=filters, order_by=["-id"], page=page, page_size=page_size)
    calc_ids = sorted({e.calculation_data_id for e in listing.items if e.calculation_data_id})
    calcs = ({c.id: c for c in service.list(CalculationData, filters={"id__in": calc_ids},
                                            page_size=len(calc_ids)).items} if calc_ids else {})
    products = _names(engine, [c.nomenclature_id for c in calcs.values()])
    file_ids = {e.id: e.source_data_id or (calcs[e.calculation_data_id].source_data_id
                                           if e.calculation_data_id in calcs else None)
                for e in listing.items}
    files = _file_names(service, file_ids.values())
    rows = []
    for e in listing.items:
        calc = calcs.get(e.calculation_data_id)
        rows.append({"id": e.id, "severity": e.severity_level, "type": e.error_type,
                     "file": files.get(file_ids[e.id], ""),
                     "product": products.get(calc.nomenclature_id, "") if calc else "",
                     "description": e.description or "", "resolved": "yes" if e.resolved else "no"})
    return _page(pd.DataFrame(rows, columns=ERROR_COLUMNS), listing)


def list_rows(engine: Engine, page: int, page_size: int, include_resolved: bool = False) -> ReviewPage:
    """Calculation rows flagged for review, most likely keying errors first."""
    service = DatabaseService(engine)
    filters = {} if include_resolved else needs_review_filter()
    listing = service.list(CalculationData, filters=filters,
                           order_by=["-human_error_probability", "id"], page=page, page_size=page_size)
    products = _names(engine, [c.nomenclature_id for c in listing.items])
    files = _file_names(service, [c.source_data_id for c in listing.items])
    rows = []
    for c in listing.items:
        period = (f"{c.inventory_period_start:%d.%m.%Y}–{c.inventory_period_end:%d.%m.%Y}"
                  if c.inventory_period_start and c.inventory_period_end else "")
        rows.append({"id": c.id, "product": products.get(c.nomenclature_id, ""),
                     "file": files.get(c.source_data_id, ""), "period": period,
                     "shrinkage_kg": c.inventory_shrinkage_total,
                     "p_error": c.human_error_probability, "flag": c.data_quality_flag or "",
                     "reason": (c.validation_errors or "").splitlines()[0] if c.validation_errors else ""})
    return _page(pd.DataFrame(rows, columns=ROW_COLUMNS), listing)

"""Review decisions: resolving a validation error, clearing a row flagged for manual review.

Both go through the service layer in one transaction. A cleared row keeps its history: the
reviewer's note is appended to the row's ``validation_errors`` text (the schema has no
separate notes column there), and the row's open validation errors are resolved with the
same note, since the reviewer has looked at exactly those reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shrinkage.db.models import CalculationData, ValidationError
from shrinkage.db.services import DatabaseService, NotFound


class AlreadyResolved(ValueError):
    pass


@dataclass(frozen=True)
class ReviewOutcome:
    kind: str  # "error" or "row"
    id: int
    resolved_errors: int
    message: str


def _stamp(note: str | None, user: str | None, when: datetime) -> str:
    who = f" ({user})" if user else ""
    return f"{when:%Y-%m-%d %H:%M}{who}: {note or 'resolved'}"


def resolve_validation_error(service: DatabaseService, error_id: int, note: str | None = None,
                             user: str | None = None, now: datetime | None = None) -> ReviewOutcome:
    """Mark one validation error resolved with a date and the reviewer's note."""
    when = now or datetime.now().replace(microsecond=0)
    with service.transaction() as crud:
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


def clear_review_flag(service: DatabaseService, row_id: int, note: str | None = None,
                      user: str | None = None, now: datetime | None = None) -> ReviewOutcome:
    """Clear ``manual_review_required`` on a calculation row, note why, resolve its open errors."""
    when = now or datetime.now().replace(microsecond=0)
    stamp = _stamp(note, user, when)
    with service.transaction() as crud:
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

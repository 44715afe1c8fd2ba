"""What validation hands to the orchestration and loading layers: checks, issues, per-product flags.

Plain frozen dataclasses so the Dagster layer can turn each :class:`CheckOutcome` into an
asset check result and the DB layer each :class:`ValidationIssue` into a
``validation_errors`` row without knowing anything about Great Expectations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from shrinkage.sources.model import Severity

SEVERITY_ORDER: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}

PER_PRODUCT_COLUMNS = [
    "product", "row", "data_quality_flag", "human_error_probability",
    "manual_review_required", "issue_count", "error_types",
]


@dataclass(frozen=True)
class ValidationIssue:
    """One failed row (or one table-level failure): becomes one ``validation_errors`` row."""

    error_type: str
    description: str
    severity_level: Severity
    detected_by: str
    row: int | None = None
    product: str | None = None
    doc_number: str | None = None
    # How likely this row is a human (keying) error rather than real shrinkage, 0..1.
    human_error_probability: float = 0.0


@dataclass(frozen=True)
class CheckOutcome:
    """One rule over the whole report: one Dagster asset check."""

    name: str
    description: str
    severity: Severity
    blocking: bool
    passed: bool
    failed_count: int
    sample: tuple[ValidationIssue, ...] = ()
    # The Great Expectations expectation types that implement the rule.
    expectations: tuple[str, ...] = ()
    # Set when the rule could not be evaluated (its table lacks contract columns).
    skipped_reason: str | None = None


@dataclass(frozen=True, eq=False)
class ValidationResult:
    """The verdict on one parsed report. ``success`` is False when a blocking check failed."""

    source: str
    success: bool
    quality_score: float
    checks: tuple[CheckOutcome, ...]
    issues: tuple[ValidationIssue, ...]
    per_product: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PER_PRODUCT_COLUMNS))
    rows_checked: int = 0

    @property
    def blocking_failures(self) -> tuple[CheckOutcome, ...]:
        return tuple(check for check in self.checks if check.blocking and not check.passed)

    def check(self, name: str) -> CheckOutcome:
        for outcome in self.checks:
            if outcome.name == name:
                return outcome
        raise KeyError(f"no validation check named {name!r}")


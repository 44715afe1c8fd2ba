"""Data-quality validation of parsed reports (Great Expectations rules -> checks and issues)."""

from shrinkage.quality.result import CheckOutcome, ValidationIssue, ValidationResult
from shrinkage.quality.rules import RULES, Rule
from shrinkage.quality.validate import validate_report

__all__ = ["RULES", "CheckOutcome", "Rule", "ValidationIssue", "ValidationResult", "validate_report"]

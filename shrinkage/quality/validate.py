"""validate_report: every data-quality rule over a parsed report -> checks, issues, per-product flags.

The pipeline: build the check frames (pandas, vectorised), run one GX suite per frame,
turn each rule's failing rows into issues whose description names the file, the row,
what is wrong and what to do, then fold the issues into per-product flags and a file score.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict

import numpy as np
import pandas as pd

from shrinkage.config import CONFIG, Config
from shrinkage.quality import rules as catalogue
from shrinkage.quality.frames import CONTRACT_COLUMNS, FRAME_NAMES, build_check_frames
from shrinkage.quality.gx_backend import ExpectationOutcome, run_suite
from shrinkage.quality.result import (
    PER_PRODUCT_COLUMNS,
    SEVERITY_ORDER,
    CheckOutcome,
    ValidationIssue,
    ValidationResult,
)
from shrinkage.sources.model import ParsedReport, ParseIssue

logger = logging.getLogger(__name__)

DETECTED_BY_GX = "great_expectations"
DETECTED_BY_READER = "reader"
READER_CHECK = "reader_issues"


def validate_report(report: ParsedReport, config: Config = CONFIG) -> ValidationResult:
    """Run every rule on ``report``; ``success`` is False when a blocking rule failed."""
    started = time.perf_counter()
    check_frames = build_check_frames(report, config)
    frames = check_frames.frames
    file_name = report.source.name

    outcomes: list[ExpectationOutcome] = []
    skipped: dict[str, list[str]] = defaultdict(list)
    for frame in FRAME_NAMES:
        data = frames[frame]
        if frame not in ("structure", "products") and data.empty:
            continue  # nothing to check; the rule passes on this table
        rules_to_run = []
        for spec in catalogue.EXPECTATIONS:
            if spec.frame != frame or spec.rule in rules_to_run:
                continue
            unusable = [name for name in (frame, *spec.needs) if name in check_frames.missing_columns]
            if unusable and spec.rule not in catalogue.STRUCTURAL_RULES:
                skipped[spec.rule].append(f"the {', '.join(unusable)} table lacks contract columns")
                continue
            rules_to_run.append(spec.rule)
        outcomes.extend(run_suite(frame, data, tuple(rules_to_run), config))

    checks, gx_issues = _checks_and_issues(outcomes, skipped, frames, file_name, config)
    reader_check, reader_issues = _reader_outcome(report.issues, file_name, config)
    checks.append(reader_check)
    issues = tuple(sorted(gx_issues + reader_issues, key=_issue_order))

    rows_checked = int(sum(len(frames[frame]) for frame in FRAME_NAMES))
    success = not any(check.blocking and not check.passed for check in checks)
    result = ValidationResult(
        source=file_name,
        success=success,
        quality_score=_quality_score(issues, rows_checked, success, config),
        checks=tuple(checks),
        issues=issues,
        per_product=_per_product(frames["products"], issues, config),
        rows_checked=rows_checked,
    )
    logger.info(
        "validated %s: %d rows, %d issues, %d blocking failures, score %.3f in %.3f s",
        file_name, rows_checked, len(issues), len(result.blocking_failures), result.quality_score,
        time.perf_counter() - started,
    )
    return result


def _issue_order(issue: ValidationIssue) -> tuple:
    return (issue.row is None, issue.row or 0, issue.error_type, issue.description)


def _checks_and_issues(
    outcomes: list[ExpectationOutcome], skipped: dict[str, list[str]], frames: dict[str, pd.DataFrame],
    file_name: str, config: Config,
) -> tuple[list[CheckOutcome], list[ValidationIssue]]:
    by_rule: dict[str, list[ExpectationOutcome]] = defaultdict(list)
    for outcome in outcomes:
        by_rule[outcome.rule].append(outcome)

    checks: list[CheckOutcome] = []
    all_issues: list[ValidationIssue] = []
    for rule in catalogue.RULES.values():
        rule_outcomes = by_rule.get(rule.name, [])
        issues = _rule_issues(rule, rule_outcomes, frames, file_name, config)
        skip_reason = "; ".join(sorted(set(skipped.get(rule.name, [])))) or None
        failed = bool(issues) or any(not outcome.success for outcome in rule_outcomes)
        checks.append(CheckOutcome(
            name=rule.name,
            description=rule.description,
            severity=rule.severity,
            blocking=catalogue.is_blocking(rule, config),
            passed=not failed and skip_reason is None,
            failed_count=len(issues),
            sample=tuple(issues[: config.validation.check_sample_size]),
            expectations=tuple(sorted({outcome.expectation_type for outcome in rule_outcomes})),
            skipped_reason=skip_reason,
        ))
        all_issues.extend(issues)
    return checks, all_issues


def _rule_issues(
    rule: catalogue.Rule, outcomes: list[ExpectationOutcome], frames: dict[str, pd.DataFrame],
    file_name: str, config: Config,
) -> list[ValidationIssue]:
    """One issue per failing row (rows failing several expectations of the rule count once)."""
    issues: list[ValidationIssue] = []
    positions_by_frame: dict[str, set[int]] = defaultdict(set)
    for outcome in outcomes:
        if outcome.success:
            continue
        if outcome.unexpected_positions:
            positions_by_frame[outcome.frame].update(outcome.unexpected_positions)
        else:
            issues.append(_table_issue(rule, outcome, frames[outcome.frame], file_name))
    for frame in FRAME_NAMES:
        positions = sorted(positions_by_frame.get(frame, ()))
        if not positions:
            continue
        for row in frames[frame].iloc[positions].to_dict("records"):
            issues.append(_row_issue(rule, frame, row, file_name, config))
    return issues


def _table_issue(rule: catalogue.Rule, outcome: ExpectationOutcome, data: pd.DataFrame,
                 file_name: str) -> ValidationIssue:
    if rule.name == "required_columns":
        missing = [column for column in CONTRACT_COLUMNS[outcome.frame] if column not in data.columns]
        what = f"the {outcome.frame} table lacks the columns {', '.join(missing)}"
    elif rule.name == "empty_report":
        what = "the report has no product rows"
    else:
        what = f"{rule.description} failed on the {outcome.frame} table ({outcome.observed or 'no detail'})"
    return ValidationIssue(
        error_type=rule.name,
        description=f"{file_name}: {what}. {rule.advice}",
        severity_level=rule.severity,
        detected_by=f"{DETECTED_BY_GX}:{outcome.expectation_type}",
        human_error_probability=rule.error_weight,
    )


def _row_issue(rule: catalogue.Rule, frame: str, row: dict, file_name: str, config: Config) -> ValidationIssue:
    worksheet_row = _int_or_none(row.get("row"))
    at = f", row {worksheet_row}" if worksheet_row is not None else ""
    description = (
        f"{file_name}{at} ({catalogue.where(frame, row)}): {catalogue.detail(rule.name, frame, row)}. {rule.advice}"
    )
    product = None
    if frame in ("products", "documents", "batches"):
        product = catalogue.as_text(row.get("product")) or None
    doc_number = catalogue.as_text(row.get("doc_number")) or None
    return ValidationIssue(
        error_type=rule.name,
        description=description,
        severity_level=rule.severity,
        detected_by=DETECTED_BY_GX,
        row=worksheet_row,
        product=product,
        doc_number=doc_number,
        human_error_probability=round(catalogue.error_probability(rule, row, config), 6),
    )


def _int_or_none(value: object) -> int | None:
    number = catalogue.as_number(value)
    return None if number is None else int(number)


def _reader_outcome(
    parse_issues: list[ParseIssue], file_name: str, config: Config
) -> tuple[CheckOutcome, list[ValidationIssue]]:
    """The reader's recorded problems, carried through as issues and one summary check."""
    probability = dict(config.validation.reader_issue_probability)
    issues = []
    for parse_issue in parse_issues:
        if file_name in parse_issue.message:
            prefix = ""
        elif not parse_issue.row:
            prefix = f"{file_name}: "
        elif parse_issue.message.startswith(f"row {parse_issue.row}"):
            prefix = f"{file_name}, "  # the message names its row first ("row 17, column G: ...")
        else:
            prefix = f"{file_name}, row {parse_issue.row}: "
        issues.append(ValidationIssue(
            error_type=parse_issue.code,
            description=prefix + parse_issue.message,
            severity_level=parse_issue.severity,
            detected_by=DETECTED_BY_READER,
            row=parse_issue.row,
            product=parse_issue.product,
            human_error_probability=probability.get(parse_issue.severity, 0.0),
        ))
    worst = max((issue.severity_level for issue in issues), key=SEVERITY_ORDER.__getitem__, default="low")
    ordered = sorted(issues, key=_issue_order)
    check = CheckOutcome(
        name=READER_CHECK,
        description="Problems the reader recorded while parsing the file (not fatal to parsing).",
        severity=worst,
        blocking=any(issue.severity_level in config.quality.blocking_severities for issue in issues),
        passed=not issues,
        failed_count=len(issues),
        sample=tuple(ordered[: config.validation.check_sample_size]),
    )
    return check, issues


def _quality_score(issues: tuple[ValidationIssue, ...], rows: int, success: bool, config: Config) -> float:
    """1 minus the mean over rows of each row's worst-severity penalty; 0 when loading is blocked."""
    if not success or rows == 0:
        return 0.0
    penalty = dict(config.validation.severity_penalty)
    worst_by_row: dict[int, float] = {}
    unplaced = 0.0
    for issue in issues:
        cost = penalty.get(issue.severity_level, 0.0)
        if issue.row is None:
            unplaced += cost
        else:
            worst_by_row[issue.row] = max(worst_by_row.get(issue.row, 0.0), cost)
    score = 1.0 - (sum(worst_by_row.values()) + unplaced) / rows
    return round(float(min(1.0, max(0.0, score))), 6)


def _per_product(products: pd.DataFrame, issues: tuple[ValidationIssue, ...], config: Config) -> pd.DataFrame:
    """One row per product: flag, human-error probability, review flag (for calculation_data)."""
    names = products["chk_name"] if "chk_name" in products else pd.Series(dtype=object)
    rows = products["row"] if "row" in products else pd.Series(np.nan, index=products.index)
    base = pd.DataFrame({"product": names.to_numpy(), "row": rows.to_numpy()})
    base = base[base["product"] != ""].drop_duplicates("product")

    placed = [issue for issue in issues if issue.product]
    if not placed:
        empty = pd.DataFrame({
            "product": pd.Series(dtype=object), "rank": pd.Series(dtype="float64"),
            "issue_count": pd.Series(dtype="float64"), "p": pd.Series(dtype="float64"),
            "error_types": pd.Series(dtype=object),
        })
        return _finish_per_product(base, empty, config)
    frame = pd.DataFrame({
        "product": [issue.product for issue in placed],
        "error_type": [issue.error_type for issue in placed],
        "rank": [SEVERITY_ORDER[issue.severity_level] for issue in placed],
        "p": [issue.human_error_probability for issue in placed],
    })
    # Independent evidence per rule: the strongest row of each rule, combined as 1 - Π(1 - p).
    per_rule = frame.groupby(["product", "error_type"], sort=True)["p"].max().reset_index()
    per_rule["log_keep"] = np.log1p(-per_rule["p"].clip(upper=0.999999))
    summary = pd.DataFrame({
        "rank": frame.groupby("product")["rank"].max(),
        "issue_count": frame.groupby("product").size(),
        "p": 1.0 - np.exp(per_rule.groupby("product")["log_keep"].sum()),
        "error_types": per_rule.groupby("product")["error_type"].agg(";".join),
    }).reset_index()
    return _finish_per_product(base, summary, config)


def _finish_per_product(base: pd.DataFrame, summary: pd.DataFrame, config: Config) -> pd.DataFrame:
    # Report order first; products known only from issues (e.g. a reader issue) after them.
    merged = base.merge(summary, on="product", how="left", sort=False)
    extra = summary[~summary["product"].isin(base["product"])]
    if not extra.empty:
        merged = pd.concat([merged, extra.assign(row=np.nan)], ignore_index=True)
    rank = merged["rank"].fillna(-1).to_numpy()
    review_ranks = [SEVERITY_ORDER[name] for name in config.quality.review_severities]
    probability = merged["p"].fillna(0.0).astype(float).round(6)
    out = pd.DataFrame({
        "product": merged["product"],
        "row": merged["row"].astype("Int64"),
        "data_quality_flag": np.select([rank >= SEVERITY_ORDER["high"], rank >= 0], ["error", "warning"], "ok"),
        "human_error_probability": probability,
        "manual_review_required": (probability >= config.quality.review_probability) | np.isin(rank, review_ranks),
        "issue_count": merged["issue_count"].fillna(0).astype(int),
        "error_types": merged["error_types"].fillna(""),
    }, columns=PER_PRODUCT_COLUMNS)
    return out.reset_index(drop=True)

"""Per-file ingestion assets: parse a report, validate it (asset checks), write the normalised tables.

One run per source file (a ``source_files`` partition). The steps pass their results
through the IO manager (pickled under DAGSTER_HOME), so each step's output is inspectable
and a downstream step can be re-run alone. A file that fails a blocking check is recorded
as rejected by ``validated_reports`` and its normalised tables are never written.
"""


from collections import Counter
from dataclasses import dataclass

import dagster as dg
import pandas as pd

from assets.metadata import (
    CODE_VERSION,
    FIRST_FAILURE,
    INPUT_RECORDS,
    ROW_COUNT,
    SOURCE_DATA_ID,
    SOURCE_FILE,
    markdown_preview,
)
from pipelines.partitions import SourceFileMissing, source_files
from resources import DatabaseResource, InboxResource
from shrinkage.config import CONFIG
from shrinkage.db.engine import session_scope
from shrinkage.db.load import SourceFile, find_stored
from shrinkage.ingest import blocking_reasons, describe, store_validated
from shrinkage.normalise import normalise
from shrinkage.quality import RULES, CheckOutcome, ValidationResult, validate_report
from shrinkage.sources import ParsedReport, ReportError, read_report

GROUP = "ingestion"


@dataclass(frozen=True)
class StagedReport:
    """A parsed report together with the file identity it came from."""

    source: SourceFile
    report: ParsedReport

    @property
    def structured_rows(self) -> int:
        report = self.report
        return len(report.products) + len(report.groups) + len(report.documents) + len(report.batches)


@dataclass(frozen=True)
class ValidatedReport:
    staged: StagedReport
    validation: ValidationResult


# ---------------------------------------------------------------------------------------
# parsed_reports
# ---------------------------------------------------------------------------------------


@dg.asset(
    partitions_def=source_files,
    group_name=GROUP,
    kinds={"python", "pandas", "excel"},
    code_version=CODE_VERSION,
    description="One 1C report file of the inbox read into products, groups, documents and batches "
                "(the parsed-report contract); the file is found by its content hash.",
)
def parsed_reports(context: dg.AssetExecutionContext, inbox: InboxResource) -> dg.MaterializeResult:
    try:
        source = inbox.locate(context.partition_key)
        report = read_report(source.file_path)
    except (SourceFileMissing, ReportError) as exc:
        raise dg.Failure(description=str(exc), metadata={"partition": context.partition_key},
                         allow_retries=False) from None
    staged = StagedReport(source, report)
    figures = describe(report)
    context.log.info("%s: %s, %d rows read, %d products, %d documents, %d batches", source.file_name,
                     report.kind, figures["rows_read"], figures["products"], figures["documents"], figures["batches"])
    header = report.header
    return dg.MaterializeResult(
        value=staged,
        metadata={
            ROW_COUNT: staged.structured_rows,
            INPUT_RECORDS: report.rows_read,
            SOURCE_FILE: source.file_name,
            "report_kind": report.kind,
            "period": f"{header.period_start or '?'} – {header.period_end or '?'}",
            "warehouse": header.warehouse or "",
            "content_sha256": source.file_hash,
            "parse_issues": len(report.issues),
            **figures,
            "preview": dg.MetadataValue.md(markdown_preview(
                report.products, ["product", "group_path", "row", "opening", "incoming", "outgoing", "closing"])),
        },
    )


# ---------------------------------------------------------------------------------------
# validated_reports: the staging step whose checks guard the normalised tables
# ---------------------------------------------------------------------------------------


def is_blocking(severity: str) -> bool:
    return severity in CONFIG.quality.blocking_severities


VALIDATION_CHECKS = [
    dg.AssetCheckSpec(name=rule.name, asset="validated_reports", blocking=is_blocking(rule.severity),
                      description=f"{rule.description} (severity {rule.severity})")
    for rule in RULES.values()
]


def check_result(outcome: CheckOutcome) -> dg.AssetCheckResult:
    """A validation rule's verdict as Dagster shows it: blocking rules fail with ERROR, the rest warn."""
    rule = RULES.get(outcome.name)
    metadata: dict = {
        "failed_count": outcome.failed_count,
        "severity": outcome.severity,
        "blocking": outcome.blocking,
        "expectations": ", ".join(outcome.expectations) or "—",
    }
    if outcome.skipped_reason:
        metadata["skipped_reason"] = outcome.skipped_reason
    if outcome.sample:
        metadata["failing_rows"] = dg.MetadataValue.md(_issues_markdown(outcome.sample))
        if not outcome.passed:
            metadata[FIRST_FAILURE] = outcome.sample[0].description
    if rule is not None and not outcome.passed:
        metadata["what_to_do"] = rule.advice
    description = None if outcome.passed else f"{outcome.failed_count} failing: {outcome.description}"
    return dg.AssetCheckResult(
        check_name=outcome.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if outcome.blocking else dg.AssetCheckSeverity.WARN,
        description=description,
        metadata=metadata,
    )


def _issues_markdown(issues) -> str:
    frame = pd.DataFrame([
        {"row": i.row, "product": i.product, "document": i.doc_number, "severity": i.severity_level,
         "problem": i.description}
        for i in issues
    ])
    return markdown_preview(frame)


def _rows_with(validation: ValidationResult, severities: tuple[str, ...]) -> int:
    return len({issue.row for issue in validation.issues if issue.severity_level in severities and issue.row})


@dg.asset(
    partitions_def=source_files,
    group_name=GROUP,
    kinds={"python", "great_expectations"},
    code_version=CODE_VERSION,
    check_specs=VALIDATION_CHECKS,
    description="The parsed report checked by the data-quality suite (Great Expectations): one asset check "
                "per rule. Blocking checks stop the file here: it is recorded as rejected with its "
                "validation_errors and the normalised tables are not written.",
)
def validated_reports(context: dg.AssetExecutionContext, parsed_reports: StagedReport,
                      database: DatabaseResource):
    source, report = parsed_reports.source, parsed_reports.report
    validation = validate_report(report)
    by_severity = Counter(issue.severity_level for issue in validation.issues)
    rejected_rows = _rows_with(validation, CONFIG.quality.blocking_severities)
    metadata: dict = {
        ROW_COUNT: max(validation.rows_checked - rejected_rows, 0),
        INPUT_RECORDS: validation.rows_checked,
        SOURCE_FILE: source.file_name,
        "quality_score": float(validation.quality_score),
        "rejected_rows": rejected_rows,
        "rows_with_issues": _rows_with(validation, tuple(by_severity)),
        "issues_by_severity": dict(sorted(by_severity.items())),
        "passed": validation.success,
    }
    if validation.issues:
        metadata["issues"] = dg.MetadataValue.md(_issues_markdown(validation.issues[:20]))
    if not validation.success:
        reason = blocking_reasons(validation)
        source_id, _ = store_validated(database.engine(), source, report, validation)
        metadata[SOURCE_DATA_ID] = source_id
        metadata["blocked_by"] = reason
        context.log.error("%s: rejected, not loaded: %s", source.file_name, reason)
    else:
        context.log.info("%s: quality score %.3f, %d issues", source.file_name,
                         validation.quality_score, len(validation.issues))
    reported = {outcome.name: outcome for outcome in validation.checks}
    checks = [check_result(reported[spec.name]) for spec in VALIDATION_CHECKS if spec.name in reported]
    missing = [spec for spec in VALIDATION_CHECKS if spec.name not in reported]
    for spec in missing:  # a rule validation did not report on must not look green
        checks.append(dg.AssetCheckResult(check_name=spec.name, passed=False, severity=dg.AssetCheckSeverity.WARN,
                                          description="validation did not evaluate this rule"))
    # Dagster fails this step after recording a failed blocking check, so downstream steps skip.
    return dg.MaterializeResult(value=ValidatedReport(parsed_reports, validation), metadata=metadata,
                                check_results=checks)


# ---------------------------------------------------------------------------------------
# The normalised tables of one file, written in one transaction
# ---------------------------------------------------------------------------------------

NORMALISED_TABLES = {
    "source_data": "The file's identity (name, path, content hash), period, warehouse and quality score.",
    "nomenclature": "Products (nomenclature) with their product type; a file adds the products not yet known.",
    "calculation_data": "One row per product and report period: balances, storage days, inventory period, "
                        "count shortages and quality flags.",
    "batch_movements": "Every batch row under every movement document of the file.",
    "validation_errors": "The non-blocking data-quality issues of the file, row by row.",
}


@dg.multi_asset(
    name="normalised_tables",
    partitions_def=source_files,
    group_name=GROUP,
    code_version=CODE_VERSION,
    description="The validated report written into the schema (one transaction; a file already loaded "
                "changes nothing, a changed file with the same name replaces its earlier version).",
    specs=[
        dg.AssetSpec(name, deps=["validated_reports"], description=text, kinds={"sql", "pandas"},
                     group_name=GROUP, code_version=CODE_VERSION, partitions_def=source_files)
        for name, text in NORMALISED_TABLES.items()
    ],
    ins={"validated_reports": dg.AssetIn("validated_reports")},
)
def normalised_tables(context: dg.AssetExecutionContext, validated_reports: ValidatedReport,
                      database: DatabaseResource):
    staged, validation = validated_reports.staged, validated_reports.validation
    source, report = staged.source, staged.report
    engine = database.engine()
    common = {INPUT_RECORDS: staged.structured_rows, SOURCE_FILE: source.file_name}
    with session_scope(engine) as session:
        stored = find_stored(session, source.file_hash)
        stored_id = stored.id if stored is not None and stored.processed else None
    if stored_id is not None:
        context.log.info("%s: already loaded as source #%d, nothing written", source.file_name, stored_id)
        for name in NORMALISED_TABLES:
            yield dg.MaterializeResult(asset_key=name, metadata={
                **common, ROW_COUNT: 0, SOURCE_DATA_ID: stored_id,
                "outcome": f"unchanged: this content is already loaded as source #{stored_id}"})
        return

    normalised = normalise(report, validation)
    source_id, stored_result = store_validated(engine, source, report, validation, normalised)
    replaced = stored_result.replaced_source_ids
    outcome = (f"replaced earlier version(s) #{', #'.join(map(str, replaced))}" if replaced else "loaded")
    context.log.info("%s: %s as source #%d (%d products, %d batch rows)", source.file_name, outcome, source_id,
                     stored_result.calculation_rows, stored_result.movement_rows)
    rows = {
        "source_data": 1,
        "nomenclature": stored_result.new_products,
        "calculation_data": stored_result.calculation_rows,
        "batch_movements": stored_result.movement_rows,
        "validation_errors": stored_result.validation_errors,
    }
    previews = {
        "calculation_data": markdown_preview(normalised.calculations, [
            "product", "product_type", "initial_balance", "incoming", "outgoing", "final_balance",
            "storage_days", "inventory_shrinkage_total", "manual_review_required"]),
        "batch_movements": markdown_preview(normalised.movements, [
            "product", "document_kind", "document_number", "batch_arrival", "incoming", "outgoing", "closing"]),
        "validation_errors": markdown_preview(normalised.errors),
    }
    for name in NORMALISED_TABLES:
        metadata = {**common, ROW_COUNT: rows[name], SOURCE_DATA_ID: source_id, "outcome": outcome}
        if name in previews:
            metadata["preview"] = dg.MetadataValue.md(previews[name])
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)


INGESTION_ASSETS = [parsed_reports, validated_reports, normalised_tables]

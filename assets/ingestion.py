"""Per-file ingestion assets: parse a report, validate it (asset checks), write the normalised tables.

One run per source file (a ``source_files`` partition). Each step is one stage of
``shrinkage.app.ingest`` (``read_file`` → ``validate_file`` → ``store_file``) and passes its
result through the IO manager (pickled under DAGSTER_HOME), so each step's output is
inspectable and a downstream step can be re-run alone. What happens to the file is the
ingest decision (``shrinkage.app.ingest.decide``), the same one the CLI takes.
"""

from collections import Counter

import dagster as dg
import pandas as pd

from assets.metadata import (
    CODE_VERSION,
    FIRST_FAILURE,
    INPUT_RECORDS,
    OUTCOME,
    ROW_COUNT,
    SOURCE_DATA_ID,
    SOURCE_FILE,
    markdown_preview,
)
from resources import DatabaseResource, InboxResource
from resources.inbox import SourceFileMissing, source_files
from shrinkage.app.ingest import (
    FILE_TABLES,
    REJECTED,
    IngestOutcome,
    StagedFile,
    ValidatedFile,
    read_file,
    store_file,
    validate_file,
)
from shrinkage.config import CONFIG
from shrinkage.quality import RULES, CheckOutcome, ValidationResult
from shrinkage.sources import ReportError

GROUP = "ingestion"


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
        staged = read_file(inbox.locate(context.partition_key))
    except (SourceFileMissing, ReportError) as exc:
        raise dg.Failure(description=str(exc), metadata={"partition": context.partition_key},
                         allow_retries=False) from None
    source, report = staged.source, staged.report
    figures = staged.figures()
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
                "per rule. Blocking checks stop the file here, so the normalised tables are not written; "
                "since their step will not run, this one settles the file as rejected through the same "
                "ingest decision (a source_data row with processed = false and its validation_errors).",
)
def validated_reports(context: dg.AssetExecutionContext, parsed_reports: StagedFile,
                      database: DatabaseResource):
    validated = validate_file(parsed_reports)
    source, validation = parsed_reports.source, validated.validation
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
        outcome = store_file(database.engine(), validated)
        metadata[SOURCE_DATA_ID] = outcome.source_data_id
        metadata[OUTCOME] = outcome.status
        if outcome.status == REJECTED:
            metadata["blocked_by"] = outcome.message.removeprefix("blocked by validation: ")
        context.log.error("%s: %s, not loaded", source.file_name, outcome.message)
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
    return dg.MaterializeResult(value=validated, metadata=metadata, check_results=checks)


# ---------------------------------------------------------------------------------------
# The normalised tables of one file, written in one transaction
# ---------------------------------------------------------------------------------------

NORMALISED_TABLES = dict(zip(FILE_TABLES, (
    "The file's identity (name, path, content hash), period, warehouse and quality score.",
    "Products (nomenclature) with their product type; a file adds the products not yet known.",
    "One row per product and report period: balances, storage days, inventory period, "
    "count shortages and quality flags.",
    "Every batch row under every movement document of the file.",
    "The non-blocking data-quality issues of the file, row by row.",
), strict=True))


def _previews(outcome: IngestOutcome) -> dict[str, str]:
    normalised = outcome.normalised
    if normalised is None:
        return {}
    return {
        "calculation_data": markdown_preview(normalised.calculations, [
            "product", "product_type", "initial_balance", "incoming", "outgoing", "final_balance",
            "storage_days", "inventory_shrinkage_total", "manual_review_required"]),
        "batch_movements": markdown_preview(normalised.movements, [
            "product", "document_kind", "document_number", "batch_arrival", "incoming", "outgoing", "closing"]),
        "validation_errors": markdown_preview(normalised.errors),
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
def normalised_tables(context: dg.AssetExecutionContext, validated_reports: ValidatedFile,
                      database: DatabaseResource):
    staged = validated_reports.staged
    outcome = store_file(database.engine(), validated_reports)
    sentence = outcome.message or outcome.status
    context.log.info("%s: %s as source #%s (%d products, %d batch rows)", staged.source.file_name, sentence,
                     outcome.source_data_id, outcome.rows_written.get("calculation_data", 0),
                     outcome.rows_written.get("batch_movements", 0))
    common = {INPUT_RECORDS: staged.structured_rows, SOURCE_FILE: staged.source.file_name}
    previews = _previews(outcome)
    for name in NORMALISED_TABLES:
        metadata = {**common, ROW_COUNT: outcome.rows_written.get(name, 0), SOURCE_DATA_ID: outcome.source_data_id,
                    OUTCOME: sentence}
        if name in previews:
            metadata["preview"] = dg.MetadataValue.md(previews[name])
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)


INGESTION_ASSETS = [parsed_reports, validated_reports, normalised_tables]

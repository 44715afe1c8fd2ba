"""Ingestion of 1C report files: read, validate, normalise, store — one file, one transaction.

The steps are separate functions so the Dagster assets can run them as separate steps;
:func:`ingest_file` chains them for the CLI and records the file's lineage row.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from shrinkage import __version__
from shrinkage.db import cache
from shrinkage.db.engine import session_scope
from shrinkage.db.lineage import LineageRecord, write_lineage
from shrinkage.db.load import SourceFile, find_stored, record_rejected_source, store_source
from shrinkage.normalise import NormalisedReport, normalise
from shrinkage.quality.result import ValidationResult
from shrinkage.quality.validate import validate_report
from shrinkage.sources import read_report
from shrinkage.sources.model import ParsedReport, ReportError

log = logging.getLogger(__name__)

REPORT_SUFFIXES = {".xls", ".xlsx", ".csv"}
CLI_PROCESS = "shrinkage ingest"


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def collect_files(paths: Iterable[Path | str]) -> list[Path]:
    """Files as given, and every report file (by suffix) inside given folders, sorted."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and p.suffix.lower() in REPORT_SUFFIXES
                                and not p.name.startswith((".", "~$"))))
        else:
            found.append(path)
    return found


@dataclass
class IngestOutcome:
    path: Path
    status: str  # loaded | replaced | unchanged | rejected | failed
    message: str = ""
    source_data_id: int | None = None
    products: int = 0
    documents: int = 0
    batches: int = 0
    counts: int = 0
    rows_read: int = 0
    errors_by_severity: dict[str, int] = field(default_factory=dict)
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status in {"loaded", "replaced", "unchanged"}


def describe(report: ParsedReport) -> dict[str, int]:
    documents = report.documents
    return {
        "products": int(report.products["product"].nunique()) if not report.products.empty else 0,
        "documents": len(documents),
        "batches": len(report.batches),
        "counts": int((documents["doc_kind"] == "count").sum()) if not documents.empty else 0,
        "rows_read": report.rows_read,
    }


def blocking_reasons(validation: ValidationResult) -> str:
    failed = [c for c in validation.checks if c.blocking and not c.passed]
    return "; ".join(f"{c.name}: {c.failed_count} failing ({c.description})" for c in failed)


def store_validated(engine: Engine, source: SourceFile, report: ParsedReport, validation: ValidationResult,
                    normalised: NormalisedReport | None = None, lineage: LineageRecord | None = None):
    """Write a validated report (one transaction); a blocked one keeps only its identity and errors."""
    normalised = normalised or normalise(report, validation)
    with session_scope(engine) as session:
        if not validation.success:
            source_id = record_rejected_source(session, source, normalised.errors, report_kind=report.kind,
                                               quality_score=validation.quality_score)
            result = None
        else:
            header = report.header
            result = store_source(
                session, source, normalised, report_kind=report.kind,
                period_start=datetime.combine(header.period_start, datetime.min.time()) if header.period_start else None,
                period_end=datetime.combine(header.period_end, datetime.min.time()) if header.period_end else None,
                warehouse=header.warehouse, quality_score=validation.quality_score,
            )
            source_id = result.source_data_id
        if lineage is not None:
            write_lineage(session, [replace(lineage, source_file_id=source_id)])
    if result is not None and result.new_products:
        cache.invalidate(engine, cache.NOMENCLATURE)
    return source_id, result


def ingest_file(engine: Engine, path: Path, *, user: str | None = None) -> IngestOutcome:
    started = time.perf_counter()
    path = Path(path)

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    def lineage(status: str, error: str | None = None, output: int | None = None, inputs: int | None = None,
                key: str | None = None) -> LineageRecord:
        return LineageRecord(
            lineage_key=key, process_name=CLI_PROCESS, status=status, user_id=user,
            input_records=inputs, output_records=output, error_message=error,
            execution_time_ms=elapsed(), version=__version__, source_file_name=path.name,
        )

    try:
        digest = content_hash(path)
    except OSError as exc:
        return _failed(engine, path, f"cannot open the file: {exc.strerror or exc}", lineage, elapsed,
                       key=f"ingest:path:{path.resolve()}")
    key = f"ingest:{digest}"
    with session_scope(engine) as session:
        stored = find_stored(session, digest)
        if stored is not None and stored.processed:
            return IngestOutcome(path, "unchanged", f"already loaded as source #{stored.id} ({stored.file_name})",
                                 source_data_id=stored.id, duration_ms=elapsed())
    try:
        report = read_report(path)
    except ReportError as exc:
        return _failed(engine, path, str(exc), lineage, elapsed, key=key)

    figures = describe(report)
    validation = validate_report(report)
    severities = dict(Counter(i.severity_level for i in validation.issues))
    source = SourceFile(path.name, str(path.resolve()), digest)
    if not validation.success:
        reason = blocking_reasons(validation)
        source_id, _ = store_validated(engine, source, report, validation,
                                       lineage=lineage("failed", f"{path.name}: blocked by validation: {reason}",
                                                       output=0, inputs=figures["rows_read"], key=key))
        log.warning("%s: rejected by validation: %s", path.name, reason)
        return IngestOutcome(path, "rejected", f"blocked by validation: {reason}", source_id,
                             errors_by_severity=severities, duration_ms=elapsed(), **figures)
    normalised = normalise(report, validation)
    output = len(normalised.calculations) + len(normalised.movements)
    source_id, result = store_validated(engine, source, report, validation, normalised,
                                        lineage("success", output=output, inputs=figures["rows_read"], key=key))
    status = "replaced" if result.replaced_source_ids else "loaded"
    message = (f"replaced earlier version(s) #{', #'.join(map(str, result.replaced_source_ids))}"
               if result.replaced_source_ids else "")
    log.info("%s: %s (%d products, %d batch rows)", path.name, status, figures["products"], figures["batches"])
    return IngestOutcome(path, status, message, source_id, errors_by_severity=severities,
                         duration_ms=elapsed(), **figures)


def _failed(engine: Engine, path: Path, message: str, lineage: Callable[..., LineageRecord],
            elapsed: Callable[[], int], key: str) -> IngestOutcome:
    log.error("%s", message)
    with session_scope(engine) as session:
        write_lineage(session, [lineage("failed", message, output=0, key=key)])
    return IngestOutcome(path, "failed", message, duration_ms=elapsed())


def ingest_paths(engine: Engine, paths: Iterable[Path], *, user: str | None = None,
                 on_file: Callable[[IngestOutcome], None] | None = None) -> list[IngestOutcome]:
    outcomes = []
    for path in paths:
        outcome = ingest_file(engine, path, user=user)
        outcomes.append(outcome)
        if on_file:
            on_file(outcome)
    return outcomes

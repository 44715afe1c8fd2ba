"""Ingestion of 1C report files: read, validate, normalise, store — one file, one transaction.

The steps are separate functions so the Dagster assets can run them as separate steps;
:func:`ingest_file` chains them for the CLI and records the file's lineage row.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from shrinkage import __version__
from shrinkage.config import CONFIG
from shrinkage.db import cache
from shrinkage.db.engine import session_scope
from shrinkage.db.lineage import LineageRecord, write_lineage
from shrinkage.db.load import SourceFile, find_stored, record_rejected_source, record_validation, store_source
from shrinkage.normalise import NormalisedReport, errors_frame, normalise, quality_columns
from shrinkage.quality.result import ValidationResult
from shrinkage.quality.gx_backend import warm_up
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
            result = store_source(session, source, normalised, **_source_facts(report),
                                  quality_score=validation.quality_score)
            source_id = result.source_data_id
        if lineage is not None:
            write_lineage(session, [replace(lineage, source_file_id=source_id)])
    if result is not None and result.new_products:
        cache.invalidate(engine, cache.NOMENCLATURE)
    return source_id, result


def ingest_file(engine: Engine, path: Path, *, user: str | None = None) -> IngestOutcome:
    """The CLI path for one file: known content → unchanged; unreadable → failed (lineage only);
    else the rows go in while validation runs beside them, in one transaction that a blocking
    check rolls back (the file is then recorded as rejected with its errors)."""
    started = time.perf_counter()
    path = Path(path)

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    def lineage(status: str, error: str | None = None, output: int | None = None, inputs: int | None = None,
                key: str | None = None, source_id: int | None = None) -> LineageRecord:
        return LineageRecord(
            lineage_key=key, process_name=CLI_PROCESS, status=status, user_id=user,
            input_records=inputs, output_records=output, error_message=error,
            execution_time_ms=elapsed(), version=__version__, source_file_name=path.name,
            source_file_id=source_id,
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
    source = SourceFile(path.name, str(path.resolve()), digest)
    background = BackgroundValidation(report)
    normalised = normalise(report)  # quality columns follow once validation is in
    output = len(normalised.calculations) + len(normalised.movements)
    validation = None
    try:
        with session_scope(engine) as session:
            try:
                result = store_source(session, source, normalised, **_source_facts(report), quality_score=None)
            except IntegrityError:
                # The database refused the rows (e.g. a negative quantity): validation says why.
                validation = background.result()
                if not validation.success:
                    raise _Blocked() from None
                raise
            validation = background.result()
            if not validation.success:
                raise _Blocked()
            record_validation(session, result, quality_columns(normalised.calculations, validation),
                              errors_frame(validation), validation.quality_score)
            write_lineage(session, [lineage("success", output=output, inputs=figures["rows_read"], key=key,
                                            source_id=result.source_data_id)])
    except _Blocked:
        pass  # rolled back: nothing of the file's rows stays
    finally:
        background.close()
    severities = dict(Counter(i.severity_level for i in validation.issues))
    if not validation.success:
        reason = blocking_reasons(validation)
        source_id, _ = store_validated(engine, source, report, validation,
                                       lineage=lineage("failed", f"{path.name}: blocked by validation: {reason}",
                                                       output=0, inputs=figures["rows_read"], key=key))
        log.warning("%s: rejected by validation: %s", path.name, reason)
        return IngestOutcome(path, "rejected", f"blocked by validation: {reason}", source_id,
                             errors_by_severity=severities, duration_ms=elapsed(), **figures)
    if result.new_products:
        cache.invalidate(engine, cache.NOMENCLATURE)
    status = "replaced" if result.replaced_source_ids else "loaded"
    message = (f"replaced earlier version(s) #{', #'.join(map(str, result.replaced_source_ids))}"
               if result.replaced_source_ids else "")
    log.info("%s: %s (%d products, %d batch rows)", path.name, status, figures["products"], figures["batches"])
    return IngestOutcome(path, status, message, result.source_data_id, errors_by_severity=severities,
                         duration_ms=elapsed(), **figures)


class _Blocked(Exception):
    """A blocking validation failure found after the rows went in: roll the file back."""


class BackgroundValidation:
    """Great Expectations validation in a forked process while this one writes the rows.

    Validation and the database load are the two big costs of a file and neither needs the
    other's result until the end, so on two cores they run side by side. The child only
    validates (it inherits the parsed report, touches no connection) and sends the result back.
    """

    def __init__(self, report: ParsedReport):
        warm_up(CONFIG)  # built once here, inherited by every child instead of rebuilt per file
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_validate_and_send, args=(report, send), daemon=True)
        self._process.start()
        send.close()

    def result(self) -> ValidationResult:
        try:
            payload = self._receive.recv()
        except EOFError:
            raise RuntimeError(f"the validation process ended without a result "
                               f"(exit code {self._process.exitcode})") from None
        if isinstance(payload, BaseException):
            raise payload
        return payload

    def close(self) -> None:
        """Reap the child; one still validating (the load failed first) is not needed any more."""
        self._process.join(timeout=0.5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._receive.close()


def _validate_and_send(report: ParsedReport, send) -> None:
    try:
        outcome = validate_report(report)
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it
        outcome = exc
    try:
        send.send(outcome)
    except (BrokenPipeError, EOFError):
        pass  # the parent stopped waiting (its load failed); nothing to report to
    finally:
        send.close()


def _source_facts(report: ParsedReport) -> dict:
    header = report.header
    return {
        "report_kind": report.kind,
        "period_start": datetime.combine(header.period_start, datetime.min.time()) if header.period_start else None,
        "period_end": datetime.combine(header.period_end, datetime.min.time()) if header.period_end else None,
        "warehouse": header.warehouse,
    }


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

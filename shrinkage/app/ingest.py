"""Ingest a report file: read → validate → normalise → load, with one outcome per file.

The stages are separate entry points so the Dagster per-file assets can run each as a
step (``read_file`` → ``validate_file`` → ``store_file``); :func:`ingest_file` chains them
for the CLI, validating in a forked child while the rows go in. Whatever the path, what
happens to a file is decided by :func:`decide` alone (already loaded / rejected / replaced /
loaded) and written by :func:`settle` alone, so the CLI and Dagster leave the same rows.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shrinkage import __version__
from shrinkage.app.reference import product_type_keywords
from shrinkage.config import CONFIG, get_settings
from shrinkage.db import cache
from shrinkage.db.engine import session_scope
from shrinkage.db.lineage import LineageRecord, write_lineage
from shrinkage.db.sources import (
    SourceFile,
    StoreResult,
    find_stored,
    record_rejected_source,
    record_validation,
    store_source,
)
from shrinkage.normalise import NormalisedReport, errors_frame, normalise, quality_columns
from shrinkage.quality import ValidationResult, validate_report
from shrinkage.quality.gx_backend import warm_up
from shrinkage.sources import REPORT_SUFFIXES, ParsedReport, ReportError, read_report

log = logging.getLogger(__name__)

CLI_PROCESS = "shrinkage ingest"

# The five things that can happen to a file.
LOADED, REPLACED, UNCHANGED, REJECTED, UNREADABLE = "loaded", "replaced", "unchanged", "rejected", "unreadable"
STATUSES = (LOADED, REPLACED, UNCHANGED, REJECTED, UNREADABLE)
# The tables one file writes, in the order they are filled.
FILE_TABLES = ("source_data", "nomenclature", "calculation_data", "batch_movements", "validation_errors")


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_candidate(path: Path) -> bool:
    """A file a folder scan picks up: a report suffix, not hidden, not an Office lock file."""
    return path.suffix.lower() in REPORT_SUFFIXES and not path.name.startswith((".", "~$"))


def collect_files(paths: Iterable[Path | str]) -> list[Path]:
    """Files as given, and every report file (by suffix) inside given folders, sorted."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_candidate(p)))
        else:
            found.append(path)
    return found


# ---------------------------------------------------------------------------------------
# What a stage hands to the next
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StagedFile:
    """A parsed report together with the file identity it came from."""

    source: SourceFile
    report: ParsedReport

    @property
    def structured_rows(self) -> int:
        report = self.report
        return len(report.products) + len(report.groups) + len(report.documents) + len(report.batches)

    def figures(self) -> dict[str, int]:
        report = self.report
        documents = report.documents
        return {
            "products": int(report.products["product"].nunique()) if not report.products.empty else 0,
            "documents": len(documents),
            "batches": len(report.batches),
            "counts": int((documents["doc_kind"] == "count").sum()) if not documents.empty else 0,
            "rows_read": report.rows_read,
        }


@dataclass(frozen=True)
class ValidatedFile:
    staged: StagedFile
    validation: ValidationResult


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one file: the one result type of every ingest path."""

    path: Path
    status: str  # one of STATUSES
    message: str = ""
    source_data_id: int | None = None
    replaced_source_ids: tuple[int, ...] = ()
    products: int = 0
    documents: int = 0
    batches: int = 0
    counts: int = 0
    rows_read: int = 0
    errors_by_severity: dict[str, int] = field(default_factory=dict)
    rows_written: dict[str, int] = field(default_factory=dict)  # per table of FILE_TABLES
    duration_ms: int = 0
    # The normalised rows of a loaded file (for previews); not part of the outcome's identity.
    normalised: NormalisedReport | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status in {LOADED, REPLACED, UNCHANGED}


def blocking_reasons(validation: ValidationResult) -> str:
    failed = [c for c in validation.checks if c.blocking and not c.passed]
    return "; ".join(f"{c.name}: {c.failed_count} failing ({c.description})" for c in failed)


# ---------------------------------------------------------------------------------------
# The decision, and the one function that writes it
# ---------------------------------------------------------------------------------------


def decide(already_loaded: bool, validation: ValidationResult | None, replaced: Sequence[int] = ()) -> str | None:
    """THE ingest decision: what happens to a file; None while its validation is still out.

    Content already loaded (under any name) is unchanged whatever validation says now; a
    failed blocking check rejects the file; otherwise it is loaded, or replaces the earlier
    version(s) under its name (and a rejected earlier copy of the same content).
    """
    if already_loaded:
        return UNCHANGED
    if validation is None:
        return None
    if not validation.success:
        return REJECTED
    return REPLACED if replaced else LOADED


def describe(status: str, source_id: int | None, replaced: Sequence[int] = (), reason: str = "") -> str:
    """The one sentence for an outcome (CLI summary, Dagster metadata, logs)."""
    if status == UNCHANGED:
        return f"unchanged: this content is already loaded as source #{source_id}"
    if status == REPLACED:
        return f"replaced earlier version(s) #{', #'.join(map(str, replaced))}"
    if status == REJECTED:
        return f"blocked by validation: {reason}"
    return status


class _ValidationPending(Exception):
    """The rows went in but validation rejects the file: roll back, then settle again."""

    def __init__(self, validation: ValidationResult):
        super().__init__("rejected by validation")
        self.validation = validation


@dataclass(frozen=True)
class _Settled:
    status: str
    source_id: int | None
    stored: StoreResult | None = None
    normalised: NormalisedReport | None = None
    validation: ValidationResult | None = None
    errors: int = 0


def settle(session: Session, staged: StagedFile, validation: ValidationResult | BackgroundValidation) -> _Settled:
    """Write what :func:`decide` says about a file, in the caller's transaction.

    ``validation`` may still be running (:class:`BackgroundValidation`): the rows then go in
    while it finishes, and a rejection raises :class:`_ValidationPending` so that the caller
    rolls the rows back and settles again with the verdict (only the rejection stays).
    """
    source, report = staged.source, staged.report
    stored = find_stored(session, source.file_hash)
    verdict = validation if isinstance(validation, ValidationResult) else None
    status = decide(stored is not None and stored.processed, verdict)
    if status == UNCHANGED:
        return _Settled(UNCHANGED, stored.id)
    if status == REJECTED:
        errors = errors_frame(verdict)
        source_id = record_rejected_source(session, source, errors, report_kind=report.kind,
                                           quality_score=verdict.quality_score)
        return _Settled(REJECTED, source_id, validation=verdict, errors=len(errors))

    # New products are typed by the imported keyword table; quality columns follow below when
    # validation was still out.
    normalised = normalise(report, verdict, keywords=product_type_keywords())
    try:
        result = store_source(session, source, normalised, **_source_facts(report),
                              quality_score=verdict.quality_score if verdict is not None else None)
    except IntegrityError:
        # The database refused the rows (e.g. a negative quantity): validation says why.
        if verdict is None and not (late := validation.result()).success:
            raise _ValidationPending(late) from None
        raise
    if verdict is None:
        verdict = validation.result()
        if decide(False, verdict) == REJECTED:
            raise _ValidationPending(verdict)
        record_validation(session, result, quality_columns(normalised.calculations, verdict),
                          errors_frame(verdict), verdict.quality_score)
    status = decide(False, verdict, result.replaced_source_ids)
    return _Settled(status, result.source_data_id, result, normalised, verdict)


# ---------------------------------------------------------------------------------------
# Stages (the Dagster per-file assets call these one by one)
# ---------------------------------------------------------------------------------------


def prior_outcome(engine: Engine, path: Path, digest: str | None = None) -> IngestOutcome | None:
    """The outcome of a file whose content is already loaded (it then needs no reading), else None."""
    digest = digest or content_hash(path)
    with session_scope(engine) as session:
        stored = find_stored(session, digest)
        if decide(stored is not None and stored.processed, None) != UNCHANGED:
            return None
        return IngestOutcome(Path(path), UNCHANGED, describe(UNCHANGED, stored.id) + f" ({stored.file_name})",
                             source_data_id=stored.id)


def read_file(source: SourceFile) -> StagedFile:
    """Parse a located file; raises ReportError (file, row, what to do) when it is not a readable report."""
    return StagedFile(source, read_report(source.file_path))


def validate_file(staged: StagedFile) -> ValidatedFile:
    """The data-quality verdict on a parsed file (no database)."""
    return ValidatedFile(staged, validate_report(staged.report))


def store_file(engine: Engine, validated: ValidatedFile, *, lineage: LineageRecord | None = None) -> IngestOutcome:
    """Settle a validated file in one transaction (loaded / replaced / unchanged / rejected)."""
    started = time.perf_counter()
    with session_scope(engine) as session:
        settled = settle(session, validated.staged, validated.validation)
        if lineage is not None:
            write_lineage(session, [_lineage_for(lineage, validated.staged, settled)])
    return _outcome(engine, validated.staged, settled, started)


def _lineage_for(template: LineageRecord, staged: StagedFile, settled: _Settled) -> LineageRecord:
    rows = staged.report.rows_read
    if settled.status == REJECTED:
        return replace(template, status="failed", input_records=rows, output_records=0,
                       source_file_id=settled.source_id,
                       error_message=f"{staged.source.file_name}: "
                                     f"{describe(REJECTED, None, reason=blocking_reasons(settled.validation))}")
    normalised = settled.normalised
    output = 0 if normalised is None else len(normalised.calculations) + len(normalised.movements)
    return replace(template, status="success", input_records=rows, output_records=output,
                   source_file_id=settled.source_id)


def _outcome(engine: Engine, staged: StagedFile, settled: _Settled, started: float) -> IngestOutcome:
    figures = staged.figures()
    path = Path(staged.source.file_path)
    duration = int((time.perf_counter() - started) * 1000)
    if settled.status == UNCHANGED:
        return IngestOutcome(path, UNCHANGED, describe(UNCHANGED, settled.source_id), settled.source_id,
                             rows_written=dict.fromkeys(FILE_TABLES, 0), duration_ms=duration, **figures)
    severities = dict(Counter(i.severity_level for i in settled.validation.issues))
    if settled.status == REJECTED:
        reason = blocking_reasons(settled.validation)
        log.warning("%s: rejected by validation: %s", path.name, reason)
        errors = settled.errors
        return IngestOutcome(path, REJECTED, describe(REJECTED, None, reason=reason), settled.source_id,
                             errors_by_severity=severities, duration_ms=duration,
                             rows_written={**dict.fromkeys(FILE_TABLES, 0), "source_data": 1,
                                           "validation_errors": errors}, **figures)
    result = settled.stored
    if result.new_products:
        cache.invalidate(engine, cache.NOMENCLATURE)
    replaced = tuple(result.replaced_source_ids)
    log.info("%s: %s (%d products, %d batch rows)", path.name, settled.status, figures["products"],
             figures["batches"])
    return IngestOutcome(
        path, settled.status, describe(settled.status, result.source_data_id, replaced) if replaced else "",
        result.source_data_id, replaced, errors_by_severity=severities, duration_ms=duration,
        rows_written={"source_data": 1, "nomenclature": result.new_products,
                      "calculation_data": result.calculation_rows, "batch_movements": result.movement_rows,
                      "validation_errors": result.validation_errors},
        normalised=settled.normalised, **figures)


# ---------------------------------------------------------------------------------------
# The CLI path: one call per file, validation beside the load
# ---------------------------------------------------------------------------------------


def ingest_file(engine: Engine, path: Path, *, user: str | None = None) -> IngestOutcome:
    """One file start to end, with its data_lineage row: known content → unchanged;
    unreadable → lineage only; else the rows go in while validation runs beside them, in one
    transaction that a blocking check rolls back (the file is then recorded as rejected)."""
    started = time.perf_counter()
    path = Path(path)
    lineage = LineageRecord(lineage_key=None, process_name=CLI_PROCESS, status="success", user_id=user,
                            version=__version__, source_file_name=path.name)

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        digest = content_hash(path)
    except OSError as exc:
        return _unreadable(engine, path, f"cannot open the file: {exc.strerror or exc}",
                           replace(lineage, lineage_key=f"ingest:path:{path.resolve()}"), elapsed)
    lineage = replace(lineage, lineage_key=f"ingest:{digest}")
    known = prior_outcome(engine, path, digest)
    if known is not None:
        return replace(known, duration_ms=elapsed())
    try:
        staged = read_file(SourceFile(path.name, str(path.resolve()), digest))
    except ReportError as exc:
        return _unreadable(engine, path, str(exc), lineage, elapsed)

    background = BackgroundValidation(staged.report)
    try:
        with session_scope(engine) as session:
            settled = settle(session, staged, background)
            write_lineage(session, [_lineage_for(replace(lineage, execution_time_ms=elapsed()), staged, settled)])
    except _ValidationPending as pending:  # rolled back: nothing of the file's rows stays
        with session_scope(engine) as session:
            settled = settle(session, staged, pending.validation)
            write_lineage(session, [_lineage_for(replace(lineage, execution_time_ms=elapsed()), staged, settled)])
    finally:
        background.close()
    return _outcome(engine, staged, settled, started)


def _unreadable(engine: Engine, path: Path, message: str, lineage: LineageRecord,
                elapsed: Callable[[], int]) -> IngestOutcome:
    log.error("%s", message)
    with session_scope(engine) as session:
        write_lineage(session, [replace(lineage, status="failed", error_message=message, output_records=0,
                                        execution_time_ms=elapsed())])
    return IngestOutcome(path, UNREADABLE, message, duration_ms=elapsed())


def ingest_paths(engine: Engine, paths: Iterable[Path], *, user: str | None = None,
                 on_file: Callable[[IngestOutcome], None] | None = None) -> list[IngestOutcome]:
    outcomes = []
    for path in paths:
        outcome = ingest_file(engine, path, user=user)
        outcomes.append(outcome)
        if on_file:
            on_file(outcome)
    return outcomes


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
        self._result: ValidationResult | None = None

    def result(self) -> ValidationResult:
        if self._result is not None:
            return self._result
        try:
            payload = self._receive.recv()
        except EOFError:
            raise RuntimeError(f"the validation process ended without a result "
                               f"(exit code {self._process.exitcode})") from None
        if isinstance(payload, BaseException):
            raise payload
        self._result = payload
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
    except Exception as exc:  # handed to the parent, which raises it
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
        "warehouse": header.warehouse or get_settings().default_warehouse,
    }

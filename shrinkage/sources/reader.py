"""The one entry point: any report file in, a ParsedReport (or a ReportError) out."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from shrinkage.sources.batch_statement import looks_like_batch_statement, parse_batch_statement
from shrinkage.sources.common import HEADER_SCAN_ROWS
from shrinkage.sources.model import ParsedReport, ParseIssue, ReportError
from shrinkage.sources.sanitise import sanitise_report
from shrinkage.sources.turnover_statement import looks_like_turnover_statement, parse_turnover_statement
from shrinkage.sources.workbook import read_sheets

log = logging.getLogger(__name__)

# Files a folder scan takes for 1C exports (their content decides what they really are).
REPORT_SUFFIXES = frozenset({".xls", ".xlsx", ".csv", ".ods", ".htm", ".html", ".xml"})
BATCH_STATEMENT, TURNOVER_STATEMENT = "batch_statement", "turnover_statement"


def _kind_of(rows: list[list[object]]) -> str | None:
    if looks_like_batch_statement(rows):
        return BATCH_STATEMENT
    if looks_like_turnover_statement(rows):
        return TURNOVER_STATEMENT
    return None


def report_kind(path: Path | str) -> str | None:
    """Which 1C report a file holds ("batch_statement" / "turnover_statement"), or None when no
    sheet has a report's captions. Reads only the head of each sheet, so a sensor can ask it of
    every new file; raises ReportError for files that are not readable at all."""
    path = Path(path)
    with closing(read_sheets(path, max_rows=HEADER_SCAN_ROWS)) as sheets:
        for sheet in sheets:
            kind = _kind_of(sheet.rows)
            if kind is not None:
                return kind
    return None


def read_report(path: Path | str) -> ParsedReport:
    """Read a 1C batch statement or turnover statement from .xls, .xlsx, HTML, Excel XML or CSV.

    The container is recognised by its bytes and the report by its captions, so a renamed
    file reads the same. The first visible worksheet that holds a report is used; when
    only a hidden one does, that one (with a recorded issue saying so). Raises ReportError
    (naming the file, and the row when known, and what to do) for files that are not
    readable reports; arithmetic and cell-level problems come back as ``issues``, with
    values no database column takes already settled (see sanitise.py).
    """
    path = Path(path)
    started = time.perf_counter()
    seen: list[str] = []
    with cyclic_gc_paused(), closing(read_sheets(path)) as sheets:
        for sheet in sheets:
            kind = _kind_of(sheet.rows)
            if kind is None:
                seen.append(f"{sheet.name!r}" + (" (hidden)" if sheet.hidden else ""))
                continue
            parse = parse_batch_statement if kind == BATCH_STATEMENT else parse_turnover_statement
            report = parse(path, sheet.rows)
            if sheet.hidden:
                report.issues.append(ParseIssue(
                    "report_on_hidden_sheet", f"the report was read from the hidden sheet {sheet.name!r}; "
                    "the visible sheets hold no report. Check that it is the export you meant", "low"))
            sanitise_report(report)
            log.info("%s: %s, sheet %r, %d rows, %d products, %d documents, %d batches, %d issues in %.2fs",
                     path.name, report.kind, sheet.name, report.rows_read, len(report.products),
                     len(report.documents), len(report.batches), len(report.issues),
                     time.perf_counter() - started)
            return report
    raise ReportError(path, "not a 1C batch/turnover statement: none of its sheets "
                      f"({', '.join(seen) or 'none'}) has the captions of "
                      "'Ведомость по партиям номенклатуры' or 'Оборотно-сальдовая ведомость'",
                      "check that the right file was dropped into the inbox", cause="not_a_report")


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a grid and its parsed columns are built.

    A 200,000-row sheet is millions of small lists, floats and strings created in one burst:
    each burst triggers collections (full ones included) that walk every live object and
    find nothing, since none of these objects form cycles; that was a fifth of the reading
    time. Reference counting still frees everything at once; collection resumes afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

"""The in-memory shape of a parsed 1C report: the contract between readers, validation and loading.

Readers return a :class:`ParsedReport`; every table is a pandas DataFrame with exactly the
columns listed here (quantities in kg as float, an empty cell read as 0.0, ``row`` the
1-based worksheet row the value came from, so every error can name it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import pandas as pd

ReportKind = Literal["batch_statement", "turnover_statement"]
Severity = Literal["low", "medium", "high", "critical"]

QUANTITY_COLUMNS = ["opening", "incoming", "outgoing", "closing"]

# One row per product (nomenclature) row of the report.
PRODUCT_COLUMNS = ["product", "group_path", "row", *QUANTITY_COLUMNS]
# One row per product-group row (groups may nest: group_path holds the parents, " / "-joined).
GROUP_COLUMNS = ["group", "group_path", "row", *QUANTITY_COLUMNS]
# One row per movement-document row; doc_seq is the document's order within its product.
DOCUMENT_COLUMNS = [
    "product", "row", "doc_seq", "doc_type", "doc_kind", "doc_number", "doc_datetime",
    *QUANTITY_COLUMNS,
]
# One row per batch row under a document; batch_arrival is NaT for unlabelled batch rows.
BATCH_COLUMNS = [
    "product", "doc_row", "row", "doc_type", "doc_kind", "doc_number", "doc_datetime",
    "batch_arrival", "labelled", *QUANTITY_COLUMNS,
]

# Canonical document kinds; unknown types keep their text in doc_type and get kind "other".
DOC_KINDS = {
    "Приходная накладная": "receipt",
    "Отчет отдела о розничных продажах": "sale",
    "Инвентаризация": "count",
    "Списание": "write_off",
    "Перемещение": "transfer",
    "Пересортица": "regrading",
}


@dataclass(frozen=True)
class ParseIssue:
    """A problem found while reading: recorded, not fatal (fatal ones raise ReportError)."""

    code: str
    message: str
    severity: Severity = "medium"
    row: int | None = None
    product: str | None = None


@dataclass(frozen=True)
class ReportHeader:
    title: str
    period_start: date | None
    period_end: date | None
    warehouse: str | None = None
    unit: str | None = None


@dataclass
class ParsedReport:
    kind: ReportKind
    source: Path
    header: ReportHeader
    products: pd.DataFrame
    groups: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=GROUP_COLUMNS))
    documents: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DOCUMENT_COLUMNS))
    batches: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BATCH_COLUMNS))
    # Warehouse row and the closing "Итого" row, as {"row", "opening", "incoming", "outgoing", "closing"}.
    warehouse_total: dict | None = None
    grand_total: dict | None = None
    issues: list[ParseIssue] = field(default_factory=list)
    # How many worksheet data rows the reader consumed (for lineage and benchmarks).
    rows_read: int = 0


# What to do, in the words every ReportError of that kind uses.
RE_EXPORT_HINT = "export the report from 1C again (File > Save as .xls/.xlsx) and drop the new file"
RECOPY_HINT = "copy the file again from its source"
PASSWORD_HINT = "remove the password in Excel and export again"
INCOMPLETE = "incomplete (the file was cut off, e.g. half-copied)"

# Why a file could not be read at all: each cause is a different thing for the user to do.
ReportErrorCause = Literal[
    "unreadable",     # the file cannot be opened (missing, no permission)
    "empty",          # zero bytes or only blank lines
    "truncated",      # cut off: half-copied, an interrupted download
    "corrupt",        # damaged inside
    "password",       # encrypted workbook
    "not_a_report",   # a readable file that is no 1C batch / turnover statement
    "layout",         # a 1C report missing what every export has (captions, the Итого row)
    "values",         # the values cannot be read as written (dates month-first)
]


class ReportError(Exception):
    """A file cannot be read as a report: names the file, the row if known, what is wrong and what to do.

    ``cause`` sorts the failure for callers that count or translate them; ``reason`` says
    what is wrong, ``hint`` what to do (every error carries one).
    """

    def __init__(self, path: Path | str, reason: str, hint: str, row: int | None = None, *,
                 cause: ReportErrorCause = "corrupt"):
        self.path = Path(path)
        self.reason = reason
        self.hint = hint
        self.row = row
        self.cause = cause
        where = f"{self.path.name}" + (f", row {row}" if row else "")
        super().__init__(f"{where}: {reason}" + (f" — {hint}" if hint else ""))

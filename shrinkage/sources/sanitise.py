"""Values no database column or report writer can take, made safe right after parsing.

A parsed report goes to the database while validation runs beside the load, so anything
the database itself would refuse must be settled here, where the row is still known, and
never surface as a driver error in the middle of a COPY:

* an infinite quantity (a ``1e309`` cell) becomes NaN with a ``bad_number`` issue, and the
  ``numeric_quantities`` rule then blocks the file;
* control characters (a pasted escape sequence, a NUL) are removed from names, document
  texts and the warehouse, with an issue naming the row (they break xlsx writers, and
  PostgreSQL refuses NUL);
* a text longer than its database column is cut to fit and recorded as a critical issue,
  which blocks the file: a 10,000-character "product name" is a damaged row, not a name.

Every check works on the distinct values of a column (a few thousand names, a handful of
document types), found once per column; batch rows take their texts from their document
rows, so they are only rewritten, never scanned. About 10 ms on a 200,000-row statement.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from shrinkage.config import CONFIG, Config
from shrinkage.sources.cells import CONTROL_CHARACTERS, remove_control_characters
from shrinkage.sources.model import QUANTITY_COLUMNS, ParsedReport, ParseIssue

_FRAMES = ("products", "groups", "documents", "batches")
# Text columns per frame; a value that changes changes in every frame it appears in.
_TEXT_COLUMNS = {
    "products": ("product", "group_path"),
    "groups": ("group", "group_path"),
    "documents": ("product", "doc_type", "doc_number"),
    "batches": ("product", "doc_type", "doc_number"),
}
# (what, column, the TextLimits field of its database column)
_STORED_TEXTS = (
    ("product name", "product", "product_name"),
    ("document type", "doc_type", "document_type"),
    ("document number", "doc_number", "document_number"),
)
_TOO_LONG_ADVICE = ("a pasted text or a damaged row: correct it in 1C and export the report again")


def sanitise_report(report: ParsedReport, config: Config = CONFIG) -> ParsedReport:
    """``report`` with non-finite quantities, control characters and over-long texts settled (in place)."""
    _non_finite_quantities(report)
    texts = _distinct_texts(report)
    _control_characters(report, texts)
    _too_long_texts(report, texts, config)
    return report


def _non_finite_quantities(report: ParsedReport) -> None:
    for name in _FRAMES:
        frame = getattr(report, name)
        if frame.empty or not set(QUANTITY_COLUMNS) <= set(frame.columns):
            continue
        values = frame[QUANTITY_COLUMNS].to_numpy(dtype=float)
        infinite = np.isinf(values)
        if not infinite.any():
            continue
        frame = frame.copy()
        for position, column in enumerate(QUANTITY_COLUMNS):
            frame.loc[infinite[:, position], column] = np.nan
        for i in np.flatnonzero(infinite.any(axis=1)):
            _infinite_issue(report, int(frame["row"].iat[i]), frame.get("product", frame.get("group")).iat[i],
                            [QUANTITY_COLUMNS[p] for p in np.flatnonzero(infinite[i])])
        setattr(report, name, frame)
    for name in ("warehouse_total", "grand_total"):
        total = getattr(report, name)
        if total is None:
            continue
        bad = [column for column in QUANTITY_COLUMNS if np.isinf(float(total.get(column, 0.0) or 0.0))]
        if bad:
            setattr(report, name, {**total, **{column: float("nan") for column in bad}})
            _infinite_issue(report, total.get("row"), None, bad)


def _infinite_issue(report: ParsedReport, row: int | None, product: object, columns: list[str]) -> None:
    report.issues.append(ParseIssue(
        "bad_number", f"row {row}: the {' and '.join(columns)} quantity is not a finite number (infinite); "
        "fix the cell in the source file and export again", "high", row,
        product if isinstance(product, str) else None))


def _distinct_texts(report: ParsedReport) -> dict[str, set[str]]:
    """Each text column's distinct values over the frames (batches copy theirs from documents)."""
    texts: dict[str, set[str]] = {}
    for name, columns in _TEXT_COLUMNS.items():
        frame = getattr(report, name)
        if name == "batches" or frame.empty:
            continue
        for column in columns:
            if column in frame.columns:
                # set() over the object array: the strings' hashes are cached, unlike pd.unique's
                values = set(frame[column].to_numpy())
                texts.setdefault(column, set()).update(v for v in values if isinstance(v, str))
    return texts


def _replace(report: ParsedReport, mapping: dict[str, str], columns: tuple[str, ...]) -> None:
    """Apply ``mapping`` to those text columns of every frame, and to the issues' products."""
    for name, frame_columns in _TEXT_COLUMNS.items():
        frame = getattr(report, name)
        present = [c for c in frame_columns if c in columns and c in frame.columns]
        if frame.empty or not present:
            continue
        frame = frame.copy()
        for column in present:
            frame[column] = frame[column].map(lambda v: mapping.get(v, v) if isinstance(v, str) else v)
        setattr(report, name, frame)
    if "product" in columns:
        report.issues[:] = [dataclasses.replace(issue, product=mapping[issue.product])
                            if issue.product in mapping else issue for issue in report.issues]


def _first_row(report: ParsedReport, column: str, value: str) -> tuple[int | None, str | None]:
    """The worksheet row where ``value`` first appears in ``column``, and that row's product."""
    rows = []
    for name, columns in _TEXT_COLUMNS.items():
        frame = getattr(report, name)
        if column in columns and column in frame.columns and not frame.empty:
            hit = frame.loc[frame[column] == value]
            if not hit.empty:
                product = hit["product"].iat[0] if "product" in hit.columns else None
                rows.append((int(hit["row"].iat[0]), product if isinstance(product, str) else None))
    return min(rows, key=lambda pair: pair[0]) if rows else (None, None)


def _control_characters(report: ParsedReport, texts: dict[str, set[str]]) -> None:
    # Products first, so that the issues of the other columns name the product as cleaned.
    for column in ("product", "group", "group_path", "doc_type", "doc_number"):
        dirty = {v: " ".join(remove_control_characters(v).split())
                 for v in texts.get(column, ()) if CONTROL_CHARACTERS.search(v)}
        if not dirty:
            continue
        texts[column] = {dirty.get(v, v) for v in texts[column]}
        for value, clean in dirty.items():
            if column == "group_path":
                continue  # the paths of groups already reported under "group"
            row, product = _first_row(report, column, value)
            report.issues.append(ParseIssue(
                "control_characters", f"row {row}: the text {value!r} holds control characters (invisible "
                f"codes such as a pasted escape sequence); they were removed, read as {clean!r}",
                "medium", row, clean if column == "product" else product))
        _replace(report, dirty, (column,))
    warehouse = report.header.warehouse
    if warehouse and CONTROL_CHARACTERS.search(warehouse):
        clean = " ".join(remove_control_characters(warehouse).split())
        report.header = dataclasses.replace(report.header, warehouse=clean)
        report.issues.append(ParseIssue(
            "control_characters", f"the warehouse {warehouse!r} in the «Отбор» filter holds control characters; "
            f"they were removed, read as {clean!r}", "medium"))


def _too_long_texts(report: ParsedReport, texts: dict[str, set[str]], config: Config) -> None:
    limits = config.text_limits
    for what, column, field in _STORED_TEXTS:
        limit = getattr(limits, field)
        long = {v: v[:limit] for v in texts.get(column, ()) if len(v) > limit}
        for value in long:
            row, product = _first_row(report, column, value)
            report.issues.append(ParseIssue(
                "text_too_long", f"row {row}: the {what} is {len(value):,} characters long, the database keeps "
                f"at most {limit} ({value[:60]!r}…); {_TOO_LONG_ADVICE}", "critical", row,
                value[:limit] if column == "product" else product))
        if long:
            _replace(report, long, (column,))
    warehouse = report.header.warehouse
    if warehouse and len(warehouse) > limits.warehouse:
        report.header = dataclasses.replace(report.header, warehouse=warehouse[:limits.warehouse])
        report.issues.append(ParseIssue(
            "text_too_long", f"the warehouse name in the «Отбор» filter is {len(warehouse):,} characters long, "
            f"the database keeps at most {limits.warehouse}; {_TOO_LONG_ADVICE}", "critical"))

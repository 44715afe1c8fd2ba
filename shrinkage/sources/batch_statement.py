"""Reader for the 1C batch statement ("Ведомость по партиям номенклатуры").

The layout is described in docs/DOMAIN.md (section A). The reader works in one pass over the
rows, keeping only plain Python lists, and builds each DataFrame once at the end. Batch
labels and document texts repeat thousands of times, so each distinct text is parsed once
and the per-row work is a dict look-up and four float reads: a 200,000-row statement
parses in under half a second after calamine has read it.

Arithmetic problems (a document that is not the sum of its batches, a broken chain of
balances, a group that is not the sum of its rows) never raise: each becomes a ParseIssue
with the row number, and validation turns them into recorded errors.
"""

from __future__ import annotations

import re
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from shrinkage.sources.cells import as_datetime, normalize_text
from shrinkage.sources.common import (
    HEADER_SCAN_ROWS,
    TOTAL_CAPTION,
    NameRows,
    QuantityReader,
    build_tree,
    caption_key,
    find_period,
    flag_duplicates,
    header_texts,
    quantity_layout,
    reconcile_tree,
    row_is_blank,
    same_text,
    tolerance,
    tolerance_array,
    totals_dict,
    tree_frames,
)
from shrinkage.sources.dates import DATE_TIME, DATE_TIME_TEXT, parse_date_time, refuse_month_first
from shrinkage.sources.hierarchy import Role
from shrinkage.sources.model import (
    BATCH_COLUMNS,
    DOC_KINDS,
    DOCUMENT_COLUMNS,
    QUANTITY_COLUMNS,
    ParsedReport,
    ParseIssue,
    ReportError,
    ReportHeader,
)

TITLE = "Ведомость по партиям номенклатуры"
GROUPING_CAPTIONS = ("склад", "номенклатура", "документ движения", "партия.дата прихода")

_BATCH_TEXT = DATE_TIME_TEXT  # every way 1C writes a moment: see dates.py
_DOCUMENT_TEXT = re.compile(rf"(?P<type>.+?)\s+(?:(?P<number>\S+)\s+)?от\s+(?P<when>{DATE_TIME})")
_FILTER_CLAUSES = re.compile(r'(?<=")\s+И\s+|\n')
_WAREHOUSE_FILTER = re.compile(r'^\s*Склад\s+Равно\s+"(.*)"\s*(?:И)?\s*$')
_UNIT_FILTER = re.compile(r'единиц\w*.*?\s+Равно\s+"(.*)"\s*(?:И)?\s*$', re.I)


def looks_like_batch_statement(rows: list[list[object]]) -> bool:
    title = TITLE.casefold()
    for row in rows[:HEADER_SCAN_ROWS]:
        for value in row:
            if isinstance(value, str) and value:
                key = caption_key(value)
                if title in key or key in ("документ движения", "партия.дата прихода"):
                    return True
    return False


def parse_batch_statement(path: Path, rows: list[list[object]]) -> ParsedReport:
    """Parse a batch statement grid (row 1 at index 0) into the ParsedReport contract."""
    issues: list[ParseIssue] = []
    layout = _Layout.find(path, rows)
    quantities = QuantityReader(layout.quantity_columns, issues)
    builder = _Builder(issues)
    text_col = layout.text_column
    batch_match = _BATCH_TEXT.fullmatch
    read = quantities.read
    start, last = layout.data_start, len(rows)
    body = rows[start:]
    texts = [row[text_col] if text_col < len(row) else "" for row in body]
    # Batch labels and document texts repeat under every product: each distinct cell text is
    # parsed once. Only texts that parse cleanly are remembered, so issues still come per row.
    arrivals: dict[str, datetime] = {}
    documents: dict[str, _Document] = {}
    b_doc, b_row, b_arrival, b_labelled, b_q = (
        builder.b_doc.append, builder.b_row.append, builder.b_arrival.append, builder.b_labelled.append,
        builder.b_q.append)
    rows_read = 0
    grand_total = None
    for number, raw, row in zip(range(start + 1, last + 1), texts, body):
        arrival = arrivals.get(raw)
        if arrival is not None:  # the bulk of the file: add_batch inlined
            q = read(row, number)
            current_doc = builder.current_doc
            if current_doc < 0:
                builder._batch_issues(number, True)
            b_doc(current_doc)
            b_row(number)
            b_arrival(arrival)
            b_labelled(True)
            b_q(q)
            rows_read += 1
            continue
        document = documents.get(raw)
        if document is not None:
            builder.add_document(number, document, read(row, number))
            rows_read += 1
            continue
        if raw.__class__ is str:
            text = raw.strip()
        elif raw is None:
            text = ""
        else:
            arrival = as_datetime(raw)
            if arrival is not None:
                builder.add_batch(number, arrival, True, read(row, number))
                rows_read += 1
                continue
            text = normalize_text(raw)
        if not text:
            if quantities.has_any_value(row):
                builder.add_batch(number, None, False, read(row, number))
                rows_read += 1
            continue
        rows_read += 1
        match = batch_match(text) if text[0].isdigit() else None
        if match:
            arrival = builder.datetime_of(number, text)
            if arrival is not None and raw.__class__ is str:
                arrivals[raw] = arrival
            builder.add_batch(number, arrival, True, read(row, number))
            continue
        if text.casefold() == TOTAL_CAPTION:
            grand_total = (number, read(row, number))
            trailing = [i + 1 for i in range(number, last) if not row_is_blank(rows[i])]
            if trailing:
                issues.append(ParseIssue(
                    "rows_after_total", f"rows {trailing[0]}..{trailing[-1]} after Итого were ignored",
                    "low", trailing[0]))
            break
        match = _DOCUMENT_TEXT.fullmatch(text)
        if match:
            document = _Document.of(normalize_text(text), match)
            if raw.__class__ is str:
                documents[raw] = document
            builder.add_document(number, document, read(row, number))
        else:
            builder.add_name(number, normalize_text(text), read(row, number))
    if grand_total is None:
        raise ReportError(path, "the batch statement ends without its Итого row: the file looks cut off",
                          "copy or export the file again", row=last or None, cause="truncated")
    header = layout.header
    refuse_month_first(path, [(row, d.when_text) for row, d in zip(builder.d_row, builder.d_document)],
                       header.period_start, header.period_end)
    return builder.finish(path, layout, grand_total, rows_read)


class _Document(NamedTuple):
    """What a document cell says, independent of the row it is on (so it can be shared)."""

    text: str
    doc_type: str
    kind: str | None  # None: not a known type (kept as "other", reported per row)
    number: str | None
    when: datetime | None  # None: an impossible date-time (reported per row)
    when_text: str  # the date-time as written, for that report

    @classmethod
    def of(cls, text: str, match: re.Match) -> _Document:
        raw_type, number, when_text = match.group("type", "number", "when")
        doc_type = normalize_text(raw_type)
        try:
            when = parse_date_time(when_text)
        except ValueError:
            when = None
        return cls(text, doc_type, DOC_KINDS.get(doc_type), number, when, when_text)


class _Layout:
    """Where things are in this particular export: captions are found, not assumed."""

    def __init__(self, title: str, header: ReportHeader, quantity_columns: tuple[int, int, int, int],
                 text_column: int, data_start: int):
        self.title = title
        self.header = header
        self.quantity_columns = quantity_columns
        self.text_column = text_column
        self.data_start = data_start

    @classmethod
    def find(cls, path: Path, rows: list[list[object]]) -> _Layout:
        caption_row, quantity_columns = quantity_layout(
            path, rows, "Начальный остаток / Приход / Расход / Конечный остаток",
            "export the report from 1C with its standard layout", report="batch statement")
        header_end = caption_row
        text_columns: list[int] = []
        title = TITLE
        parameters = selection = ""
        for r, row in enumerate(rows[:HEADER_SCAN_ROWS]):
            keys = [caption_key(v) for v in row]
            if any(k in GROUPING_CAPTIONS for k in keys):
                header_end = max(header_end, r)
                text_columns.extend(c for c, k in enumerate(keys) if k in GROUPING_CAPTIONS)
            if r in (caption_row + 1, caption_row + 2) and sum(k in _QUANTITY_KEYS for k in keys) >= 2:
                header_end = max(header_end, r)
            for c, key in enumerate(keys):
                if TITLE.casefold() in key:
                    title = normalize_text(row[c])
                elif key == "параметры":
                    parameters = _rest_of_row(row, c)
                elif key == "отбор":
                    selection = _rest_of_row(row, c)
        text_column = min(text_columns) if text_columns else 0
        period = find_period([parameters] + header_texts(rows, header_end + 1) + [path.stem])
        warehouse, unit = _parse_selection(selection)
        header = ReportHeader(title=title, period_start=period[0] if period else None,
                              period_end=period[1] if period else None, warehouse=warehouse, unit=unit)
        return cls(title, header, quantity_columns, text_column, header_end + 1)


_QUANTITY_KEYS = ("начальный остаток", "приход", "расход", "конечный остаток")


def _rest_of_row(row: list[object], caption_col: int) -> str:
    return "\n".join(v for v in row[caption_col + 1:] if isinstance(v, str) and v.strip())


def _parse_selection(text: str) -> tuple[str | None, str | None]:
    """Warehouse and unit from the ``Отбор:`` filter text (clauses joined by ``И`` / newlines)."""
    warehouse = unit = None
    for clause in _FILTER_CLAUSES.split(text.replace("\r", "")):
        match = _WAREHOUSE_FILTER.match(clause)
        if match and warehouse is None:
            warehouse = normalize_text(match.group(1)) or None
            continue
        match = _UNIT_FILTER.search(clause)
        if match and unit is None:
            unit = normalize_text(match.group(1)) or None
    return warehouse, unit


class _Builder:
    """Accumulates rows as column lists; DataFrames are made once, in finish()."""

    def __init__(self, issues: list[ParseIssue]):
        self.issues = issues
        self.items = NameRows()
        self.item_has_docs: list[bool] = []
        self.current_item = -1
        self.current_doc = -1
        self.docs_in_item = 0
        # documents
        self.d_item: list[int] = []
        self.d_row: list[int] = []
        self.d_seq: list[int] = []
        self.d_document: list[_Document] = []  # text, type, number, date-time: unpacked in finish()
        self.d_kind: list[str] = []
        self.d_q: list[tuple[float, float, float, float]] = []
        # batches
        self.b_doc: list[int] = []
        self.b_row: list[int] = []
        self.b_arrival: list[datetime | None] = []
        self.b_labelled: list[bool] = []
        self.b_q: list[tuple[float, float, float, float]] = []

    def add_name(self, row: int, name: str, q) -> None:
        self.current_item = self.items.add(name, row, q)
        self.item_has_docs.append(False)
        self.docs_in_item = 0
        self.current_doc = -1

    def add_document(self, row: int, document: _Document, q) -> None:
        kind = document.kind
        if kind is None:
            kind = "other"
            self.issues.append(ParseIssue(
                "unknown_doc_type", f"row {row}: document type {document.doc_type!r} is not one of the known "
                "types; kept as kind 'other'", "low", row, self._product_name()))
        if self.current_item < 0:
            self.issues.append(ParseIssue(
                "orphan_document", f"row {row}: document row before any product row", "high", row))
        else:
            self.item_has_docs[self.current_item] = True
        self.docs_in_item += 1
        self.current_doc = len(self.d_row)
        self.d_item.append(self.current_item)
        self.d_row.append(row)
        self.d_seq.append(self.docs_in_item)
        self.d_document.append(document)
        self.d_kind.append(kind)
        if document.when is None:
            self._bad_datetime(row, document.when_text)
        self.d_q.append(q)

    def add_batch(self, row: int, arrival: datetime | None, labelled: bool, q) -> None:
        if self.current_doc < 0 or not labelled:
            self._batch_issues(row, labelled)
        self.b_doc.append(self.current_doc)
        self.b_row.append(row)
        self.b_arrival.append(arrival)
        self.b_labelled.append(labelled)
        self.b_q.append(q)

    def _batch_issues(self, row: int, labelled: bool) -> None:
        if self.current_doc < 0:
            self.issues.append(ParseIssue(
                "orphan_batch", f"row {row}: batch row outside any document", "high", row, self._product_name()))
        if not labelled:
            self.issues.append(ParseIssue(
                "unlabelled_batch", f"row {row}: batch row without its arrival date: 1C's line for goods "
                "sold or counted before their receipt was posted (kept, arrival unknown; its balance may be "
                "negative)", "medium", row, self._product_name()))

    def _product_name(self) -> str | None:
        return self.items.names[self.current_item] if self.current_item >= 0 else None

    def datetime_of(self, row: int, text: str) -> datetime | None:
        try:
            return parse_date_time(text)
        except ValueError:
            self._bad_datetime(row, text)
            return None

    def _bad_datetime(self, row: int, when_text: str) -> None:
        self.issues.append(ParseIssue(
            "bad_datetime", f"row {row}: {when_text} is not a valid date-time", "high", row, self._product_name()))

    # -- assembling -----------------------------------------------------------------
    def finish(self, path: Path, layout: _Layout, grand_total, rows_read: int) -> ParsedReport:
        items, issues = self.items, self.issues
        parsed = self.d_document
        self.d_text = [d.text for d in parsed]
        self.d_type = [d.doc_type for d in parsed]
        self.d_number = [d.number for d in parsed]
        self.d_when = [d.when for d in parsed]
        warehouse_total = None
        first = 0
        if items.names and not self.item_has_docs[0] and self._is_warehouse_row(layout, grand_total):
            warehouse_total = (items.rows[0], items.totals[0])
            first = 1
        else:
            issues.append(ParseIssue(
                "warehouse_row_missing", "the first data row is not the warehouse total row "
                f"(expected {layout.header.warehouse or 'a warehouse name'!r})", "medium",
                items.rows[0] if items.names else None))
        body = NameRows(items.names[first:], items.rows[first:], items.totals[first:])
        roles = [self._role(i) for i in range(first, len(items.names))]
        target = warehouse_total[1] if warehouse_total else grand_total[1]
        tree = build_tree(body, roles, target)
        if not tree.nesting.exact:
            issues.append(ParseIssue(
                "hierarchy_uncertain", "the group rows could not be matched to their contents by sums; "
                "the group tree is a best guess (see the sum mismatches)", "medium"))
        products, groups = tree_frames(body, tree)
        names = [None] * first + body.names
        product_of_doc = [names[i] if i >= 0 else None for i in self.d_item]
        d_q = _quantity_array(self.d_q)
        b_q = _quantity_array(self.b_q)
        doc_when = pd.to_datetime(pd.Series(self.d_when, dtype=object))  # converted once, shared by batches
        documents = self._documents_frame(product_of_doc, d_q, doc_when)
        batches = self._batches_frame(product_of_doc, b_q, doc_when)

        flag_duplicates([(n, t) for n, t in zip(items.names, items.totals)], items.rows, "the row", issues,
                        items.names)
        flag_duplicates(list(zip(self.d_item, self.d_text, self.d_q)), self.d_row, "the document row",
                        issues, product_of_doc)
        flag_duplicates(list(zip(self.b_doc, self.b_arrival, self.b_q)), self.b_row, "the batch row", issues,
                        [product_of_doc[d] if d >= 0 else None for d in self.b_doc])
        self._reconcile(first, product_of_doc, d_q, b_q)
        reconcile_tree(body, tree, warehouse_total, grand_total, issues)
        return ParsedReport(
            kind="batch_statement", source=path, header=layout.header, products=products, groups=groups,
            documents=documents, batches=batches, warehouse_total=totals_dict(warehouse_total),
            grand_total=totals_dict(grand_total), issues=issues, rows_read=rows_read,
        )

    def _is_warehouse_row(self, layout: _Layout, grand_total) -> bool:
        name = self.items.names[0]
        if same_text(name, layout.header.warehouse):
            return True
        if np.allclose(self.items.totals[0], grand_total[1], atol=1e-6, equal_nan=True):
            if layout.header.warehouse:
                self.issues.append(ParseIssue(
                    "warehouse_name_mismatch", f"row {self.items.rows[0]}: warehouse row {name!r} does not "
                    f"match the filter warehouse {layout.header.warehouse!r}", "low", self.items.rows[0]))
            return True
        return False

    def _role(self, i: int) -> Role:
        if self.item_has_docs[i]:
            return "leaf"
        o, inc, out, c = self.items.totals[i]
        # A product that moved in the period has documents; only a group moves without them.
        if abs(inc) > tolerance(inc) or abs(out) > tolerance(out) or abs(o - c) > tolerance(o):
            return "group"
        return "either"

    def _documents_frame(self, product_of_doc: list[str | None], q: np.ndarray,
                         doc_when: pd.Series) -> pd.DataFrame:
        data = {
            "product": product_of_doc, "row": np.array(self.d_row, dtype="int64"),
            "doc_seq": np.array(self.d_seq, dtype="int64"), "doc_type": self.d_type, "doc_kind": self.d_kind,
            "doc_number": self.d_number, "doc_datetime": doc_when,
        }
        for c, name in enumerate(QUANTITY_COLUMNS):
            data[name] = q[:, c]
        return pd.DataFrame(data, columns=DOCUMENT_COLUMNS)

    def _batches_frame(self, product_of_doc: list[str | None], q: np.ndarray,
                       doc_when: pd.Series) -> pd.DataFrame:
        doc = np.array(self.b_doc, dtype="int64")

        def per_doc(values: list, dtype=object):
            padded = np.array(list(values) + [None], dtype=dtype)  # index -1: no document
            return padded[doc] if len(doc) else np.array([], dtype=dtype)

        no_doc = doc < 0
        doc_row = np.array(self.d_row + [0], dtype="int64")[doc]
        doc_datetime = np.append(doc_when.to_numpy(), np.array(["NaT"], dtype=doc_when.dtype))[doc]
        data = {
            "product": per_doc(product_of_doc), "doc_row": pd.arrays.IntegerArray(doc_row, no_doc),
            "row": np.array(self.b_row, dtype="int64"), "doc_type": per_doc(self.d_type),
            "doc_kind": per_doc(self.d_kind), "doc_number": per_doc(self.d_number),
            "doc_datetime": pd.Series(doc_datetime),
            "batch_arrival": pd.to_datetime(pd.Series(self.b_arrival, dtype=object)),
            "labelled": np.array(self.b_labelled, dtype=bool),
        }
        for c, name in enumerate(QUANTITY_COLUMNS):
            data[name] = q[:, c]
        return pd.DataFrame(data, columns=BATCH_COLUMNS)

    # -- arithmetic -----------------------------------------------------------------
    def _reconcile(self, first_item: int, product_of_doc: list[str | None], d_q: np.ndarray,
                   b_q: np.ndarray) -> None:
        """Balance, batches = document, documents = product, document chain: issues, never errors."""
        issues = self.issues
        b_doc = np.array(self.b_doc, dtype="int64")
        b_products = [product_of_doc[d] if d >= 0 else None for d in self.b_doc]
        _balance_issues(b_q, self.b_row, "batch", b_products, issues)
        _balance_issues(d_q, self.d_row, "document", product_of_doc, issues)
        # products with documents (static ones balance by construction; groups follow their rows)
        moved_items = [i for i in range(first_item, len(self.items.names)) if self.item_has_docs[i]]
        p_q = np.array([self.items.totals[i] for i in moved_items], dtype=float).reshape(-1, 4)
        _balance_issues(p_q, [self.items.rows[i] for i in moved_items], "product",
                        [self.items.names[i] for i in moved_items], issues)

        # a document is the sum of its batches
        sums = np.zeros((len(self.d_row) + 1, 4))
        if len(b_doc):
            np.add.at(sums, b_doc, b_q)  # orphan batches (-1) land in the spare last slot
        for d in _differing_rows(d_q, sums[:-1]):
            issues.append(ParseIssue(
                "document_batches_mismatch", f"row {self.d_row[d]}: the document is not the sum of its batch rows "
                f"({_diff_text(d_q[d], sums[d])})", "medium", self.d_row[d], product_of_doc[d]))

        # consecutive documents of one product chain: closing of one = opening of the next
        d_item = np.array(self.d_item, dtype="int64")
        if len(d_item) > 1:
            same = d_item[1:] == d_item[:-1]
            gap = np.abs(d_q[1:, 0] - d_q[:-1, 3]) > _tol(d_q[:-1, 3])
            for k in np.flatnonzero(same & gap):
                issues.append(ParseIssue(
                    "document_chain_break", f"row {self.d_row[k + 1]}: opening {d_q[k + 1, 0]:.3f} does not "
                    f"continue the previous document's closing {d_q[k, 3]:.3f} (row {self.d_row[k]})",
                    "medium", self.d_row[k + 1], product_of_doc[k + 1]))

        # a product is the sum of its documents: first opening, total in/out, last closing
        first_doc: dict[int, int] = {}
        last_doc: dict[int, int] = {}
        for k, item in enumerate(self.d_item):
            first_doc.setdefault(item, k)
            last_doc[item] = k
        moved = np.zeros((len(self.items.names) + 1, 4))
        if len(d_item):
            np.add.at(moved, d_item, d_q)
        items = [item for item in first_doc if item >= first_item]
        if not items:
            return
        first = np.array([first_doc[i] for i in items])
        last = np.array([last_doc[i] for i in items])
        expected = np.array([self.items.totals[i] for i in items], dtype=float)
        actual = np.column_stack([d_q[first, 0], moved[items, 1], moved[items, 2], d_q[last, 3]])
        for k in _differing_rows(expected, actual):
            item = items[k]
            row, name = self.items.rows[item], self.items.names[item]
            issues.append(ParseIssue(
                "product_documents_mismatch", f"row {row}: product {name!r} does not match its documents "
                f"({_diff_text(expected[k], actual[k])})", "medium", row, name))


def _quantity_array(q: list[tuple[float, float, float, float]]) -> np.ndarray:
    """An (n, 4) float array; fromiter skips the per-tuple dispatch np.array pays on 100,000s of rows."""
    return np.fromiter(chain.from_iterable(q), dtype=float, count=4 * len(q)).reshape(-1, 4)


def _tol(values: np.ndarray) -> np.ndarray:
    return tolerance_array(values)


def _differing_rows(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    return np.flatnonzero((np.abs(expected - actual) > _tol(expected)).any(axis=1))


def _diff_text(expected, actual) -> str:
    return ", ".join(f"{name} {a:.3f} vs {e:.3f}" for name, e, a in zip(QUANTITY_COLUMNS, expected, actual)
                     if abs(e - a) > tolerance(e))


def _balance_issues(q: np.ndarray, rows: list[int], what: str, products: list[str | None],
                    issues: list[ParseIssue]) -> None:
    """opening + incoming - outgoing = closing on every row of a kind."""
    if not len(q):
        return
    off = q[:, 0] + q[:, 1] - q[:, 2] - q[:, 3]
    bad = np.abs(off) > _tol(q[:, 3])
    for i in np.flatnonzero(bad):
        issues.append(ParseIssue(
            "balance_mismatch", f"row {rows[i]}: {what} balance does not hold: {q[i, 0]:.3f} + {q[i, 1]:.3f} "
            f"- {q[i, 2]:.3f} = {q[i, 0] + q[i, 1] - q[i, 2]:.3f}, closing says {q[i, 3]:.3f}",
            "medium", rows[i], products[i]))

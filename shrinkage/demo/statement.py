"""Movement documents and their rendering into a 1C batch statement (docs/DOMAIN.md section A).

Quantities are held as integer grams so that every identity of the statement (opening + in
− out = closing, batches sum to their document, documents chain, children sum to parents)
holds exactly once written as kilograms with three decimals.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal

TITLE = "Ведомость по партиям номенклатуры"
UNIT_FILTER = 'Номенклатура.Базовая единица по классификатору Равно "кг"'
GROUPING_LEVELS = ("Склад", "Номенклатура", "Документ движения", "Партия.Дата прихода")
CAPTIONS = ("Начальный остаток", "Приход", "Расход", "Конечный остаток")
QUANTITY_CAPTION_PREFIX = "Количество "
TOTAL_TEXT = "Итого"

RowKind = Literal["warehouse", "group", "product", "document", "batch", "total"]


@lru_cache(maxsize=1 << 16)  # batch arrivals repeat on every document; strftime is the hot spot
def format_moment(moment: datetime) -> str:
    """1C's date-time text: zero-padded date, hour without a leading zero (``4.03`` → ``04.03.2025 9:15:00``)."""
    return f"{moment:%d.%m.%Y} {moment.hour}:{moment:%M:%S}"


def batch_label(arrival: datetime | None) -> str:
    """A batch row's text: its arrival date-time, or nothing for the "no batch" line."""
    return "" if arrival is None else format_moment(arrival)


def format_document(doc_type: str, number: int, moment: datetime) -> str:
    return f"{doc_type} {number:015d} от {format_moment(moment)}"


@dataclass(frozen=True)
class BatchLine:
    """One batch under a document: its book balance before, in, out and after (grams).

    ``arrival`` None is 1C's "no batch" line (an empty label; its balance may be negative).
    """

    arrival: datetime | None
    opening: int
    incoming: int
    outgoing: int
    closing: int


@dataclass(frozen=True)
class MovementDocument:
    product: str
    doc_type: str
    number: int
    moment: datetime
    lines: tuple[BatchLine, ...]

    @property
    def opening(self) -> int:
        return sum(line.opening for line in self.lines)

    @property
    def incoming(self) -> int:
        return sum(line.incoming for line in self.lines)

    @property
    def outgoing(self) -> int:
        return sum(line.outgoing for line in self.lines)

    @property
    def closing(self) -> int:
        return sum(line.closing for line in self.lines)

    @property
    def text(self) -> str:
        return format_document(self.doc_type, self.number, self.moment)


@dataclass(frozen=True)
class StatementRow:
    kind: RowKind
    depth: int  # group rows: nesting (0 = top group); product rows: groups above it; 0 for other kinds
    text: str
    opening: int
    incoming: int
    outgoing: int
    closing: int


@dataclass(frozen=True)
class Statement:
    warehouse: str
    period_start: date
    period_end: date  # inclusive, as printed in the header
    rows: tuple[StatementRow, ...]

    @property
    def period_text(self) -> str:
        return f"Период: {self.period_start:%d.%m.%Y} - {self.period_end:%d.%m.%Y}"

    @property
    def filter_text(self) -> str:
        return f'Склад Равно "{self.warehouse}" И\n{UNIT_FILTER}'



@dataclass(frozen=True)
class CatalogueEntry:
    """What the statement needs to know of a product: its name and where it sits in the groups."""

    name: str
    group_path: tuple[str, ...]


class BookHistory:
    """Per-product documents in time order, with the product's book balance at any moment."""

    def __init__(self, opening_grams: dict[str, int], documents: Iterable[MovementDocument]):
        self._opening = dict(opening_grams)
        self._docs: dict[str, list[MovementDocument]] = {name: [] for name in self._opening}
        for doc in documents:
            self._docs.setdefault(doc.product, []).append(doc)
        for docs in self._docs.values():
            docs.sort(key=lambda d: d.moment)
        self._moments = {name: [d.moment for d in docs] for name, docs in self._docs.items()}

    def balance_before(self, product: str, moment: datetime) -> int:
        """Book balance just before ``moment`` (after every document strictly earlier)."""
        i = bisect.bisect_left(self._moments.get(product, []), moment)
        return self._docs[product][i - 1].closing if i else self._opening.get(product, 0)

    def documents_between(self, product: str, start: datetime, end: datetime) -> list[MovementDocument]:
        moments = self._moments.get(product, [])
        return self._docs.get(product, [])[bisect.bisect_left(moments, start):bisect.bisect_left(moments, end)]


def build_statement(
    warehouse: str,
    catalogue: Sequence[CatalogueEntry],
    history: BookHistory,
    period_start: date,
    period_end: date,
    *,
    mixed_order: bool = False,
) -> Statement:
    """Render the statement of ``period_start``..``period_end`` (inclusive days) as 1C prints it.

    Products with neither a balance nor a movement in the period are left out, as 1C does;
    a product with a balance but no movement shows as a bare product row. Each level lists
    its sub-groups, then its products, each by name; ``mixed_order`` sorts sub-groups and
    products of a level together by name instead (a product directly under the warehouse
    then lands between the groups).
    """
    start = datetime.combine(period_start, datetime.min.time())
    end = datetime.combine(period_end + timedelta(days=1), datetime.min.time())

    product_rows: dict[str, list[StatementRow]] = {}
    for entry in catalogue:
        docs = history.documents_between(entry.name, start, end)
        opening = history.balance_before(entry.name, start)
        if not docs and opening == 0:
            continue
        incoming = sum(d.incoming for d in docs)
        outgoing = sum(d.outgoing for d in docs)
        rows = [StatementRow("product", len(entry.group_path), entry.name, opening, incoming, outgoing,
                             opening + incoming - outgoing)]
        for doc in docs:
            rows.append(StatementRow("document", 0, doc.text, doc.opening, doc.incoming, doc.outgoing, doc.closing))
            rows.extend(
                StatementRow("batch", 0, batch_label(line.arrival), line.opening, line.incoming, line.outgoing,
                             line.closing)
                for line in doc.lines
            )
        product_rows[entry.name] = rows

    tree = _GroupNode("")
    for entry in catalogue:
        if entry.name in product_rows:
            tree.insert(entry.group_path, entry.name)
    body, totals = tree.render(product_rows, depth=-1, mixed_order=mixed_order)
    warehouse_row = StatementRow("warehouse", 0, warehouse, *totals)
    total_row = StatementRow("total", 0, TOTAL_TEXT, *totals)
    return Statement(warehouse, period_start, period_end, (warehouse_row, *body, total_row))


class _GroupNode:
    def __init__(self, name: str):
        self.name = name
        self.children: dict[str, _GroupNode] = {}
        self.products: list[str] = []

    def insert(self, path: tuple[str, ...], product: str) -> None:
        node = self
        for name in path:
            node = node.children.setdefault(name, _GroupNode(name))
        node.products.append(product)

    def render(self, product_rows: dict[str, list[StatementRow]], depth: int,
               mixed_order: bool = False) -> tuple[list[StatementRow], tuple[int, int, int, int]]:
        """Rows of this subtree and its totals (order: see build_statement)."""
        rows: list[StatementRow] = []
        totals = [0, 0, 0, 0]
        entries = [(name, True) for name in sorted(self.children)] + [(p, False) for p in sorted(self.products)]
        if mixed_order:
            entries.sort(key=lambda entry: entry[0].casefold())
        for name, is_group in entries:
            if is_group:
                child_rows, child_totals = self.children[name].render(product_rows, depth + 1, mixed_order)
                rows.extend(child_rows)
            else:
                prows = product_rows[name]
                rows.extend(prows)
                head = prows[0]
                child_totals = (head.opening, head.incoming, head.outgoing, head.closing)
            totals = [t + c for t, c in zip(totals, child_totals)]
        if depth >= 0:
            rows.insert(0, StatementRow("group", depth, self.name, *totals))
        return rows, (totals[0], totals[1], totals[2], totals[3])

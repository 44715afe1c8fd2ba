"""1C's book of one product: balances per batch, FIFO by book, and the "no batch" line.

The books know only what was posted. A receipt adds its batch (labelled by the receipt's
date-time); any outflow (sale, write-off, count shortage...) takes from the oldest batch
on the books first. When a sale is posted before the receipt of the goods it sold, the
batches on the books cannot cover it: the rest goes to a line without a batch (label
``NO_BATCH``), whose balance is negative until the next receipt (or a count surplus) fills
it. Every posting is a :class:`Posting`, so a product's book history can be replayed with
one document changed, as 1C does when a document is re-posted.

All quantities are integer grams.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shrinkage.demo.statement import BatchLine

NO_BATCH = None  # the label of 1C's "no batch" line (printed as an empty cell)


@dataclass(frozen=True)
class Posting:
    """What one document did to a product's books; enough to post it again.

    ``receive``: ``grams`` in, onto batch ``label`` (after filling a negative no-batch line);
    ``take``: ``grams`` out FIFO, past the batches into the no-batch line if ``allow_negative``;
    ``surplus``: a count found ``grams`` more than the books: fills the no-batch line first,
    the rest onto the newest batch on the books (``label`` if none is left).
    """

    action: Literal["receive", "take", "surplus"]
    grams: int
    label: datetime | None = None
    allow_negative: bool = False


class Books:
    """Book balances (grams) per batch label; only the no-batch line can be negative."""

    def __init__(self, opening: dict[datetime, int] | None = None):
        self.grams: dict[datetime | None, int] = dict(opening or {})

    def total(self) -> int:
        return sum(self.grams.values())

    def labels(self) -> list[datetime]:
        """Batches on the books, oldest first (the no-batch line excluded)."""
        return sorted(k for k in self.grams if k is not NO_BATCH)

    def snapshot(self) -> dict[datetime | None, int]:
        return dict(self.grams)

    def post(self, posting: Posting) -> None:
        if posting.action == "receive":
            self._fill(posting.label, posting.grams)
        elif posting.action == "take":
            self._take(posting.grams, posting.allow_negative)
        else:
            labels = self.labels()
            self._fill(labels[-1] if labels else posting.label, posting.grams)

    def _add(self, key: datetime | None, grams: int) -> None:
        value = self.grams.get(key, 0) + grams
        if value:
            self.grams[key] = value
        else:
            self.grams.pop(key, None)

    def _fill(self, label: datetime | None, grams: int) -> None:
        hole = -self.grams.get(NO_BATCH, 0)
        if hole > 0:
            fill = min(hole, grams)
            self._add(NO_BATCH, fill)
            grams -= fill
        if grams:
            if label is NO_BATCH:
                raise AssertionError("a surplus beyond the no-batch line needs a batch to go onto")
            self._add(label, grams)

    def _take(self, grams: int, allow_negative: bool) -> None:
        for label in self.labels():
            take = min(self.grams[label], grams)
            self._add(label, -take)
            grams -= take
            if not grams:
                return
        if not allow_negative:
            raise AssertionError("book outflow exceeds the book balance")  # guarded by the callers
        self._add(NO_BATCH, -grams)


def batch_lines(before: dict[datetime | None, int], after: dict[datetime | None, int]) -> tuple[BatchLine, ...]:
    """The batch rows a document prints: every batch on hand before or after it, the no-batch
    line first (an empty date sorts first in 1C), then by arrival; net in or out per batch."""
    keys = sorted(k for k in set(before) | set(after) if k is not NO_BATCH)
    if NO_BATCH in before or NO_BATCH in after:
        keys.insert(0, NO_BATCH)
    lines = []
    for key in keys:
        b, a = before.get(key, 0), after.get(key, 0)
        if b or a:
            lines.append(BatchLine(key, b, max(a - b, 0), max(b - a, 0), a))
    return tuple(lines)


def replay(opening: dict[datetime, int], postings: Iterable[Posting]) -> list[tuple[BatchLine, ...]]:
    """Post ``postings`` in order from ``opening``; the batch lines of each document."""
    books = Books(opening)
    out = []
    for posting in postings:
        before = books.snapshot()
        books.post(posting)
        out.append(batch_lines(before, books.grams))
    return out

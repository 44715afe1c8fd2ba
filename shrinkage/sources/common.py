"""Pieces both report readers share: captions, periods, quantity cells, the name-row tree.

Captions are found by their text, never by fixed row numbers: 1C layouts shift by a row
or a column depending on the report settings and on what a user did to the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd

from shrinkage.config import CONFIG
from shrinkage.sources.cells import NotFiniteError, column_letter, normalize_text, parse_quantity
from shrinkage.sources.dates import read_period
from shrinkage.sources.hierarchy import Nesting, Role, nest_rows
from shrinkage.sources.model import GROUP_COLUMNS, PRODUCT_COLUMNS, QUANTITY_COLUMNS, ParseIssue, ReportError

HEADER_SCAN_ROWS = 60
TOTAL_CAPTION = "итого"

# caption (lower case, without the "Количество " prefix) -> quantity column name
QUANTITY_CAPTIONS = {
    "начальный остаток": "opening",
    "приход": "incoming",
    "расход": "outgoing",
    "конечный остаток": "closing",
}
_CAPTION_PREFIX = re.compile(r"^(?:количество|кол-во)\s+")
_DAY = r"(\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}-\d{1,2}-\d{1,2})"  # D.M.Y, D/M/Y or ISO
_PERIOD_PATTERNS = (
    re.compile(rf"период\s*:\s*{_DAY}\s*[-–—]\s*{_DAY}", re.I),
    re.compile(rf"период\s+с\s+{_DAY}\s*(?:г\.?)?\s+по\s+{_DAY}", re.I),
)


def caption_key(value: object) -> str:
    """A header cell reduced to the form captions are compared in."""
    if not isinstance(value, str):
        return ""
    return _CAPTION_PREFIX.sub("", normalize_text(value).lower().rstrip(":"))


def find_quantity_columns(rows: list[list[object]], limit: int = HEADER_SCAN_ROWS) -> tuple[int, dict[str, int]] | None:
    """(row index, {quantity name: column index}) of the first row holding all four captions."""
    for r, row in enumerate(rows[:limit]):
        found: dict[str, int] = {}
        for c, value in enumerate(row):
            name = QUANTITY_CAPTIONS.get(caption_key(value))
            if name and name not in found:
                found[name] = c
        if len(found) == 4:
            return r, found
    return None


def quantity_layout(path: Path, rows: list[list[object]], captions: str, hint: str,
                    report: str) -> tuple[int, tuple[int, ...]]:
    """(caption row index, the four quantity columns in contract order), or a ReportError naming
    the ``captions`` a ``report`` must have and what to do (``hint``)."""
    found = find_quantity_columns(rows)
    if found is None:
        raise ReportError(path, f"the {report} has no header row with the captions {captions}", hint,
                          cause="layout")
    caption_row, columns = found
    return caption_row, tuple(columns[name] for name in QUANTITY_COLUMNS)


def find_period(texts: list[str]) -> tuple[date, date] | None:
    """The report period from ``Период: D - D`` or ``за период с D по D`` in any of the texts."""
    for text in texts:
        for pattern in _PERIOD_PATTERNS:
            match = pattern.search(text)
            period = read_period(match.group(1), match.group(2)) if match else None
            if period is not None:
                return period
    return None


def header_texts(rows: list[list[object]], stop: int) -> list[str]:
    return [v for row in rows[:stop] for v in row if isinstance(v, str) and v.strip()]


def row_is_blank(row: list[object]) -> bool:
    for value in row:
        if value is None or value == "":
            continue
        if isinstance(value, str) and not value.strip():
            continue
        return False
    return True


def tolerance(value: float) -> float:
    tol = CONFIG.tolerances
    return tol.balance_kg + tol.balance_rel * abs(value)


def tolerance_array(values: np.ndarray) -> np.ndarray:
    tol = CONFIG.tolerances
    return tol.balance_kg + tol.balance_rel * np.abs(values)


@dataclass
class QuantityReader:
    """Reads the four quantity cells of a row; a bad cell becomes NaN plus a ParseIssue."""

    columns: tuple[int, int, int, int]
    issues: list[ParseIssue]
    width: int = field(init=False)
    cells: itemgetter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.width = max(self.columns) + 1
        self.cells = itemgetter(*self.columns)  # four cells in one C call: read() runs once per row

    def read(self, row: list[object], row_number: int) -> tuple[float, float, float, float]:
        if len(row) < self.width:
            row = list(row) + [""] * (self.width - len(row))
        a, b, c, d = self.cells(row)
        # Fast path inline: calamine gives floats for numbers and "" for empty cells.
        if a.__class__ is not float:
            a = 0.0 if a == "" else self._one(a, row_number, 0)
        if b.__class__ is not float:
            b = 0.0 if b == "" else self._one(b, row_number, 1)
        if c.__class__ is not float:
            c = 0.0 if c == "" else self._one(c, row_number, 2)
        if d.__class__ is not float:
            d = 0.0 if d == "" else self._one(d, row_number, 3)
        return a, b, c, d

    def _one(self, value: object, row_number: int, position: int) -> float:
        if value.__class__ is float:
            return value
        if value == "" or value is None:
            return 0.0
        try:
            return parse_quantity(value)
        except ValueError as exc:
            what = "not a finite number" if isinstance(exc, NotFiniteError) else "not a number"
            self.issues.append(ParseIssue(
                "bad_number",
                f"row {row_number}, column {column_letter(self.columns[position])}: {value!r} is {what}; "
                "fix the cell in the source file and export again", "high", row_number))
            return float("nan")

    def has_any_value(self, row: list[object]) -> bool:
        for c in self.columns:
            if c < len(row):
                value = row[c]
                if value is not None and value != "" and not (isinstance(value, str) and not value.strip()):
                    return True
        return False


@dataclass
class NameRows:
    """The rows of a report that carry a name (warehouse, groups, products), in file order."""

    names: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    totals: list[tuple[float, float, float, float]] = field(default_factory=list)

    def add(self, name: str, row: int, totals: tuple[float, float, float, float]) -> int:
        self.names.append(name)
        self.rows.append(row)
        self.totals.append(totals)
        return len(self.names) - 1


@dataclass(frozen=True)
class Tree:
    nesting: Nesting
    group_paths: list[str]  # the " / "-joined names of each row's ancestor groups


def build_tree(items: NameRows, roles: list[Role], root_target) -> Tree:
    nesting = nest_rows(items.totals, roles, root_target, CONFIG.tolerances.balance_kg)
    paths: list[str] = []
    for parent in nesting.parent:
        if parent < 0:
            paths.append("")
        else:
            prefix = paths[parent]
            paths.append(f"{prefix} / {items.names[parent]}" if prefix else items.names[parent])
    return Tree(nesting, paths)


def tree_frames(items: NameRows, tree: Tree) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(products, groups) DataFrames in the contract's column order."""
    is_group = tree.nesting.is_group
    totals = np.array(items.totals, dtype=float).reshape(-1, 4)
    product_idx = [i for i, g in enumerate(is_group) if not g]
    group_idx = [i for i, g in enumerate(is_group) if g]

    def frame(index: list[int], first: str, columns: list[str]) -> pd.DataFrame:
        data = {
            first: [items.names[i] for i in index],
            "group_path": [tree.group_paths[i] for i in index],
            "row": np.array([items.rows[i] for i in index], dtype="int64"),
        }
        for c, name in enumerate(QUANTITY_COLUMNS):
            data[name] = totals[index, c] if index else np.array([], dtype=float)
        return pd.DataFrame(data, columns=columns)

    return frame(product_idx, "product", PRODUCT_COLUMNS), frame(group_idx, "group", GROUP_COLUMNS)


def totals_dict(pair: tuple[int, tuple] | None) -> dict | None:
    """(row, totals) as the contract's {"row", "opening", "incoming", "outgoing", "closing"}."""
    if pair is None:
        return None
    row, totals = pair
    return {"row": row, **dict(zip(QUANTITY_COLUMNS, totals))}


def mismatch_text(expected, actual) -> str:
    parts = []
    for name, e, a in zip(QUANTITY_COLUMNS, expected, actual):
        if abs(e - a) > tolerance(e):
            parts.append(f"{name} {a:.3f} vs {e:.3f}")
    return ", ".join(parts)


def differs(expected, actual) -> bool:
    for e, a in zip(expected, actual):
        if abs(e - a) > tolerance(e):  # NaN compares False: bad numbers are reported once, as bad_number
            return True
    return False


def reconcile_tree(items: NameRows, tree: Tree, root: tuple[int, tuple] | None,
                   grand_total: tuple[int, tuple] | None, issues: list[ParseIssue]) -> None:
    """Groups = sum of their children, top level = warehouse row, Итого = warehouse row."""
    n = len(items.names)
    totals = np.array(items.totals, dtype=float).reshape(-1, 4)
    parent = np.array(tree.nesting.parent, dtype=int)
    sums = np.zeros((n + 1, 4))
    if n:
        np.add.at(sums, parent, totals)  # parent -1 lands in the last slot (top level); NaN mutes the check
    for i in (i for i, g in enumerate(tree.nesting.is_group) if g):
        if differs(totals[i], sums[i]):
            issues.append(ParseIssue(
                "group_sum_mismatch",
                f"row {items.rows[i]}: group {items.names[i]!r} is not the sum of its rows "
                f"({mismatch_text(totals[i], sums[i])})", "medium", items.rows[i], items.names[i]))
    if root is not None:
        row, root_totals = root
        if n and differs(root_totals, sums[n]):
            issues.append(ParseIssue(
                "warehouse_total_mismatch",
                f"row {row}: the warehouse row is not the sum of the groups and products under it "
                f"({mismatch_text(root_totals, sums[n])})", "medium", row))
    if grand_total is not None:
        reference = root if root is not None else (None, tuple(sums[n]))
        row, total = grand_total
        if reference[1] is not None and differs(reference[1], total):
            issues.append(ParseIssue(
                "grand_total_mismatch",
                f"row {row}: Итого does not match the warehouse total ({mismatch_text(reference[1], total)})",
                "medium", row))


def flag_duplicates(keys: list[tuple], rows: list[int], what: str, issues: list[ParseIssue],
                    products: list[str | None] | None = None) -> None:
    """A ParseIssue for every row whose content repeats an earlier row in the same scope."""
    if len(set(keys)) == len(keys):  # the usual case, decided without a Python-level loop
        return
    seen: dict[tuple, int] = {}
    for i, key in enumerate(keys):
        first = seen.get(key)
        if first is None:
            seen[key] = rows[i]
            continue
        issues.append(ParseIssue(
            "duplicate_row",
            f"row {rows[i]}: {what} repeats row {first} exactly (kept; check whether the file "
            "was assembled from overlapping exports)", "medium", rows[i],
            products[i] if products else None))


def same_text(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and normalize_text(a).casefold() == normalize_text(b).casefold()

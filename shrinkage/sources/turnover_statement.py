"""Reader for the flat turnover statement ("Оборотно-сальдовая ведомость").

One row per product: name | opening | incoming | outgoing | closing, optionally with
group rows above their products (told apart by sums, see hierarchy.py). The balance
identity is NOT checked per product: when the closing column is the physical count the
difference is exactly the shrinkage signal this file carries.
"""

from __future__ import annotations

from pathlib import Path

from shrinkage.sources import common
from shrinkage.sources.cells import normalize_text
from shrinkage.sources.model import ParsedReport, ParseIssue, ReportError, ReportHeader

TITLE = "Оборотно-сальдовая ведомость"
NAME_CAPTION = "номенклатура"


def looks_like_turnover_statement(rows: list[list[object]]) -> bool:
    title = TITLE.casefold()
    for row in rows[:common.HEADER_SCAN_ROWS]:
        if any(isinstance(v, str) and title in v.casefold() for v in row):
            return True
    captions = common.find_quantity_columns(rows)
    return captions is not None and any(common.caption_key(v) == NAME_CAPTION for v in rows[captions[0]])


def parse_turnover_statement(path: Path, rows: list[list[object]]) -> ParsedReport:
    """Parse a turnover statement grid (row 1 at index 0) into the ParsedReport contract."""
    caption_row, quantity_columns = common.quantity_layout(
        path, rows, "Номенклатура / Начальный остаток / Приход / Расход / Конечный остаток",
        "export the report with these columns", report="turnover statement")
    header_row = rows[caption_row]
    name_column = next((c for c, v in enumerate(header_row) if common.caption_key(v) == NAME_CAPTION),
                       min(quantity_columns) - 1 if min(quantity_columns) > 0 else 0)
    title = next((normalize_text(v) for row in rows[:caption_row + 1] for v in row
                  if isinstance(v, str) and TITLE.casefold() in v.casefold()), TITLE)
    period = common.find_period(common.header_texts(rows, caption_row + 1) + [path.stem])
    header = ReportHeader(title=title, period_start=period[0] if period else None,
                          period_end=period[1] if period else None)

    issues: list[ParseIssue] = []
    quantities = common.QuantityReader(quantity_columns, issues)
    items = common.NameRows()
    grand_total = None
    rows_read = 0
    start = caption_row + 1
    # A second caption row ("Количество ...") right under the first belongs to the header.
    if start < len(rows) and common.find_quantity_columns(rows[start:start + 1]) is not None:
        start += 1
    for r in range(start, len(rows)):
        row = rows[r]
        number = r + 1
        name = normalize_text(row[name_column]) if name_column < len(row) else ""
        if not name:
            if quantities.has_any_value(row):
                rows_read += 1
                issues.append(ParseIssue(
                    "unnamed_row", f"row {number}: quantities without a product name (kept with an empty "
                    "name); fill the name in the source file", "high", number))
                items.add("", number, quantities.read(row, number))
            continue
        rows_read += 1
        if name.casefold() == common.TOTAL_CAPTION:
            grand_total = (number, quantities.read(row, number))
            trailing = [i + 1 for i in range(r + 1, len(rows)) if not common.row_is_blank(rows[i])]
            if trailing:
                issues.append(ParseIssue(
                    "rows_after_total", f"rows {trailing[0]}..{trailing[-1]} after Итого were ignored",
                    "low", trailing[0]))
            break
        items.add(name, number, quantities.read(row, number))
    if not items.names:
        raise ReportError(path, "the turnover statement has no product rows",
                          "check the report settings in 1C and export again", row=caption_row + 1,
                          cause="layout")

    tree = common.build_tree(items, ["either"] * len(items.names), grand_total[1] if grand_total else None)
    if not tree.nesting.exact:
        issues.append(ParseIssue(
            "hierarchy_uncertain", "the group rows could not be matched to their contents by sums; "
            "the group tree is a best guess (see the sum mismatches)", "medium"))
    products, groups = common.tree_frames(items, tree)
    common.flag_duplicates(list(zip(items.names, items.totals)), items.rows, "the row", issues, items.names)
    common.reconcile_tree(items, tree, None, grand_total, issues)
    return ParsedReport(
        kind="turnover_statement", source=path, header=header, products=products, groups=groups,
        grand_total=common.totals_dict(grand_total),
        issues=issues, rows_read=rows_read,
    )

"""Variants of the report fixtures, made at test time: other containers, other date formats, bad values.

Each variant is built from the row specs of ``tests/sources_helpers.py`` (the same rows as
the committed fixtures), so a test can read the variant and the fixture and compare.

* :func:`write_html` lays a grid out as 1C's "save as HTML" does: one ``<table>``, merged
  cells as ``colspan`` / ``rowspan``, ``&nbsp;`` in empty cells and as thousands separator,
  comma decimals, ``<br>`` inside the ``Отбор`` filter, a ``<meta charset>`` (UTF-8 or
  windows-1251).
* :func:`write_spreadsheetml` writes Excel 2003 XML ("XML Spreadsheet").
* :func:`restyle_dates` rewrites every date of a grid in another format (ISO, no seconds,
  month first as a US session writes).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from tests import sources_helpers as h

Grid = list[list[object]]
# (row, column) of a merged cell's top-left slot -> (colspan, rowspan); 0-based.
Merges = dict[tuple[int, int], tuple[int, int]]

_STYLE = """body { background: #ffffff; margin: 0; font-family: Arial; font-size: 8pt; font-style: normal; }
table { table-layout: fixed; padding: 0px; padding-left: 2px; vertical-align:bottom; border-collapse:collapse;
  width: 100%; font-family: Arial; font-size: 8pt; font-style: normal; }
td { padding: 0px; padding-left: 2px; overflow:hidden; }
td.R0C0 { font-size: 12pt; font-weight: bold; }"""


def one_c_merges(grid: Grid) -> Merges:
    """Where a 1C batch statement merges cells: the title over A:D, each caption over E:F
    (why column F is always empty), and the «Отбор:» label over two rows."""
    merges: Merges = {}
    for r, row in enumerate(grid):
        text = row[0] if row else None
        if text == "Ведомость по партиям номенклатуры":
            merges[(r, 0)] = (4, 1)
        if text == "Отбор:" and r + 1 < len(grid) and grid[r + 1][0] is None:
            merges[(r, 0)] = (1, 2)
        for c, value in enumerate(row):
            if isinstance(value, str) and "Начальный остаток" in value and c + 1 < len(row) and row[c + 1] is None:
                merges[(r, c)] = (2, 1)
    return merges


def one_c_number(value: float) -> str:
    """A quantity as 1C prints it in HTML: 3 decimals, comma, no-break space between thousands."""
    whole, fraction = f"{abs(value):,.3f}".split(".")
    return ("-" if value < 0 else "") + whole.replace(",", "&nbsp;") + "," + fraction


def _cell_html(value: object, r: int, c: int) -> str:
    if value is None or value == "":
        return "&nbsp;" if (r + c) % 2 else ""
    if isinstance(value, float):
        return one_c_number(value)
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M:%S").lstrip("0")
    text = html.escape(str(value), quote=False).replace("\n", "<br>")
    return f'<span style="white-space: nowrap;">{text}</span>'


def to_html(grid: Grid, merges: Merges | None = None, *, charset: str = "utf-8") -> str:
    merges = one_c_merges(grid) if merges is None else merges
    covered: set[tuple[int, int]] = set()
    for (r, c), (colspan, rowspan) in merges.items():
        for rr in range(r, r + rowspan):
            for cc in range(c, c + colspan):
                if (rr, cc) != (r, c):
                    assert grid[rr][cc] in (None, ""), f"merge over a filled cell at {(rr, cc)}"
                    covered.add((rr, cc))
    width = max(len(row) for row in grid)
    lines = [
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">',
        "<html>", "<head>",
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">',
        '<meta name="GENERATOR" content="1C:Enterprise">',
        f'<style type="text/css">\n{_STYLE}\n</style>', "</head>", "<body>",
        '<table cellspacing="0" border="0" cellpadding="0">',
        *(f'<col width="{323 if c == 0 else 79}">' for c in range(width)),
    ]
    for r, row in enumerate(grid):
        cells = []
        for c in range(width):
            if (r, c) in covered:
                continue
            value = row[c] if c < len(row) else None
            attrs = f' class="R{r}C{c}"'
            colspan, rowspan = merges.get((r, c), (1, 1))
            if colspan > 1:
                attrs += f' colspan="{colspan}"'
            if rowspan > 1:
                attrs += f' rowspan="{rowspan}"'
            cells.append(f"<td{attrs}>{_cell_html(value, r, c)}</td>")
        lines.append(f'<tr class="R{r}" style="height: 16px;">\n' + "\n".join(cells) + "\n</tr>")
    lines += ["</table>", "</body>", "</html>", ""]
    return "\n".join(lines)


def write_html(path: Path, grid: Grid, merges: Merges | None = None, *, charset: str = "utf-8") -> Path:
    encoding = "cp1251" if charset.lower() in ("windows-1251", "cp1251") else charset
    path.write_bytes(to_html(grid, merges, charset=charset).encode(encoding, errors="xmlcharrefreplace"))
    return path


def write_spreadsheetml(path: Path, grid: Grid, *, sheets_before: Sequence[tuple[str, Grid, bool]] = (),
                        hidden: bool = False) -> Path:
    """Excel 2003 XML with ``grid`` as sheet TDSheet; empty cells skipped with ss:Index, as Excel does."""
    def sheet(name: str, rows: Grid, is_hidden: bool) -> str:
        out = [f'<Worksheet ss:Name="{html.escape(name)}"><Table>']
        for r, row in enumerate(rows, start=1):
            cells, gap = [], False
            for c, value in enumerate(row, start=1):
                if value is None or value == "":
                    gap = True
                    continue
                index = f' ss:Index="{c}"' if gap else ""
                gap = False
                if isinstance(value, float):
                    data = f'<Data ss:Type="Number">{value!r}</Data>'
                elif isinstance(value, datetime):
                    data = f'<Data ss:Type="DateTime">{value:%Y-%m-%dT%H:%M:%S}.000</Data>'
                else:
                    data = f'<Data ss:Type="String">{html.escape(str(value), quote=False)}</Data>'
                cells.append(f"<Cell{index}>{data}</Cell>")
            out.append(f'<Row ss:Index="{r}">' + "".join(cells) + "</Row>" if cells else "")
        out.append("</Table>")
        if is_hidden:
            out.append('<WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel">'
                       "<Visible>SheetHidden</Visible></WorksheetOptions>")
        out.append("</Worksheet>")
        return "\n".join(out)

    body = [sheet(name, rows, is_hidden) for name, rows, is_hidden in sheets_before]
    body.append(sheet("TDSheet", grid, hidden))
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<?mso-application progid="Excel.Sheet"?>\n'
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
            'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel">\n' + "\n".join(body) + "\n</Workbook>\n")
    path.write_text(text, encoding="utf-8")
    return path


# -- dates ---------------------------------------------------------------------------------

_ONE_C_DATE = re.compile(r"(?P<d>\d{1,2})\.(?P<m>\d{2})\.(?P<y>\d{4})(?: (?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2}))?")

DATE_STYLES: dict[str, Callable[[datetime, bool], str]] = {
    # style -> (moment, has a time) -> text
    "iso": lambda t, timed: t.strftime("%Y-%m-%d %H:%M:%S" if timed else "%Y-%m-%d"),
    "iso_t": lambda t, timed: t.strftime("%Y-%m-%dT%H:%M:%S" if timed else "%Y-%m-%d"),
    "no_seconds": lambda t, timed: t.strftime("%d.%m.%Y %H:%M" if timed else "%d.%m.%Y"),
    "padded": lambda t, timed: t.strftime("%d.%m.%Y %H:%M:%S" if timed else "%d.%m.%Y"),
    # month first with dots, hour as 1C writes it (what a mis-set regional format gives)
    "us_dots": lambda t, timed: f"{t.month}.{t.day:02d}.{t.year}" + (f" {t.hour}:{t:%M:%S}" if timed else ""),
    # an English (US) session: M/D/YYYY h:MM:SS AM/PM
    "us": lambda t, timed: f"{t.month}/{t.day}/{t.year}" + (
        f" {(t.hour % 12) or 12}:{t:%M:%S} {'PM' if t.hour >= 12 else 'AM'}" if timed else ""),
}


def restyle_dates(grid: Grid, style: str, *, period_too: bool = True) -> Grid:
    """Every 1C date in the grid's texts (document rows, batch rows and, unless told, the period) rewritten."""
    render = DATE_STYLES[style]

    def sub(match: re.Match) -> str:
        timed = match["H"] is not None
        moment = datetime(int(match["y"]), int(match["m"]), int(match["d"]),
                          int(match["H"] or 0), int(match["M"] or 0), int(match["S"] or 0))
        return render(moment, timed)

    out = []
    for row in grid:
        new_row = []
        for value in row:
            if isinstance(value, str) and (period_too or not value.startswith("Период")):
                value = _ONE_C_DATE.sub(sub, value)
            new_row.append(value)
        out.append(new_row)
    return out


def batch_rows_as_datetimes(grid: Grid) -> Grid:
    """Batch rows («21.02.2025 8:40:00») as real date cells, as Excel leaves them after a re-save."""
    out = []
    for row in grid:
        text = row[0]
        match = _ONE_C_DATE.fullmatch(text) if isinstance(text, str) else None
        if match and match["H"] is not None:
            row = [datetime(int(match["y"]), int(match["m"]), int(match["d"]), int(match["H"]), int(match["M"]),
                            int(match["S"])), *row[1:]]
        out.append(list(row))
    return out


# -- bad values ------------------------------------------------------------------------------

def clean_rows() -> list[tuple]:
    return [(h.HERRING_GROUP, *h.HERRING_TOTALS), *h.HERRING_ROWS]


def with_rows(rows: list[tuple], **kwargs) -> Grid:
    return h.batch_statement_grid(rows, warehouse_totals=kwargs.pop("warehouse_totals", h.HERRING_TOTALS),
                                  **kwargs)


def set_cell(rows: list[tuple], index: int, column: int, value: object) -> list[tuple]:
    """``rows`` with row ``index``'s field ``column`` (0 text, 1-4 quantities) replaced."""
    out = [list(r) for r in rows]
    out[index][column] = value
    return [tuple(r) for r in out]


def retitle(rows: list[tuple], old: str, new: str) -> list[tuple]:
    """Every row text with ``old`` replaced by ``new`` (a product, a document type)."""
    return [(r[0].replace(old, new) if isinstance(r[0], str) else r[0], *r[1:]) for r in rows]


GRID_ROW_OF_SPEC = 10  # worksheet row of rows[0] in a batch_statement_grid: rows[i] is row 11 + i


def with_xlsx_escapes(path: Path, replacements: dict[str, str]) -> Path:
    """Rewrite texts inside an xlsx's sheet XML (openpyxl refuses control characters; OOXML
    carries them as ``_xHHHH_`` escapes, which readers decode: that is how they reach us)."""
    import io
    import zipfile

    data = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/") or item.filename == "xl/sharedStrings.xml":
                for old, new in replacements.items():
                    body = body.replace(html.escape(old, quote=False).encode(), new.encode())
            target.writestr(item, body)
    path.write_bytes(out.getvalue())
    return path


def assert_same_report(actual, expected) -> None:
    """Two ParsedReports hold the same content (the source path aside)."""
    import pandas as pd

    assert actual.kind == expected.kind
    assert actual.header == expected.header
    for table in ("products", "groups", "documents", "batches"):
        pd.testing.assert_frame_equal(getattr(actual, table), getattr(expected, table), obj=table)
    assert actual.warehouse_total == expected.warehouse_total
    assert actual.grand_total == expected.grand_total
    assert actual.issues == expected.issues
    assert actual.rows_read == expected.rows_read


def write_ods(path: Path, grid: Grid) -> Path:
    """An OpenDocument spreadsheet (1C's «ODS» save option): the content.xml of one table."""
    import zipfile

    def cell(value: object) -> str:
        if value is None or value == "":
            return "<table:table-cell/>"
        if isinstance(value, float):
            return (f'<table:table-cell office:value-type="float" office:value="{value!r}">'
                    f'<text:p>{value}</text:p></table:table-cell>')
        lines = "".join(f"<text:p>{html.escape(line, quote=False)}</text:p>" for line in str(value).split("\n"))
        return f'<table:table-cell office:value-type="string">{lines}</table:table-cell>'

    rows = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in grid)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="TDSheet">{rows}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path

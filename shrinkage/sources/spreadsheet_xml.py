"""Excel 2003 XML ("XML Spreadsheet", SpreadsheetML) as cell grids.

Not a format the 1C platform writes itself, but what web front ends, report add-ons and
Excel's own "XML Spreadsheet 2003" save produce, very often under an ``.xls`` name (Excel
opens it without complaint, so nobody notices). The layout maps one to one onto a grid:
``<Row>`` / ``<Cell>`` with ``ss:Index`` skipping positions, ``ss:MergeAcross`` /
``ss:MergeDown`` merging (text in the top-left slot, covered slots empty), ``<Data
ss:Type>`` giving numbers, date-times and text. A worksheet whose options say
``SheetHidden`` / ``SheetVeryHidden`` is marked hidden.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree

from shrinkage.sources.model import INCOMPLETE, RE_EXPORT_HINT, RECOPY_HINT, ReportError

SS = "{urn:schemas-microsoft-com:office:spreadsheet}"
X = "{urn:schemas-microsoft-com:office:excel}"
_HIDDEN_STATES = {"SheetHidden", "SheetVeryHidden"}
_CUT_OFF_SIGNS = ("no element found", "unclosed token")
MAX_INDEX = 100_000  # an ss:Index beyond this is damage, not layout


def spreadsheetml_worksheets(path: Path, data: bytes) -> list[tuple[str, list[list[object]], bool]]:
    """(name, grid, hidden) per worksheet in workbook order; ReportError when the XML is damaged."""
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        # SpreadsheetML has no DTD; entity declarations are how XML bombs are built.
        raise ReportError(path, "not a 1C batch/turnover statement: an XML file with a document type "
                          "declaration, which Excel XML never has", RE_EXPORT_HINT, cause="not_a_report")
    sheets: list[tuple[str, list[list[object]], bool]] = []
    grid: list[list[object]] = []
    row: list[object] = []
    name, hidden, row_index, column = "", False, 0, 0
    try:
        for event, element in ElementTree.iterparse(io.BytesIO(data), events=("start", "end")):
            tag = element.tag
            if event == "start":
                if tag == f"{SS}Worksheet":
                    name, hidden, grid, row_index = element.get(f"{SS}Name", ""), False, [], 0
                elif tag == f"{SS}Row":
                    row_index = _index(element, row_index + 1)
                    row, column = [], 0
                continue
            if tag == f"{SS}Cell":
                column = _index(element, column + 1)
                _put(row, column - 1, _cell_value(element))
                column += int(element.get(f"{SS}MergeAcross", "0") or 0)
                element.clear()
            elif tag == f"{SS}Row":
                while len(grid) < row_index - 1:
                    grid.append([])
                grid.append(row)
                element.clear()
            elif tag == f"{X}Visible" and (element.text or "").strip() in _HIDDEN_STATES:
                hidden = True
            elif tag == f"{SS}Worksheet":
                sheets.append((name or f"Sheet{len(sheets) + 1}", _square(grid), hidden))
                element.clear()
    except ElementTree.ParseError as exc:
        if any(sign in str(exc) for sign in _CUT_OFF_SIGNS) and not data.rstrip().endswith(b">"):
            raise ReportError(path, f"the XML spreadsheet is {INCOMPLETE}", RECOPY_HINT,
                              cause="truncated") from exc
        raise ReportError(path, f"the XML spreadsheet is corrupt ({exc})", RE_EXPORT_HINT, cause="corrupt") from exc
    if not sheets:
        raise ReportError(path, "not a 1C batch/turnover statement: an Excel XML file without worksheets",
                          RE_EXPORT_HINT, cause="not_a_report")
    return sheets


def _index(element: ElementTree.Element, default: int) -> int:
    """The 1-based ss:Index of a row or cell, or the next position."""
    value = element.get(f"{SS}Index")
    if value is None:
        return default
    try:
        return min(MAX_INDEX, max(default, int(value)))
    except ValueError:
        return default


def _cell_value(cell: ElementTree.Element) -> object:
    data = cell.find(f"{SS}Data")
    if data is None:
        return ""
    text = "".join(data.itertext())  # rich text (<Font>, <B>) nests inside Data
    kind = data.get(f"{SS}Type", "String")
    if kind == "Number":
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "DateTime":
        try:
            return datetime.fromisoformat(text.strip())
        except ValueError:
            return text
    if kind == "Boolean":
        return text.strip() == "1"
    return text


def _put(row: list[object], column: int, value: object) -> None:
    if column >= len(row):
        row.extend([""] * (column + 1 - len(row)))
    row[column] = value


def _square(grid: list[list[object]]) -> list[list[object]]:
    width = max((len(row) for row in grid), default=0)
    for row in grid:
        row.extend([""] * (width - len(row)))
    return grid

"""HTML tables as cell grids: 1C's "save as HTML" and the ``.xls`` files that are really HTML.

1C writes a spreadsheet document as one ``<table>``: a ``<tr>`` per row, a ``<td>`` per
cell, merged cells as ``colspan`` / ``rowspan``, line breaks inside a cell (the ``Отбор``
filter) as ``<br>``, empty cells as ``&nbsp;``; some versions name such a file ``.xls``
(Excel opens it with a warning). Each table becomes one grid laid out as a spreadsheet
would: a merged cell's text in its top-left slot, the slots it covers empty, so the report
parsers see the same rows and columns as in the workbook. Cell text is what a browser
shows (runs of whitespace collapsed, ``<br>`` kept as a newline); numbers stay text
(``"1 234,567"``), read by the same quantity parser as CSV cells. Hidden rows are data.

Tolerant of the unclosed ``<td>`` / ``<tr>`` old exporters write, and no dependency.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from shrinkage.sources.model import INCOMPLETE, RE_EXPORT_HINT, RECOPY_HINT, ReportError

# A span beyond this is a damaged attribute, not a layout (a 1C header spans a few cells).
MAX_SPAN = 1000
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")  # not U+00A0: &nbsp; is content, as in a browser
_BLOCK_TAGS = {"p", "div", "li"}


def html_tables(path: Path, text: str) -> list[tuple[str, list[list[object]]]]:
    """(name, grid) for every table of the page, in document order; ReportError when there is none."""
    parser = _TableParser()
    parser.feed(text)
    if parser.open_tables and "</html" not in text[-4096:].lower():
        raise ReportError(path, f"the HTML file is {INCOMPLETE}: its table is not closed", RECOPY_HINT,
                          cause="truncated")
    parser.finish_open_tables()
    tables = [table for table in parser.finished if table]
    if not tables:
        raise ReportError(path, "not a 1C batch/turnover statement: the file is an HTML page without a table",
                          RE_EXPORT_HINT, cause="not_a_report")
    return [(f"HTML table {number}", _lay_out(rows)) for number, rows in enumerate(tables, start=1)]


# A parsed cell before layout: (text, colspan, rowspan).
_Cell = tuple[str, int, int]


# One markup token: a comment, a tag (name, attributes; quoted values may hold ">"), a
# declaration or processing instruction. Text lies between tokens.
_TOKEN = re.compile(
    r"<!--.*?(?:-->|$)|<(/?)([A-Za-z][A-Za-z0-9:]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>|<[!?][^>]*>", re.S)
_SPAN = re.compile(r"\b(colspan|rowspan)\s*=\s*[\"']?\s*(\d+)", re.I)
_RAW_TEXT = {"script", "style"}  # their content is not cell text


class _TableParser:
    """Collects rows of cells per table; nested tables are kept apart from their parent's cell.

    A tokenizer over the tags that matter rather than ``html.parser``, which made a 90 MB,
    215,000-row export take 56 s instead of 24 s (1C's markup has no scripts or forms to
    need it). Tolerant like a browser: a ``<td>`` or ``<tr>`` closes the open cell or row,
    ``</table>`` closes both.
    """

    def __init__(self) -> None:
        self.finished: list[list[list[_Cell]]] = []
        self.open_tables: list[_OpenTable] = []

    def feed(self, text: str) -> None:
        position = 0
        search = _TOKEN.search
        while True:
            match = search(text, position)
            end = match.start() if match else len(text)
            if end > position and self.open_tables:
                data = text[position:end]
                self.open_tables[-1].add_text(unescape(data) if "&" in data else data)
            if match is None:
                return
            position = match.end()
            name = match.group(2)
            if name is None:
                continue  # comment, declaration
            tag = name.lower()
            if match.group(1):
                self._end(tag)
            elif tag in _RAW_TEXT:
                close = re.compile(rf"</{tag}\s*>", re.I).search(text, position)
                position = close.end() if close else len(text)
            else:
                self._start(tag, match.group(3))
                if match.group(3).rstrip().endswith("/") and tag in ("td", "th", "tr", "table"):
                    self._end(tag)  # <td/>: an empty cell

    def _start(self, tag: str, attributes: str) -> None:
        if tag == "table":
            self.open_tables.append(_OpenTable())
            return
        if not self.open_tables:
            return
        table = self.open_tables[-1]
        if tag in ("td", "th"):
            spans = ({key.lower(): int(value) for key, value in _SPAN.findall(attributes)}
                     if "span" in attributes else {})
            table.start_cell(_span(spans.get("colspan")), _span(spans.get("rowspan")))
        elif tag == "tr":
            table.start_row()
        elif tag == "br":
            table.add_break()
        elif tag in _BLOCK_TAGS:
            table.add_break(only_after_text=True)

    def _end(self, tag: str) -> None:
        if not self.open_tables:
            return
        table = self.open_tables[-1]
        if tag in ("td", "th"):
            table.end_cell()
        elif tag == "tr":
            table.end_row()
        elif tag == "table":
            self.finished.append(self.open_tables.pop().finish())

    def finish_open_tables(self) -> None:
        """A page that ends without ``</table>`` but with ``</html>``: keep what was read."""
        while self.open_tables:
            self.finished.append(self.open_tables.pop().finish())


class _OpenTable:
    def __init__(self) -> None:
        self.rows: list[list[_Cell]] = []
        self._row: list[_Cell] | None = None
        self._cell: list[str] | None = None
        self._spans = (1, 1)

    def start_row(self) -> None:
        self.end_row()
        self._row = []

    def end_row(self) -> None:
        self.end_cell()
        if self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def start_cell(self, colspan: int, rowspan: int) -> None:
        self.end_cell()
        if self._row is None:
            self._row = []
        self._cell = []
        self._spans = (colspan, rowspan)

    def end_cell(self) -> None:
        if self._cell is None:
            return
        text = "".join(self._cell)
        if "\n" in text:  # <br> inside the cell
            text = "\n".join(_HTML_SPACE.sub(" ", line).strip(" ") for line in text.split("\n")).strip("\n")
        else:
            text = _HTML_SPACE.sub(" ", text).strip(" ")
        if text and not text.strip():  # &nbsp; alone: 1C's empty cell
            text = ""
        if self._row is None:
            self._row = []
        self._row.append((text, *self._spans))
        self._cell = None

    def add_text(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data.replace("\n", " ") if "\n" in data else data)  # <br> alone is "\n"

    def add_break(self, only_after_text: bool = False) -> None:
        if self._cell is not None and (not only_after_text or "".join(self._cell).strip()):
            self._cell.append("\n")

    def finish(self) -> list[list[_Cell]]:
        self.end_row()
        return self.rows


def _span(value: int | None) -> int:
    return 1 if value is None else min(MAX_SPAN, max(1, value))


def _lay_out(rows: list[list[_Cell]]) -> list[list[object]]:
    """Place cells on the grid: skip slots a rowspan from above occupies; merged slots stay empty."""
    grid: list[list[object]] = []
    taken: dict[int, set[int]] = {}  # row index -> columns occupied by rowspans from above
    for r, cells in enumerate(rows):
        line: list[object] = []
        busy = taken.pop(r, set())
        column = 0
        for text, colspan, rowspan in cells:
            while column in busy:
                column += 1
            _put(line, column, text)
            for c in range(column + 1, column + colspan):
                _put(line, c, "")
            for below in range(r + 1, r + rowspan):
                taken.setdefault(below, set()).update(range(column, column + colspan))
            column += colspan
        for c in busy:
            _put(line, c, "")
        grid.append(line)
    width = max((len(line) for line in grid), default=0)
    for line in grid:
        line.extend([""] * (width - len(line)))
    return grid


def _put(line: list[object], column: int, value: object) -> None:
    if column >= len(line):
        line.extend([""] * (column + 1 - len(line)))
    if line[column] == "":
        line[column] = value

"""Turning a file into a grid of cell values, whatever its container.

The container is detected from the bytes, never from the extension: stores rename files
(``report.xls`` that is really an xlsx, a CSV saved as ``.xls``), and some 1C versions and
"save as HTML" write an HTML table under an ``.xls`` name. Recognised: OLE2 (.xls), ZIP
(.xlsx / .xlsb / .ods), HTML tables, Excel 2003 XML (SpreadsheetML), delimited text.
Every way a file can be unreadable gets its own ReportError (with its ``cause``), so the
user knows whether to re-export, re-copy or remove a password.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Literal

from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from shrinkage.sources.html_table import html_tables
from shrinkage.sources.model import INCOMPLETE, PASSWORD_HINT, RE_EXPORT_HINT, RECOPY_HINT, ReportError
from shrinkage.sources.spreadsheet_xml import spreadsheetml_worksheets

Container = Literal["ole2", "zip", "html", "spreadsheetml", "pdf", "text"]
Grid = list[list[object]]

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
PDF_MAGIC = b"%PDF"
_ENCRYPTED_STREAM_NAME = "EncryptedPackage".encode("utf-16-le")
_OLE2_SECTOR = 512
SNIFF_BYTES = 4096
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_DECLARED_CHARSET = re.compile(rb"""(?:charset|encoding)\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HTML_START = re.compile(r"<(?:!doctype\s+html|html|head|body|meta|table|style|title)\b", re.I)
_SPREADSHEETML = "urn:schemas-microsoft-com:office:spreadsheet"


# Which extensions calamine reads as which format (it picks the format by extension).
_CALAMINE_SUFFIXES = {
    "xls": {".xls", ".xla"},
    "xlsx": {".xlsx", ".xlsm", ".xltx", ".xltm", ".xlam"},
    "xlsb": {".xlsb"},
    "ods": {".ods"},
}


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: Grid
    hidden: bool = False


def detect_container(head: bytes) -> Container:
    """The container of a file from its first bytes (up to SNIFF_BYTES)."""
    if head.startswith(OLE2_MAGIC):
        return "ole2"
    if head.startswith(ZIP_MAGICS):
        return "zip"
    if head.startswith(PDF_MAGIC):
        return "pdf"
    text = _sniff_text(head).lstrip()
    if text.startswith("<"):
        html_at = _HTML_START.search(text)
        xml_at = text.find(_SPREADSHEETML)
        if xml_at >= 0 and (html_at is None or xml_at < html_at.start()):
            return "spreadsheetml"
        if html_at is not None:
            return "html"
    return "text"


def _sniff_text(head: bytes) -> str:
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return head[len(bom):].decode(encoding, errors="ignore")
    return head.decode("latin-1")  # only ASCII markup is looked for


def read_sheets(path: Path, max_rows: int | None = None) -> Iterator[Sheet]:
    """The worksheets of a file as grids (row 1 is index 0): visible ones in workbook order,
    then hidden ones (a report is sometimes left on a hidden sheet).

    ``max_rows``: only the first rows of each sheet (enough to recognise a report).
    Raises ReportError for unreadable, empty, truncated, corrupt, encrypted and non-spreadsheet files.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(path, f"cannot open the file ({exc.strerror or exc})",
                          "check that the file exists and is readable", cause="unreadable") from exc
    if not data.strip():
        raise ReportError(path, "the file is empty", RE_EXPORT_HINT, cause="empty")
    container = detect_container(data[:SNIFF_BYTES])
    if container == "ole2":
        _check_ole2(path, data)
        yield from _workbook_sheets(path, data, "xls", max_rows)
    elif container == "zip":
        yield from _workbook_sheets(path, data, _zip_format(path, data), max_rows)
    elif container == "html":
        text = decode_text(path, data, declared_charset(data[:SNIFF_BYTES]))
        for name, rows in html_tables(path, text):
            yield Sheet(name=name, rows=rows if max_rows is None else rows[:max_rows])
    elif container == "spreadsheetml":
        worksheets = spreadsheetml_worksheets(path, data)
        for name, rows, hidden in sorted(worksheets, key=lambda sheet: sheet[2]):  # visible first, stable
            yield Sheet(name=name, rows=rows if max_rows is None else rows[:max_rows], hidden=hidden)
    elif container == "pdf":
        raise ReportError(path, "not a 1C batch/turnover statement: the file is a PDF document, "
                          "which holds no cells to read", "save the report from 1C as Excel (.xls or .xlsx)",
                          cause="not_a_report")
    else:
        rows = read_csv_grid(path, data)
        yield Sheet(name=path.name, rows=rows if max_rows is None else rows[:max_rows])


def _check_ole2(path: Path, data: bytes) -> None:
    if _ENCRYPTED_STREAM_NAME in data:
        raise ReportError(path, "password-protected workbook", PASSWORD_HINT, cause="password")
    if len(data) < 2 * _OLE2_SECTOR or len(data) % _OLE2_SECTOR:
        raise ReportError(path, f"the workbook is {INCOMPLETE}", RECOPY_HINT, cause="truncated")


def _zip_format(path: Path, data: bytes) -> str:
    """xlsx, xlsb or ods; damaged parts inside a complete archive surface when calamine inflates them."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        # No end-of-archive record: the tail of the file is missing.
        raise ReportError(path, f"the workbook is {INCOMPLETE}", RECOPY_HINT, cause="truncated") from exc
    with archive:
        names = set(archive.namelist())
        mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if b"opendocument.spreadsheet" in mimetype:
        return "ods"
    what = "a Word document" if "word/document.xml" in names else "a ZIP archive"
    raise ReportError(path, f"not a 1C batch/turnover statement: the file is {what}, not a spreadsheet",
                      RE_EXPORT_HINT, cause="not_a_report")


def _open_workbook(path: Path, data: bytes, fmt: str) -> CalamineWorkbook:
    """Calamine picks its reader by extension: give it the bytes when the name says otherwise."""
    if path.suffix.lower() in _CALAMINE_SUFFIXES[fmt]:
        return CalamineWorkbook.from_path(str(path))
    return CalamineWorkbook.from_filelike(io.BytesIO(data))


def _workbook_sheets(path: Path, data: bytes, fmt: str, max_rows: int | None = None) -> Iterator[Sheet]:
    try:
        workbook = _open_workbook(path, data, fmt)
    except CalamineError as exc:
        raise _calamine_error(path, exc, fmt) from exc
    with workbook:
        worksheets = [meta for meta in workbook.sheets_metadata if meta.typ == SheetTypeEnum.WorkSheet]
        visible = [meta for meta in worksheets if meta.visible == SheetVisibleEnum.Visible]
        hidden = [meta for meta in worksheets if meta.visible != SheetVisibleEnum.Visible]
        for meta in visible + hidden:
            try:
                sheet = workbook.get_sheet_by_name(meta.name)
                rows = (sheet.to_python(skip_empty_area=False) if max_rows is None
                        else list(islice(sheet.iter_rows(), max_rows)))
            except CalamineError as exc:
                raise _calamine_error(path, exc, fmt) from exc
            yield Sheet(name=meta.name, rows=rows, hidden=meta in hidden)


_CUT_OFF_SIGNS = ("past end", "end of file", "eof", "truncated")


def _calamine_error(path: Path, exc: Exception, fmt: str) -> ReportError:
    text = str(exc).lower()
    if "password" in text or "encrypt" in text:
        return ReportError(path, "password-protected workbook", PASSWORD_HINT, cause="password")
    if any(sign in text for sign in _CUT_OFF_SIGNS):
        return ReportError(path, f"the workbook is {INCOMPLETE[:-1]}: {exc})", RECOPY_HINT, cause="truncated")
    return ReportError(path, f"the workbook is corrupt (its {fmt} content cannot be read: {exc})",
                       RE_EXPORT_HINT, cause="corrupt")


def declared_charset(head: bytes) -> str | None:
    """The encoding a markup file declares (``<meta charset>``, ``encoding=``), if Python knows it."""
    match = _DECLARED_CHARSET.search(head)
    if match is None:
        return None
    try:
        return codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None


def decode_text(path: Path, data: bytes, declared: str | None = None) -> str:
    """A byte-order mark first, then UTF-8, then the declared charset, then cp1251 (what 1C writes)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    if b"\x00" in data[:SNIFF_BYTES]:
        raise ReportError(path, "not a 1C batch/turnover statement (unknown binary file)", RE_EXPORT_HINT,
                          cause="not_a_report")
    # UTF-8 first: Cyrillic in any single-byte encoding is practically never valid UTF-8, while a
    # single-byte codec "decodes" anything, so a page re-saved as UTF-8 under its old <meta> is right.
    wide = declared and declared.startswith(("utf-16", "utf-32"))  # declared, yet no BOM and no NULs: wrong
    for encoding in ("utf-8", None if wide else declared):
        if encoding:
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    return data.decode("cp1251", errors="replace")


def sniff_delimiter(text: str) -> str:
    """``;`` when the first lines use it (comma decimals then stay inside cells), else ``,``."""
    head = [line for line in text.splitlines()[:30] if line.strip()]
    semicolons = sum(line.count(";") for line in head)
    tabs = sum(line.count("\t") for line in head)
    if semicolons:
        return ";"
    if tabs:
        return "\t"
    return ","


def read_csv_grid(path: Path, data: bytes) -> Grid:
    text = decode_text(path, data)
    delimiter = sniff_delimiter(text)
    try:
        grid = [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise ReportError(path, f"the CSV file is malformed ({exc})",
                          "export the report again as CSV or as .xlsx", cause="corrupt") from exc
    if grid and not text.endswith(("\n", "\r")):
        # Exports end every line with a newline; a short last line without one was cut off.
        widest = max(len(row) for row in grid[:50])
        if len(grid[-1]) < widest:
            raise ReportError(path, "the file is incomplete (its last line is cut off, e.g. half-copied)",
                              RECOPY_HINT, row=len(grid), cause="truncated")
    return grid

"""Turning a file into a grid of cell values, whatever its container.

The container is detected from the first bytes, not the extension: stores rename files
(``report.xls`` that is really an xlsx, a CSV saved as ``.xls``). Every way a file can be
unreadable gets its own ReportError, so the user knows whether to re-export, re-copy or
remove a password.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Literal

from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from shrinkage.sources.model import ReportError

Container = Literal["ole2", "zip", "text"]
Grid = list[list[object]]

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_ENCRYPTED_STREAM_NAME = "EncryptedPackage".encode("utf-16-le")
_OLE2_SECTOR = 512

RE_EXPORT_HINT = "export the report from 1C again (File > Save as .xls/.xlsx) and drop the new file"


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: Grid


def detect_container(head: bytes) -> Container:
    if head.startswith(OLE2_MAGIC):
        return "ole2"
    if head.startswith(ZIP_MAGICS):
        return "zip"
    return "text"


def read_sheets(path: Path, max_rows: int | None = None) -> Iterator[Sheet]:
    """The visible worksheets of a file, in workbook order, as grids (row 1 is index 0).

    ``max_rows``: only the first rows of each sheet (enough to recognise a report).
    Raises ReportError for empty, truncated, corrupt, encrypted and binary non-workbook files.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(path, f"cannot open the file ({exc.strerror or exc})",
                          "check that the file exists and is readable") from exc
    if not data.strip():
        raise ReportError(path, "the file is empty", RE_EXPORT_HINT)
    container = detect_container(data[:8])
    if container == "ole2":
        _check_ole2(path, data)
        yield from _workbook_sheets(path, max_rows)
    elif container == "zip":
        _check_zip(path, data)
        yield from _workbook_sheets(path, max_rows)
    else:
        rows = read_csv_grid(path, data)
        yield Sheet(name=path.name, rows=rows if max_rows is None else rows[:max_rows])


def _check_ole2(path: Path, data: bytes) -> None:
    if _ENCRYPTED_STREAM_NAME in data:
        raise ReportError(path, "password-protected workbook",
                          "remove the password in Excel and export again")
    if len(data) < 2 * _OLE2_SECTOR or len(data) % _OLE2_SECTOR:
        raise ReportError(path, "the workbook is incomplete (the file was cut off, e.g. half-copied)",
                          "copy the file again from its source")


def _check_zip(path: Path, data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        # No end-of-archive record: the tail of the file is missing.
        raise ReportError(path, "the workbook is incomplete (the file was cut off, e.g. half-copied)",
                          "copy the file again from its source") from exc
    with archive:
        names = set(archive.namelist())
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        raise ReportError(path, "the file is a ZIP archive but not an Excel workbook", RE_EXPORT_HINT)
    # Damaged parts inside a complete archive surface when calamine inflates them.


def _workbook_sheets(path: Path, max_rows: int | None = None) -> Iterator[Sheet]:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except CalamineError as exc:
        raise _calamine_error(path, exc) from exc
    with workbook:
        for meta in workbook.sheets_metadata:
            if meta.visible != SheetVisibleEnum.Visible or meta.typ != SheetTypeEnum.WorkSheet:
                continue
            try:
                sheet = workbook.get_sheet_by_name(meta.name)
                rows = (sheet.to_python(skip_empty_area=False) if max_rows is None
                        else list(islice(sheet.iter_rows(), max_rows)))
            except CalamineError as exc:
                raise _calamine_error(path, exc) from exc
            yield Sheet(name=meta.name, rows=rows)


_CUT_OFF_SIGNS = ("past end", "end of file", "eof", "truncated")


def _calamine_error(path: Path, exc: Exception) -> ReportError:
    text = str(exc).lower()
    if "password" in text or "encrypt" in text:
        return ReportError(path, "password-protected workbook", "remove the password in Excel and export again")
    if any(sign in text for sign in _CUT_OFF_SIGNS):
        return ReportError(path, f"the workbook is incomplete (the file was cut off, e.g. half-copied: {exc})",
                           "copy the file again from its source")
    return ReportError(path, f"the workbook is corrupt ({exc})", RE_EXPORT_HINT)


def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then cp1251, the Windows encoding 1C uses for CSV."""
    if b"\x00" in data[:4096]:
        raise ReportError(path, "not a 1C batch/turnover statement (unknown binary file)", RE_EXPORT_HINT)
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
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
                          "export the report again as CSV or as .xlsx") from exc
    if grid and not text.endswith(("\n", "\r")):
        # Exports end every line with a newline; a short last line without one was cut off.
        widest = max(len(row) for row in grid[:50])
        if len(grid[-1]) < widest:
            raise ReportError(path, "the file is incomplete (its last line is cut off, e.g. half-copied)",
                              "copy the file again from its source", row=len(grid))
    return grid

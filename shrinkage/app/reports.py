"""Reports on demand and table exports: what `shrinkage report` / `export TABLE` and the report
asset call. The report itself is gathered once and laid out by ``shrinkage.reports``."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from shrinkage.config import CONFIG, get_settings
from shrinkage.db.table_export import count_rows, iter_pages, table
from shrinkage.reports import CsvOptions, load_template, write_reports
from shrinkage.reports.build import FORMATS, report_steps

__all__ = ["FORMATS", "export_table", "report_steps", "table_rows", "write_report"]

EXCEL_MAX_ROWS = 1_048_576
Advance = Callable[[int], None]


def write_report(engine: Engine, out_dir: Path | None = None, formats: Sequence[str] = FORMATS,
                 template: str | Path | None = None, period: str | None = None, *,
                 separator: str = CONFIG.reports.csv_separator, decimal: str = CONFIG.reports.csv_decimal,
                 on_progress: Callable[[str], None] | None = None) -> list[Path]:
    """The shrinkage report as xlsx / csv / pdf (default: all) into ``out_dir`` (default: the reports folder)."""
    folder = out_dir or get_settings().reports_dir
    return write_reports(engine, folder, formats or FORMATS, load_template(template), period,
                         csv_options=CsvOptions(separator=separator, decimal=decimal), on_progress=on_progress)


def table_rows(engine: Engine, name: str) -> int:
    """How many rows ``name`` holds (UnknownTable names the tables there are)."""
    return count_rows(engine, name)


def export_table(engine: Engine, name: str, fmt: str, path: Path | None = None, *,
                 separator: str = CONFIG.reports.csv_separator, advance: Advance | None = None) -> tuple[Path, int]:
    """Stream a table to CSV (UTF-8 with BOM) or Excel in pages; returns the file and the rows written."""
    if fmt == "xlsx" and (total := count_rows(engine, name)) >= EXCEL_MAX_ROWS:
        raise ValueError(f"{name} has {total} rows, more than an Excel sheet holds: use --format csv")
    path = path or get_settings().reports_dir / f"{name}.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    pages = iter_pages(engine, name, CONFIG.reports.export_chunk_rows)
    columns = list(table(name).c.keys())
    step = advance or (lambda _n: None)
    if fmt == "csv":
        return path, _stream_csv(path, columns, pages, separator, step)
    return path, _stream_xlsx(path, name, columns, pages, step)


def _plain(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return value


def _stream_csv(path: Path, columns: list[str], pages: Iterable[list[dict]], separator: str, advance: Advance) -> int:
    written = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, delimiter=separator)
        writer.writeheader()
        for rows in pages:
            writer.writerows({k: _plain(v) for k, v in r.items()} for r in rows)
            written += len(rows)
            advance(len(rows))
    return written


def _stream_xlsx(path: Path, name: str, columns: list[str], pages: Iterable[list[dict]], advance: Advance) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(name[:31])
    ws.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=column)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    written = 0
    for rows in pages:
        for r in rows:
            ws.append([_plain(v) for v in r.values()])
        written += len(rows)
        advance(len(rows))
    wb.save(path)
    return written

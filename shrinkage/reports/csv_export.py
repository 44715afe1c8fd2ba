"""CSV exports of the report tables: UTF-8 with BOM so that Excel opens Cyrillic correctly.

Russian-locale Excel expects ``;`` between fields and a decimal comma; both are options
(defaults in ``CONFIG.reports``). Headers are the template's column titles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from shrinkage.config import CONFIG
from shrinkage.reports.data import ReportData
from shrinkage.reports.formats import NO, YES
from shrinkage.reports.template import ReportTemplate, Section, select_rows

ENCODING = "utf-8-sig"


@dataclass(frozen=True)
class CsvOptions:
    separator: str = CONFIG.reports.csv_separator
    decimal: str = CONFIG.reports.csv_decimal

    def __post_init__(self) -> None:
        if self.separator not in (";", ",", "\t", "|"):
            raise ValueError(f"CSV separator {self.separator!r} is not supported: use ';', ',', tab or '|'")
        if self.decimal not in (".", ","):
            raise ValueError(f"decimal mark {self.decimal!r} is not supported: use '.' or ','")
        if self.decimal == self.separator:
            raise ValueError("a decimal comma needs another separator than ',': use ';' (the default)")


def section_frame(data: ReportData, template: ReportTemplate, section: Section) -> pd.DataFrame:
    """The rows one section shows, with its titles as headers (summary: figure / value)."""
    if section.source == "summary":
        return pd.DataFrame({"Показатель": [c.title for c in section.columns],
                             "Значение": [data.summary.get(c.field) for c in section.columns]})
    rows = select_rows(data.tables[section.source], section)
    for column in section.columns:
        if column.format == "bool":
            rows[column.field] = rows[column.field].map(lambda v: None if pd.isna(v) else (YES if v else NO))
        if column.field == "product_type":
            rows[column.field] = rows[column.field].map(lambda t: template.type_label(t) if isinstance(t, str) else t)
    return rows.rename(columns={c.field: c.title for c in section.columns})


def write_csv_files(data: ReportData, template: ReportTemplate, out_dir: Path, stem: str,
                    options: CsvOptions = CsvOptions()) -> list[Path]:
    """One CSV per section that has the csv output; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for section in template.sections_for("csv"):
        path = out_dir / f"{stem}_{section.id}.csv"
        frame = section_frame(data, template, section)
        frame.to_csv(path, sep=options.separator, decimal=options.decimal, index=False,
                     encoding=ENCODING, date_format="%Y-%m-%d %H:%M:%S")
        written.append(path)
    return written

"""The one entry point that writes a report in every requested format.

Called by the CLI (`shrinkage report`) and by the Dagster report asset. Data is gathered
once and every writer formats the same frames; file names carry the period, e.g.
``shrinkage_report_2025-03-03_2025-05-25.xlsx``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.engine import Engine

from shrinkage.config import get_settings
from shrinkage.reports.csv_export import CsvOptions, write_csv_files
from shrinkage.reports.data import ReportData, gather
from shrinkage.reports.excel import write_workbook
from shrinkage.reports.pdf import write_pdf
from shrinkage.reports.period import ReportPeriod
from shrinkage.reports.template import ReportTemplate, load_template

log = logging.getLogger(__name__)

FORMATS = ("xlsx", "csv", "pdf")
Progress = Callable[[str], None]


def report_stem(template: ReportTemplate, period: ReportPeriod) -> str:
    return f"{template.file_prefix}_{period.label}"


def write_reports(engine: Engine, out_dir: Path | str | None = None,
                  formats: Sequence[str] = FORMATS,
                  template: ReportTemplate | str | Path | None = None,
                  period: ReportPeriod | str | tuple | None = None, *,
                  csv_options: CsvOptions | None = None,
                  on_progress: Progress | None = None) -> list[Path]:
    """Write the report as xlsx / csv / pdf into ``out_dir`` (default: the reports folder).

    ``template``: a built-in name, a template file path or a loaded template (default
    "default"); ``period``: ``ReportPeriod``, "START:END" or (start, end) (default: the
    span of the data). ``on_progress`` is called with a step name after each step.
    Returns the paths written, in order.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"unknown report format(s) {', '.join(unknown) or '(none given)'}: "
                         f"choose from {', '.join(FORMATS)}")
    chosen = load_template(template)
    step = on_progress or (lambda _name: None)
    folder = Path(out_dir) if out_dir is not None else get_settings().reports_dir
    curves = chosen.curves_section()
    data = gather(engine, period,
                  max_age_days=curves.max_age_days if curves else None,
                  max_curves_per_type=curves.max_products_per_type if curves else None)
    step("data")
    stem = report_stem(chosen, data.period)
    written: list[Path] = []
    for fmt in formats:
        written.extend(_write_one(fmt, data, chosen, folder, stem, csv_options or CsvOptions()))
        step(fmt)
    log.info("report %s written: %s", stem, ", ".join(p.name for p in written))
    return written


def report_steps(formats: Sequence[str]) -> int:
    """How many progress steps write_reports reports (for a progress bar's total)."""
    return 1 + len(formats)


def _write_one(fmt: str, data: ReportData, template: ReportTemplate, folder: Path, stem: str,
               csv_options: CsvOptions) -> list[Path]:
    if fmt == "xlsx":
        return [write_workbook(data, template, folder / f"{stem}.xlsx")]
    if fmt == "pdf":
        return [write_pdf(data, template, folder / f"{stem}.pdf")]
    return write_csv_files(data, template, folder, stem, csv_options)

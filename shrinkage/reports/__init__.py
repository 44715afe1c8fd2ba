"""Report writers: Excel workbook, CSV exports and PDF summary, laid out by templates."""

from shrinkage.reports.build import FORMATS, report_stem, write_reports
from shrinkage.reports.csv_export import CsvOptions
from shrinkage.reports.period import ReportPeriod
from shrinkage.reports.plots import curves_png
from shrinkage.reports.tables import markdown_table
from shrinkage.reports.template import ReportTemplate, TemplateError, load_template

__all__ = [
    "FORMATS", "CsvOptions", "ReportPeriod", "ReportTemplate", "TemplateError", "curves_png",
    "load_template", "markdown_table", "report_stem", "write_reports",
]

"""Reading 1C inventory reports (batch statement, turnover statement; .xls, .xlsx, CSV)."""

from shrinkage.sources.cells import parse_quantity
from shrinkage.sources.model import ParsedReport, ParseIssue, ReportError, ReportHeader
from shrinkage.sources.reader import REPORT_SUFFIXES, read_report, report_kind

__all__ = ["REPORT_SUFFIXES", "ParseIssue", "ParsedReport", "ReportError", "ReportHeader", "parse_quantity",
           "read_report", "report_kind"]

"""Column formats: one name per kind of value, with its Excel number format and its text form.

Templates name a format ("percent", "kg", ...); the Excel writer applies the number format,
the PDF, markdown and terminal tables print the same value through :func:`format_value`,
so a figure reads the same in every output.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd

EXCEL_NUMBER_FORMATS: dict[str, str] = {
    "text": "General",
    "int": "#,##0",
    "number": "0.000",
    "decimal6": "0.000000",
    "percent": "0.00%",
    "percent4": "0.0000%",
    "kg": '#,##0.000 "кг"',
    "date": "DD.MM.YYYY",
    "datetime": "DD.MM.YYYY HH:MM",
    "bool": "General",
}
FORMATS = tuple(EXCEL_NUMBER_FORMATS)
YES, NO = "да", "нет"


def is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return value is pd.NaT or (not isinstance(value, (str, bytes, list, dict)) and bool(pd.isna(value)))


def cell_value(value, fmt: str):
    """The value as an Excel cell wants it (python scalars, naive datetimes, None for missing)."""
    if is_missing(value):
        return None
    if fmt == "bool":
        return YES if bool(value) else NO
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> python
    if isinstance(value, (dict, list)):
        return str(value)
    return value


def format_value(value, fmt: str) -> str:
    """The value as text, the way the Excel format shows it (Russian conventions)."""
    if is_missing(value):
        return ""
    value = cell_value(value, fmt)
    try:
        if fmt == "percent":
            return f"{float(value) * 100:.2f} %".replace(".", ",")
        if fmt == "percent4":
            return f"{float(value) * 100:.4f} %".replace(".", ",")
        if fmt == "kg":
            return _grouped(float(value), 3) + " кг"
        if fmt == "int":
            return _grouped(float(value), 0)
        if fmt == "number":
            return f"{float(value):.3f}".replace(".", ",")
        if fmt == "decimal6":
            return f"{float(value):.6f}".replace(".", ",")
        if fmt == "date" and isinstance(value, (date, datetime)):
            return f"{value:%d.%m.%Y}"
        if fmt == "datetime" and isinstance(value, (date, datetime)):
            return f"{value:%d.%m.%Y %H:%M}"
    except (TypeError, ValueError):
        return str(value)
    return str(value)


def _grouped(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u00a0").replace(".", ",")


def display_width(value, fmt: str) -> int:
    """Characters the formatted value takes (for column widths)."""
    text = format_value(value, fmt)
    return max((len(line) for line in text.splitlines()), default=0)


MIN_WIDTH, MAX_WIDTH = 6, 60
# Rows whose text decides a fitted width (a huge table need not be measured whole).
WIDTH_SAMPLE_ROWS = 2000


def fitted_width(values, title: str, fmt: str, max_width: int = MAX_WIDTH) -> float:
    """A column width (characters) that fits the formatted values; long titles wrap in two lines."""
    sample = list(values)[:WIDTH_SAMPLE_ROWS]
    longest = max([display_width(v, fmt) for v in sample], default=0)
    header = len(title) if len(title) <= longest + 4 else max(longest, len(title) / 2)
    return float(min(max_width, max(MIN_WIDTH, longest, header) + 2))

"""Small text tables: markdown for Dagster metadata, fixed-width for the terminal."""

from __future__ import annotations

import pandas as pd

from shrinkage.reports.formats import is_missing

MAX_CELL_CHARS = 60


def _text(value, float_digits: int = 4) -> str:
    if is_missing(value):
        return ""
    if isinstance(value, float):
        return f"{value:.{float_digits}g}"
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    text = str(value).replace("\n", " ")
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def markdown_table(frame: pd.DataFrame, max_rows: int = 20) -> str:
    """The first ``max_rows`` rows as a GitHub markdown table (pipes escaped), with a count of the rest."""
    if frame.empty:
        return "_(no rows)_"
    shown = frame.head(max_rows)
    header = "| " + " | ".join(str(c).replace("|", "\\|") for c in shown.columns) + " |"
    rule = "| " + " | ".join("---" for _ in shown.columns) + " |"
    lines = [header, rule]
    for row in shown.itertuples(index=False, name=None):
        lines.append("| " + " | ".join(_text(v).replace("|", "\\|") for v in row) + " |")
    if len(frame) > max_rows:
        lines.append(f"\n_… {len(frame) - max_rows} more rows_")
    return "\n".join(lines)


def text_table(frame: pd.DataFrame) -> str:
    """A fixed-width table for the terminal (text left, numbers right)."""
    if frame.empty:
        return "(no rows)"
    cells = [[_text(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    headers = [str(c) for c in frame.columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
               for c in frame.columns]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])

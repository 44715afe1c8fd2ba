"""Date-times as 1C writes them, and the check that a file's dates are day-first at all.

1C writes a document's or batch's moment with the session's regional settings. Russian
settings give ``D.MM.YYYY H:MM:SS`` (hour not zero-padded, seconds sometimes left out);
files that passed through other tools carry ISO ``YYYY-MM-DD HH:MM:SS`` or
``YYYY-MM-DDTHH:MM:SS``; an English (US) session writes ``M/D/YYYY h:MM:SS PM``. One
grammar reads all of them, day first where the order is ambiguous, as 1C does in Russia.

A month-first file read day-first does not fail loudly: most of its dates are valid, just
wrong (5 March becomes 3 May). :func:`refuse_month_first` compares both readings against
the report period and refuses such a file with that reason, before wrong dates reach the
books.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

from shrinkage.sources.model import ReportError

# The text of one date(-time), as a regex fragment (no groups: callers embed it).
DATE_TIME = (
    r"(?:\d{1,2}[./]\d{1,2}[./](?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2})"
    r"(?:(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:\s*[AaPp]\.?[Mm]\.?)?)?"
)
_PARTS = re.compile(
    r"(?:(?P<a>\d{1,2})(?P<sep>[./])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
    r"|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2}))"
    r"(?:(?:\s+|T)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,6}))?)?"
    r"(?:\s*(?P<ampm>[AaPp])\.?[Mm]\.?)?)?"
)
DATE_TIME_TEXT = re.compile(DATE_TIME)


def parse_date_time(text: str, *, month_first: bool = False) -> datetime:
    """The moment a date(-time) text names; ValueError for a text that is not one or an impossible date.

    ``D.M.Y`` and ``D/M/Y`` are read day first unless ``month_first``; ISO is unambiguous.
    A two-digit year is 20YY.
    """
    match = _PARTS.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a date-time: {text!r}")
    if match["iy"]:
        year, month, day = int(match["iy"]), int(match["im"]), int(match["id"])
    else:
        first, second = int(match["a"]), int(match["b"])
        day, month = (second, first) if month_first else (first, second)
        year = int(match["y"])
        if year < 100:
            year += 2000
    hour = int(match["H"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise ValueError(f"not a 12-hour time: {text!r}")
        hour = hour % 12 + (12 if match["ampm"] in "Pp" else 0)
    micro = int((match["f"] or "0").ljust(6, "0"))
    return datetime(year, month, day, hour, int(match["M"] or 0), int(match["S"] or 0), micro)


def read_period(first: str, last: str) -> tuple[date, date] | None:
    """The period two bound texts name: day first, else month first; None if neither reads as one.

    A period is read month first only when day first cannot be right (``3/31/2025``, or a
    start after the end): then the dates of the file are checked the same way (see
    :func:`refuse_month_first`), and a turnover statement, which has no other dates, gets
    its true period.
    """
    for month_first in (False, True):
        try:
            start = parse_date_time(first, month_first=month_first).date()
            end = parse_date_time(last, month_first=month_first).date()
        except ValueError:
            continue
        if start <= end:
            return start, end
    return None


def _ambiguous(text: str) -> bool:
    """Day and month could trade places: ``a.b.y`` / ``a/b/y`` (ISO cannot)."""
    match = _PARTS.fullmatch(text.strip())
    return match is not None and match["a"] is not None and match["a"] != match["b"]


def _fits(text: str, month_first: bool, start: date | None, end: date | None) -> bool:
    try:
        moment = parse_date_time(text, month_first=month_first)
    except ValueError:
        return False
    if start is None or end is None:
        return True
    return start <= moment.date() <= end


def refuse_month_first(path: Path, dated_rows: list[tuple[int, str]], start: date | None,
                       end: date | None) -> None:
    """Raise ReportError when the documents' dates read better month first than day first.

    ``dated_rows``: (worksheet row, date text) of every document row. A reading "fits" a
    date when the date exists and, if the period is known, lies inside it. Month first wins
    when it fits more of the ambiguous dates than day first and at least half of them: a
    day-first file with a few mistyped dates never qualifies, and with no period to judge
    by an all-ambiguous file (every day ≤ 12) stays day first, as 1C writes in Russia.
    """
    texts: dict[str, int] = {}
    for row, text in dated_rows:
        if _ambiguous(text):
            texts.setdefault(text, row)
    if not texts:
        return
    day_first = sum(_fits(t, False, start, end) for t in texts)
    month_first = [t for t in texts if _fits(t, True, start, end)]
    if len(month_first) <= day_first or 2 * len(month_first) < len(texts):
        return
    example = next(t for t in month_first if not _fits(t, False, start, end))
    row = texts[example]
    as_written = parse_date_time(example, month_first=True).strftime("%d.%m.%Y")
    if start is not None and end is not None:
        judged = (f"{len(texts) - day_first} of {len(texts)} document dates fall outside the report period "
                  f"{start:%d.%m.%Y}–{end:%d.%m.%Y} or do not exist when read day.month.year, "
                  f"and {len(month_first)} fall inside it when read month/day/year")
    else:
        judged = (f"{len(texts) - day_first} of {len(texts)} document dates do not exist when read "
                  f"day.month.year, and {len(month_first)} are valid when read month/day/year")
    raise ReportError(
        path,
        f"the dates are written month first (US format): {judged}; e.g. row {row} says {example!r}, "
        f"which is {as_written} read month first",
        "export the report again from a 1C session with Russian regional settings "
        "(day.month.year dates)",
        row=row, cause="values")

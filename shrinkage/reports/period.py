"""The period a report covers: it filters the data and names the files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y")


def parse_date(text: str) -> date:
    text = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a date: write it as YYYY-MM-DD or DD.MM.YYYY")


@dataclass(frozen=True)
class ReportPeriod:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start}): swap the dates")

    @classmethod
    def parse(cls, text: str) -> ReportPeriod:
        """``START:END`` (also ``START..END``), each YYYY-MM-DD or DD.MM.YYYY."""
        parts = re.split(r"\.\.|:", text.strip(), maxsplit=1)
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise ValueError(f"period '{text}' is not START:END, e.g. 2025-03-03:2025-05-25")
        return cls(parse_date(parts[0]), parse_date(parts[1]))

    @classmethod
    def coerce(cls, value: ReportPeriod | str | tuple | None) -> ReportPeriod | None:
        if value is None or isinstance(value, ReportPeriod):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        start, end = value
        return cls(_as_date(start), _as_date(end))

    @property
    def label(self) -> str:
        """The period as it appears in file names: 2025-03-03_2025-05-25."""
        return f"{self.start:%Y-%m-%d}_{self.end:%Y-%m-%d}"

    @property
    def text(self) -> str:
        return f"{self.start:%d.%m.%Y} – {self.end:%d.%m.%Y}"

    def bounds(self) -> tuple[datetime, datetime]:
        """Inclusive datetime bounds for queries (the whole last day included)."""
        return datetime.combine(self.start, time.min), datetime.combine(self.end, time.max)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_date(str(value))

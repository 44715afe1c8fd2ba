"""Small helpers the use cases share: the clock, timestamps, progress callbacks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pandas as pd

DAY = pd.Timedelta(days=1)

Progress = Callable[[str], None]


def now() -> datetime:
    """The time stamped on rows, to the second."""
    return datetime.now().replace(microsecond=0)


def timestamp(value) -> datetime | None:
    """A pandas / numpy time (or NaT / None) as a datetime for a database row."""
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def no_progress(_step: str) -> None:
    """The progress callback of a caller that shows none."""

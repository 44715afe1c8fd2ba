"""Document and batch dates in every format 1C writes; month-first (US) files refused by the period."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from shrinkage.sources import ReportError, read_report
from shrinkage.sources.dates import parse_date_time, read_period, refuse_month_first
from tests import report_variants as v
from tests import sources_helpers as h


@pytest.fixture(scope="module")
def clean():
    return read_report(h.FIXTURES / "batch_clean.xlsx")


@pytest.mark.parametrize("text, moment", [
    ("5.03.2025 9:15:00", datetime(2025, 3, 5, 9, 15)),            # 1C: hour and day not padded
    ("05.03.2025 22:30:07", datetime(2025, 3, 5, 22, 30, 7)),
    ("05.03.2025 22:30", datetime(2025, 3, 5, 22, 30)),              # without seconds
    ("05.03.2025", datetime(2025, 3, 5)),
    ("05.03.25 22:30", datetime(2025, 3, 5, 22, 30)),                # two-digit year
    ("2025-03-05 22:30:07", datetime(2025, 3, 5, 22, 30, 7)),        # ISO
    ("2025-03-05T22:30:07", datetime(2025, 3, 5, 22, 30, 7)),
    ("2025-03-05T22:30:07.250", datetime(2025, 3, 5, 22, 30, 7, 250000)),
    ("2025-03-05 22:30", datetime(2025, 3, 5, 22, 30)),
    ("05/03/2025 22:30:00", datetime(2025, 3, 5, 22, 30)),            # slashes, day first
])
def test_every_1c_date_format(text, moment):
    assert parse_date_time(text) == moment


def test_month_first_and_twelve_hour_clock():
    assert parse_date_time("3/5/2025 9:15:00 PM", month_first=True) == datetime(2025, 3, 5, 21, 15)
    assert parse_date_time("3/5/2025 12:05:00 AM", month_first=True) == datetime(2025, 3, 5, 0, 5)
    assert parse_date_time("3/5/2025 12:05:00 PM", month_first=True) == datetime(2025, 3, 5, 12, 5)


@pytest.mark.parametrize("text", ["31.02.2025 10:00:00", "2025-13-01", "05.03.2025 25:00", "5.3", "вчера",
                                  "3/5/2025 13:00:00 PM"])
def test_impossible_or_not_a_date(text):
    with pytest.raises(ValueError):
        parse_date_time(text)


@pytest.mark.parametrize("first, last, period", [
    ("01.03.2025", "31.03.2025", (date(2025, 3, 1), date(2025, 3, 31))),
    ("01.03.25", "31.03.25", (date(2025, 3, 1), date(2025, 3, 31))),
    ("2025-03-01", "2025-03-31", (date(2025, 3, 1), date(2025, 3, 31))),
    ("3/1/2025", "3/31/2025", (date(2025, 3, 1), date(2025, 3, 31))),   # only month first can be right
    ("01.03.2025", "01.02.2025", None),
])
def test_read_period(first, last, period):
    assert read_period(first, last) == period


@pytest.mark.parametrize("style", ["iso", "iso_t", "no_seconds", "padded"])
def test_statement_in_another_date_format_reads_the_same(tmp_path, clean, style):
    """Documents, batches and the period in ISO or without seconds: the same report (no seconds: same
    minutes; the fixture's seconds are kept by every other style)."""
    grid = v.restyle_dates(h.clean_batch_grid(), style)
    report = read_report(h.write_xlsx(tmp_path / f"{style}.xlsx", grid))
    if style == "no_seconds":
        for table in ("documents", "batches"):
            for column in ("doc_datetime", "batch_arrival"):
                if column in getattr(clean, table):
                    expected = getattr(clean, table)[column].dt.floor("min")
                    assert getattr(report, table)[column].tolist() == expected.tolist()
        assert report.issues == [] and report.header == clean.header
        return
    v.assert_same_report(report, clean)


@pytest.mark.parametrize("style, period_too", [("us", True), ("us", False), ("us_dots", False), ("us_dots", True)])
def test_month_first_dates_are_refused_with_that_reason(tmp_path, style, period_too):
    """Was: 'totals grossly mismatched … rows were lost' with every row an error."""
    grid = v.restyle_dates(h.nested_groups_grid(), style, period_too=period_too)
    path = h.write_xlsx(tmp_path / "us.xlsx", grid)
    with pytest.raises(ReportError) as info:
        read_report(path)
    error = info.value
    assert error.cause == "values"
    assert "month first (US format)" in error.reason and "01.03.2025–31.03.2025" in error.reason
    assert error.row is not None and str(error).startswith(f"us.xlsx, row {error.row}: ")
    assert "Russian regional settings" in error.hint


def test_month_first_without_a_period_is_refused_by_impossible_days():
    rows = [(11 + i, f"3/{day}/2025 9:00:00 AM") for i, day in enumerate((3, 4, 13, 14, 20))]
    with pytest.raises(ReportError, match="do not exist when read day.month.year"):
        refuse_month_first(h.FIXTURES / "x.xlsx", rows, None, None)


def test_day_first_files_are_never_refused():
    march = (date(2025, 3, 1), date(2025, 3, 31))
    path = h.FIXTURES / "x.xlsx"
    # one mistyped document (3 April, outside the period; 4 March read month first) among good ones
    rows = [(11, "03.04.2025 10:00:00"), *[(12 + d, f"{d:02d}.03.2025 10:00:00") for d in range(5, 25)]]
    refuse_month_first(path, rows, *march)
    # every day ≤ 12 and no period: both readings are possible, 1C in Russia writes day first
    refuse_month_first(path, [(11, "04.03.2025 10:00"), (12, "05.03.2025 10:00")], None, None)
    # ISO dates cannot be misread
    refuse_month_first(path, [(11, "2025-04-03 10:00")], *march)

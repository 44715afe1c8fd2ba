"""The turnover statement reader: xlsx and both CSV dialects give the same products."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from shrinkage.sources import read_report
from shrinkage.sources.model import PRODUCT_COLUMNS
from tests import sources_helpers as h

F = h.FIXTURES
SEMICOLON = F / "ОСВ за период с 01.03.25 по 31.03.25.csv"
COMMA = F / "turnover за период с 01.03.2025 по 31.03.2025.csv"


@pytest.fixture(scope="module")
def xlsx():
    return read_report(F / "turnover.xlsx")


def test_turnover_xlsx(xlsx):
    assert xlsx.kind == "turnover_statement"
    assert (xlsx.header.period_start, xlsx.header.period_end) == (date(2025, 3, 1), date(2025, 3, 31))
    assert list(xlsx.products.columns) == PRODUCT_COLUMNS
    assert xlsx.products[["product", "group_path", "row"]].values.tolist() == [
        [h.HERRING, h.SMOKED_GROUP, 5], [h.MACKEREL, h.SMOKED_GROUP, 6], [h.ROACH, h.DRIED_GROUP, 8]]
    assert xlsx.products.iloc[1][["opening", "incoming", "outgoing", "closing"]].tolist() == [10.0, 10.0, 10.0, 9.886]
    assert xlsx.groups["group"].tolist() == [h.SMOKED_GROUP, h.DRIED_GROUP]
    assert xlsx.documents.empty and xlsx.batches.empty
    # closing may be the physical count: no per-product balance issue for the mackerel
    assert xlsx.issues == []


@pytest.mark.parametrize("path", [SEMICOLON, COMMA], ids=["semicolon-cp1251", "comma-utf8-bom"])
def test_csv_dialects_match_the_xlsx(xlsx, path):
    report = read_report(path)
    assert report.issues == []
    assert (report.header.period_start, report.header.period_end) == (date(2025, 3, 1), date(2025, 3, 31))
    cols = ["product", "group_path", "opening", "incoming", "outgoing", "closing"]
    pd.testing.assert_frame_equal(report.products[cols], xlsx.products[cols])
    assert report.products["row"].tolist() == [3, 4, 6]  # no title rows in the CSV


def test_flat_turnover_without_title_or_total_and_period_from_file_name(tmp_path):
    rows = [(h.HERRING, "4,100", "2,000", "1,986", "4,114"), (h.ROACH, "1,5", "3", "0,7", "3,8")]
    path = h.write_xlsx(tmp_path / "остатки за период с 1.02.2025 по 28.02.2025.xlsx",
                        h.turnover_grid(rows, title=None))
    report = read_report(path)
    assert report.header.period_start == date(2025, 2, 1) and report.header.period_end == date(2025, 2, 28)
    assert report.products["product"].tolist() == [h.HERRING, h.ROACH]
    assert report.groups.empty and report.grand_total is None and report.issues == []


def test_a_product_followed_by_an_equal_one_is_not_a_group_when_the_total_says_so(tmp_path):
    same = (2.0, 1.0, 1.0, 2.0)
    rows = [("ЛЕЩ ВЯЛЕНЫЙ", *same), ("ЧЕХОНЬ ВЯЛЕНАЯ", *same)]
    report = read_report(h.write_xlsx(tmp_path / "t.xlsx", h.turnover_grid(rows, total=h.add(same, same))))
    assert report.groups.empty and len(report.products) == 2


def test_bad_number_names_row_and_column(tmp_path):
    rows = [(h.HERRING, "4,1", "два", "1,986", "4,114")]
    report = read_report(h.write_xlsx(tmp_path / "t.xlsx", h.turnover_grid(rows)))
    issue = report.issues[0]
    assert (issue.code, issue.row, issue.severity) == ("bad_number", 4, "high")
    assert "column C" in issue.message
    assert pd.isna(report.products.iloc[0]["incoming"])

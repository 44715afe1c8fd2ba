"""Every balance identity of the batch statement: silent on clean data, one issue with the row when broken."""

from __future__ import annotations

import pytest

from shrinkage.sources import read_report
from tests import sources_helpers as h


def parse(tmp_path, data, warehouse_totals=h.HERRING_TOTALS, **kwargs):
    grid = h.batch_statement_grid(data, warehouse_totals=warehouse_totals, **kwargs)
    return read_report(h.write_xlsx(tmp_path / "report.xlsx", grid))


def found(report):
    return [(issue.code, issue.row) for issue in report.issues]


def herring_with(index, row):
    rows = list(h.HERRING_ROWS)
    rows[index] = row
    return rows


def test_clean_nested_report_has_no_issues(tmp_path):
    data = [(h.HERRING_GROUP, *h.HERRING_TOTALS), *h.HERRING_ROWS]
    assert parse(tmp_path, data).issues == []


def test_product_that_is_not_the_sum_of_its_documents(tmp_path):
    rows = herring_with(0, (h.HERRING, 4.100, 2.000, 1.976, 4.124))  # outgoing 1.976, closing 4.124
    report = parse(tmp_path, rows, warehouse_totals=(4.100, 2.000, 1.976, 4.124))
    assert found(report) == [("product_documents_mismatch", 11)]
    assert "outgoing 1.986 vs 1.976" in report.issues[0].message


def test_document_chain_break_and_balance(tmp_path):
    # the receipt starts from 2.160 instead of the previous closing 2.150 (and so does its batch)
    rows = herring_with(3, ("Приходная накладная 000000000000077 от 04.03.2025 9:15:00", 2.160, 2.000, None, 4.150))
    report = parse(tmp_path, rows)
    assert set(found(report)) == {("document_chain_break", 14), ("balance_mismatch", 14),
                                  ("document_batches_mismatch", 14)}


def test_batch_balance(tmp_path):
    rows = herring_with(2, ("21.02.2025 8:40:00", 4.100, None, 1.950, 2.160))
    report = parse(tmp_path, rows)
    assert ("balance_mismatch", 13) in found(report)
    assert ("document_batches_mismatch", 12) in found(report)


def test_group_and_totals(tmp_path):
    data = [(h.HERRING_GROUP, 4.100, 2.000, 1.986, 4.214), *h.HERRING_ROWS]  # group closing off by 0.1
    report = parse(tmp_path, data)
    assert ("group_sum_mismatch", 11) in found(report)
    assert report.products["product"].tolist() == [h.HERRING]


def test_grand_total_that_differs_from_the_warehouse_row(tmp_path):
    grid = h.batch_statement_grid(h.HERRING_ROWS, warehouse_totals=h.HERRING_TOTALS)
    grid[-1][8] = 5.0  # Итого closing
    report = read_report(h.write_xlsx(tmp_path / "r.xlsx", grid))
    assert found(report) == [("grand_total_mismatch", 20)]


def test_bad_number_is_reported_with_row_and_column_letter(tmp_path):
    rows = herring_with(2, ("21.02.2025 8:40:00", 4.100, None, "1,95 кг", 2.150))
    report = parse(tmp_path, rows)
    bad = [i for i in report.issues if i.code == "bad_number"]
    assert len(bad) == 1 and bad[0].row == 13 and "column H" in bad[0].message and bad[0].severity == "high"


@pytest.mark.parametrize("shift", [0, 2])
def test_tolerance_absorbs_rounding_in_the_last_gram(tmp_path, shift):
    rows = herring_with(8, ("04.03.2025 9:15:00", 2.0004, None, None, 2.000))
    assert parse(tmp_path, rows, shift=shift).issues == []


def test_text_after_the_total_is_reported_not_parsed(tmp_path):
    grid = h.batch_statement_grid(h.HERRING_ROWS, warehouse_totals=h.HERRING_TOTALS)
    grid.append([None] * 9)
    grid.append(["Ответственный: ______"] + [None] * 8)
    report = read_report(h.write_xlsx(tmp_path / "r.xlsx", grid))
    assert found(report) == [("rows_after_total", 22)]
    assert report.issues[0].severity == "low"

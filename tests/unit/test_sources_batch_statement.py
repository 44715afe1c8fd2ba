"""The batch statement reader on the committed fixtures: structure, numbers, messy input."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from shrinkage.sources import read_report
from shrinkage.sources.model import BATCH_COLUMNS, DOCUMENT_COLUMNS, GROUP_COLUMNS, PRODUCT_COLUMNS
from tests import sources_helpers as h

F = h.FIXTURES
T = pd.Timestamp


def codes(report) -> list[str]:
    return [issue.code for issue in report.issues]


@pytest.fixture(scope="module")
def clean():
    return read_report(F / "batch_clean.xlsx")


def test_domain_example_header(clean):
    assert clean.kind == "batch_statement"
    assert clean.header.title == "Ведомость по партиям номенклатуры"
    assert (clean.header.period_start, clean.header.period_end) == (date(2025, 3, 1), date(2025, 3, 31))
    assert clean.header.warehouse == h.WAREHOUSE
    assert clean.header.unit == "кг"


def test_domain_example_products_and_groups(clean):
    assert list(clean.products.columns) == PRODUCT_COLUMNS
    assert clean.products.to_dict("records") == [{
        "product": h.HERRING, "group_path": h.HERRING_GROUP, "row": 12,
        "opening": 4.100, "incoming": 2.000, "outgoing": 1.986, "closing": 4.114}]
    assert list(clean.groups.columns) == GROUP_COLUMNS
    assert clean.groups[["group", "group_path", "row"]].values.tolist() == [[h.HERRING_GROUP, "", 11]]
    assert clean.warehouse_total == {"row": 10, "opening": 4.1, "incoming": 2.0, "outgoing": 1.986, "closing": 4.114}
    assert clean.grand_total["row"] == 21
    assert clean.rows_read == 12


def test_domain_example_documents(clean):
    docs = clean.documents
    assert list(docs.columns) == DOCUMENT_COLUMNS
    assert docs[["row", "doc_seq", "doc_type", "doc_kind", "doc_number"]].values.tolist() == [
        [13, 1, "Отчет отдела о розничных продажах", "sale", "000000000000301"],
        [15, 2, "Приходная накладная", "receipt", "000000000000077"],
        [18, 3, "Инвентаризация", "count", "000000000000012"],
    ]
    assert list(docs["doc_datetime"]) == [T("2025-03-03 21:05:10"), T("2025-03-04 09:15:00"),
                                          T("2025-03-05 22:30:00")]
    assert docs[["opening", "incoming", "outgoing", "closing"]].values.tolist() == [
        [4.1, 0.0, 1.95, 2.15], [2.15, 2.0, 0.0, 4.15], [4.15, 0.0, 0.036, 4.114]]
    assert (docs["product"] == h.HERRING).all()


def test_domain_example_batches(clean):
    batches = clean.batches
    assert list(batches.columns) == BATCH_COLUMNS
    assert batches[["doc_row", "row", "doc_kind"]].values.tolist() == [
        [13, 14, "sale"], [15, 16, "receipt"], [15, 17, "receipt"], [18, 19, "count"], [18, 20, "count"]]
    assert list(batches["batch_arrival"]) == [T("2025-02-21 08:40"), T("2025-02-21 08:40"), T("2025-03-04 09:15"),
                                              T("2025-02-21 08:40"), T("2025-03-04 09:15")]
    assert batches["labelled"].all()
    count = batches[batches["doc_kind"] == "count"]
    # docs/DOMAIN.md: the count found 0.036 kg missing from the 21.02 8:40 batch, 2.150 kg on the books.
    assert count[["opening", "outgoing", "closing"]].values.tolist() == [[2.15, 0.036, 2.114], [2.0, 0.0, 2.0]]


def test_clean_file_reconciles_without_issues(clean):
    assert clean.issues == []


def test_xls_and_xlsx_of_the_same_report_are_identical(clean):
    legacy = read_report(F / "batch_clean.xls")
    assert legacy.header == clean.header
    for table in ("products", "groups", "documents", "batches"):
        pd.testing.assert_frame_equal(getattr(legacy, table), getattr(clean, table))
    assert legacy.issues == [] and legacy.warehouse_total == clean.warehouse_total


def test_a_renamed_file_is_read_by_its_content(tmp_path):
    renamed = tmp_path / "report.csv"
    renamed.write_bytes((F / "batch_clean.xls").read_bytes())
    assert len(read_report(renamed).batches) == 5


def test_captions_shifted_by_a_column_give_the_same_tables(clean):
    shifted = read_report(F / "batch_shifted_captions.xlsx")
    for table in ("products", "groups", "documents", "batches"):
        pd.testing.assert_frame_equal(getattr(shifted, table), getattr(clean, table))
    assert shifted.issues == []


def test_nested_groups_and_products_without_documents():
    report = read_report(F / "batch_nested_groups.xlsx")
    assert report.issues == []
    fish = h.FISH_GROUP
    assert report.groups[["group", "group_path"]].values.tolist() == [
        [fish, ""], [h.SMOKED_GROUP, fish], [h.DRIED_GROUP, fish], [h.CAVIAR_GROUP, ""]]
    assert report.products[["product", "group_path"]].values.tolist() == [
        [h.HERRING, f"{fish} / {h.SMOKED_GROUP}"],
        [h.ROACH, f"{fish} / {h.DRIED_GROUP}"],
        [h.BREAM[0], f"{fish} / {h.DRIED_GROUP}"],       # static product, not a group of the sabrefish
        [h.SABREFISH[0], f"{fish} / {h.DRIED_GROUP}"],
        [h.CAVIAR[0], h.CAVIAR_GROUP],                   # static group with one equal static product
        [h.CRAB_STICKS[0], ""],
    ]
    roach_docs = report.documents[report.documents["product"] == h.ROACH]
    assert roach_docs["doc_seq"].tolist() == [1, 2]
    assert report.documents.groupby("product")["doc_seq"].max().to_dict() == {h.HERRING: 3, h.ROACH: 2}


def test_unlabelled_batch_is_kept_with_an_issue():
    report = read_report(F / "batch_unlabelled_batch.xlsx")
    last = report.batches.iloc[-1]
    assert last["row"] == 20 and not last["labelled"] and pd.isna(last["batch_arrival"])
    assert (last["opening"], last["closing"]) == (2.0, 2.0)
    assert report.batches["labelled"].tolist() == [True, True, True, True, False]
    assert [(i.code, i.row, i.product) for i in report.issues] == [("unlabelled_batch", 20, h.HERRING)]


def test_unknown_document_type_is_kept_as_other():
    report = read_report(F / "batch_unknown_doc_type.xlsx")
    first = report.documents.iloc[0]
    assert (first["doc_type"], first["doc_kind"], first["doc_number"]) == (h.UNKNOWN_DOC_TYPE, "other",
                                                                          "000000000000301")
    assert report.batches.iloc[0]["doc_kind"] == "other"
    assert [(i.code, i.severity, i.row) for i in report.issues] == [("unknown_doc_type", "low", 13)]


def test_text_numbers_blank_and_hidden_rows():
    report = read_report(F / "batch_text_numbers.xlsx")
    assert report.issues == []
    assert report.products.iloc[0][["opening", "incoming", "outgoing", "closing"]].tolist() == pytest.approx(
        list(h.MACKEREL_TOTALS))
    # Blank rows 14 and 17 skipped; hidden row 16 (the sales document) is data.
    assert report.documents["row"].tolist() == [12, 16]
    assert report.batches["row"].tolist() == [13, 15, 18, 19]
    assert report.batches["outgoing"].tolist() == pytest.approx([0.0, 0.0, 1234.567, 265.683])
    assert report.warehouse_total["incoming"] == 2000.0


def test_odd_names_are_cleaned_but_keep_quotes_and_slashes():
    report = read_report(F / "batch_odd_names.xlsx")
    assert report.header.warehouse == h.ODD_WAREHOUSE
    assert report.products["product"].tolist() == [h.ODD_NAME]
    assert report.products["group_path"].tolist() == [h.ODD_GROUP]
    assert set(report.documents["product"]) == {h.ODD_NAME}
    assert report.issues == []


def test_duplicate_rows_are_kept_and_reported():
    report = read_report(F / "batch_duplicate_rows.xlsx")
    assert report.batches["row"].tolist() == [14, 16, 17, 18, 20, 21]
    found = [(i.code, i.row) for i in report.issues]
    assert ("duplicate_row", 17) in found
    assert ("document_batches_mismatch", 15) in found  # the copy also breaks the document's sum


def test_broken_sum_is_an_issue_with_the_row_not_an_error():
    report = read_report(F / "batch_broken_sum.xlsx")
    assert [(i.code, i.row, i.product) for i in report.issues] == [
        ("document_batches_mismatch", 18, h.HERRING)]
    assert "outgoing 0.046 vs 0.036" in report.issues[0].message

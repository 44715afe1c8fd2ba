"""Each validation rule fails on a report crafted to break it, at the right row, and passes when clean."""

from __future__ import annotations

import pandas as pd
import pytest

from shrinkage.quality import RULES, validate_report
from tests.quality_helpers import (
    Doc,
    build_report,
    failed_rules,
    herring,
    index_of,
    issue_rows,
    issues_of,
    roach,
    row_of,
)

HERRING = "СЕЛЬДЬ Х/К"
ROACH = "ВОБЛА ВЯЛЕНАЯ"


def test_clean_report_passes_every_rule():
    result = validate_report(build_report())
    assert result.success
    assert failed_rules(result) == set()
    assert result.issues == ()
    assert result.quality_score == 1.0
    assert {check.name for check in result.checks} == set(RULES) | {"reader_issues"}
    # Every rule is implemented by Great Expectations expectations.
    assert all(check.expectations for check in result.checks if check.name != "reader_issues")


def test_broken_balance_identity_names_the_row_and_residual():
    report = build_report()
    target = row_of(report.batches, product=HERRING, doc_number="000000000000012", closing=2.114)
    report.batches.loc[index_of(report.batches, target), "closing"] = 2.214
    result = validate_report(report)
    assert issue_rows(result, "balance_identity") == [target]
    (issue,) = issues_of(result, "balance_identity")
    assert issue.product == HERRING and issue.severity_level == "high"
    assert "off by -0.100 kg" in issue.description
    # The document's batches no longer sum to it either.
    assert issue_rows(result, "batches_sum_to_document") == [row_of(report.documents, doc_number="000000000000012")]


def test_within_tolerance_is_not_a_failure():
    report = build_report()
    target = row_of(report.batches, product=HERRING, doc_number="000000000000012", closing=2.114)
    report.batches.loc[index_of(report.batches, target), "closing"] = 2.1149  # 0.0009 kg < 0.0015 tolerance
    result = validate_report(report)
    assert result.check("balance_identity").passed


def test_batches_not_summing_to_their_document():
    report = build_report()
    target = row_of(report.batches, product=HERRING, doc_number="000000000000077", opening=0.0)
    report.batches.loc[index_of(report.batches, target), ["opening", "closing"]] = [0.5, 2.5]
    result = validate_report(report)
    doc_row = row_of(report.documents, doc_number="000000000000077")
    assert issue_rows(result, "batches_sum_to_document") == [doc_row]
    (issue,) = issues_of(result, "batches_sum_to_document")
    assert "opening 2.150 vs 2.650" in issue.description
    assert result.check("balance_identity").passed


def test_broken_document_chain():
    report = build_report()
    docs, batches = report.documents, report.batches
    doc_row = row_of(docs, doc_number="000000000000077")
    docs.loc[index_of(docs, doc_row), ["opening", "closing"]] += 1.0
    first_batch = row_of(batches, doc_number="000000000000077", opening=2.150)
    batches.loc[index_of(batches, first_batch), ["opening", "closing"]] += 1.0
    result = validate_report(report)
    next_doc = row_of(docs, doc_number="000000000000012")
    assert issue_rows(result, "document_chain") == [doc_row, next_doc]
    assert result.check("balance_identity").passed
    assert result.check("batches_sum_to_document").passed


def test_document_date_missing():
    report = build_report()
    target = row_of(report.documents, doc_number="000000000000320")
    report.documents.loc[index_of(report.documents, target), "doc_datetime"] = pd.NaT
    result = validate_report(report)
    assert issue_rows(result, "document_date_missing") == [target]
    assert issues_of(result, "document_date_missing")[0].severity_level == "high"


@pytest.mark.parametrize("moment, shown", [
    ("2025-04-02 10:00", "02.04.2025 10:00:00"),
    ("2025-04-01 00:00:00", "01.04.2025 00:00:00"),  # midnight after the last day is outside
])
def test_document_outside_period(moment, shown):
    report = build_report()
    target = row_of(report.documents, doc_number="000000000000013")
    report.documents.loc[index_of(report.documents, target), "doc_datetime"] = pd.Timestamp(moment)
    result = validate_report(report)
    assert issue_rows(result, "document_outside_period") == [target]
    (issue,) = issues_of(result, "document_outside_period")
    assert shown in issue.description and issue.severity_level == "medium"


def test_last_day_of_period_is_inside():
    report = build_report()
    target = row_of(report.documents, doc_number="000000000000013")
    report.documents.loc[index_of(report.documents, target), "doc_datetime"] = pd.Timestamp("2025-03-31 23:59:59")
    report.batches.loc[report.batches["doc_row"] == target, "doc_datetime"] = pd.Timestamp("2025-03-31 23:59:59")
    assert validate_report(report).check("document_outside_period").passed


def test_batch_arrival_may_precede_period_but_not_its_document():
    report = build_report()
    batches = report.batches
    early = row_of(batches, doc_number="000000000000301")
    batches.loc[index_of(batches, early), "batch_arrival"] = pd.Timestamp("2024-11-01 08:00")
    late = row_of(batches, doc_number="000000000000320")
    batches.loc[index_of(batches, late), "batch_arrival"] = pd.Timestamp("2025-03-15 08:00")
    result = validate_report(report)
    assert issue_rows(result, "batch_arrival_after_document") == [late]
    assert issues_of(result, "batch_arrival_after_document")[0].product == ROACH


def test_unlabelled_batch():
    report = build_report()
    target = row_of(report.batches, doc_number="000000000000320")
    report.batches.loc[index_of(report.batches, target), ["batch_arrival", "labelled"]] = [pd.NaT, False]
    result = validate_report(report)
    assert issue_rows(result, "unlabelled_batch") == [target]
    assert result.check("unlabelled_batch").severity == "medium"


def test_unknown_document_type_is_low():
    report = build_report()
    target = row_of(report.documents, doc_number="000000000000320")
    report.documents.loc[index_of(report.documents, target), ["doc_type", "doc_kind"]] = ["Корректировка", "other"]
    result = validate_report(report)
    assert issue_rows(result, "unknown_document_type") == [target]
    (issue,) = issues_of(result, "unknown_document_type")
    assert issue.severity_level == "low" and "Корректировка" in issue.description


def test_implausible_count_shortage_on_document_and_batch():
    report = build_report(products=[herring(), roach(count_outgoing=0.600)])
    result = validate_report(report)
    doc_row = row_of(report.documents, doc_number="000000000000013")
    batch_row = row_of(report.batches, doc_number="000000000000013")
    assert issue_rows(result, "implausible_count_shortage") == [doc_row]
    assert issue_rows(result, "implausible_batch_count_shortage") == [batch_row]
    assert issues_of(result, "implausible_batch_count_shortage")[0].severity_level == "low"
    issue = issues_of(result, "implausible_count_shortage")[0]
    assert "0.600 kg missing out of a book balance of 1.000 kg (60%)" in issue.description
    assert result.success  # an anomaly to review, not a reason to refuse the file


def test_plausible_count_shortage_passes():
    result = validate_report(build_report(products=[herring(), roach(count_outgoing=0.240)]))
    assert result.check("implausible_count_shortage").passed
    assert result.check("implausible_batch_count_shortage").passed


def test_a_noisy_batch_line_alone_is_only_a_hint():
    # Two batches at the count: the new one loses 60 % of its small remnant, the product 20 %.
    product = roach()
    product.docs[1].batches = [("10.03.2025 10:00:00", 3.000, 0.0, 2.500)]
    product.docs.insert(2, Doc("Приходная накладная", "000000000000081", "13.03.2025 10:00:00",
                               [("10.03.2025 10:00:00", 0.500, 0.0, 0.0), ("13.03.2025 10:00:00", 0.0, 0.100, 0.0)]))
    product.docs[-1].batches = [("10.03.2025 10:00:00", 0.500, 0.0, 0.060), ("13.03.2025 10:00:00", 0.100, 0.0, 0.060)]
    result = validate_report(build_report(products=[herring(), product]))
    assert result.check("implausible_count_shortage").passed
    assert len(issue_rows(result, "implausible_batch_count_shortage")) == 1
    roach_row = result.per_product.set_index("product").loc[ROACH]
    assert roach_row["human_error_probability"] == pytest.approx(0.1)
    assert not roach_row["manual_review_required"]


@pytest.mark.parametrize("table", ["products", "documents", "batches"])
def test_duplicate_rows(table):
    report = build_report()
    frame = getattr(report, table)
    setattr(report, table, pd.concat([frame, frame.iloc[[1]]], ignore_index=True))
    result = validate_report(report)
    duplicated_row = int(frame.iloc[1]["row"])
    assert issue_rows(result, "duplicate_rows") == [duplicated_row, duplicated_row]
    assert result.check("duplicate_rows").severity == "high"


def test_empty_product_name():
    report = build_report()
    target = row_of(report.products, product=ROACH)
    report.products.loc[index_of(report.products, target), "product"] = "   "
    result = validate_report(report)
    assert issue_rows(result, "product_name_empty") == [target]
    assert result.check("product_name_implausible").passed


@pytest.mark.parametrize("name", ["21.06.2025 9:20:00", "12345 / 678", "Х" * 201,
                                  "Инвентаризация 000000000000012 от 05.03.2025 22:30:00", "Итого"])
def test_implausible_product_name(name):
    report = build_report()
    target = row_of(report.products, product=ROACH)
    report.products.loc[index_of(report.products, target), "product"] = name
    result = validate_report(report)
    assert issue_rows(result, "product_name_implausible") == [target]


def test_names_with_quotes_slashes_and_spaces_are_fine():
    report = build_report()
    report.products.loc[0, "product"] = 'СКУМБРИЯ Х/К "ЭКСТРА" 1/2 '
    report.documents.loc[report.documents["product"] == HERRING, "product"] = 'СКУМБРИЯ Х/К "ЭКСТРА" 1/2 '
    result = validate_report(report)
    assert result.check("product_name_implausible").passed
    assert result.check("product_name_empty").passed

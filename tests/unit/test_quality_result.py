"""The validation result: blocking vs warning, per-product flags, score, determinism, reader issues."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from shrinkage.config import CONFIG, QualityThresholds
from shrinkage.normalise import ERROR_COLUMNS, errors_frame
from shrinkage.quality import RULES, validate_report
from shrinkage.quality.result import PER_PRODUCT_COLUMNS
from shrinkage.sources.model import ParseIssue
from tests.quality_helpers import big_report, build_report, herring, index_of, roach, row_of

HERRING = "СЕЛЬДЬ Х/К"
ROACH = "ВОБЛА ВЯЛЕНАЯ"


def _product(result, name):
    rows = result.per_product[result.per_product["product"] == name]
    assert len(rows) == 1
    return rows.iloc[0]


def test_blocking_rules_are_exactly_the_critical_ones():
    result = validate_report(build_report())
    blocking = {check.name for check in result.checks if check.blocking}
    assert blocking == {
        "required_columns", "empty_report", "numeric_quantities", "implausible_quantity", "negative_quantity",
        "totals_grossly_mismatched",
    }
    for check in result.checks:
        if check.name in RULES:
            assert check.blocking == (RULES[check.name].severity == "critical")


def test_warnings_keep_success_and_are_recorded_as_issues():
    report = build_report()
    target = row_of(report.documents, doc_number="000000000000320")
    report.documents.loc[index_of(report.documents, target), ["doc_type", "doc_kind"]] = ["Корректировка", "other"]
    result = validate_report(report)
    assert result.success
    assert result.blocking_failures == ()
    assert [issue.error_type for issue in result.issues] == ["unknown_document_type"]
    issue = result.issues[0]
    assert issue.detected_by == "great_expectations" and issue.row == target and issue.product == ROACH


def test_clean_products_are_ok():
    result = validate_report(build_report())
    assert list(result.per_product.columns) == PER_PRODUCT_COLUMNS
    assert result.per_product["product"].tolist() == [HERRING, ROACH]
    assert result.per_product["row"].tolist() == [12, 22]
    assert (result.per_product["data_quality_flag"] == "ok").all()
    assert (result.per_product["human_error_probability"] == 0.0).all()
    assert not result.per_product["manual_review_required"].any()


@pytest.mark.parametrize(("outgoing", "probability", "review"), [
    # The count document grades 0.5..0.99 with the share; its one batch line adds a 0.1 hint.
    (0.300, 1 - 0.4 * 0.9, False),   # 30 % of the book balance: just beyond plausible
    (0.600, 1 - 0.01 * 0.9, True),   # 60 %: almost surely not shrinkage
])
def test_implausible_count_grades_the_human_error_probability(outgoing, probability, review):
    result = validate_report(build_report(products=[herring(), roach(count_outgoing=outgoing)]))
    roach_row = _product(result, ROACH)
    assert roach_row["data_quality_flag"] == "warning"
    assert roach_row["human_error_probability"] == pytest.approx(probability)
    assert bool(roach_row["manual_review_required"]) is review
    assert _product(result, HERRING)["data_quality_flag"] == "ok"


def test_broken_identity_flags_the_product_for_review():
    report = build_report()
    target = row_of(report.batches, product=HERRING, doc_number="000000000000012", closing=2.114)
    report.batches.loc[index_of(report.batches, target), "closing"] = 2.214
    result = validate_report(report)
    herring_row = _product(result, HERRING)
    assert herring_row["data_quality_flag"] == "error"
    # balance_identity (0.9) and batches_sum_to_document (0.8) combine as independent evidence.
    assert herring_row["human_error_probability"] == pytest.approx(1 - 0.1 * 0.2)
    assert bool(herring_row["manual_review_required"])
    assert herring_row["error_types"] == "balance_identity;batches_sum_to_document"
    assert _product(result, ROACH)["data_quality_flag"] == "ok"


def test_quality_score_reflects_severity_per_row():
    report = build_report()
    target = row_of(report.documents, doc_number="000000000000320")
    report.documents.loc[index_of(report.documents, target), ["doc_type", "doc_kind"]] = ["Корректировка", "other"]
    result = validate_report(report)
    assert result.rows_checked == 2 + 2 + 6 + 8 + 2
    assert result.quality_score == pytest.approx(1 - 0.1 / 20)


def test_blocked_file_scores_zero():
    report = build_report()
    report.grand_total["closing"] += 100.0
    result = validate_report(report)
    assert not result.success and result.quality_score == 0.0


def test_result_is_deterministic():
    def broken():
        report = build_report(products=[herring(), roach(count_outgoing=0.6)])
        report.products.loc[0, "closing"] += 1.0
        report.batches.loc[2, "batch_arrival"] = pd.NaT
        return report

    first, second = validate_report(broken()), validate_report(broken())
    assert first.issues == second.issues and len(first.issues) > 3
    assert first.checks == second.checks
    pd.testing.assert_frame_equal(first.per_product, second.per_product)
    assert first.quality_score == second.quality_score
    rows = [issue.row for issue in first.issues]
    assert rows == sorted(rows)


def test_reader_issues_are_carried_through():
    report = build_report()
    report.issues = [
        ParseIssue(code="hidden_rows", message="3 hidden rows were read", severity="low", row=5),
        ParseIssue(code="name_trimmed", message="trailing spaces removed from the product name",
                   severity="medium", row=22, product=ROACH),
    ]
    result = validate_report(report)
    reader = [issue for issue in result.issues if issue.detected_by == "reader"]
    assert [(issue.error_type, issue.row, issue.severity_level) for issue in reader] == [
        ("hidden_rows", 5, "low"), ("name_trimmed", 22, "medium"),
    ]
    assert reader[0].description.startswith("ведомость_март.xls, row 5: ")
    check = result.check("reader_issues")
    assert not check.passed and not check.blocking and check.failed_count == 2 and check.severity == "medium"
    assert result.success
    roach_row = _product(result, ROACH)
    assert roach_row["data_quality_flag"] == "warning"
    assert roach_row["human_error_probability"] == pytest.approx(0.2)


def test_critical_reader_issue_blocks():
    report = build_report()
    report.issues = [ParseIssue(code="lost_rows", message="rows 40-60 could not be assigned to a product",
                                severity="critical", row=40)]
    result = validate_report(report)
    assert result.check("reader_issues").blocking
    assert not result.success


def test_issues_become_rows_of_the_validation_errors_shape():
    report = build_report(products=[herring(), roach(count_outgoing=0.6)])
    frame = errors_frame(validate_report(report))
    assert list(frame.columns) == ERROR_COLUMNS
    assert len(frame) == 2
    assert set(frame["severity_level"]) == {"medium", "low"}


def test_thresholds_come_from_the_config():
    report = build_report(products=[herring(), roach(count_outgoing=0.6)])
    lenient = dataclasses.replace(CONFIG, quality=QualityThresholds(max_plausible_count_share=0.7))
    # the premise: only the threshold differs, and it is more lenient than the default
    assert lenient.quality.max_plausible_count_share > CONFIG.quality.max_plausible_count_share
    assert dataclasses.replace(lenient, quality=CONFIG.quality) == CONFIG
    assert validate_report(report, lenient).check("implausible_count_shortage").passed
    assert not validate_report(report, CONFIG).check("implausible_count_shortage").passed


def test_every_failing_row_becomes_an_issue_and_the_sample_is_bounded():
    report = big_report(2_000)
    report.batches["closing"] += 1.0  # every batch row breaks its identity
    result = validate_report(report)
    check = result.check("balance_identity")
    assert check.failed_count == len(report.batches)
    assert len(check.sample) == CONFIG.validation.check_sample_size
    assert sorted(issue.row for issue in result.issues if issue.error_type == "balance_identity") == sorted(
        report.batches["row"].tolist())


def test_big_clean_report_passes():
    result = validate_report(big_report(10_000))
    assert result.success and result.issues == ()
    assert len(result.per_product) == 10_000 // 50

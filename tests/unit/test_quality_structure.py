"""Structural and reconciliation rules: contract columns, numbers, signs, group / warehouse / Итого totals."""

from __future__ import annotations

import pandas as pd

from shrinkage.quality import validate_report
from tests.quality_helpers import build_report, failed_rules, herring, index_of, issue_rows, issues_of, roach, row_of

HERRING = "СЕЛЬДЬ Х/К"
ROACH = "ВОБЛА ВЯЛЕНАЯ"


def test_missing_required_column_blocks_loading():
    report = build_report()
    report.batches = report.batches.drop(columns=["closing"])
    result = validate_report(report)
    check = result.check("required_columns")
    assert not check.passed and check.blocking and check.severity == "critical"
    assert not result.success
    (issue,) = issues_of(result, "required_columns")
    assert issue.row is None and "batches table lacks the columns closing" in issue.description
    assert "ведомость_март.xls" in issue.description
    # Rules on the broken table cannot be evaluated, and say so.
    skipped = result.check("batch_arrival_after_document")
    assert skipped.skipped_reason and not skipped.passed
    # Rules on intact tables still run.
    assert result.check("document_chain").passed


def test_empty_report_blocks_loading():
    report = build_report(products=[])
    result = validate_report(report)
    assert not result.check("empty_report").passed
    assert result.check("empty_report").blocking
    assert not result.success
    assert result.quality_score == 0.0


def test_non_numeric_quantity_is_critical_with_its_row():
    report = build_report()
    batches = report.batches.astype({"closing": object})
    target = row_of(batches, product=ROACH, doc_number="000000000000013")
    batches.loc[index_of(batches, target), "closing"] = "0,95"
    report.batches = batches
    result = validate_report(report)
    assert issue_rows(result, "numeric_quantities") == [target]
    (issue,) = issues_of(result, "numeric_quantities")
    assert issue.product == ROACH and issue.severity_level == "critical" and issue.doc_number == "000000000000013"
    assert f"row {target}" in issue.description and "'0,95'" in issue.description
    assert not result.success


def test_negative_movement_is_blocking():
    report = build_report()
    target = row_of(report.documents, product=HERRING, doc_number="000000000000301")
    report.documents.loc[index_of(report.documents, target), ["outgoing", "closing"]] = [-1.0, 5.1]
    result = validate_report(report)
    assert issue_rows(result, "negative_quantity") == [target]
    assert result.check("negative_quantity").blocking
    assert not result.success


def test_negative_balance_is_a_high_warning():
    report = build_report()
    target = row_of(report.batches, product=ROACH, doc_number="000000000000013")
    index = index_of(report.batches, target)
    report.batches.loc[index, ["opening", "outgoing", "closing"]] = [-0.2, 0.0, -0.2]
    result = validate_report(report)
    assert issue_rows(result, "negative_balance") == [target]
    check = result.check("negative_balance")
    assert check.severity == "high" and not check.blocking
    assert result.success  # a warning: the file still loads


def test_product_row_disagreeing_with_its_documents():
    report = build_report()
    target = row_of(report.products, product=ROACH)
    report.products.loc[index_of(report.products, target), ["incoming", "closing"]] += 0.5
    result = validate_report(report)
    assert issue_rows(result, "product_matches_documents") == [target]
    # The group, warehouse and Итого sums now disagree with the product rows too.
    assert issue_rows(result, "group_matches_products") == [row_of(report.groups, group="ВЯЛЕНАЯ РЫБА (весовой товар)")]
    assert issue_rows(result, "warehouse_matches_products") == [report.warehouse_total["row"]]


def test_group_totals():
    report = build_report()
    target = row_of(report.groups, group="КОПЧЕНАЯ РЫБА (весовой товар)")
    report.groups.loc[index_of(report.groups, target), ["opening", "closing"]] += 0.25
    result = validate_report(report)
    assert issue_rows(result, "group_matches_products") == [target]
    assert result.check("group_matches_products").severity == "medium"
    assert result.success


def test_nested_groups_sum_all_products_below():
    report = build_report()
    # Put both product groups under one parent whose row sums everything.
    parent = "РЫБА ВЕСОВАЯ"
    report.products["group_path"] = parent + " / " + report.products["group_path"]
    report.groups["group_path"] = parent
    total = report.groups[["opening", "incoming", "outgoing", "closing"]].sum()
    parent_row = {"group": parent, "group_path": "", "row": 9, **total.to_dict()}
    report.groups = pd.concat([pd.DataFrame([parent_row]), report.groups], ignore_index=True)
    result = validate_report(report)
    assert result.check("group_matches_products").passed
    report.groups.loc[0, ["opening", "closing"]] += 1.0
    assert issue_rows(validate_report(report), "group_matches_products") == [9]


def grand_total_off_by(kg: float):
    """A report whose «Итого» row is off by ``kg`` in its opening and closing, and its verdict."""
    report = build_report()
    report.grand_total["opening"] += kg
    report.grand_total["closing"] += kg
    return report, validate_report(report)


def test_small_grand_total_mismatch_is_a_warning():
    report, result = grand_total_off_by(0.01)
    assert issue_rows(result, "grand_total_matches") == [report.grand_total["row"]]
    assert result.check("totals_grossly_mismatched").passed
    assert result.success


def test_gross_grand_total_mismatch_blocks():
    report, result = grand_total_off_by(50.0)
    assert issue_rows(result, "totals_grossly_mismatched") == [report.grand_total["row"]]
    assert result.check("totals_grossly_mismatched").blocking
    assert not result.success
    (issue,) = issues_of(result, "totals_grossly_mismatched")
    assert "«Итого» row" in issue.description and "truncated" in issue.description


def test_lost_product_rows_against_warehouse_total_block():
    report = build_report(products=[herring(), roach()])
    full_totals = dict(report.warehouse_total)
    # Rebuild with one product only, keeping the original totals: rows were lost.
    shrunk = build_report(products=[herring()])
    shrunk.warehouse_total = {**full_totals, "row": shrunk.warehouse_total["row"]}
    shrunk.grand_total = {**full_totals, "row": shrunk.grand_total["row"]}
    result = validate_report(shrunk)
    assert issue_rows(result, "warehouse_matches_products") == [shrunk.warehouse_total["row"]]
    assert issue_rows(result, "totals_grossly_mismatched") == [shrunk.warehouse_total["row"]]
    assert not result.success


def test_turnover_statement_without_documents_passes():
    report = build_report()
    report.kind = "turnover_statement"
    report.documents = report.documents.iloc[0:0]
    report.batches = report.batches.iloc[0:0]
    report.warehouse_total = None
    result = validate_report(report)
    assert result.success and failed_rules(result) == set()

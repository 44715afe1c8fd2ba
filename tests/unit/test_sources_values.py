"""Values no database column takes: settled while reading or blocked by validation, never met in a COPY.

Non-finite and absurd quantities, texts longer than their columns, control characters; the
Excel report writer cleans names too. Database-level proof is in
tests/integration/test_ingest_variants.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from shrinkage.config import CONFIG, Config, ValidationLimits
from shrinkage.db import models as m
from shrinkage.quality import validate_report
from shrinkage.sources import read_report
from shrinkage.sources.cells import CONTROL_CHARACTERS, NotFiniteError, parse_quantity, remove_control_characters
from tests import report_variants as v
from tests import sources_helpers as h
from tests.quality_helpers import build_report, index_of, issue_rows, issues_of, row_of

ROWS = v.clean_rows()
RECEIPT_BATCH = 6   # ROWS[6]: the receipt's new batch «04.03.2025 9:15:00», worksheet row 17
RECEIPT_ROW = 11 + RECEIPT_BATCH


def read_rows(tmp_path, rows, name="report.xlsx"):
    return read_report(h.write_xlsx(tmp_path / name, v.with_rows(rows)))


# -- quantities ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["1e309", "-1E400", "1 000e310"])
def test_parse_quantity_refuses_infinity(text):
    with pytest.raises(NotFiniteError):
        parse_quantity(text)
    with pytest.raises(NotFiniteError):
        parse_quantity(float("inf"))


@pytest.mark.parametrize("cell, said", [("1e309", "is not a finite number"), ("inf", "is not a number"),
                                        ("NaN", "is not a number"), ("-Infinity", "is not a number")])
def test_non_finite_quantity_text_is_a_bad_number_and_blocks(tmp_path, cell, said):
    report = read_rows(tmp_path, v.set_cell(ROWS, RECEIPT_BATCH, 2, cell))
    (issue,) = [i for i in report.issues if i.code == "bad_number"]
    assert issue.row == RECEIPT_ROW and said in issue.message and "column G" in issue.message
    assert np.isnan(report.batches.loc[report.batches["row"] == RECEIPT_ROW, "incoming"]).all()
    assert np.isfinite(report.batches[["opening", "outgoing", "closing"]].to_numpy()).all()
    result = validate_report(report)
    assert not result.success and not result.check("numeric_quantities").passed
    assert result.check("numeric_quantities").blocking


def test_an_infinite_number_cell_becomes_nan_with_an_issue(tmp_path):
    """Excel XML and hand-made xlsx can hold 1e309 as a *number*: the float is inf, not text."""
    path = v.write_spreadsheetml(tmp_path / "inf.xls", v.with_rows(v.set_cell(ROWS, RECEIPT_BATCH, 2, 1e308)))
    path.write_text(path.read_text(encoding="utf-8").replace("1e+308", "1e309"), encoding="utf-8")
    report = read_report(path)
    assert any(i.code == "bad_number" and i.row == RECEIPT_ROW and "infinite" in i.message for i in report.issues)
    for table in ("products", "groups", "documents", "batches"):
        assert not np.isinf(getattr(report, table)[["opening", "incoming", "outgoing", "closing"]].to_numpy()).any()
    assert not validate_report(report).success


@pytest.mark.parametrize("value", [1e308, 200_000.0])
def test_absurd_quantity_is_a_blocking_validation_error(tmp_path, value):
    report = read_rows(tmp_path, v.set_cell(ROWS, RECEIPT_BATCH, 2, value))
    result = validate_report(report)
    check = result.check("implausible_quantity")
    assert check.blocking and not check.passed and not result.success
    (issue,) = issues_of(result, "implausible_quantity")
    assert issue.row == RECEIPT_ROW and issue.severity_level == "critical"
    assert issue.description.startswith(f"report.xlsx, row {RECEIPT_ROW} (batch 04.03.2025 09:15:00")
    assert f"incoming {value:,.3f} kg" in issue.description and "100,000 kg per row" in issue.description
    assert "correct it in 1C" in issue.description


def test_plausible_maximum_is_configurable_and_spares_totals():
    report = build_report()
    target = row_of(report.batches, product="СЕЛЬДЬ Х/К", doc_number="000000000000077", incoming=2.0)
    report.batches.loc[index_of(report.batches, target), ["incoming", "closing"]] = [1500.0, 1500.0]
    strict = Config(validation=ValidationLimits(max_plausible_quantity_kg=1000.0))
    assert issue_rows(validate_report(report, strict), "implausible_quantity") == [target]
    assert validate_report(report).check("implausible_quantity").passed
    # groups and totals sum many products: only infinity counts there
    report = build_report()
    report.groups.loc[0, "opening"] = 5_000.0
    assert validate_report(report, strict).check("implausible_quantity").passed
    report.groups.loc[0, "opening"] = np.inf
    assert not validate_report(report, strict).check("implausible_quantity").passed


# -- texts longer than their columns ------------------------------------------------------------

def test_limits_match_the_database_columns():
    limits = CONFIG.text_limits
    assert m.Nomenclature.__table__.c.name.type.length == limits.product_name
    assert m.Nomenclature.__table__.c.normalized_name.type.length == limits.product_name
    assert m.BatchMovement.__table__.c.document_type.type.length == limits.document_type
    assert m.BatchMovement.__table__.c.document_number.type.length == limits.document_number
    assert m.SourceData.__table__.c.warehouse.type.length == limits.warehouse


def test_a_300_character_document_type_is_cut_and_blocks(tmp_path):
    long_type = "Приходная накладная " + "Ж" * 300
    report = read_rows(tmp_path, v.retitle(ROWS, "Приходная накладная", long_type))
    (issue,) = [i for i in report.issues if i.code == "text_too_long"]
    assert issue.severity == "critical" and issue.row == 15 and issue.product == h.HERRING
    assert "document type is 320 characters long, the database keeps at most 256" in issue.message
    assert report.documents["doc_type"].str.len().max() == 256
    assert report.batches["doc_type"].str.len().max() == 256
    result = validate_report(report)
    assert not result.success and result.check("reader_issues").blocking


def test_a_10000_character_product_name_is_cut_everywhere_and_blocks(tmp_path):
    long_name = h.HERRING + " " + "Х" * 10_000
    report = read_rows(tmp_path, v.retitle(ROWS, h.HERRING, long_name))
    (issue,) = [i for i in report.issues if i.code == "text_too_long"]
    assert issue.row == 12 and "product name is 10,011 characters long" in issue.message
    cut = long_name[:512]
    assert report.products["product"].tolist() == [cut]
    assert set(report.documents["product"]) == set(report.batches["product"]) == {cut}
    assert not validate_report(report).success


def test_an_over_long_warehouse_is_cut_and_blocks(tmp_path):
    grid = h.batch_statement_grid(ROWS, warehouse="Склад " + "№" * 600, warehouse_totals=h.HERRING_TOTALS)
    report = read_report(h.write_xlsx(tmp_path / "w.xlsx", grid))
    assert len(report.header.warehouse) == 512
    assert any(i.code == "text_too_long" and "warehouse" in i.message for i in report.issues)


# -- control characters -------------------------------------------------------------------------

def test_control_characters_match_what_openpyxl_refuses():
    every = "".join(chr(c) for c in range(32))
    assert set(CONTROL_CHARACTERS.findall(every)) == set(ILLEGAL_CHARACTERS_RE.findall(every))
    assert remove_control_characters("a\tb\nc\x1b[0m\x00") == "a\tb\nc[0m"


def test_control_characters_in_names_are_removed_with_an_issue(tmp_path):
    path = v.with_xlsx_escapes(h.write_xlsx(tmp_path / "ctrl.xlsx", h.clean_batch_grid()), {
        h.HERRING: "СЕЛЬДЬ_x001B_[31m Х/К_x0007_",
        "Приходная накладная": "Приходная_x0000_ накладная",
    })
    report = read_report(path)
    names = {"СЕЛЬДЬ[31m Х/К"}
    assert set(report.products["product"]) == set(report.documents["product"]) == names
    assert set(report.batches["product"]) == names
    assert report.documents["doc_type"].tolist()[1] == "Приходная накладная"
    issues = [i for i in report.issues if i.code == "control_characters"]
    assert [(i.row, i.severity, i.product) for i in issues] == [(12, "medium", "СЕЛЬДЬ[31m Х/К"),
                                                                 (15, "medium", "СЕЛЬДЬ[31m Х/К")]
    assert "'СЕЛЬДЬ\\x1b[31m Х/К\\x07'" in issues[0].message
    every_text = report.products["product"].tolist() + report.documents["doc_type"].tolist()
    assert not any(CONTROL_CHARACTERS.search(t) for t in every_text)
    assert validate_report(report).success  # cleaned and recorded, not blocking


def test_tab_and_newline_in_the_filter_are_not_control_characters(tmp_path):
    grid = h.clean_batch_grid()
    assert "\n" in grid[3][2]  # «Отбор» holds a newline between its clauses
    grid[3][2] = grid[3][2].replace("\n", "\t\r\n")
    report = read_report(h.write_xlsx(tmp_path / "tabs.xlsx", grid))
    assert report.header.warehouse == h.WAREHOUSE and report.header.unit == "кг" and report.issues == []


def test_control_characters_in_the_warehouse_are_removed(tmp_path):
    path = v.with_xlsx_escapes(h.write_xlsx(tmp_path / "w.xlsx", h.clean_batch_grid()),
                               {f'"{h.WAREHOUSE}"': f'"{h.WAREHOUSE}_x0007_"'})
    report = read_report(path)
    assert report.header.warehouse == h.WAREHOUSE
    (issue,) = [i for i in report.issues if i.code == "control_characters"]
    assert "warehouse" in issue.message and "\\x07" in issue.message


def test_reader_issue_descriptions_name_file_and_row_once(tmp_path):
    report = read_rows(tmp_path, v.set_cell(ROWS, RECEIPT_BATCH, 2, "1e309"))
    (issue,) = [i for i in validate_report(report).issues if i.error_type == "bad_number"]
    assert issue.description == (f"report.xlsx, row {RECEIPT_ROW}, column G: '1e309' is not a finite number; "
                                 "fix the cell in the source file and export again")

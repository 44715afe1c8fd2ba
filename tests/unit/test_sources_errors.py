"""Files that are not readable reports: each gets its own ReportError naming the file."""

from __future__ import annotations

import pytest

from shrinkage.sources import ReportError, read_report
from tests import sources_helpers as h

F = h.FIXTURES


BROKEN = [
    ("empty.xlsx", "the file is empty", "empty"),
    ("truncated.xlsx", "incomplete (the file was cut off", "truncated"),
    ("corrupt.xlsx", "the workbook is corrupt", "corrupt"),
    ("password_protected.xlsx", "password-protected workbook", "password"),
    ("not_a_report.xlsx", "not a 1C batch/turnover statement", "not_a_report"),
]


@pytest.mark.parametrize("name, reason, cause", BROKEN)
def test_specific_error_per_broken_file(name, reason, cause):
    with pytest.raises(ReportError) as info:
        read_report(F / name)
    error = info.value
    assert reason in error.reason and error.cause == cause
    assert str(error).startswith(name + ":")
    assert error.hint and error.hint in str(error)  # says what to do


def test_each_kind_of_broken_file_has_its_own_cause_and_advice():
    """corrupt, truncated, password-protected, empty, not a report: told apart, each with its advice."""
    errors = []
    for name, _, _ in BROKEN:
        with pytest.raises(ReportError) as info:
            read_report(F / name)
        errors.append(info.value)
    assert len({e.cause for e in errors}) == len(BROKEN)
    assert len({e.reason for e in errors}) == len(BROKEN)
    assert len({e.hint for e in errors}) >= 4  # empty and corrupt both say: export again


@pytest.mark.parametrize("extension", [".xls", ".xlsx", ".csv", ".html"])
def test_the_same_cause_whatever_the_name(tmp_path, extension):
    for name, _, cause in BROKEN:
        target = tmp_path / (name.split(".")[0] + extension)
        target.write_bytes((F / name).read_bytes())
        with pytest.raises(ReportError) as info:
            read_report(target)
        assert info.value.cause == cause, (target.name, str(info.value))


def test_password_message_says_how_to_fix_it():
    with pytest.raises(ReportError,
                       match="password-protected workbook — remove the password in Excel and export again"):
        read_report(F / "password_protected.xlsx")


def test_half_copied_xls_is_incomplete(tmp_path):
    data = (F / "batch_clean.xls").read_bytes()
    for cut in (4000, 4096):  # mid-sector and on a sector boundary
        target = tmp_path / f"cut{cut}.xls"
        target.write_bytes(data[:cut])
        with pytest.raises(ReportError, match="incomplete"):
            read_report(target)


def test_half_copied_csv_is_incomplete(tmp_path):
    data = (F / "ОСВ за период с 01.03.25 по 31.03.25.csv").read_bytes()
    target = tmp_path / "osv.csv"
    target.write_bytes(data[:-9])
    with pytest.raises(ReportError, match="incomplete") as info:
        read_report(target)
    assert info.value.row == 7


def test_batch_statement_without_its_total_row_is_cut_off(tmp_path):
    grid = h.batch_statement_grid(h.HERRING_ROWS, warehouse_totals=h.HERRING_TOTALS, with_total=False)
    with pytest.raises(ReportError, match="ends without its Итого row"):
        read_report(h.write_xlsx(tmp_path / "cut.xlsx", grid))


def test_whitespace_only_and_binary_files(tmp_path):
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"\r\n  \r\n")
    with pytest.raises(ReportError, match="empty"):
        read_report(blank)
    binary = tmp_path / "photo.xlsx"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(ReportError, match="not a 1C batch/turnover statement"):
        read_report(binary)


def test_text_file_that_is_not_a_report(tmp_path):
    notes = tmp_path / "notes.csv"
    notes.write_text("Товар;Цена\nСЕЛЬДЬ;650\n", encoding="utf-8")
    with pytest.raises(ReportError, match="notes.csv: not a 1C batch/turnover statement"):
        read_report(notes)


def test_zip_that_is_not_a_workbook(tmp_path):
    import zipfile
    target = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ReportError, match="a ZIP archive, not a spreadsheet"):
        read_report(target)


def test_hidden_sheets_are_skipped_and_the_first_report_sheet_is_used(tmp_path):
    path = h.write_xlsx(tmp_path / "many.xlsx", h.clean_batch_grid(), sheets_before=[
        ("Скрытый", h.turnover_xlsx_grid(), True),   # a report, but hidden
        ("Заметки", h.not_a_report_grid(), False),  # visible, not a report
    ])
    report = read_report(path)
    assert report.kind == "batch_statement" and len(report.batches) == 5

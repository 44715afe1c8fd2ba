"""Content, not extension: every container a 1C report arrives in is recognised by its bytes.

The variants are made at test time from the same row specs as the committed fixtures
(tests/report_variants.py), and each must read exactly as the xlsx fixture does.
"""

from __future__ import annotations

import shutil

import pytest

from shrinkage.sources import ReportError, read_report
from shrinkage.sources.workbook import detect_container, read_sheets
from tests import report_variants as v
from tests import sources_helpers as h

F = h.FIXTURES


@pytest.fixture(scope="module")
def clean():
    return read_report(F / "batch_clean.xlsx")


@pytest.mark.parametrize("fixture, name", [
    ("batch_clean.xlsx", "ведомость.xls"),     # xlsx renamed .xls: was "Cfb error: Invalid OLE"
    ("batch_clean.xlsx", "ведомость.csv"),
    ("batch_clean.xls", "ведомость.xlsx"),     # BIFF8 renamed .xlsx
    ("batch_clean.xls", "ведомость"),          # no extension at all
])
def test_a_workbook_under_another_extension_reads_by_its_content(tmp_path, clean, fixture, name):
    target = tmp_path / name
    shutil.copy(F / fixture, target)
    v.assert_same_report(read_report(target), clean)


@pytest.mark.parametrize("grid", [h.clean_batch_grid, h.nested_groups_grid, h.text_numbers_grid, h.odd_names_grid])
@pytest.mark.parametrize("charset", ["utf-8", "windows-1251"])
def test_html_saved_as_xls_reads_like_the_xlsx(tmp_path, grid, charset):
    """1C's HTML export under an .xls name: colspan captions, a rowspan label, &nbsp;, comma decimals, <br>."""
    expected = read_report(h.write_xlsx(tmp_path / "report.xlsx", grid()))
    page = v.write_html(tmp_path / "report.xls", grid(), charset=charset)
    assert 'colspan="2"' in page.read_text(encoding="cp1251" if charset != "utf-8" else "utf-8")
    v.assert_same_report(read_report(page), expected)


def test_html_rowspan_and_colspan_lay_out_like_merged_cells(tmp_path):
    grid = [["a", None, "b", None], [None, None, "d", None], ["e", "f", "g", "h"]]
    # a over A1:B2 (row 2 then has one <td>, for C2), h over... C1's neighbour D1:D2 merged down
    path = v.write_html(tmp_path / "t.xls", grid, {(0, 0): (2, 2), (0, 3): (1, 2)})
    assert path.read_text(encoding="utf-8").count("<td") == 2 + 1 + 4 + 1
    (sheet,) = list(read_sheets(path))
    assert sheet.rows == [["a", "", "b", ""], ["", "", "d", ""], ["e", "f", "g", "h"]]


def test_html_cell_text_is_what_a_browser_shows(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><body><table><tr><td>  СЕЛЬДЬ\n   Х/К  </td><td>1&nbsp;234,5</td>"
                    "<td>Склад Равно &quot;Магазин&quot; И<br/>Номенклатура</td><td>&nbsp;</td>"
                    "<tr><td>без закрывающих тегов<td>2", encoding="utf-8")
    page.write_text(page.read_text(encoding="utf-8") + "</table></body></html>", encoding="utf-8")
    (sheet,) = list(read_sheets(page))
    assert sheet.rows == [["СЕЛЬДЬ Х/К", "1\u00a0234,5", 'Склад Равно "Магазин" И\nНоменклатура', ""],
                          ["без закрывающих тегов", "2", "", ""]]


def test_spreadsheetml_saved_as_xls_reads_like_the_xlsx(tmp_path, clean):
    path = v.write_spreadsheetml(tmp_path / "ведомость.xls", h.clean_batch_grid())
    assert detect_container(path.read_bytes()[:4096]) == "spreadsheetml"
    v.assert_same_report(read_report(path), clean)


def test_date_cells_as_real_datetimes_read_like_text(tmp_path, clean):
    """Batch rows that Excel turned into date cells (xlsx and Excel XML) give the same batches."""
    grid = v.batch_rows_as_datetimes(h.clean_batch_grid())
    v.assert_same_report(read_report(h.write_xlsx(tmp_path / "dates.xlsx", grid)), clean)
    v.assert_same_report(read_report(v.write_spreadsheetml(tmp_path / "dates.xml", grid)), clean)


def test_utf16_text_export_is_decoded(tmp_path):
    path = tmp_path / "osv.txt"
    rows, total = h.turnover_rows()
    h.write_csv(path, h.turnover_grid(rows, total=total), delimiter="\t", encoding="utf-16")
    expected = read_report(h.write_xlsx(tmp_path / "osv.xlsx", h.turnover_xlsx_grid()))
    report = read_report(path)
    assert report.products[["product", "opening", "closing"]].values.tolist() == \
        expected.products[["product", "opening", "closing"]].values.tolist()


# -- hidden sheets -----------------------------------------------------------------------------

def test_a_report_only_on_a_hidden_sheet_is_read_and_said_so(tmp_path, clean):
    path = h.write_xlsx(tmp_path / "hidden.xlsx", h.not_a_report_grid(),
                        sheets_before=[("Отчет", h.clean_batch_grid(), True)])
    report = read_report(path)
    (issue,) = report.issues
    assert issue.code == "report_on_hidden_sheet" and issue.severity == "low"
    assert "'Отчет'" in issue.message
    report.issues = []
    v.assert_same_report(report, clean)


def test_a_visible_report_wins_over_a_hidden_one(tmp_path):
    path = h.write_xlsx(tmp_path / "many.xlsx", h.clean_batch_grid(),
                        sheets_before=[("Старый", h.turnover_xlsx_grid(), True)])
    report = read_report(path)
    assert report.kind == "batch_statement" and report.issues == []


def test_hidden_sheet_in_excel_xml(tmp_path, clean):
    path = v.write_spreadsheetml(tmp_path / "x.xls", h.not_a_report_grid(),
                                 sheets_before=[("Отчет", h.clean_batch_grid(), True)])
    sheets = list(read_sheets(path))
    assert [(s.name, s.hidden) for s in sheets] == [("TDSheet", False), ("Отчет", True)]
    assert [i.code for i in read_report(path).issues] == ["report_on_hidden_sheet"]


def test_no_report_on_any_sheet_names_every_sheet(tmp_path):
    path = h.write_xlsx(tmp_path / "notes.xlsx", h.not_a_report_grid(),
                        sheets_before=[("Скрытый", [["просто текст"]], True)])
    with pytest.raises(ReportError) as info:
        read_report(path)
    error = info.value
    assert error.cause == "not_a_report"
    assert "'TDSheet'" in error.reason and "'Скрытый' (hidden)" in error.reason
    assert str(error).startswith("notes.xlsx: ") and error.hint


# -- what is not a spreadsheet ------------------------------------------------------------------

def test_pdf_saved_as_xls(tmp_path):
    path = tmp_path / "ведомость.xls"
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    with pytest.raises(ReportError, match="the file is a PDF document") as info:
        read_report(path)
    assert info.value.cause == "not_a_report" and "Excel" in info.value.hint


def test_word_document_renamed_xlsx(tmp_path):
    import zipfile
    path = tmp_path / "ведомость.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(ReportError, match="a Word document, not a spreadsheet") as info:
        read_report(path)
    assert info.value.cause == "not_a_report"


def test_html_page_without_a_table(tmp_path):
    path = tmp_path / "page.xls"
    path.write_text("<!DOCTYPE html><html><body><p>Сеанс завершён</p></body></html>", encoding="utf-8")
    with pytest.raises(ReportError, match="an HTML page without a table") as info:
        read_report(path)
    assert info.value.cause == "not_a_report"


def test_half_copied_html_is_truncated(tmp_path):
    text = v.to_html(h.clean_batch_grid())
    path = tmp_path / "cut.xls"
    path.write_text(text[: len(text) * 2 // 3], encoding="utf-8")
    with pytest.raises(ReportError, match="incomplete") as info:
        read_report(path)
    assert info.value.cause == "truncated" and info.value.hint == "copy the file again from its source"


def test_damaged_excel_xml(tmp_path):
    text = v.write_spreadsheetml(tmp_path / "ok.xml", h.clean_batch_grid()).read_text(encoding="utf-8")
    cut = tmp_path / "cut.xls"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ReportError, match="incomplete") as info:
        read_report(cut)
    assert info.value.cause == "truncated"
    broken = tmp_path / "broken.xls"
    broken.write_text(text.replace("</Row>", "</Rov>", 1), encoding="utf-8")
    with pytest.raises(ReportError, match="the XML spreadsheet is corrupt") as info:
        read_report(broken)
    assert info.value.cause == "corrupt"


def test_xml_with_entity_declarations_is_refused_unparsed(tmp_path):
    path = tmp_path / "bomb.xls"
    path.write_text('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
                    '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">&lol;</Workbook>',
                    encoding="utf-8")
    with pytest.raises(ReportError, match="document type declaration") as info:
        read_report(path)
    assert info.value.cause == "not_a_report"


@pytest.mark.parametrize("head, container", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "ole2"),
    (b"PK\x03\x04rest", "zip"),
    (b"%PDF-1.7", "pdf"),
    (b"\xef\xbb\xbf<!DOCTYPE html><html>", "html"),
    ("<html>".encode("utf-16"), "html"),
    (b"  \r\n<table><tr><td>1</td></tr></table>", "html"),
    (b'<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?>'
     b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">', "spreadsheetml"),
    (b'<html xmlns:x="urn:schemas-microsoft-com:office:excel"><body><table>', "html"),  # Excel's own HTML
    ("Номенклатура;Начальный остаток\n".encode("cp1251"), "text"),
])
def test_detect_container(head, container):
    assert detect_container(head) == container


@pytest.mark.parametrize("name", ["ведомость.ods", "ведомость.xls"])
def test_opendocument_spreadsheet_reads_like_the_xlsx(tmp_path, clean, name):
    """1C also saves ODS; under an .xls name it is still a zip of content.xml."""
    path = v.write_ods(tmp_path / name, h.clean_batch_grid())
    v.assert_same_report(read_report(path), clean)


def test_html_whose_meta_charset_is_wrong_still_decodes(tmp_path, clean):
    """Re-saved by an editor as UTF-8 while the <meta> still says windows-1251."""
    text = v.to_html(h.clean_batch_grid(), charset="windows-1251")
    path = tmp_path / "resaved.xls"
    path.write_bytes(text.encode("utf-8"))
    report = read_report(path)
    assert report.header == clean.header and report.products["product"].tolist() == [h.HERRING]

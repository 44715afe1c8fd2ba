"""The written weekly statements have exactly the 1C layout of docs/DOMAIN.md section A."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shrinkage.demo.statement import CAPTIONS, TITLE, UNIT_FILTER, format_document, format_moment
from shrinkage.demo.writer import HEADER_ROWS, write_statements
from tests.demo_helpers import BATCH_TEXT, DOCUMENT_TEXT, parse_moment, read_sheet, small_simulation


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    sim = small_simulation()
    out = tmp_path_factory.mktemp("demo-layout")
    paths = write_statements(sim, out)
    return sim, [p for p in paths if p.suffix == ".xlsx"]


def test_one_sortable_file_per_week(written):
    sim, files = written
    assert [f.name for f in files] == sorted(f.name for f in files)
    assert files[0].name == "Ведомость по партиям 2025-03-03_2025-03-09.xlsx"
    assert len(files) == sim.params.weeks


def test_header_block(written):
    sim, files = written
    for week, path in enumerate(files):
        rows = read_sheet(path)
        start = sim.params.start + timedelta(days=7 * week)
        assert rows[0][0] == TITLE
        params = next(r for r in rows if r[0] == "Параметры:")
        assert params[2] == f"Период: {start:%d.%m.%Y} - {start + timedelta(days=6):%d.%m.%Y}"
        selection = next(r for r in rows if r[0] == "Отбор:")
        assert selection[2] == f'Склад Равно "{sim.params.warehouse}" И\n{UNIT_FILTER}'
        levels = [r[0] for r in rows[HEADER_ROWS - 4:HEADER_ROWS]]
        assert levels == ["Склад", "Номенклатура", "Документ движения", "Партия.Дата прихода"]
        first, second = rows[HEADER_ROWS - 4], rows[HEADER_ROWS - 3]
        assert [first[i] for i in (4, 6, 7, 8)] == list(CAPTIONS)
        assert [second[i] for i in (4, 6, 7, 8)] == ["Количество " + c for c in CAPTIONS]
        assert all(r[i] == "" for r in rows[HEADER_ROWS - 2:HEADER_ROWS] for i in range(1, 9))


def test_data_rows_use_only_a_e_g_h_i(written):
    _, files = written
    for path in files:
        rows = read_sheet(path)
        assert all(r[5] == "" for r in rows), "column F must stay empty"
        for row in rows[HEADER_ROWS:]:
            assert isinstance(row[0], str) and row[0]
            assert row[1:4] == ["", "", ""] and all(c == "" for c in row[9:])
            for cell in (row[4], row[6], row[7], row[8]):
                # an empty cell means 0; a written number is a positive kg figure with <= 3 decimals
                assert cell == "" or (isinstance(cell, float) and cell > 0 and round(cell, 3) == cell)


def test_hierarchy_texts_and_total_row(written):
    sim, files = written
    for statement, path in zip(sim.statements, files):
        data = read_sheet(path)[HEADER_ROWS:]
        assert [r[0] for r in data] == [r.text for r in statement.rows]  # trailing spaces survive
        assert data[0][0] == sim.params.warehouse
        assert data[-1][0] == "Итого"
        assert data[-1][4:] == data[0][4:]
        kinds = [r.kind for r in statement.rows]
        for row, kind in zip(statement.rows, kinds):
            if kind == "document":
                match = DOCUMENT_TEXT.match(row.text)
                assert match, row.text
                moment = parse_moment(match["moment"])
                assert statement.period_start <= moment.date() <= statement.period_end
            elif kind == "batch":
                assert BATCH_TEXT.match(row.text), row.text
                # a batch may have arrived before the period, never after it
                assert parse_moment(row.text).date() <= statement.period_end
        assert kinds.count("warehouse") == 1 and kinds.count("total") == 1


def test_groups_nest(written):
    sim, _ = written
    rows = sim.statements[0].rows
    fish = next(i for i, r in enumerate(rows) if r.kind == "group" and r.text == "РЫБА")
    assert rows[fish].depth == 0
    assert rows[fish + 1].kind == "group" and rows[fish + 1].depth == 1
    assert rows[fish + 1].text.endswith("(весовой товар)")


def test_text_formats_follow_the_domain_example():
    from datetime import datetime

    moment = datetime(2025, 7, 16, 22, 10, 57)
    assert format_document("Отчет отдела о розничных продажах", 219, moment) == (
        "Отчет отдела о розничных продажах 000000000000219 от 16.07.2025 22:10:57"
    )
    assert format_moment(datetime(2025, 6, 21, 9, 20)) == "21.06.2025 9:20:00"
    assert format_moment(datetime(2025, 3, 4, 0, 5, 1)) == "04.03.2025 0:05:01"


def test_default_store_meets_every_document_type_and_a_still_product():
    from tests.demo_helpers import default_simulation

    sim = default_simulation()
    types = {d.doc_type for d in sim.documents}
    assert {"Приходная накладная", "Отчет отдела о розничных продажах", "Инвентаризация", "Списание",
            "Перемещение", "Пересортица", "Возврат товаров поставщику"} <= types
    bare_products = [
        row for statement in sim.statements for i, row in enumerate(statement.rows)
        if row.kind == "product" and statement.rows[i + 1].kind != "document"
    ]
    assert bare_products, "a slow product with a week without documents is expected"
    assert all(r.opening == r.closing and r.incoming == r.outgoing == 0 for r in bare_products)


def test_only_xlsx_is_written(tmp_path):
    with pytest.raises(ValueError, match="only .xlsx"):
        write_statements(small_simulation(), tmp_path, formats=("xls",))

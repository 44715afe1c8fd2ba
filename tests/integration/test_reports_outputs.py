"""Reports on SQLite and PostgreSQL: the workbook, the CSVs and the PDF, opened and inspected."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from PIL import Image

from shrinkage.db.report_queries import coefficients
from shrinkage.reports import CsvOptions, curves_png, markdown_table, write_reports
from shrinkage.reports.data import gather
from shrinkage.reports.plots import curves_figure, figure_png
from shrinkage.reports.template import load_template
from tests.reports_helpers import PERIOD_LABEL, PRODUCTS, build_store

PDFTOPPM = shutil.which("pdftoppm") or "/usr/bin/pdftoppm"


@pytest.fixture
def store(service):
    return build_store(service)


def _rows(ws, header_row=3):
    return [[c.value for c in row] for row in ws.iter_rows(min_row=header_row)]


def test_workbook_csv_and_pdf_from_one_call(engine, store, tmp_path, artifacts_dir, db_kind):
    paths = write_reports(engine, tmp_path, csv_options=CsvOptions(separator=";", decimal=","))
    names = [p.name for p in paths]
    assert f"shrinkage_report_{PERIOD_LABEL}.xlsx" in names
    assert f"shrinkage_report_{PERIOD_LABEL}.pdf" in names
    assert f"shrinkage_report_{PERIOD_LABEL}_coefficients.csv" in names
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)

    _check_workbook(tmp_path / f"shrinkage_report_{PERIOD_LABEL}.xlsx", store)
    _check_csv(tmp_path / f"shrinkage_report_{PERIOD_LABEL}_coefficients.csv")
    _check_pdf(tmp_path / f"shrinkage_report_{PERIOD_LABEL}.pdf", artifacts_dir, db_kind)


def _check_workbook(path: Path, store) -> None:
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Сводка", "Графики", "Данные графиков", "Коэффициенты", "Прогнозы",
                             "Предварительные прогнозы", "На проверку", "Излишки к решению", "Качество данных"]
    summary = {r[0]: r[1] for r in _rows(wb["Сводка"], 4)}
    assert summary["Товаров в периоде"] == len(PRODUCTS)
    assert summary["Рекомендаций по излишку ждут решения"] == len(store.pending_recommendations)
    assert summary["Строк на ручной проверке"] == len(store.flagged_rows)
    assert summary["Нерешённых ошибок качества"] == len(store.validation_errors)
    assert summary["Активные версии моделей"] == "shrinkage_curves v2"

    ws = wb["Коэффициенты"]
    header = [c.value for c in ws[3]]
    assert header[:4] == ["Номенклатура", "Тип", "Модель", "Версия"]
    assert {"R²", "Наблюдений", "S(7 дн.)", "S(14 дн.)", "S(30 дн.)", "Излишек при приёмке",
            "По кривой типа"} <= set(header)
    assert ws.freeze_panes == "A4"
    assert ws.auto_filter.ref == f"A3:P{3 + len(PRODUCTS)}"
    body = _rows(ws, 4)
    assert len(body) == len(PRODUCTS)  # the inactive version's coefficients are not shown
    vobla = next(r for r in body if r[0] == "ВОБЛА ВЯЛЕНАЯ")
    s7 = vobla[header.index("S(7 дн.)")]
    assert s7 == pytest.approx(0.06 * (1 - np.exp(-0.12 * 7)) + 0.0004 * 7)
    s7_cell = ws.cell(row=4, column=header.index("S(7 дн.)") + 1)
    assert s7_cell.number_format == "0.00%"
    herring = next(r for r in body if r[0] == "СЕЛЬДЬ Х/К")
    assert herring[header.index("По кривой типа")] == "да"
    assert herring[header.index("Тип")] == "Рыба холодного копчения"
    r2_col = openpyxl.utils.get_column_letter(header.index("R²") + 1)
    assert any(r2_col in str(rng.sqref) for rng in ws.conditional_formatting)
    width = ws.column_dimensions["A"].width
    assert len("КРЕВЕТКИ С/М ВАРЕНО-МОРОЖЕНЫЕ") <= width <= 60

    ws = wb["Прогнозы"]
    header = [c.value for c in ws[3]]
    kg_cell = ws.cell(row=4, column=header.index("Прогноз") + 1)
    assert kg_cell.number_format == '#,##0.000 "кг"'
    rules = {str(rng.sqref): [r.type for r in rng.rules] for rng in ws.conditional_formatting}
    dev = openpyxl.utils.get_column_letter(header.index("Отклонение") + 1)
    acc = openpyxl.utils.get_column_letter(header.index("Точность") + 1)
    last = 3 + store.forecasts_with_actual + store.forecasts_without_actual
    assert rules[f"{dev}4:{dev}{last}"] == ["cellIs"]
    assert rules[f"{acc}4:{acc}{last}"] == ["colorScale"]

    errors = _rows(wb["Качество данных"], 4)
    files = {r[0] for r in errors}
    assert files == {"Ведомость по партиям март.xlsx", "Ведомость по партиям апрель-май.xlsx"}
    assert sum(r[4] for r in errors) == len(store.validation_errors)  # "Не решено"

    review = _rows(wb["На проверку"], 4)
    assert sorted(r[0] for r in review) == sorted(store.flagged_rows)
    assert all(r[-1] for r in review), "every flagged row states a reason"

    _check_charts(wb)


def _check_charts(wb) -> None:
    charts = wb["Графики"]._charts
    data = wb["Данные графиков"]
    types = sorted({p[1] for p in PRODUCTS})
    assert len(charts) == len(types)
    grid_last = 1 + sum(1 for _ in data.iter_rows(min_row=2, max_col=1) if _[0].value is not None)
    titles = [data.cell(row=1, column=c).value for c in range(1, data.max_column + 1)]
    for chart in charts:
        assert chart.tagname == "scatterChart"
        # openpyxl reads symbol "none" back as None; observed points are unjoined circles
        curves = [s for s in chart.series if s.marker.symbol in (None, "none")]
        points = [s for s in chart.series if s.marker.symbol == "circle"]
        assert curves and len(points) == 1
        assert points[0].spPr.ln.noFill
        for s in curves:
            assert s.xVal.numRef.f == f"'Данные графиков'!$A$2:$A${grid_last}"
            col = s.yVal.numRef.f.split("!")[1].split(":")[0].strip("$").split("$")[0]
            assert s.yVal.numRef.f == f"'Данные графиков'!${col}$2:${col}${grid_last}"
            product_header = titles[openpyxl.utils.column_index_from_string(col) - 1]
            assert s.tx.strRef is None and s.tx.v.rstrip("…") in product_header
        x_ref = points[0].xVal.numRef.f
        y_ref = points[0].yVal.numRef.f
        assert "t наблюд." in titles[openpyxl.utils.column_index_from_string(x_ref.split("$")[1]) - 1]
        assert "доля наблюд." in titles[openpyxl.utils.column_index_from_string(y_ref.split("$")[1]) - 1]
        # the observed y values are fractions that match t > 0
        y_col = openpyxl.utils.column_index_from_string(y_ref.split("$")[1])
        ys = [data.cell(row=r, column=y_col).value for r in range(2, int(y_ref.split("$")[-1]) + 1)]
        assert ys and all(0 < y < 0.2 for y in ys)


def _check_csv(path: Path) -> None:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM so Excel reads Cyrillic"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Номенклатура"
    names = {r[0] for r in rows[1:]}
    assert "СКУМБРИЯ Х/К" in names and len(rows) == 1 + len(PRODUCTS)
    s30 = rows[1][rows[0].index("S(30 дн.)")]
    assert "," in s30 and "." not in s30  # decimal comma


def _check_pdf(path: Path, artifacts_dir: Path, db_kind: str) -> None:
    out = path.parent / "pages"
    out.mkdir()
    subprocess.run([PDFTOPPM, "-r", "60", "-png", str(path), str(out / "page")], check=True, timeout=60)
    pages = sorted(out.glob("page-*.png"))
    assert 3 <= len(pages) <= 6, "a few pages: summary, curves, anomalies, surplus"
    for page in pages:
        pixels = np.asarray(Image.open(page).convert("L"), dtype=float)
        dark = (pixels < 128).mean()
        assert dark > 0.003, f"{page.name} looks blank"
        assert pixels.std() > 10
    if db_kind == "sqlite":
        subprocess.run([PDFTOPPM, "-r", "110", "-png", "-f", "1", "-l", "2", str(path),
                        str(artifacts_dir / "reports_pdf_page")], check=True, timeout=60)


def test_curves_png_for_metadata_and_chart_artifact(engine, store, artifacts_dir, db_kind):
    png = curves_png(engine)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width > 600
    pixels = np.asarray(image.convert("RGB"), dtype=float)
    colourful = (pixels.max(axis=2) - pixels.min(axis=2) > 60).mean()
    assert colourful > 0.002, "the curves are drawn"
    if db_kind == "sqlite":
        data = gather(engine)
        labels = load_template().product_type_labels
        fig = curves_figure(data.curves, ["dried"], labels, ncols=1)
        (artifacts_dir / "reports_chart_dried.png").write_bytes(figure_png(fig, dpi=110))
        (artifacts_dir / "reports_curves_all.png").write_bytes(png)


def test_manager_variant_and_user_template_change_the_output(engine, store, tmp_path):
    manager = write_reports(engine, tmp_path, formats=("xlsx",), template="manager")
    assert [p.name for p in manager] == [f"shrinkage_manager_report_{PERIOD_LABEL}.xlsx"]
    wb = openpyxl.load_workbook(manager[0])
    assert wb.sheetnames == ["Главное", "Усушка по товарам", "Излишки", "Графики", "Данные"]
    assert wb["Данные"].sheet_state == "hidden"
    top = [c.value for c in wb["Усушка по товарам"][4]]
    assert top[0] == "ВОБЛА ВЯЛЕНАЯ"  # sorted by S(30) descending

    variant = {
        "name": "shop", "title": "Магазин", "file_prefix": "shop",
        "sections": [{"id": "losses", "source": "coefficients", "title": "Потери", "sheet": "Потери",
                      "outputs": ["xlsx", "csv"], "sort": ["product"], "limit": 2,
                      "columns": [{"field": "product", "title": "Товар"},
                                  {"field": "s14", "title": "2 недели", "format": "percent"}]}],
    }
    path = tmp_path / "shop.json"
    path.write_text(json.dumps(variant, ensure_ascii=False), encoding="utf-8")
    written = write_reports(engine, tmp_path / "shop", formats=("xlsx", "csv"), template=str(path),
                            period="2025-03-03:2025-05-25", csv_options=CsvOptions(separator=",", decimal="."))
    assert sorted(p.name for p in written) == ["shop_2025-03-03_2025-05-25.xlsx",
                                               "shop_2025-03-03_2025-05-25_losses.csv"]
    ws = openpyxl.load_workbook(written[0])["Потери"]
    assert [c.value for c in ws[3]] == ["Товар", "2 недели"]
    assert ws.max_row == 3 + 2
    text = written[1].read_text(encoding="utf-8-sig").splitlines()
    assert text[0] == "Товар,2 недели" and len(text) == 3


def test_period_filters_rows_and_names_files(engine, store, tmp_path):
    paths = write_reports(engine, tmp_path, formats=("xlsx",), period="01.04.2025:25.05.2025")
    assert paths[0].name == "shrinkage_report_2025-04-01_2025-05-25.xlsx"
    wb = openpyxl.load_workbook(paths[0])
    review = _rows(wb["На проверку"], 4)
    # only the April-May file's flagged rows
    assert {r[2] for r in review} == {"Ведомость по партиям апрель-май.xlsx"}


def test_active_registry_only_and_markdown(engine, store):
    frame = coefficients(engine)
    assert store.inactive_coefficient not in set(frame["coefficient_id"])
    assert len(frame) == len(PRODUCTS)
    table = markdown_table(frame[["coefficient_id", "a", "r2"]], max_rows=3)
    assert table.splitlines()[0] == "| coefficient_id | a | r2 |"
    assert "more rows" in table


def test_empty_database_still_writes_a_report(engine, tmp_path):
    paths = write_reports(engine, tmp_path, formats=("xlsx", "pdf"))
    assert len(paths) == 2
    wb = openpyxl.load_workbook(paths[0])
    assert wb["Графики"]._charts == []
    assert wb["Коэффициенты"].max_row == 3

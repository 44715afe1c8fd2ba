"""The Excel workbook: one sheet per template section, with the affordances analysts expect.

Tables get a title, a frozen header, an auto filter, number formats (% and kg), conditional
formatting and column widths fitted to their content. The curves section becomes native
Excel scatter charts (one per product type) whose series point at a data sheet holding the
curve points and the observed points, so the charts stay live if someone edits the numbers.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from shrinkage.reports.data import ReportData
from shrinkage.reports.formats import EXCEL_NUMBER_FORMATS, MAX_WIDTH, cell_value, display_width, fitted_width
from shrinkage.reports.template import Column, ReportTemplate, Section, select_rows
from shrinkage.sources.cells import remove_control_characters

TITLE_FONT = Font(bold=True, size=14)
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
NOTE_FONT = Font(italic=True, color="595959")
HEADER_ROW = 3  # title in row 1, period / note in row 2
RED, YELLOW, GREEN = "F8696B", "FFEB84", "63BE7B"
CHART_WIDTH_CM, CHART_HEIGHT_CM = 17.0, 9.5
CHART_ROWS, CHART_COLS = 20, 11  # cells one chart covers, for placing them in a grid
# Line colours of the curves (matplotlib's default cycle, so workbook and PDF agree).
CURVE_COLOURS = ("1F77B4", "FF7F0E", "2CA02C", "D62728", "9467BD", "8C564B", "E377C2", "7F7F7F")
POINT_COLOUR = "404040"


def write_workbook(data: ReportData, template: ReportTemplate, path: Path) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for section in template.sections_for("xlsx"):
        if section.source == "summary":
            _summary_sheet(wb.create_sheet(section.sheet), data, template, section)
        elif section.source == "curves":
            _curve_sheets(wb, data, template, section)
        else:
            _table_sheet(wb.create_sheet(section.sheet), data, template, section)
    wb.properties.title = template.title
    wb.properties.creator = "shrinkage"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _safe(value):
    """Text as a worksheet takes it: openpyxl refuses control characters (IllegalCharacterError),
    and names stored before the reader removed them may still hold some."""
    return remove_control_characters(value) if isinstance(value, str) else value


def _title(ws: Worksheet, title: str, subtitle: str) -> None:
    ws.cell(row=1, column=1, value=title).font = TITLE_FONT
    ws.cell(row=2, column=1, value=subtitle).font = NOTE_FONT


def _header(ws: Worksheet, row: int, titles: list[str]) -> None:
    for col, title in enumerate(titles, start=1):
        cell = ws.cell(row=row, column=col, value=title)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _summary_sheet(ws: Worksheet, data: ReportData, template: ReportTemplate, section: Section) -> None:
    _title(ws, template.title, f"{section.title}: период {data.period.text}")
    _header(ws, HEADER_ROW, ["Показатель", "Значение"])
    for offset, column in enumerate(section.columns, start=1):
        row = HEADER_ROW + offset
        ws.cell(row=row, column=1, value=column.title)
        cell = ws.cell(row=row, column=2, value=_safe(cell_value(data.summary.get(column.field), column.format)))
        cell.number_format = EXCEL_NUMBER_FORMATS[column.format]
        cell.alignment = Alignment(horizontal="right")
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    ws.column_dimensions["A"].width = min(MAX_WIDTH, max(len(c.title) for c in section.columns) + 2)
    values = [data.summary.get(c.field) for c in section.columns]
    ws.column_dimensions["B"].width = min(MAX_WIDTH, max(
        [len("Значение")] + [display_width(v, c.format) for v, c in zip(values, section.columns)]) + 3)


def _table_sheet(ws: Worksheet, data: ReportData, template: ReportTemplate, section: Section) -> None:
    rows = select_rows(data.tables[section.source], section)
    if "product_type" in rows:
        rows["product_type"] = rows["product_type"].map(lambda t: template.type_label(t) if isinstance(t, str) else t)
    subtitle = f"Период {data.period.text}; строк: {len(rows)}"
    _title(ws, section.title, subtitle + (f". {section.note}" if section.note else ""))
    _header(ws, HEADER_ROW, [c.title for c in section.columns])
    first = HEADER_ROW + 1
    for r, values in enumerate(rows.itertuples(index=False, name=None), start=first):
        for c, (value, column) in enumerate(zip(values, section.columns), start=1):
            cell = ws.cell(row=r, column=c, value=_safe(cell_value(value, column.format)))
            cell.number_format = EXCEL_NUMBER_FORMATS[column.format]
    last = HEADER_ROW + len(rows)
    ncols = len(section.columns)
    ws.freeze_panes = ws.cell(row=first, column=1)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(ncols)}{max(last, HEADER_ROW)}"
    for index, column in enumerate(section.columns, start=1):
        letter = get_column_letter(index)
        width = column.width or fitted_width(rows[column.field], column.title, column.format)
        ws.column_dimensions[letter].width = width
        if column.conditional is not None and len(rows):
            _conditional(ws, f"{letter}{first}:{letter}{last}", column)


def _conditional(ws: Worksheet, ref: str, column: Column) -> None:
    rule = column.conditional
    if rule.type == "color_scale":
        low, high = (RED, GREEN) if rule.good == "high" else (GREEN, RED)
        ws.conditional_formatting.add(ref, ColorScaleRule(
            start_type="min", start_color=low, mid_type="percentile", mid_value=50,
            mid_color=YELLOW, end_type="max", end_color=high))
    else:
        ws.conditional_formatting.add(ref, CellIsRule(
            operator=rule.operator, formula=[repr(v) for v in rule.values],
            fill=PatternFill("solid", fgColor=rule.fill, bgColor=rule.fill), font=Font(color=rule.font)))


def _curve_sheets(wb: Workbook, data: ReportData, template: ReportTemplate, section: Section) -> None:
    """A data sheet with the points and one scatter chart per product type on the chart sheet."""
    charts_ws = wb.create_sheet(section.sheet)
    data_ws = wb.create_sheet(section.data_sheet)
    curves = data.curves
    _title(charts_ws, section.title, f"Период {data.period.text}. Линии: подобранные кривые S(t); "
                                     f"точки: инвентаризации, S(t) × факт/модель за период (на кривой — "
                                     f"совпадение с моделью). Данные: лист «{section.data_sheet}».")
    data_ws.cell(row=1, column=1, value="t, дней").font = Font(bold=True)
    grid_last = 1 + len(curves.ages)
    for i, age in enumerate(curves.ages, start=2):
        data_ws.cell(row=i, column=1, value=float(age))
    x_grid = Reference(data_ws, min_col=1, min_row=2, max_row=grid_last)
    col = 2
    for index, ptype in enumerate(curves.product_types):
        label = template.type_label(ptype)
        chart = ScatterChart()
        chart.title = label
        chart.style = 13
        chart.x_axis.title = "Срок хранения, дней"
        chart.y_axis.title = "Усушка, доля веса"
        chart.y_axis.number_format = "0.0%"
        chart.x_axis.number_format = "0"
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.x_axis.scaling.min = 0
        chart.x_axis.scaling.max = float(curves.ages.max()) if len(curves.ages) else None
        chart.legend.position = "b"
        chart.width, chart.height = CHART_WIDTH_CM, CHART_HEIGHT_CM
        for number, (product, values) in enumerate(curves.curves_of(ptype).items()):
            data_ws.cell(row=1, column=col, value=_safe(f"{label}: {product}")).font = Font(bold=True)
            for i, s in enumerate(values, start=2):
                cell = data_ws.cell(row=i, column=col, value=float(s))
                cell.number_format = "0.00%"
            y_ref = Reference(data_ws, min_col=col, min_row=2, max_row=grid_last)
            series = Series(y_ref, x_grid, title=_safe(_short(product)))
            series.marker.symbol = "none"
            series.smooth = True
            series.graphicalProperties.line.width = 22000
            series.graphicalProperties.line.solidFill = CURVE_COLOURS[number % len(CURVE_COLOURS)]
            chart.series.append(series)
            col += 1
        points = curves.observed_of(ptype)
        if len(points):
            data_ws.cell(row=1, column=col, value=f"{label}: t наблюд.").font = Font(bold=True)
            data_ws.cell(row=1, column=col + 1, value=f"{label}: доля наблюд.").font = Font(bold=True)
            for i, (t, y) in enumerate(zip(points["t"], points["y"]), start=2):
                data_ws.cell(row=i, column=col, value=float(t))
                data_ws.cell(row=i, column=col + 1, value=float(y)).number_format = "0.00%"
            last = 1 + len(points)
            x_obs = Reference(data_ws, min_col=col, min_row=2, max_row=last)
            y_obs = Reference(data_ws, min_col=col + 1, min_row=2, max_row=last)
            series = Series(y_obs, x_obs, title="Наблюдения")
            series.marker.symbol = "circle"
            series.marker.size = 6
            series.marker.graphicalProperties.solidFill = POINT_COLOUR
            series.marker.graphicalProperties.line.solidFill = "FFFFFF"
            series.graphicalProperties.line.noFill = True
            chart.series.append(series)
            col += 2
        anchor_row = 4 + (index // 2) * CHART_ROWS
        anchor_col = 1 + (index % 2) * CHART_COLS
        charts_ws.add_chart(chart, f"{get_column_letter(anchor_col)}{anchor_row}")
    for c in range(1, col):
        data_ws.column_dimensions[get_column_letter(c)].width = 14 if c == 1 else 22
    data_ws.freeze_panes = "B2"
    if section.hide_data_sheet:
        data_ws.sheet_state = "hidden"
    if not curves.product_types:
        charts_ws.cell(row=4, column=1, value="Нет подобранных кривых и наблюдений за период.")


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

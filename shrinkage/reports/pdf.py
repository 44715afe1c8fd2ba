"""The PDF summary: headline figures, curves per product type, top anomalies, surplus decisions.

Built with fpdf2 (pages, tables, Unicode TTF fonts) and matplotlib (the curves, embedded as
PNG). The font is DejaVu Sans from matplotlib's bundled fonts, so Cyrillic renders without
anything installed on the machine.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.fonts import FontFace

from shrinkage.reports.data import ReportData
from shrinkage.reports.formats import fitted_width, format_value
from shrinkage.reports.plots import curves_figure, figure_png
from shrinkage.reports.template import ReportTemplate, Section, select_rows

FONT = "DejaVu"
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
HEADING_FILL = (48, 84, 150)
ZEBRA_FILL = (242, 242, 242)
TYPES_PER_PAGE = 4
# Rows a PDF table shows at most; the workbook and CSV carry the rest.
MAX_PDF_ROWS = 40
CHART_DPI = 130
# Widest a fitted PDF column gets (characters); longer text wraps.
PDF_MAX_WIDTH = 45


class _Pdf(FPDF):
    def __init__(self, title: str, period_text: str):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.report_title = title
        self.period_text = period_text
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.add_font(FONT, "I", str(FONT_DIR / "DejaVuSans-Oblique.ttf"))
        self.set_auto_page_break(auto=True, margin=14)
        self.set_title(title)
        self.set_creator("shrinkage")

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, "I", 8)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.report_title} · {self.period_text} · стр. {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0)

    def heading(self, text: str, size: int = 16) -> None:
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(2)
        self.set_font(FONT, "", 10)


def write_pdf(data: ReportData, template: ReportTemplate, path: Path) -> Path:
    pdf = _Pdf(template.title, data.period.text)
    for section in template.sections_for("pdf"):
        if section.source == "summary":
            _summary_page(pdf, data, template, section)
        elif section.source == "curves":
            _curve_pages(pdf, data, template, section)
        else:
            _table_page(pdf, data, template, section)
    if pdf.page_no() == 0:
        pdf.add_page()
        pdf.heading(template.title)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def _summary_page(pdf: _Pdf, data: ReportData, template: ReportTemplate, section: Section) -> None:
    pdf.add_page()
    pdf.heading(template.title, 20)
    pdf.set_font(FONT, "", 12)
    pdf.cell(0, 8, f"{section.title} за период {data.period.text}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, "", 11)
    with pdf.table(col_widths=(110, 70), width=180, align="LEFT", text_align=("LEFT", "RIGHT"),
                   headings_style=FontFace(emphasis="BOLD", color=255, fill_color=HEADING_FILL),
                   cell_fill_color=ZEBRA_FILL, cell_fill_mode="ROWS", line_height=7) as table:
        table.row(["Показатель", "Значение"])
        for column in section.columns:
            table.row([column.title, format_value(data.summary.get(column.field), column.format) or "—"])


def _curve_pages(pdf: _Pdf, data: ReportData, template: ReportTemplate, section: Section) -> None:
    types = data.curves.product_types
    chunks = [types[i:i + TYPES_PER_PAGE] for i in range(0, len(types), TYPES_PER_PAGE)] or [[]]
    for number, chunk in enumerate(chunks, start=1):
        pdf.add_page()
        suffix = f" ({number}/{len(chunks)})" if len(chunks) > 1 else ""
        pdf.heading(section.title + suffix)
        fig = curves_figure(data.curves, chunk, template.product_type_labels, ncols=2)
        png = figure_png(fig, dpi=CHART_DPI)
        width_in, height_in = fig.get_size_inches()
        room_w = pdf.w - pdf.l_margin - pdf.r_margin
        room_h = pdf.h - pdf.get_y() - 16
        scale = min(room_w / (width_in * 25.4), room_h / (height_in * 25.4))
        w = width_in * 25.4 * scale
        pdf.image(png, x=pdf.l_margin + (room_w - w) / 2, y=pdf.get_y(), w=w)


def _table_page(pdf: _Pdf, data: ReportData, template: ReportTemplate, section: Section) -> None:
    rows = select_rows(data.tables[section.source], section)
    pdf.add_page()
    pdf.heading(section.title)
    if rows.empty:
        pdf.set_font(FONT, "I", 11)
        pdf.cell(0, 8, "Нет строк за период.", new_x="LMARGIN", new_y="NEXT")
        return
    shown = rows.head(MAX_PDF_ROWS)
    widths = [c.width or fitted_width(_texts(shown[c.field], c, template), c.title, "text", PDF_MAX_WIDTH)
              for c in section.columns]
    room = pdf.w - pdf.l_margin - pdf.r_margin
    font_size = 9 if len(section.columns) <= 7 else 8
    pdf.set_font(FONT, "", font_size)
    aligns = tuple("LEFT" if c.format in ("text", "bool") else "RIGHT" for c in section.columns)
    with pdf.table(col_widths=widths, width=room, text_align=aligns, line_height=font_size * 0.5,
                   headings_style=FontFace(emphasis="BOLD", color=255, fill_color=HEADING_FILL),
                   cell_fill_color=ZEBRA_FILL, cell_fill_mode="ROWS") as table:
        table.row([c.title for c in section.columns])
        for values in shown.itertuples(index=False, name=None):
            table.row([_pdf_text(v, c, template) for v, c in zip(values, section.columns)])
    if len(rows) > len(shown):
        pdf.set_font(FONT, "I", 9)
        pdf.cell(0, 7, f"… и ещё {len(rows) - len(shown)} строк (полный список в Excel и CSV).",
                 new_x="LMARGIN", new_y="NEXT")


def _texts(values, column, template: ReportTemplate) -> list[str]:
    return [_pdf_text(v, column, template) for v in values]


def _pdf_text(value, column, template: ReportTemplate) -> str:
    if column.field == "product_type" and isinstance(value, str):
        return template.type_label(value)
    return format_value(value, column.format)

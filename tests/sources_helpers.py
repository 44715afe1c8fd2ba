"""Building small 1C-like report sheets from compact row specs, for the source-reader tests.

A data row spec is ``(text, opening, incoming, outgoing, closing)``; ``None`` leaves the
cell empty (1C's way of writing 0), a str is written as text (for "1 234,5"-style cells).
``BLANK`` stands for an empty row.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reports"

BLANK = ("", None, None, None, None)
WAREHOUSE = "Магазин №1 (ул. Рыбацкая, 5)"
PERIOD = "01.03.2025 - 31.03.2025"
HERRING = "СЕЛЬДЬ Х/К"
HERRING_GROUP = "РЫБА ХОЛОДНОГО КОПЧЕНИЯ (весовой товар)"

# docs/DOMAIN.md's example product, row for row.
HERRING_ROWS = [
    (HERRING, 4.100, 2.000, 1.986, 4.114),
    ("Отчет отдела о розничных продажах 000000000000301 от 03.03.2025 21:05:10", 4.100, None, 1.950, 2.150),
    ("21.02.2025 8:40:00", 4.100, None, 1.950, 2.150),
    ("Приходная накладная 000000000000077 от 04.03.2025 9:15:00", 2.150, 2.000, None, 4.150),
    ("21.02.2025 8:40:00", 2.150, None, None, 2.150),
    ("04.03.2025 9:15:00", None, 2.000, None, 2.000),
    ("Инвентаризация 000000000000012 от 05.03.2025 22:30:00", 4.150, None, 0.036, 4.114),
    ("21.02.2025 8:40:00", 2.150, None, 0.036, 2.114),
    ("04.03.2025 9:15:00", 2.000, None, None, 2.000),
]
HERRING_TOTALS = (4.100, 2.000, 1.986, 4.114)

# A second product, for nesting: dried roach with one receipt and one sale.
ROACH = "ВОБЛА ВЯЛЕНАЯ"
ROACH_ROWS = [
    (ROACH, 1.500, 3.000, 0.700, 3.800),
    ("Приходная накладная 000000000000081 от 10.03.2025 8:05:00", 1.500, 3.000, None, 4.500),
    ("15.02.2025 10:00:00", 1.500, None, None, 1.500),
    ("10.03.2025 8:05:00", None, 3.000, None, 3.000),
    ("Отчет отдела о розничных продажах 000000000000330 от 12.03.2025 21:00:00", 4.500, None, 0.700, 3.800),
    ("15.02.2025 10:00:00", 1.500, None, 0.700, 0.800),
    ("10.03.2025 8:05:00", 3.000, None, None, 3.000),
]
ROACH_TOTALS = (1.500, 3.000, 0.700, 3.800)


def add(*totals: Sequence[float]) -> tuple[float, float, float, float]:
    """Component-wise sum of totals (rounded to grams, as 1C writes them)."""
    return tuple(round(sum(t[i] for t in totals), 3) for i in range(4))  # type: ignore[return-value]


def batch_statement_grid(data: Sequence[tuple], *, warehouse: str = WAREHOUSE,
                         warehouse_totals: Sequence[float] | None = None, period: str = PERIOD,
                         shift: int = 0, unit: str = "кг", with_total: bool = True,
                         text_shift: int = 0) -> list[list[object]]:
    """A full batch statement sheet: title, parameters, filter, 4 header rows, warehouse row, data, Итого.

    ``shift`` moves the quantity captions and numbers right by that many columns
    (normally E, G, H, I); ``text_shift`` moves the text column.
    """
    width = 9 + shift + text_shift
    cols = [4 + shift, 6 + shift, 7 + shift, 8 + shift]
    grid: list[list[object]] = []

    def line(text: object = "", values: Sequence[object] = (), extra: dict[int, object] | None = None):
        row: list[object] = [None] * width
        row[text_shift] = text if text != "" else None
        for c, v in zip(cols, values):
            row[c] = v
        for c, v in (extra or {}).items():
            row[c] = v
        grid.append(row)

    line("Ведомость по партиям номенклатуры")
    line()
    line("Параметры:", extra={2 + text_shift: f"Период: {period}"})
    line("Отбор:", extra={2 + text_shift: f'Склад Равно "{warehouse}" И\n'
                          f'Номенклатура.Базовая единица по классификатору Равно "{unit}"'})
    line()
    line("Склад", ["Начальный остаток", "Приход", "Расход", "Конечный остаток"])
    line("Номенклатура", ["Количество Начальный остаток", "Количество Приход", "Количество Расход",
                          "Количество Конечный остаток"])
    line("Документ движения")
    line("Партия.Дата прихода")
    if warehouse_totals is not None:
        line(warehouse, warehouse_totals)
    for text, *values in data:
        line(text, values)
    if with_total and warehouse_totals is not None:
        line("Итого", warehouse_totals)
    return grid


def turnover_grid(data: Sequence[tuple], *, title: str | None = "Оборотно-сальдовая ведомость",
                  period: str | None = "за период с 01.03.25 по 31.03.25",
                  total: Sequence[float] | None = None) -> list[list[object]]:
    """A flat turnover sheet: optional title/period rows, the caption row, data, optional Итого."""
    grid: list[list[object]] = []
    if title:
        grid.append([f"{title} {period}" if period else title, None, None, None, None])
        grid.append([None] * 5)
    grid.append(["Номенклатура", "Начальный остаток", "Приход", "Расход", "Конечный остаток"])
    grid.extend([list(row) for row in data])
    if total is not None:
        grid.append(["Итого", *total])
    return grid


def write_xlsx(path: Path, grid: list[list[object]], *, hidden_rows: Sequence[int] = (),
               sheets_before: Sequence[tuple[str, list[list[object]], bool]] = ()) -> Path:
    """Write ``grid`` as the sheet of an xlsx; ``hidden_rows`` are 1-based rows to hide.

    ``sheets_before`` adds (name, grid, hidden) sheets in front of the report sheet.
    """
    wb = Workbook()
    wb.remove(wb.active)
    for name, other, hidden in sheets_before:
        ws = wb.create_sheet(name)
        for row in other:
            ws.append(row)
        if hidden:
            ws.sheet_state = "hidden"
    ws = wb.create_sheet("TDSheet")
    for row in grid:
        ws.append(row)
    for r in hidden_rows:
        ws.row_dimensions[r].hidden = True
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_csv(path: Path, grid: list[list[object]], *, delimiter: str = ";", encoding: str = "utf-8",
              decimal_comma: bool = True) -> Path:
    def cell(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            text = f"{value:.3f}"
            return text.replace(".", ",") if decimal_comma else text
        return str(value)

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        for row in grid:
            writer.writerow([cell(v) for v in row])
    return path


# -- the committed fixtures' contents (make_fixtures.py writes them; tests compare to them) --

def clean_batch_grid() -> list[list[object]]:
    """docs/DOMAIN.md's example under one group: warehouse = group = СЕЛЬДЬ Х/К."""
    return batch_statement_grid([(HERRING_GROUP, *HERRING_TOTALS), *HERRING_ROWS],
                                warehouse_totals=HERRING_TOTALS)


def shifted_batch_grid() -> list[list[object]]:
    """The clean report with every caption and number one column to the right (F, H, I, J)."""
    return batch_statement_grid([(HERRING_GROUP, *HERRING_TOTALS), *HERRING_ROWS],
                                warehouse_totals=HERRING_TOTALS, shift=1)


SMOKED_GROUP = "РЫБА ХОЛОДНОГО КОПЧЕНИЯ"
DRIED_GROUP = "ВЯЛЕНАЯ РЫБА"
FISH_GROUP = "РЫБА (весовой товар)"
CAVIAR_GROUP = "ИКРА (весовой товар)"
BREAM = ("ЛЕЩ ВЯЛЕНЫЙ", 2.000, None, None, 2.000)        # no documents in the period
SABREFISH = ("ЧЕХОНЬ ВЯЛЕНАЯ", 2.000, None, None, 2.000)  # ditto, same totals as the bream
CAVIAR = ("ИКРА ГОРБУШИ", 0.500, None, None, 0.500)       # the only product of a static group
CRAB_STICKS = ("КРАБОВЫЕ ПАЛОЧКИ", 1.000, None, None, 1.000)  # top level, no group
STATIC_2KG = (2.000, 0.0, 0.0, 2.000)


def nested_groups_grid() -> list[list[object]]:
    """Groups in groups, products without documents, a static group with one static product."""
    dried = add(ROACH_TOTALS, STATIC_2KG, STATIC_2KG)
    fish = add(HERRING_TOTALS, dried)
    caviar = (0.500, 0.0, 0.0, 0.500)
    warehouse = add(fish, caviar, (1.000, 0.0, 0.0, 1.000))
    data = [
        (FISH_GROUP, *fish),
        (SMOKED_GROUP, *HERRING_TOTALS),
        *HERRING_ROWS,
        (DRIED_GROUP, *dried),
        *ROACH_ROWS,
        BREAM,
        SABREFISH,
        (CAVIAR_GROUP, *caviar),
        CAVIAR,
        CRAB_STICKS,
    ]
    return batch_statement_grid(data, warehouse_totals=warehouse)


def unlabelled_batch_grid() -> list[list[object]]:
    """The clean report whose last batch row (row 20) lost its arrival text."""
    rows = list(HERRING_ROWS)
    rows[-1] = ("", *rows[-1][1:])
    return batch_statement_grid([(HERRING_GROUP, *HERRING_TOTALS), *rows], warehouse_totals=HERRING_TOTALS)


UNKNOWN_DOC_TYPE = "Чек ККМ"


def unknown_doc_type_grid() -> list[list[object]]:
    """The clean report whose sales document (row 13) has a type we do not know."""
    rows = list(HERRING_ROWS)
    rows[1] = (rows[1][0].replace("Отчет отдела о розничных продажах", UNKNOWN_DOC_TYPE), *rows[1][1:])
    return batch_statement_grid([(HERRING_GROUP, *HERRING_TOTALS), *rows], warehouse_totals=HERRING_TOTALS)


NBSP, NNBSP = "\u00a0", "\u202f"
MACKEREL = "СКУМБРИЯ Х/К"
MACKEREL_TOTALS = (1234.567, 2000.0, 1500.25, 1734.317)


def text_numbers_grid() -> list[list[object]]:
    """Quantities as text with comma decimals and no-break-space thousands, plus blank rows.

    Rows 14 (blank) and 17 (blank) must be skipped; row 16 is hidden in the xlsx but is data.
    """
    data = [
        (MACKEREL, f"1{NBSP}234,567", f"2{NNBSP}000,000", "1 500,25", f"1{NBSP}734,317"),
        ("Приходная накладная 000000000000090 от 05.03.2025 9:00:00", f"1{NBSP}234,567", "2 000", None,
         f"3{NBSP}234,567"),
        ("01.03.2025 9:00:00", f"1{NBSP}234,567", None, None, f"1{NBSP}234,567"),
        BLANK,
        ("05.03.2025 9:00:00", None, f"2{NNBSP}000,000", None, "2000"),
        ("Отчет отдела о розничных продажах 000000000000340 от 07.03.2025 21:00:00", f"3{NBSP}234,567",
         None, "1 500,250", f"1{NBSP}734,317"),
        BLANK,
        ("01.03.2025 9:00:00", 1234.567, None, "1 234,567", "0,000"),
        ("05.03.2025 9:00:00", "2 000,000", None, "265,683", f"1{NBSP}734,317"),
    ]
    totals = (f"1{NBSP}234,567", "2000,0", "1500,25", f"1{NBSP}734,317")
    return batch_statement_grid(data, warehouse_totals=totals)


ODD_WAREHOUSE = 'Магазин "Рыбный" №2'
ODD_NAME_RAW = f'  СЕЛЬДЬ  "ЗАЛОМ"{NBSP}{NBSP}Х/К / 1 кг   '
ODD_NAME = 'СЕЛЬДЬ "ЗАЛОМ" Х/К / 1 кг'
ODD_GROUP_RAW = "РЫБА Х/К / Г/К (весовой товар)  "
ODD_GROUP = "РЫБА Х/К / Г/К (весовой товар)"


def odd_names_grid() -> list[list[object]]:
    rows = [(ODD_NAME_RAW, *HERRING_ROWS[0][1:]), *HERRING_ROWS[1:]]
    return batch_statement_grid([(ODD_GROUP_RAW, *HERRING_TOTALS), *rows], warehouse=ODD_WAREHOUSE,
                                warehouse_totals=HERRING_TOTALS)


def duplicate_rows_grid() -> list[list[object]]:
    """The clean report with batch row 16 pasted twice (the copy is row 17)."""
    rows = list(HERRING_ROWS)
    rows.insert(4, rows[4])
    return batch_statement_grid([(HERRING_GROUP, *HERRING_TOTALS), *rows], warehouse_totals=HERRING_TOTALS)


def broken_sum_grid() -> list[list[object]]:
    """The clean report where the count's batch row 19 says 0.046 out (document row 18 says 0.036)."""
    rows = list(HERRING_ROWS)
    rows[7] = ("21.02.2025 8:40:00", 2.150, None, 0.046, 2.104)
    return batch_statement_grid([(HERRING_GROUP, *HERRING_TOTALS), *rows], warehouse_totals=HERRING_TOTALS)


TURNOVER_SMOKED = [
    (HERRING, 4.100, 2.000, 1.986, 4.114),
    (MACKEREL, 10.000, 10.000, 10.000, 9.886),
]
TURNOVER_DRIED = [(ROACH, 1.500, 3.000, 0.700, 3.800)]


def turnover_rows() -> tuple[list[tuple], tuple[float, float, float, float]]:
    smoked = add(*[r[1:] for r in TURNOVER_SMOKED])
    dried = add(*[r[1:] for r in TURNOVER_DRIED])
    rows = [(SMOKED_GROUP, *smoked), *TURNOVER_SMOKED, (DRIED_GROUP, *dried), *TURNOVER_DRIED]
    return rows, add(smoked, dried)


def turnover_xlsx_grid() -> list[list[object]]:
    rows, total = turnover_rows()
    return turnover_grid(rows, total=total)


def turnover_csv_grid() -> list[list[object]]:
    """No title row: the period comes from the file name."""
    rows, total = turnover_rows()
    return turnover_grid(rows, title=None, total=total)


def not_a_report_grid() -> list[list[object]]:
    return [["Прайс-лист на 01.03.2025"], [], ["Товар", "Цена, руб/кг"], [HERRING, 650.0], [ROACH, 890.0]]

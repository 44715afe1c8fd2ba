"""Unusual and damaged report files through the ingestion entry point, on SQLite and PostgreSQL.

Every file is made at test time (tests/report_variants.py). Readable variants (another
container, another date format, a hidden sheet, names with control characters) load the
same rows as the clean fixture; broken ones end as a clear per-file failure naming the
file (and the row), leave none of their rows behind, and the clean file loads after them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from shrinkage.app.ingest import ingest_file
from shrinkage.db import models as m
from shrinkage.sources import read_report
from tests import report_variants as v
from tests import sources_helpers as h

CLEAN = h.FIXTURES / "batch_clean.xlsx"
ROWS = v.clean_rows()
RECEIPT_BATCH = 6  # ROWS[6] is worksheet row 17: the receipt's new batch (incoming 2.000)


def _copy(source: Path) -> Callable[[Path], object]:
    return lambda path: shutil.copy(source, path)


READABLE: dict[str, Callable[[Path], object]] = {
    "xlsx-renamed.xls": _copy(CLEAN),
    "1c-html.xls": lambda p: v.write_html(p, h.clean_batch_grid()),
    "1c-html-cp1251.xls": lambda p: v.write_html(p, h.clean_batch_grid(), charset="windows-1251"),
    "excel-2003-xml.xls": lambda p: v.write_spreadsheetml(p, h.clean_batch_grid()),
    "iso-dates.xlsx": lambda p: h.write_xlsx(p, v.restyle_dates(h.clean_batch_grid(), "iso")),
    "iso-t-dates.xlsx": lambda p: h.write_xlsx(p, v.restyle_dates(h.clean_batch_grid(), "iso_t")),
    "date-cells.xlsx": lambda p: h.write_xlsx(p, v.batch_rows_as_datetimes(h.clean_batch_grid())),
    "hidden-sheet.xlsx": lambda p: h.write_xlsx(p, h.not_a_report_grid(),
                                                sheets_before=[("Отчет", h.clean_batch_grid(), True)]),
}

# name -> (make, status, what the message must say, worksheet row named or None)
BROKEN: dict[str, tuple[Callable[[Path], object], str, str, int | None]] = {
    "us-dates.xlsx": (lambda p: h.write_xlsx(p, v.restyle_dates(h.clean_batch_grid(), "us")),
                      "unreadable", "the dates are written month first (US format)", 15),
    "us-dots-dates.xlsx": (lambda p: h.write_xlsx(p, v.restyle_dates(h.clean_batch_grid(), "us_dots",
                                                                     period_too=False)),
                           "unreadable", "the dates are written month first (US format)", 15),
    "1e309.xlsx": (lambda p: h.write_xlsx(p, v.with_rows(v.set_cell(ROWS, RECEIPT_BATCH, 2, "1e309"))),
                   "rejected", "'1e309' is not a finite number", 17),
    "inf.xlsx": (lambda p: h.write_xlsx(p, v.with_rows(v.set_cell(ROWS, RECEIPT_BATCH, 2, "inf"))),
                 "rejected", "'inf' is not a number", 17),
    "nan.xlsx": (lambda p: h.write_xlsx(p, v.with_rows(v.set_cell(ROWS, RECEIPT_BATCH, 2, "NaN"))),
                 "rejected", "'NaN' is not a number", 17),
    "1e308-kg.xlsx": (lambda p: h.write_xlsx(p, v.with_rows(v.set_cell(ROWS, RECEIPT_BATCH, 2, 1e308))),
                      "rejected", "beyond the plausible 100,000 kg per row", 17),
    "200-tonnes.xlsx": (lambda p: h.write_xlsx(p, v.with_rows(v.set_cell(ROWS, RECEIPT_BATCH, 2, 200_000.0))),
                        "rejected", "incoming 200,000.000 kg", 17),
    "long-doc-type.xlsx": (lambda p: h.write_xlsx(p, v.with_rows(
        v.retitle(ROWS, "Приходная накладная", "Приходная накладная " + "Ж" * 300))),
        "rejected", "the document type is 320 characters long, the database keeps at most 256", 15),
    "long-name.xlsx": (lambda p: h.write_xlsx(
        p, v.with_rows(v.retitle(ROWS, h.HERRING, h.HERRING + " " + "Х" * 10_000))),
                       "rejected", "the product name is 10,011 characters long", 12),
}


def _count(conn, table) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def _data_rows(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.__tablename__: _count(conn, t) for t in (m.Nomenclature, m.CalculationData, m.BatchMovement)}


def _movements(engine) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(
            m.Nomenclature.name, m.BatchMovement.source_row, m.BatchMovement.document_type,
            m.BatchMovement.document_number, m.BatchMovement.document_datetime, m.BatchMovement.batch_arrival,
            m.BatchMovement.opening, m.BatchMovement.incoming, m.BatchMovement.outgoing, m.BatchMovement.closing,
        ).join(m.Nomenclature, m.Nomenclature.id == m.BatchMovement.nomenclature_id)).all()
    return sorted(tuple(r) for r in rows)


def _clean_loads_after(engine, tmp_path: Path) -> None:
    before = _data_rows(engine)["batch_movements"]
    good = tmp_path / "good.xlsx"
    shutil.copy(CLEAN, good)
    outcome = ingest_file(engine, good)
    assert outcome.status == "loaded", outcome.message
    assert _data_rows(engine)["batch_movements"] == before + 5


@pytest.mark.parametrize("name", list(READABLE))
def test_readable_variant_loads_like_the_clean_file(engine, tmp_path, name):
    path = tmp_path / name
    READABLE[name](path)
    outcome = ingest_file(engine, path)
    assert outcome.status == "loaded", outcome.message
    variant = _movements(engine)
    assert len(variant) == 5 and {r[0] for r in variant} == {h.HERRING}
    with engine.begin() as conn:  # drop the variant's rows and load the fixture itself to compare
        for table in (m.BatchMovement, m.ValidationError, m.CalculationData, m.DataLineage, m.SourceData):
            conn.execute(sa.delete(table))
    assert ingest_file(engine, CLEAN).status == "loaded"
    assert variant == _movements(engine)


def test_hidden_sheet_is_recorded(engine, tmp_path):
    path = tmp_path / "hidden.xlsx"
    READABLE["hidden-sheet.xlsx"](path)
    assert ingest_file(engine, path).status == "loaded"
    with engine.connect() as conn:
        errors = conn.execute(sa.select(m.ValidationError.error_type, m.ValidationError.description)).all()
    assert [e.error_type for e in errors] == ["report_on_hidden_sheet"]
    assert errors[0].description.startswith("hidden.xlsx: the report was read from the hidden sheet 'Отчет'")


def test_control_characters_are_cleaned_before_the_database(engine, tmp_path):
    path = v.with_xlsx_escapes(h.write_xlsx(tmp_path / "ctrl.xlsx", h.clean_batch_grid()),
                               {h.HERRING: "СЕЛЬДЬ_x0000__x001B_[31m Х/К_x0007_"})
    outcome = ingest_file(engine, path)
    assert outcome.status == "loaded", outcome.message
    with engine.connect() as conn:
        names = conn.execute(sa.select(m.Nomenclature.name)).scalars().all()
        errors = conn.execute(sa.select(m.ValidationError.error_type, m.ValidationError.description,
                                        m.ValidationError.calculation_data_id)).all()
    assert names == ["СЕЛЬДЬ[31m Х/К"]
    (error,) = [e for e in errors if e.error_type == "control_characters"]
    assert error.description.startswith("ctrl.xlsx, row 12: ") and error.calculation_data_id is not None
    _clean_loads_after(engine, tmp_path)


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_file_fails_alone_and_clearly(engine, tmp_path, name):
    make, status, said, row = BROKEN[name]
    path = tmp_path / name
    make(path)
    outcome = ingest_file(engine, path)
    assert outcome.status == status, outcome.message
    assert _data_rows(engine) == {"nomenclature": 0, "calculation_data": 0, "batch_movements": 0}
    with engine.connect() as conn:
        lineage = conn.execute(sa.select(m.DataLineage.status, m.DataLineage.error_message,
                                         m.DataLineage.source_file_name)).all()
        errors = conn.execute(sa.select(m.ValidationError.description, m.ValidationError.severity_level)).all()
    assert [(r.status, r.source_file_name) for r in lineage] == [("failed", name)]
    assert lineage[0].error_message.startswith(f"{name}")
    if status == "unreadable":  # unreadable as written: the message itself says why, where and what to do
        assert said in outcome.message and outcome.message.startswith(f"{name}, row {row}: ")
        assert "Russian regional settings" in outcome.message
        assert errors == []
    else:  # rejected by a blocking check: the recorded errors say why, where and what to do
        described = [e.description for e in errors if said in e.description]
        assert described, [e.description for e in errors]
        assert any(d.startswith(f"{name}, row {row}") for d in described)
        assert any(e.severity_level == "critical" for e in errors)
    _clean_loads_after(engine, tmp_path)


def test_read_report_and_ingest_agree_on_the_clean_file(tmp_path):
    """The comparison baseline above is the fixture itself, read as the readers read it."""
    assert len(read_report(CLEAN).batches) == 5

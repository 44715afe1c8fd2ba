"""Names that reached the database with control characters still make a valid workbook.

Files loaded before the reader cleaned names (or rows written by other tools) can hold
them; openpyxl refuses them with IllegalCharacterError, so the workbook writer strips them.
"""

from __future__ import annotations

import openpyxl
import sqlalchemy as sa

from shrinkage.db import models as m
from shrinkage.reports import write_reports
from shrinkage.sources.cells import CONTROL_CHARACTERS
from tests.reports_helpers import build_store

DIRTY = "СЕЛЬДЬ\x1b[31m Х/К\x07"


def test_workbook_with_control_characters_in_a_product_name(engine, service, tmp_path):
    build_store(service)
    with engine.begin() as conn:
        changed = conn.execute(sa.update(m.Nomenclature).where(m.Nomenclature.name == "СЕЛЬДЬ Х/К")
                               .values(name=DIRTY)).rowcount
    assert changed == 1
    (path,) = write_reports(engine, tmp_path, formats=("xlsx",))
    wb = openpyxl.load_workbook(path)
    texts = [cell.value for ws in wb.worksheets for row in ws.iter_rows() for cell in row
             if isinstance(cell.value, str)]
    assert "СЕЛЬДЬ[31m Х/К" in texts
    assert not any(CONTROL_CHARACTERS.search(text) for text in texts)
    headers = [cell.value for cell in wb["Данные графиков"][1] if isinstance(cell.value, str)]
    assert any(h.endswith(": СЕЛЬДЬ[31m Х/К") for h in headers)

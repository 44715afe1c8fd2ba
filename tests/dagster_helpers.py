"""Shared helpers of the Dagster end-to-end tests: real statement files, broken variants, resources."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import openpyxl
from sqlalchemy import text

from resources import DatabaseResource, InboxResource, SettingsResource
from shrinkage.demo import simulate_store, write_statements
from shrinkage.sources import REPORT_SUFFIXES

# The first document row of a demo statement and its first batch row (see shrinkage.demo.writer).
OUTGOING_COLUMN = 8  # H: «Расход»


def demo_statements(folder: Path, weeks: int = 2, products: int = 3, seed: int = 7) -> list[Path]:
    """Weekly 1C batch statements of a small simulated store, written into ``folder`` (reports only)."""
    staging = folder.parent / f".{folder.name}-staging"
    written = write_statements(simulate_store(weeks=weeks, products=products, seed=seed), staging)
    folder.mkdir(parents=True, exist_ok=True)
    reports = []
    for path in written:
        if path.suffix.lower() in REPORT_SUFFIXES:
            reports.append(Path(shutil.move(str(path), folder / path.name)))
    shutil.rmtree(staging)
    return sorted(reports)


def with_negative_outgoing(statement: Path, target: Path) -> Path:
    """A copy of a statement whose first movement document has a negative «Расход» (a blocking error)."""
    workbook = openpyxl.load_workbook(statement)
    sheet = workbook.worksheets[0]
    for row in range(1, sheet.max_row + 1):
        value = sheet.cell(row, OUTGOING_COLUMN).value
        label = str(sheet.cell(row, 1).value or "")
        if isinstance(value, (int, float)) and value > 0 and " от " in label:
            sheet.cell(row, OUTGOING_COLUMN).value = -value
            break
    else:
        raise AssertionError(f"{statement.name}: no document row with an outgoing quantity to break")
    workbook.save(target)
    return target


def set_age(path: Path, seconds: float) -> None:
    """Pretend the file was last modified ``seconds`` ago."""
    stamp = path.stat().st_mtime - seconds
    os.utime(path, (stamp, stamp))


def resources_for(db_url: str, inbox: Path, **inbox_settings) -> dict:
    return {"database": DatabaseResource(url=db_url), "inbox": InboxResource(path=str(inbox), **inbox_settings),
            "settings": SettingsResource(reports_dir=str(inbox.parent / "reports"))}


def table_counts(engine, *tables: str) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in tables}

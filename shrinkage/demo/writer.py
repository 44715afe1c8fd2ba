"""Writing simulated statements as the .xlsx files 1C exports, plus the ground truth beside them.

Only .xlsx is written: no maintained writer of the old binary .xls format exists on PyPI
(xlwt is unmaintained), so .xls inputs have to come from real exports.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook
from tqdm import tqdm

from shrinkage.demo.chain import ChainSimulation, RealisticParams, simulate_chain
from shrinkage.demo.simulation import StoreSimulation, simulate_store
from shrinkage.demo.statement import CAPTIONS, GROUPING_LEVELS, QUANTITY_CAPTION_PREFIX, TITLE, Statement, StatementRow

log = logging.getLogger(__name__)

SHEET_NAME = "TDSheet"  # the sheet name 1C gives its exports
GROUND_TRUTH_FILE = "ground_truth.json"
SUPPORTED_FORMATS = ("xlsx",)
# Rows above the data: title, blank, Параметры, Отбор, blank, four grouping-level rows.
HEADER_ROWS = 9


def statement_file_name(statement: Statement, suffix: str = "xlsx", tag: str | None = None, note: str = "") -> str:
    """Readable and sortable: ``Ведомость по партиям [tag ]2025-03-03_2025-03-09[ note].xlsx``."""
    store = f"{tag} " if tag else ""
    extra = f" {note}" if note else ""
    return (f"Ведомость по партиям {store}{statement.period_start:%Y-%m-%d}_{statement.period_end:%Y-%m-%d}"
            f"{extra}.{suffix}")


def _kg(grams: int) -> float | None:
    """An empty cell means 0 in 1C exports."""
    return grams / 1000 if grams else None


def _header_rows(statement: Statement) -> list[list]:
    """Title, parameters, filter, then one row per grouping level; captions on the first two."""
    def captioned(level: str, captions: tuple[str, ...]) -> list:
        return [level, None, None, None, captions[0], None, captions[1], captions[2], captions[3]]

    first, second, *rest = GROUPING_LEVELS
    return [
        [TITLE],
        [],
        ["Параметры:", None, statement.period_text],
        ["Отбор:", None, statement.filter_text],
        [],
        captioned(first, CAPTIONS),
        captioned(second, tuple(QUANTITY_CAPTION_PREFIX + c for c in CAPTIONS)),
        *([level] for level in rest),
    ]


def _data_row(row: StatementRow) -> list:
    # Column F stays empty, as in the 1C layout.
    return [row.text, None, None, None, _kg(row.opening), None, _kg(row.incoming), _kg(row.outgoing), _kg(row.closing)]


def write_statement_xlsx(statement: Statement, path: Path) -> int:
    """Write one statement in the 1C layout (openpyxl write-only, so large files stream); returns data rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAME)
    sheet.column_dimensions["A"].width = 80
    for row in _header_rows(statement):
        sheet.append(row)
    for row in statement.rows:
        sheet.append(_data_row(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return len(statement.rows)


def _check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    formats = tuple(formats)
    unsupported = [f for f in formats if f not in SUPPORTED_FORMATS]
    if unsupported:
        raise ValueError(
            f"cannot write demo statements as {', '.join(unsupported)}: only .xlsx is supported "
            "(no maintained .xls writer exists); pass formats=('xlsx',)"
        )
    return formats


def _write_truth(out: Path, truth: dict) -> Path:
    path = out / GROUND_TRUTH_FILE
    path.write_text(json.dumps(truth, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def write_statements(
    sim: StoreSimulation, out_dir: Path | str, formats: Iterable[str] = ("xlsx",), *, progress: bool = False
) -> list[Path]:
    """One statement file per simulated week plus ``ground_truth.json``; returns the paths written."""
    formats = _check_formats(formats)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    files = []
    for statement in tqdm(sim.statements, desc="weekly statements", unit="file", disable=not progress):
        entry = {"period_start": statement.period_start.isoformat(), "period_end": statement.period_end.isoformat(),
                 "rows": len(statement.rows), "files": []}
        for suffix in formats:
            path = out / statement_file_name(statement, suffix)
            write_statement_xlsx(statement, path)
            written.append(path)
            entry["files"].append(path.name)
        files.append(entry)
    truth = sim.ground_truth()
    truth["statements"] = files
    written.append(_write_truth(out, truth))
    log.info("wrote %d statements and %s to %s", len(files), GROUND_TRUTH_FILE, out)
    return written


def write_chain(chain: ChainSimulation, out_dir: Path | str, *, progress: bool = False) -> list[Path]:
    """Every store's weekly statements (except the missing weeks) plus ``ground_truth.json``;
    with ``chain.params.reexport`` also the overlapping re-export. Returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    entries = []
    jobs = [(s, w) for s in range(len(chain.stores)) for w in range(chain.params.weeks)]
    for s, week in tqdm(jobs, desc="weekly statements", unit="file", disable=not progress):
        store, tag = chain.stores[s], chain.params.stores[s].tag
        statement = store.statements[week]
        missing = (s, week) in chain.missing
        entry = {"warehouse": store.params.warehouse, "week": week,
                 "period_start": statement.period_start.isoformat(), "period_end": statement.period_end.isoformat(),
                 "rows": len(statement.rows), "file": None, "written": not missing,
                 "follows_missing_week": (s, week - 1) in chain.missing}
        if not missing:
            path = out / statement_file_name(statement, tag=tag)
            write_statement_xlsx(statement, path)
            written.append(path)
            entry["file"] = path.name
        entries.append(entry)
    truth = chain.ground_truth()
    truth["statements"] = entries
    for item in truth["missing_statements"]:
        item["file"] = statement_file_name(
            chain.stores[chain.warehouses.index(item["warehouse"])].statements[item["week"]],
            tag=chain.params.stores[chain.warehouses.index(item["warehouse"])].tag)
    truth["reexports"] = []
    written.append(_write_truth(out, truth))
    if chain.params.reexport:
        written.insert(-1, write_reexport(chain, out))
    log.info("wrote %d statements of %d stores and %s to %s", len(written) - 1, len(chain.stores),
             GROUND_TRUTH_FILE, out)
    return written


REEXPORT_NOTE = "повторная выгрузка"


def write_reexport(chain: ChainSimulation, out_dir: Path | str, store: int = 0,
                   period_start: date | None = None, period_end: date | None = None) -> Path:
    """Write an overlapping re-export with one sale re-posted (see ChainSimulation.reexport) and
    record it under ``reexports`` in the folder's ``ground_truth.json`` (written by write_chain)."""
    out = Path(out_dir)
    reexport = chain.reexport(store, period_start, period_end)
    path = out / statement_file_name(reexport.statement, tag=chain.params.stores[store].tag, note=REEXPORT_NOTE)
    write_statement_xlsx(reexport.statement, path)
    truth_path = out / GROUND_TRUTH_FILE
    truth = json.loads(truth_path.read_text(encoding="utf-8")) if truth_path.exists() else chain.ground_truth()
    overlapped = [e["file"] for e in truth.get("statements", ())
                  if e["warehouse"] == reexport.truth["warehouse"] and e["written"]
                  and e["period_start"] <= reexport.truth["period_end"]
                  and e["period_end"] >= reexport.truth["period_start"]]
    truth.setdefault("reexports", []).append({"file": path.name, "overlaps_files": overlapped, **reexport.truth})
    _write_truth(out, truth)
    return path


# About this many statement rows per product and week with the default simulation (measured).
_ROWS_PER_PRODUCT_WEEK = 24
_LARGE_WEEKS = 13  # one quarter in a single statement


def write_large_statement(path: Path | str, target_rows: int, seed: int = 0) -> int:
    """A single statement (one quarter, as many products as needed) of at least ``target_rows``
    data rows, for benchmarks; returns the number of data rows written."""
    if target_rows < 1:
        raise ValueError(f"target_rows must be at least 1, got {target_rows}")
    products = max(1, math.ceil(target_rows / (_ROWS_PER_PRODUCT_WEEK * _LARGE_WEEKS) * 1.1))
    while True:
        sim = simulate_store(weeks=_LARGE_WEEKS, products=products, seed=seed)
        start = sim.params.start
        statement = sim.statement_for(start, start + timedelta(days=7 * _LARGE_WEEKS - 1))
        if len(statement.rows) >= target_rows:
            break
        products = math.ceil(products * target_rows / len(statement.rows) * 1.05) + 1
    rows = write_statement_xlsx(statement, Path(path))
    log.info("wrote a statement of %d data rows (%d products) to %s", rows, products, path)
    return rows


def main_demo_data(out: Path | str, weeks: int = 12, products: int = 30, seed: int = 0, *,
                   realistic: bool = False, params: RealisticParams | None = None,
                   progress: bool = True) -> list[Path]:
    """The ``shrinkage demo-data`` command: simulate a store and write its weekly statements and truth.

    ``realistic`` (or a ``params``) writes the chain of :mod:`shrinkage.demo.chain` instead: two
    stores, statements as real exports look, one weekly file missing.
    """
    if realistic or params is not None:
        params = params or RealisticParams(weeks=weeks, products=products, seed=seed)
        return write_chain(simulate_chain(params), out, progress=progress)
    sim = simulate_store(weeks=weeks, products=products, seed=seed)
    return write_statements(sim, out, progress=progress)

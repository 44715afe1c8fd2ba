"""Shared helpers for the demo-data tests: reading a written statement back, and the
exposure model of docs/DOMAIN.md computed independently of the simulator's internals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from python_calamine import CalamineWorkbook

from shrinkage.demo.simulation import COUNT, RECEIPT, StoreSimulation, simulate_store


def read_sheet(path: Path) -> list[list]:
    """All rows of the first sheet, padded to at least 9 columns (A..I)."""
    workbook = CalamineWorkbook.from_path(str(path))
    rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    return [list(row) + [""] * (9 - len(row)) for row in rows]


def kg(cell) -> float:
    return 0.0 if cell in ("", None) else float(cell)


@dataclass(frozen=True)
class ProductExposure:
    expected_kg: float  # Σ K·(S(a2) − S(a1))/(1 − S(a1)) − r·Q, up to the last count
    observed_kg: float  # Σ count outgoing − incoming
    last_count: datetime | None


def exposure_by_product(sim: StoreSimulation) -> dict[str, ProductExposure]:
    """Expected versus observed count shortages per product over the whole simulation.

    Uses only what a statement shows (book balance per batch as a step function of time) plus
    the true curve, as the modelling code will: docs/DOMAIN.md "From reports to shrinkage observations".
    """
    start = datetime.combine(sim.params.start, datetime.min.time())
    result = {}
    for truth in sim.products:
        docs = [d for d in sim.documents if d.product == truth.name]
        counts = [d for d in docs if d.doc_type == COUNT]
        if not counts:
            result[truth.name] = ProductExposure(0.0, 0.0, None)
            continue
        last = counts[-1].moment
        balances = {b.arrival: b.closing for b in sim.opening_batches[truth.name]}
        s = truth.curve
        expected = 0.0
        received = 0
        moment = start
        for doc in docs:
            if doc.moment > last:
                break
            for arrival, grams in balances.items():
                if arrival is None or grams <= 0:
                    continue  # the no-batch line: negative book stock is no stock
                a1 = (moment - arrival).total_seconds() / 86400
                a2 = (doc.moment - arrival).total_seconds() / 86400
                expected += grams / 1000 * (s(a2) - s(a1)) / (1 - s(a1))
            balances = {line.arrival: line.closing for line in doc.lines if line.closing}
            if doc.doc_type == RECEIPT:
                received += doc.incoming
            moment = doc.moment
        expected -= truth.surplus_rate * received / 1000
        observed = sum(d.outgoing - d.incoming for d in counts) / 1000
        result[truth.name] = ProductExposure(expected, observed, last)
    return result


# ---------------------------------------------------------------------------------------
# Cached simulations shared by the demo test modules (pure, so sharing is safe).
# ---------------------------------------------------------------------------------------

DOCUMENT_TEXT = re.compile(r"^(?P<type>\S.*?) (?P<number>\d{15}) от "
                           r"(?P<moment>\d{2}\.\d{2}\.\d{4} (?:0|[1-9]\d?):\d{2}:\d{2})$")
BATCH_TEXT = re.compile(r"^\d{2}\.\d{2}\.\d{4} (?:0|[1-9]\d?):\d{2}:\d{2}$")


def parse_moment(text: str) -> datetime:
    return datetime.strptime(text, "%d.%m.%Y %H:%M:%S")


@cache
def default_simulation() -> StoreSimulation:
    """The CLI default: 12 weeks x 30 products, seed 0."""
    return simulate_store()


@cache
def small_simulation(seed: int = 1) -> StoreSimulation:
    return simulate_store(weeks=3, products=14, seed=seed, errors=1)


# ---------------------------------------------------------------------------------------
# The realistic chain (shrinkage.demo.chain), shared by the realistic demo and reader tests.
# ---------------------------------------------------------------------------------------


@cache
def realistic_chain(seed: int = 0, weeks: int = 12, products: int = 30):
    """The CLI's realistic default: 2 stores x 30 products x 12 weeks."""
    from shrinkage.demo.chain import RealisticParams, simulate_chain

    return simulate_chain(RealisticParams(weeks=weeks, products=products, seed=seed, reexport=True))


def expected_parse(statement, group_paths: dict[str, tuple[str, ...]]) -> dict[str, list[tuple]]:
    """What a reader must get from a rendered statement: products (name, group path, totals),
    documents (product, seq, type, number, moment, totals) and batches (product, document number,
    arrival or None, labelled, totals), in file order, names as the reader normalises them."""
    from shrinkage.demo.statement import format_document  # noqa: F401  (documents the text format)
    from shrinkage.sources.cells import normalize_text

    products, documents, batches = [], [], []
    product = number = None
    seq = 0
    for row in statement.rows:
        q = (row.opening / 1000, row.incoming / 1000, row.outgoing / 1000, row.closing / 1000)
        if row.kind == "product":
            product, seq = normalize_text(row.text), 0
            path = " / ".join(normalize_text(g) for g in group_paths[row.text])
            products.append((product, path, *q))
        elif row.kind == "document":
            match = DOCUMENT_TEXT.match(row.text)
            seq += 1
            number = match["number"]
            documents.append((product, seq, match["type"], number, parse_moment(match["moment"]), *q))
        elif row.kind == "batch":
            arrival = parse_moment(row.text) if row.text else None
            batches.append((product, number, arrival, arrival is not None, *q))
    return {"products": products, "documents": documents, "batches": batches}


def parsed_tuples(report) -> dict[str, list[tuple]]:
    """A ParsedReport in the shape of expected_parse (NaT as None, timestamps as datetimes)."""
    import pandas as pd

    def when(value):
        return None if pd.isna(value) else value.to_pydatetime()

    q = ["opening", "incoming", "outgoing", "closing"]
    return {
        "products": [(r.product, r.group_path, *(getattr(r, c) for c in q))
                     for r in report.products.itertuples()],
        "documents": [(r.product, r.doc_seq, r.doc_type, r.doc_number, when(r.doc_datetime),
                       *(getattr(r, c) for c in q))
                      for r in report.documents.itertuples()],
        "batches": [(r.product, r.doc_number, when(r.batch_arrival), bool(r.labelled), *(getattr(r, c) for c in q))
                    for r in report.batches.itertuples()],
    }


@dataclass(frozen=True)
class RealisticFiles:
    chain: object  # shrinkage.demo.chain.ChainSimulation
    folder: Path
    truth: dict  # ground_truth.json as written
    weekly: tuple[tuple[Path, ...], ...]  # per store, the written weekly files in week order
    reexport: Path


def write_realistic(folder: Path, seed: int = 0) -> RealisticFiles:
    import json

    from shrinkage.demo.writer import GROUND_TRUTH_FILE, write_chain

    chain = realistic_chain(seed)
    write_chain(chain, folder)
    truth = json.loads((folder / GROUND_TRUTH_FILE).read_text(encoding="utf-8"))
    weekly = tuple(
        tuple(folder / e["file"] for e in truth["statements"] if e["warehouse"] == warehouse and e["written"])
        for warehouse in chain.warehouses
    )
    return RealisticFiles(chain, folder, truth, weekly, folder / truth["reexports"][0]["file"])


def sheet_rows(path: Path, statement) -> list[tuple]:
    """The data rows of a written statement as (kind, depth, text, opening, in, out, closing): the
    kind from the simulator's statement (whose texts must equal the file's), values from the file."""
    from shrinkage.demo.writer import HEADER_ROWS

    data = read_sheet(path)[HEADER_ROWS:]
    assert [cells[0] for cells in data] == [row.text for row in statement.rows], path.name
    return [(row.kind, row.depth, cells[0], kg(cells[4]), kg(cells[6]), kg(cells[7]), kg(cells[8]))
            for row, cells in zip(statement.rows, data)]


def documents_with_batches(rows: list[tuple]) -> list[tuple[str, tuple, list[tuple]]]:
    """(product, document row, its batch rows) for every document of sheet_rows() output."""
    out: list[tuple[str, tuple, list[tuple]]] = []
    product = None
    for row in rows:
        if row[0] == "product":
            product = row[2]
        elif row[0] == "document":
            out.append((product, row, []))
        elif row[0] == "batch":
            out[-1][2].append(row)
    return out

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

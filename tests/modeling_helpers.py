"""A small store simulator with a known S and r, producing movements in the modelling contract.

Physically every batch shrinks by the true S; sales are weighed, so they take physical kg
(oldest first) while the books assign them FIFO by book balance; a count books
book - physical per batch (shortage as outgoing, surplus as incoming) and resets the books.
Receipts arrive heavier by the surplus rate r. Injected keying errors make a count book a
wrong quantity; the books then carry the error and the next count reverses it, as in a store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shrinkage.modeling.curves import make_family

START = pd.Timestamp("2025-01-06")

# One plausible parameter set per curve family: (family, params).
FAMILY_EXAMPLES = [
    ("exp_linear", {"a": 0.03, "b": 0.2, "c": 0.0005}),
    ("linear", {"a": 0.002}),
    ("power", {"a": 0.008, "b": 0.5}),
    ("logarithmic", {"a": 0.01, "b": 0.5}),
    ("quadratic", {"a": 0.001, "b": 0.00005}),
]


def true_curve(family: str, **params) -> Callable[[np.ndarray], np.ndarray]:
    curve = make_family(family, params)
    return curve.predict


@dataclass(frozen=True)
class SimProduct:
    name: str
    curve: Callable[[np.ndarray], np.ndarray]
    surplus_rate: float = 0.0
    daily_sales_kg: float = 3.0
    # receipts top the book stock up to this many days of sales (order-up-to policy)
    cover_days: float = 10.0
    receipt_every_days: tuple[int, int] = (3, 6)
    product_type: str = "dried"
    labelled: bool = True


@dataclass
class Simulation:
    movements: pd.DataFrame
    # (product, count_datetime, error_kg) of every injected keying error
    injected: list[tuple[str, pd.Timestamp, float]] = field(default_factory=list)
    products: dict[str, SimProduct] = field(default_factory=dict)

    @property
    def product_types(self) -> dict[str, str]:
        return {name: p.product_type for name, p in self.products.items()}


def simulate(products: Sequence[SimProduct], weeks: int = 12, seed: int = 0,
             count_every_days: int = 7, count_noise_kg: float = 0.003,
             errors: Sequence[tuple[str, int, float]] = (), warmup_days: int = 0,
             start: pd.Timestamp = START) -> Simulation:
    """Movements of ``products`` over ``weeks``; ``errors`` = (product, count_no, kg) keyed wrong.

    With ``warmup_days`` the store runs that long before the data starts, so the first
    document already has stock on hand (the first count's start is then unknown).
    """
    rng = np.random.default_rng(seed)
    rows: list[tuple] = []
    injected: list[tuple[str, pd.Timestamp, float]] = []
    error_at = {(p, k): kg for p, k, kg in errors}
    for product in products:
        rows.extend(_simulate_product(product, weeks, rng, count_every_days, count_noise_kg,
                                      error_at, warmup_days, start, injected))
    movements = pd.DataFrame(rows, columns=[
        "product", "doc_datetime", "doc_kind", "doc_number", "batch_arrival", "labelled",
        "opening", "incoming", "outgoing", "closing",
    ])
    return Simulation(movements, injected, {p.name: p for p in products})


@dataclass
class _Batch:
    arrival: pd.Timestamp
    book: float
    physical: float


def _simulate_product(product, weeks, rng, count_every_days, count_noise_kg, error_at,
                      warmup_days, start, injected):
    rows: list[tuple] = []
    batches: list[_Batch] = []
    clock = start - pd.Timedelta(days=warmup_days)
    doc_no = 0
    count_no = 0
    next_receipt = 0

    def shrink_to(moment):
        nonlocal clock
        for b in batches:
            a0 = (clock - b.arrival) / pd.Timedelta(days=1)
            a1 = (moment - b.arrival) / pd.Timedelta(days=1)
            s0, s1 = product.curve(np.array([a0, a1]))
            b.physical *= (1.0 - s1) / (1.0 - s0)
        clock = moment

    def emit(moment, kind, lines):
        nonlocal doc_no
        doc_no += 1
        if moment < start:
            return
        number = f"{kind[:1].upper()}{doc_no:06d}"
        for b, opening, incoming, outgoing in lines:
            rows.append((
                product.name, moment, kind, number,
                b.arrival if product.labelled else pd.NaT, product.labelled,
                round(opening, 3), round(incoming, 3), round(outgoing, 3),
                round(opening + incoming - outgoing, 3),
            ))

    for day in range(-warmup_days, weeks * 7):
        midnight = start + pd.Timedelta(days=day)
        if day - (-warmup_days) == next_receipt:
            moment = midnight + pd.Timedelta(hours=9, minutes=int(rng.integers(0, 60)))
            shrink_to(moment)
            book_total = sum(b.book for b in batches)
            wanted = max(product.daily_sales_kg * product.cover_days - book_total,
                         product.daily_sales_kg)
            qty = round(wanted * rng.uniform(0.8, 1.2), 3)
            new = _Batch(moment, 0.0, qty * (1.0 + product.surplus_rate))
            lines = [(b, b.book, 0.0, 0.0) for b in batches if b.book > 0]
            lines.append((new, 0.0, qty, 0.0))
            new.book = qty
            batches.append(new)
            emit(moment, "receipt", lines)
            next_receipt += int(rng.integers(product.receipt_every_days[0],
                                             product.receipt_every_days[1] + 1))

        moment = midnight + pd.Timedelta(hours=21)
        shrink_to(moment)
        book_total = sum(b.book for b in batches)
        physical_total = sum(b.physical for b in batches)
        sale = round(min(product.daily_sales_kg * rng.uniform(0.6, 1.4),
                         book_total, physical_total * 0.999), 3)
        if sale > 0:
            _take_fifo(batches, sale, "physical")
            book_out = _take_fifo(batches, sale, "book")
            lines = [(b, b.book + out, 0.0, out) for b, out in zip(batches, book_out)
                     if round(b.book + out, 3) > 0]
            emit(moment, "sale", lines)

        if (day + 1) % count_every_days == 0 and day >= 0:
            moment = midnight + pd.Timedelta(hours=22, minutes=30)
            shrink_to(moment)
            on_hand = [b for b in batches if b.book > 0 or b.physical > 1e-9]
            if on_hand:
                largest = max(on_hand, key=lambda b: b.physical)
                lines = []
                for b in on_hand:
                    counted = b.physical
                    if b is largest:
                        counted += rng.normal(0.0, count_noise_kg)
                        error = error_at.get((product.name, count_no))
                        if error is not None:
                            counted -= error
                            injected.append((product.name, moment, error))
                    counted = max(round(counted, 3), 0.0)
                    short = round(b.book - counted, 3)
                    lines.append((b, b.book, max(-short, 0.0), max(short, 0.0)))
                    b.book = counted
                emit(moment, "count", lines)
                count_no += 1
            batches[:] = [b for b in batches if b.book > 0 or b.physical > 1e-9]
    return rows


def _take_fifo(batches: list[_Batch], qty: float, attr: str) -> list[float]:
    """Remove ``qty`` from the oldest batches' ``attr``; returns what each batch gave."""
    taken = []
    left = qty
    for b in batches:
        give = min(getattr(b, attr), left)
        give = round(give, 3) if attr == "book" else give
        setattr(b, attr, getattr(b, attr) - give)
        left -= give
        taken.append(give)
    return taken


def dried_products(n: int, prefix: str = "P", surplus_rate: float = 0.0,
                   curve=None, product_type: str = "dried") -> list[SimProduct]:
    """n products sharing one true curve, stock cover from 1 to 3 weeks (ages up to ~4 weeks)."""
    curve = curve or true_curve("exp_linear", a=0.03, b=0.2, c=0.0005)
    out = []
    for i in range(n):
        every = (2 + i % 3, 5 + i % 3 * 2)
        out.append(SimProduct(
            name=f"{prefix}{i:03d}", curve=curve, surplus_rate=surplus_rate,
            daily_sales_kg=2.0 + (i % 3), cover_days=12.0 + 2 * (i % 5),
            receipt_every_days=every, product_type=product_type,
        ))
    return out


def hand_movements() -> pd.DataFrame:
    """A tiny hand-checkable store (times at midnight so ages are whole days).

    Product A: receipts on 1 and 4 March, counts on 5 and 8 March, a sale after the last
    count. Product B: stock on hand before the data starts. Product C: unlabelled batches.
    """
    d = pd.Timestamp
    b1, b2 = d("2025-03-01"), d("2025-03-04")
    rows = [
        # product, time, kind, number, arrival, opening, incoming, outgoing, closing
        ("A", d("2025-03-01"), "receipt", "R1", b1, 0.0, 10.0, 0.0, 10.0),
        ("A", d("2025-03-03"), "sale", "S1", b1, 10.0, 0.0, 4.0, 6.0),
        ("A", d("2025-03-04"), "receipt", "R2", b1, 6.0, 0.0, 0.0, 6.0),
        ("A", d("2025-03-04"), "receipt", "R2", b2, 0.0, 5.0, 0.0, 5.0),
        ("A", d("2025-03-05"), "count", "C1", b1, 6.0, 0.0, 0.2, 5.8),
        ("A", d("2025-03-05"), "count", "C1", b2, 5.0, 0.05, 0.0, 5.05),
        ("A", d("2025-03-07"), "sale", "S2", b1, 5.8, 0.0, 5.8, 0.0),
        ("A", d("2025-03-07"), "sale", "S2", b2, 5.05, 0.0, 1.0, 4.05),
        ("A", d("2025-03-08"), "count", "C2", b2, 4.05, 0.0, 0.1, 3.95),
        ("A", d("2025-03-09"), "sale", "S3", b2, 3.95, 0.0, 1.0, 2.95),
        ("B", d("2025-03-02"), "sale", "S9", d("2025-02-20"), 3.0, 0.0, 1.0, 2.0),
        ("B", d("2025-03-05"), "count", "C9", d("2025-02-20"), 2.0, 0.0, 0.1, 1.9),
        ("C", d("2025-03-01"), "receipt", "R7", pd.NaT, 0.0, 4.0, 0.0, 4.0),
        ("C", d("2025-03-03"), "count", "C7", pd.NaT, 4.0, 0.0, 0.04, 3.96),
    ]
    frame = pd.DataFrame(rows, columns=[
        "product", "doc_datetime", "doc_kind", "doc_number", "batch_arrival",
        "opening", "incoming", "outgoing", "closing",
    ])
    frame["labelled"] = frame["batch_arrival"].notna()
    return frame


def random_errors(products: Sequence[SimProduct], weeks: int, rate: float = 0.08,
                  kg: tuple[float, float] = (0.05, 0.5), seed: int = 0):
    """Keying errors for ``simulate``: each count after the first is mis-keyed with ``rate``
    probability by a random ±kg amount (a few times the usual weekly shortage)."""
    rng = np.random.default_rng(seed)
    errors = []
    for product in products:
        for count_no in range(1, weeks):
            if rng.random() < rate:
                errors.append((product.name, count_no,
                               float(rng.choice([-1.0, 1.0]) * rng.uniform(*kg))))
    return errors


def store_movements(sim) -> pd.DataFrame:
    """A ``shrinkage.demo`` simulation's documents in the exposure contract, as the database
    load returns them (kg, canonical document kinds), without writing and ingesting files."""
    from shrinkage.sources.model import DOC_KINDS

    rows = []
    for doc in sim.documents:
        kind = DOC_KINDS.get(doc.doc_type, "other")
        for line in doc.lines:
            rows.append((doc.product, doc.moment, kind, f"{doc.number:015d}", line.arrival, line.arrival is not None,
                         line.opening / 1000, line.incoming / 1000, line.outgoing / 1000,
                         line.closing / 1000))
    return pd.DataFrame(rows, columns=["product", "doc_datetime", "doc_kind", "doc_number",
                                       "batch_arrival", "labelled", "opening", "incoming",
                                       "outgoing", "closing"])

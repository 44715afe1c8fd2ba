"""A fish store simulated with known truth: physical goods shrink, books follow 1C's rules.

Physics and bookkeeping follow docs/DOMAIN.md "From reports to shrinkage observations":
- every batch on the shelf shrinks continuously, m(t2) = m(t1)·(1 − S(age2)) / (1 − S(age1)),
  held exactly by storing each batch's *fresh-equivalent* mass M with m = M·(1 − S(age));
- a receipt of documented q puts q·(1 + r) on the shelf;
- weighed sales and other outflows take physical kilograms FIFO from the shelf while the
  books assign the same kilograms FIFO by *book* balance;
- the weekly count books book − counted (shortage FIFO from the oldest batch, surplus on
  the newest), after which the books equal what was counted.
Books are integer grams, so the rendered statements balance exactly.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property

import numpy as np

from shrinkage.demo.catalogue import PRODUCT_TYPE_CODES, TYPE_PROFILES, CatalogueItem, pick_products
from shrinkage.demo.statement import (
    BatchLine,
    BookHistory,
    CatalogueEntry,
    MovementDocument,
    Statement,
    build_statement,
)

log = logging.getLogger(__name__)

RECEIPT = "Приходная накладная"
SALE = "Отчет отдела о розничных продажах"
COUNT = "Инвентаризация"
WRITE_OFF = "Списание"
TRANSFER = "Перемещение"
REGRADING = "Пересортица"
# A real 1C document type that readers do not know by name (DOMAIN: "others may appear").
UNKNOWN_TYPE = "Возврат товаров поставщику"

DEFAULT_START = date(2025, 3, 3)  # a Monday
DEFAULT_WAREHOUSE = "Магазин Рыбный двор (ул. Ленина, 12)"
SLOW_SHARE = 0.15  # share of products that sell slowly and sometimes see no movement for a week
SLOW_IDLE_WEEK_PROBABILITY = 0.35
ERROR_KINDS = ("digits_swapped", "extra_kg", "missed_box")
ERROR_REVERSAL_NOTE = (
    "After a keying error the books hold the counted (wrong) quantity while the shelf holds the "
    "true one, so the product's next count (reversed_by_doc_number) books the natural shrinkage "
    "since the error plus error_kg: the error reverses there. true_shortage_kg is book minus "
    "physical at each count, so at the reversing count it already includes the reversal; "
    "error_kg = counted_kg - physical_kg."
)

# Outflows other than sales: (document type, probability per active product-day scale, share of stock).
_OCCASIONAL_OUTFLOWS = (
    (TRANSFER, 0.005, (0.2, 0.5)),
    (REGRADING, 0.003, (0.05, 0.2)),
)
_UNKNOWN_OUTFLOW = (UNKNOWN_TYPE, 0.002, (0.1, 0.3))
_WRITE_OFF_SHARE = (0.05, 0.25)


@dataclass(frozen=True)
class ShrinkageCurve:
    """S(t) = a·(1 − e^(−b·t)) + c·t, t in days: the cumulative fraction lost by age t."""

    a: float
    b: float
    c: float

    def __call__(self, age_days: float) -> float:
        return self.a * (1.0 - math.exp(-self.b * age_days)) + self.c * age_days


@dataclass(frozen=True)
class ProductTruth:
    name: str
    product_type: str
    product_type_code: str
    group_path: tuple[str, ...]
    curve: ShrinkageCurve
    surplus_rate: float
    demand_kg_per_day: float
    delivery_every_days: int
    slow: bool


class _Shortages:
    """The shortage a count should have found and the one it booked (needs book/physical/counted kg)."""

    book_kg: float
    physical_kg: float
    counted_kg: float

    @property
    def true_shortage_kg(self) -> float:
        return round(self.book_kg - self.physical_kg, 6)

    @property
    def booked_shortage_kg(self) -> float:
        return round(self.book_kg - self.counted_kg, 3)


@dataclass(frozen=True)
class CountTruth(_Shortages):
    """What a count found versus what was booked (kg); differs only where a keying error happened."""

    product: str
    doc_number: int
    doc_datetime: datetime
    book_kg: float
    physical_kg: float
    counted_kg: float


@dataclass(frozen=True)
class KeyingError(_Shortages):
    product: str
    kind: str
    doc_number: int
    doc_datetime: datetime
    book_kg: float
    physical_kg: float
    counted_kg: float
    reversed_by_doc_number: int | None
    reversed_at: datetime | None

    @property
    def error_kg(self) -> float:
        """Counted minus true physical weight (positive: counted too much)."""
        return round(self.counted_kg - self.physical_kg, 6)


@dataclass(frozen=True)
class SimulationParams:
    weeks: int
    products: int
    seed: int
    start: date
    errors: int
    surplus: bool
    unknown_documents: bool
    warehouse: str


@dataclass(frozen=True)
class StoreSimulation:
    params: SimulationParams
    products: tuple[ProductTruth, ...]
    opening_batches: dict[str, tuple[BatchLine, ...]]  # book = physical when the simulation starts
    documents: tuple[MovementDocument, ...]  # per product in catalogue order, then in time order
    counts: tuple[CountTruth, ...]
    errors: tuple[KeyingError, ...]

    @cached_property
    def history(self) -> BookHistory:
        opening = {name: sum(b.opening for b in batches) for name, batches in self.opening_batches.items()}
        return BookHistory(opening, self.documents)

    @cached_property
    def statements(self) -> tuple[Statement, ...]:
        """One statement per simulated week, Monday..Sunday (rendered on first use)."""
        start = self.params.start
        return tuple(
            self.statement_for(start + timedelta(days=7 * w), start + timedelta(days=7 * w + 6))
            for w in range(self.params.weeks)
        )

    def statement_for(self, period_start: date, period_end: date) -> Statement:
        """A statement over any period of the simulation (1C exports any period)."""
        catalogue = [CatalogueEntry(p.name, p.group_path) for p in self.products]
        return build_statement(self.params.warehouse, catalogue, self.history, period_start, period_end)

    def ground_truth(self) -> dict:
        """A JSON-ready account of what the statements cannot show: the true curves, r and the errors."""
        p = self.params
        return {
            "seed": p.seed,
            "parameters": {
                "weeks": p.weeks, "products": p.products, "start": p.start.isoformat(),
                "end": (p.start + timedelta(days=7 * p.weeks - 1)).isoformat(), "errors": p.errors,
                "surplus": p.surplus, "unknown_documents": p.unknown_documents, "warehouse": p.warehouse,
            },
            "model": "S(t) = a*(1 - exp(-b*t)) + c*t, t = batch age in days; physical receipt = q*(1 + surplus_rate)",
            "products": [
                {
                    "name": t.name, "product_type": t.product_type, "product_type_code": t.product_type_code,
                    "group_path": list(t.group_path), "a": t.curve.a, "b": t.curve.b, "c": t.curve.c,
                    "surplus_rate": t.surplus_rate, "demand_kg_per_day": t.demand_kg_per_day,
                    "delivery_every_days": t.delivery_every_days, "slow": t.slow,
                }
                for t in self.products
            ],
            "errors": [
                {
                    "product": e.product, "kind": e.kind, "doc_type": COUNT, "doc_number": f"{e.doc_number:015d}",
                    "doc_datetime": e.doc_datetime.isoformat(), "book_kg": e.book_kg, "physical_kg": e.physical_kg,
                    "counted_kg": e.counted_kg, "true_shortage_kg": e.true_shortage_kg,
                    "booked_shortage_kg": e.booked_shortage_kg, "error_kg": e.error_kg,
                    "reversed_by_doc_number": (None if e.reversed_by_doc_number is None
                                               else f"{e.reversed_by_doc_number:015d}"),
                    "reversed_at": None if e.reversed_at is None else e.reversed_at.isoformat(),
                }
                for e in self.errors
            ],
            "error_propagation": ERROR_REVERSAL_NOTE,
            "counts": [
                {
                    "product": c.product, "doc_number": f"{c.doc_number:015d}",
                    "doc_datetime": c.doc_datetime.isoformat(),
                    "book_kg": c.book_kg, "physical_kg": c.physical_kg, "counted_kg": c.counted_kg,
                    "true_shortage_kg": c.true_shortage_kg, "booked_shortage_kg": c.booked_shortage_kg,
                }
                for c in self.counts
            ],
        }


def simulate_store(
    weeks: int = 12,
    products: int = 30,
    seed: int = 0,
    start: date | None = None,
    errors: int | None = None,
    *,
    surplus: bool = True,
    unknown_documents: bool = True,
    warehouse: str = DEFAULT_WAREHOUSE,
) -> StoreSimulation:
    """Simulate ``weeks`` weeks of one store (statements per week render on first use); pure and seeded.

    ``start`` is moved back to its Monday. ``errors`` keying errors are injected at counts
    (default: about one per 120 counts, at least one); ``surplus=False`` sets every r to 0.
    """
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    start = start or DEFAULT_START
    start = start - timedelta(days=start.weekday())
    if errors is None:
        errors = max(1, round(weeks * products / 120))
    params = SimulationParams(weeks, products, seed, start, errors, surplus, unknown_documents, warehouse)

    # Product i draws from its own children seeds, so its truth does not depend on how many products there are.
    store_seed, plan_seed, number_seed, *product_seeds = np.random.SeedSequence(seed).spawn(3 + 2 * products)
    plan_rng = np.random.default_rng(plan_seed)
    items = pick_products(products)
    truths = tuple(
        _draw_truth(item, np.random.default_rng(product_seeds[2 * i]), surplus) for i, item in enumerate(items)
    )
    group_slots = {path: slot for slot, path in enumerate(sorted({t.group_path for t in truths}))}
    schedule = _StoreSchedule(np.random.default_rng(store_seed), start, weeks, len(group_slots))
    idle_weeks = [_draw_idle_weeks(t, weeks, plan_rng) for t in truths]
    error_plan = _plan_errors(truths, idle_weeks, weeks, errors, plan_rng)

    drafts: list[_DraftDocument] = []
    opening: dict[str, tuple[BatchLine, ...]] = {}
    draft_counts: list[_DraftCount] = []
    for index, truth in enumerate(truths):
        rng = np.random.default_rng(product_seeds[2 * index + 1])
        shelf = _Shelf(truth, rng, schedule, index, group_slots[truth.group_path], params)
        opening[truth.name] = shelf.stock_initial(start)
        shelf.run(idle_weeks[index], error_plan.get(index, {}))
        drafts.extend(shelf.documents)
        draft_counts.extend(shelf.counts)

    numbers = _number_documents(drafts, np.random.default_rng(number_seed))
    documents = tuple(
        MovementDocument(d.product, d.doc_type, numbers[d.key], d.moment, d.lines) for d in drafts
    )
    counts = tuple(
        CountTruth(c.product, numbers[c.key], c.moment, c.book / 1000, round(c.physical, 6), c.counted / 1000)
        for c in draft_counts
    )
    keying_errors = _keying_errors(draft_counts, numbers)
    log.info("simulated %d weeks x %d products: %d documents, %d keying errors",
             weeks, products, len(documents), len(keying_errors))
    return StoreSimulation(params, truths, opening, documents, counts, keying_errors)


# ---------------------------------------------------------------------------------------
# Drawing the truth and the plan
# ---------------------------------------------------------------------------------------


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def _draw_truth(item: CatalogueItem, rng: np.random.Generator, surplus: bool) -> ProductTruth:
    profile = TYPE_PROFILES[item.product_type]
    curve = ShrinkageCurve(
        round(_uniform(rng, profile.a), 6), round(_uniform(rng, profile.b), 4), round(_uniform(rng, profile.c), 8)
    )
    has_surplus = rng.random() < profile.surplus_share
    rate = round(_uniform(rng, profile.surplus_rate), 4) if has_surplus and surplus else 0.0
    slow = bool(rng.random() < SLOW_SHARE)
    demand = _uniform(rng, profile.demand_kg_per_day) * (0.15 if slow else 1.0)
    every = int(rng.integers(profile.delivery_every_days[0], profile.delivery_every_days[1] + 1))
    return ProductTruth(
        item.name, item.product_type, PRODUCT_TYPE_CODES[item.product_type], item.group_path, curve, rate,
        round(demand, 3), every * (2 if slow else 1), slow,
    )


def _draw_idle_weeks(truth: ProductTruth, weeks: int, rng: np.random.Generator) -> frozenset[int]:
    """Weeks in which a slow product sees no document at all (and its count is skipped)."""
    if not truth.slow:
        return frozenset()
    return frozenset(int(w) for w in np.flatnonzero(rng.random(weeks) < SLOW_IDLE_WEEK_PROBABILITY))


def _plan_errors(
    truths: tuple[ProductTruth, ...], idle: list[frozenset[int]], weeks: int, errors: int, rng: np.random.Generator
) -> dict[int, dict[int, str]]:
    """Which (product, week) counts get a keying error, of which kind: never in the last week and
    never in two neighbouring weeks of one product, so each reversal is in the data on its own."""
    candidates = [
        (p, w) for p, t in enumerate(truths) if not t.slow for w in range(weeks - 1) if w not in idle[p]
    ]
    plan: dict[int, dict[int, str]] = {}
    placed = 0
    for k in rng.permutation(len(candidates)):
        if placed == errors:
            break
        p, w = candidates[int(k)]
        taken = plan.get(p, {})
        if w - 1 in taken or w + 1 in taken:
            continue
        plan.setdefault(p, {})[w] = ERROR_KINDS[int(rng.integers(len(ERROR_KINDS)))]
        placed += 1
    if placed < errors:
        log.warning("asked for %d keying errors but only %d counts could take one", errors, placed)
    return plan


class _StoreSchedule:
    """Store-wide document times: one sales report per day, one count per week, receipts per group."""

    def __init__(self, rng: np.random.Generator, start: date, weeks: int, groups: int):
        self.start = start
        days = 7 * weeks
        self.sales = [self._at(d, rng.integers(20 * 3600 + 1800, 22 * 3600 + 900)) for d in range(days)]
        self.counts = [
            self.sales[7 * w + 6] + timedelta(seconds=int(rng.integers(15 * 60, 75 * 60))) for w in range(weeks)
        ]
        self._receipt_seconds = rng.integers(7 * 60 + 30, 11 * 60 + 30, size=(days, groups)) * 60

    def _at(self, day: int, seconds: int | np.integer) -> datetime:
        return datetime.combine(self.start + timedelta(days=day), time()) + timedelta(seconds=int(seconds))

    def receipt(self, day: int, group_slot: int) -> datetime:
        """All of a supplier's (group's) deliveries on a day arrive on one document, at one time."""
        return self._at(day, self._receipt_seconds[day, group_slot])

    def daytime(self, day: int, rng: np.random.Generator) -> datetime:
        return self._at(day, rng.integers(12 * 3600, 18 * 3600))


# ---------------------------------------------------------------------------------------
# One product's shelf and books
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DraftDocument:
    key: tuple
    product: str
    doc_type: str
    moment: datetime
    lines: tuple[BatchLine, ...]


@dataclass
class _DraftCount:
    key: tuple
    product: str
    moment: datetime
    book: int  # grams
    physical: float  # kg
    counted: int  # grams
    error_kind: str | None = None
    reversed_by: tuple | None = None
    reversed_at: datetime | None = None


@dataclass
class _Shelf:
    truth: ProductTruth
    rng: np.random.Generator
    schedule: _StoreSchedule
    index: int
    group_slot: int
    params: SimulationParams
    book: dict[datetime, int] = field(default_factory=dict)  # batch arrival -> grams on the books
    fresh_mass: dict[datetime, float] = field(default_factory=dict)  # batch arrival -> M (kg)
    documents: list[_DraftDocument] = field(default_factory=list)
    counts: list[_DraftCount] = field(default_factory=list)

    # --- physics -------------------------------------------------------------------------

    def _age(self, arrival: datetime, moment: datetime) -> float:
        return (moment - arrival).total_seconds() / 86400.0

    def physical_kg(self, moment: datetime) -> float:
        s = self.truth.curve
        return sum(m * (1.0 - s(self._age(a, moment))) for a, m in self.fresh_mass.items())

    def _take_physical(self, moment: datetime, kg: float) -> None:
        """Remove ``kg`` from the shelf, oldest batch first, as the shop assistant does."""
        s = self.truth.curve
        remaining = kg
        for arrival in sorted(self.fresh_mass):
            keep = 1.0 - s(self._age(arrival, moment))
            on_shelf = self.fresh_mass[arrival] * keep
            if on_shelf <= remaining + 1e-12:
                remaining -= on_shelf
                del self.fresh_mass[arrival]
            else:
                self.fresh_mass[arrival] -= remaining / keep
                remaining = 0.0
            if remaining <= 1e-12:
                break

    # --- books ---------------------------------------------------------------------------

    def _record(self, key: tuple, doc_type: str, moment: datetime, before: dict[datetime, int]) -> None:
        lines = []
        for arrival in sorted(set(before) | set(self.book)):
            b, a = before.get(arrival, 0), self.book.get(arrival, 0)
            if b or a:
                lines.append(BatchLine(arrival, b, max(a - b, 0), max(b - a, 0), a))
        self.documents.append(_DraftDocument(key, self.truth.name, doc_type, moment, tuple(lines)))

    def _book_out_fifo(self, grams: int) -> None:
        for arrival in sorted(self.book):
            take = min(self.book[arrival], grams)
            self.book[arrival] -= take
            grams -= take
            if not self.book[arrival]:
                del self.book[arrival]
            if not grams:
                return
        raise AssertionError("book outflow exceeds the book balance")  # guarded by the callers

    def book_total(self) -> int:
        return sum(self.book.values())

    # --- events --------------------------------------------------------------------------

    def stock_initial(self, start: date) -> tuple[BatchLine, ...]:
        """Batches on hand when the simulation starts (just after a count: books = shelf)."""
        profile = TYPE_PROFILES[self.truth.product_type]
        moment = datetime.combine(start, time())
        n = int(self.rng.integers(1, 4))
        ages = sorted(self.rng.uniform(*profile.initial_age_days, size=n), reverse=True)
        slowness = 2 if self.truth.slow else 1
        days_of_stock = (self.truth.delivery_every_days + 2) * self.rng.uniform(0.6, 1.2) * slowness
        total_kg = max(self.truth.demand_kg_per_day * days_of_stock, 1.0)
        shares = self.rng.dirichlet(np.ones(n))
        for age, share in zip(ages, shares):
            # Deliveries come in the morning: the arrival day is ``age`` days back, at 7:30..11:30.
            arrival = datetime.combine(start - timedelta(days=math.ceil(age)), time()) + timedelta(
                minutes=int(self.rng.integers(7 * 60 + 30, 11 * 60 + 30)))
            grams = max(int(round(total_kg * share * 1000)), 50)
            self.book[arrival] = self.book.get(arrival, 0) + grams
            self.fresh_mass[arrival] = self.book[arrival] / 1000 / (1.0 - self.truth.curve(self._age(arrival, moment)))
        return tuple(BatchLine(a, g, 0, 0, g) for a, g in sorted(self.book.items()))

    def run(self, idle_weeks: frozenset[int], errors: dict[int, str]) -> None:
        next_delivery = int(self.rng.integers(0, self.truth.delivery_every_days))
        pending_error: str | None = None
        for week in range(self.params.weeks):
            if week in idle_weeks:
                continue
            for weekday in range(7):
                day = 7 * week + weekday
                next_delivery = self._maybe_receive(day, next_delivery)
                self._occasional_outflows(day)
                self._sell(day, weekday)
            pending_error = errors.get(week) or pending_error
            pending_error = self._count(week, pending_error)

    def _maybe_receive(self, day: int, next_delivery: int) -> int:
        t = self.truth
        if day < next_delivery or self.book_total() > t.demand_kg_per_day * (t.delivery_every_days + 1) * 1000:
            return next_delivery
        kg = t.demand_kg_per_day * (t.delivery_every_days + 2) * self.rng.uniform(0.8, 1.3)
        grams = max(int(round(kg * 1000)), 300)
        moment = self.schedule.receipt(day, self.group_slot)
        before = dict(self.book)
        self.book[moment] = grams
        self.fresh_mass[moment] = grams / 1000 * (1.0 + t.surplus_rate)
        self._record((RECEIPT, moment, self.group_slot), RECEIPT, moment, before)
        return day + t.delivery_every_days

    def _removable_grams(self, moment: datetime, wanted_kg: float) -> int:
        """Grams that can leave: what is asked, at most what is on the shelf and on the books."""
        return max(0, min(int(wanted_kg * 1000), int(self.physical_kg(moment) * 1000), self.book_total()))

    def _outflow(self, doc_type: str, moment: datetime, key: tuple, grams: int) -> None:
        before = dict(self.book)
        self._book_out_fifo(grams)
        self._take_physical(moment, grams / 1000)
        self._record(key, doc_type, moment, before)

    def _occasional_outflows(self, day: int) -> None:
        profile = TYPE_PROFILES[self.truth.product_type]
        kinds = [(WRITE_OFF, profile.write_off_per_day, _WRITE_OFF_SHARE), *_OCCASIONAL_OUTFLOWS]
        if self.params.unknown_documents:
            kinds.append(_UNKNOWN_OUTFLOW)
        for doc_type, probability, share in kinds:
            if self.rng.random() >= probability:
                continue
            moment = self.schedule.daytime(day, self.rng)
            grams = self._removable_grams(moment, self.physical_kg(moment) * _uniform(self.rng, share))
            if grams >= 10:
                self._outflow(doc_type, moment, (doc_type, moment, self.index), grams)

    def _sell(self, day: int, weekday: int) -> None:
        moment = self.schedule.sales[day]
        weekend_lift = 1.3 if weekday >= 4 else 1.0
        wanted = self.truth.demand_kg_per_day * weekend_lift * float(self.rng.lognormal(0.0, 0.35))
        grams = self._removable_grams(moment, wanted)
        if grams > 0:
            self._outflow(SALE, moment, (SALE, moment), grams)

    def _count(self, week: int, error_kind: str | None) -> str | None:
        """Book the count; returns the error kind still waiting if it could not be applied here.

        A product whose count matches the books to the gram gets no line on the count document.
        """
        moment = self.schedule.counts[week]
        physical = self.physical_kg(moment)
        book = self.book_total()
        counted = int(round(physical * 1000))
        applied = None
        if error_kind is not None and physical >= 1.0:
            miskeyed = _miskey(counted, error_kind, self.rng)
            if miskeyed != book:
                counted, applied, error_kind = miskeyed, error_kind, None
        if counted == book:
            return error_kind
        key = (COUNT, moment)
        previous_error = next((c for c in reversed(self.counts) if c.error_kind and c.reversed_by is None), None)
        if previous_error is not None:
            previous_error.reversed_by, previous_error.reversed_at = key, moment
        self.counts.append(_DraftCount(key, self.truth.name, moment, book, physical, counted, applied))
        before = dict(self.book)
        if counted < book:
            self._book_out_fifo(book - counted)
        else:
            newest = max(self.book) if self.book else max(self.fresh_mass)
            self.book[newest] = self.book.get(newest, 0) + counted - book
        self._record(key, COUNT, moment, before)
        return error_kind


def _miskey(grams: int, kind: str, rng: np.random.Generator) -> int:
    """A plausible wrong count: two adjacent digits swapped, whole kilograms added, a box missed."""
    if kind == "digits_swapped":
        digits = f"{grams:04d}"
        swaps = []
        for i in range(len(digits) - 1):
            swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]
            if abs(int(swapped) - grams) >= 100:
                swaps.append(int(swapped))
        if swaps:
            return swaps[int(rng.integers(len(swaps)))]
        kind = "extra_kg"
    if kind == "extra_kg":
        return grams + 1000 * int(rng.integers(1, 4))
    box = int(rng.uniform(2.0, 5.0) * 1000)
    return grams - min(box, int(grams * 0.6))


def _number_documents(drafts: list[_DraftDocument], rng: np.random.Generator) -> dict[tuple, int]:
    """1C numbers each document type in its own sequence, in time order; shared documents share a number."""
    keys = sorted({d.key for d in drafts}, key=lambda k: (k[1], k[0], k[2:]))
    next_number: dict[str, int] = {}
    numbers: dict[tuple, int] = {}
    for key in keys:
        doc_type = key[0]
        if doc_type not in next_number:
            next_number[doc_type] = int(rng.integers(1, 500))
        numbers[key] = next_number[doc_type]
        next_number[doc_type] += 1
    return numbers


def _keying_errors(counts: list[_DraftCount], numbers: dict[tuple, int]) -> tuple[KeyingError, ...]:
    return tuple(
        KeyingError(
            c.product, c.error_kind, numbers[c.key], c.moment, c.book / 1000, round(c.physical, 6), c.counted / 1000,
            numbers[c.reversed_by] if c.reversed_by else None, c.reversed_at,
        )
        for c in counts
        if c.error_kind
    )

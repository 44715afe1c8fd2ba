"""A fish store simulated with known truth: physical goods shrink, books follow 1C's rules.

Physics and bookkeeping follow docs/DOMAIN.md "From reports to shrinkage observations":
- every batch on the shelf shrinks continuously, m(t2) = m(t1)·(1 − S(age2)) / (1 − S(age1)),
  held exactly by storing each batch's *fresh-equivalent* mass M with m = M·(1 − S(age));
- a receipt of documented q puts q·(1 + r) on the shelf;
- weighed sales and other outflows take physical kilograms FIFO from the shelf while the
  books assign the same kilograms FIFO by *book* balance (:mod:`shrinkage.demo.books`);
- a count books book − counted (shortage FIFO from the oldest batch, surplus on the
  newest), after which the books equal what was counted.
Books are integer grams, so the rendered statements balance exactly.

The default store counts every product weekly and counts exactly. The realistic chain
(:mod:`shrinkage.demo.chain`) runs the same shelf with a :class:`ProductPlan` that adds what
real exports show: counts every 7/14/28 days or irregularly, count noise (scale error per
weighed item plus a part proportional to the shortage), receipts posted the morning after
the goods arrived (the sale before them drives the books negative on a no-batch line),
forced events (a glazed delivery the day before a count, a receipt and a count in the
same second) and write-offs posted in the same second as the sales report.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property

import numpy as np

from shrinkage.demo.books import Books, Posting, batch_lines
from shrinkage.demo.catalogue import PHYSICS_PROFILES, PRODUCT_TYPE_CODES, CatalogueItem, TypeProfile, pick_products
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

# --- realistic plans only (assumptions of the simulator, DOMAIN.md "What real exports contain") ---
COUNT_WEIGHING_SD_G = 3.0  # scale error per weighed item, grams, either sign
COUNT_PROPORTIONAL_SD = 0.10  # error proportional to the shortage accumulated since the last count
# Weight of one weighed item (a fish, a block, a tray, a scoop of snacks) per product type, kg.
ITEM_KG = {
    "dried": 0.25, "cold_smoked": 0.5, "hot_smoked": 0.5, "smoked": 0.5, "salted": 0.5, "frozen": 1.0,
    "chilled": 1.0, "caviar": 0.5, "seafood": 1.0, "preserves": 0.5, "other": 0.5,
}
LATE_RECEIPT_SHARE = 0.25  # of low-stock deliveries: posted the next morning, after that day's sale
LATE_RECEIPT_STOCK_DAYS = 1.5  # "low stock": at most this many days of sales on the books
NO_BATCH_GRAMS = (10, 150)  # what such a sale takes beyond the books (the no-batch line's balance)
SAME_TIME_OUTFLOW_SHARE = 0.3  # write-offs etc. posted in the same second as the day's sales report


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
    physics: str | None = None  # PHYSICS_PROFILES key when it is not product_type (snacks, glazed...)

    @property
    def profile(self) -> TypeProfile:
        return PHYSICS_PROFILES[self.physics or self.product_type]


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
    """What a count found versus what was booked (kg). ``physical_kg`` is the stock the count
    covered (goods whose receipt is not posted yet are not counted); ``counted_kg`` differs from
    it by the count noise and, where one happened, a keying error."""

    product: str
    doc_number: int
    doc_datetime: datetime
    book_kg: float
    physical_kg: float
    counted_kg: float
    weighing_noise_kg: float = 0.0
    proportional_noise_kg: float = 0.0


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
    noise_kg: float = 0.0  # what an honest count would have been off by (realistic plans)

    @property
    def error_kg(self) -> float:
        """Counted minus what an honest count would have found (positive: counted too much)."""
        return round(self.counted_kg - self.physical_kg - self.noise_kg, 6)


@dataclass(frozen=True)
class LateReceipt:
    """Goods that arrived (and sold) before their receipt was posted, the next morning."""

    product: str
    doc_number: int
    physical_arrival: datetime
    posted_at: datetime
    grams: int


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
    store_index: int | None = None  # position in a chain: keys the store's documents apart
    mixed_order: bool = False  # statements sort groups and products of a level together


@dataclass(frozen=True)
class ProductPlan:
    """What happens to one product in one store beyond its daily routine.

    The default store: every week not idle is counted (exactly); nothing else. Realistic
    plans list the count weeks, force events on given days and turn on count noise, late
    receipts and same-second write-offs.
    """

    idle_weeks: frozenset[int] = frozenset()
    errors: dict[int, str] = field(default_factory=dict)  # count week -> kind of keying error
    count_weeks: frozenset[int] | None = None  # None: every week that is not idle
    count_interval_days: int | None = None  # 7, 14, 28; None: irregular (or the default store)
    forced_receipts: dict[int, float] = field(default_factory=dict)  # day -> kg (0: the usual size)
    late_days: frozenset[int] = frozenset()  # days whose delivery is posted the next morning
    realistic: bool = False


@dataclass(frozen=True)
class StoreSimulation:
    params: SimulationParams
    products: tuple[ProductTruth, ...]
    opening_batches: dict[str, tuple[BatchLine, ...]]  # book = physical when the simulation starts
    documents: tuple[MovementDocument, ...]  # per product in catalogue order, then in posting order
    counts: tuple[CountTruth, ...]
    errors: tuple[KeyingError, ...]
    postings: tuple[Posting, ...] = ()  # what each document did to the books (aligned with documents)
    plans: tuple[ProductPlan, ...] = ()  # aligned with products
    late_receipts: tuple[LateReceipt, ...] = ()

    @cached_property
    def history(self) -> BookHistory:
        opening = {name: sum(b.opening for b in batches) for name, batches in self.opening_batches.items()}
        return BookHistory(opening, self.documents)

    @property
    def week_periods(self) -> tuple[tuple[date, date], ...]:
        start = self.params.start
        return tuple((start + timedelta(days=7 * w), start + timedelta(days=7 * w + 6))
                     for w in range(self.params.weeks))

    @cached_property
    def statements(self) -> tuple[Statement, ...]:
        """One statement per simulated week, Monday..Sunday (rendered on first use)."""
        return tuple(self.statement_for(first, last) for first, last in self.week_periods)

    def statement_for(self, period_start: date, period_end: date, history: BookHistory | None = None) -> Statement:
        """A statement over any period of the simulation (1C exports any period)."""
        catalogue = [CatalogueEntry(p.name, p.group_path) for p in self.products]
        return build_statement(self.params.warehouse, catalogue, history or self.history, period_start, period_end,
                               mixed_order=self.params.mixed_order)

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
            "errors": [error_json(e) for e in self.errors],
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


def error_json(e: KeyingError) -> dict:
    return {
        "product": e.product, "kind": e.kind, "doc_type": COUNT, "doc_number": f"{e.doc_number:015d}",
        "doc_datetime": e.doc_datetime.isoformat(), "book_kg": e.book_kg, "physical_kg": e.physical_kg,
        "counted_kg": e.counted_kg, "true_shortage_kg": e.true_shortage_kg,
        "booked_shortage_kg": e.booked_shortage_kg, "error_kg": e.error_kg,
        "reversed_by_doc_number": None if e.reversed_by_doc_number is None else f"{e.reversed_by_doc_number:015d}",
        "reversed_at": None if e.reversed_at is None else e.reversed_at.isoformat(),
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
    start = monday_of(start or DEFAULT_START)
    check_size(weeks, products)
    if errors is None:
        errors = max(1, round(weeks * products / 120))
    params = SimulationParams(weeks, products, seed, start, errors, surplus, unknown_documents, warehouse)

    # Product i draws from its own children seeds, so its truth does not depend on how many products there are.
    store_seed, plan_seed, number_seed, *product_seeds = np.random.SeedSequence(seed).spawn(3 + 2 * products)
    plan_rng = np.random.default_rng(plan_seed)
    items = pick_products(products)
    truths = tuple(
        draw_truth(item, np.random.default_rng(product_seeds[2 * i]), surplus) for i, item in enumerate(items)
    )
    group_slots = group_slots_of(truths)
    schedule = StoreSchedule(np.random.default_rng(store_seed), start, weeks, len(group_slots))
    idle_weeks = [draw_idle_weeks(t, weeks, plan_rng) for t in truths]
    count_weeks = [[w for w in range(weeks) if w not in idle] for idle in idle_weeks]
    error_plan = plan_errors(truths, count_weeks, errors, plan_rng)
    plans = tuple(ProductPlan(idle_weeks[i], error_plan.get(i, {})) for i in range(products))
    rngs = [(np.random.default_rng(product_seeds[2 * i + 1]), None) for i in range(products)]
    run = run_store(params, truths, schedule, group_slots, plans, rngs)
    return run.assemble(number_documents(run.drafts, np.random.default_rng(number_seed)))


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def check_size(weeks: int, products: int) -> None:
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    if products < 1:
        raise ValueError(f"products must be at least 1, got {products}")


def group_slots_of(truths: tuple[ProductTruth, ...]) -> dict[tuple[str, ...], int]:
    """Each group is one supplier: its deliveries of a day share one receipt document and time."""
    return {path: slot for slot, path in enumerate(sorted({t.group_path for t in truths}))}


# ---------------------------------------------------------------------------------------
# Drawing the truth and the plan
# ---------------------------------------------------------------------------------------


def uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def draw_truth(item: CatalogueItem, rng: np.random.Generator, surplus: bool) -> ProductTruth:
    profile = item.profile
    curve = ShrinkageCurve(
        round(uniform(rng, profile.a), 6), round(uniform(rng, profile.b), 4), round(uniform(rng, profile.c), 8)
    )
    has_surplus = rng.random() < profile.surplus_share
    rate = round(uniform(rng, profile.surplus_rate), 4) if has_surplus and surplus else 0.0
    slow = bool(rng.random() < SLOW_SHARE) or "slow_seller" in item.traits
    demand = uniform(rng, profile.demand_kg_per_day) * (0.15 if slow else 1.0)
    every = int(rng.integers(profile.delivery_every_days[0], profile.delivery_every_days[1] + 1))
    return ProductTruth(
        item.name, item.product_type, PRODUCT_TYPE_CODES[item.product_type], item.group_path, curve, rate,
        round(demand, 3), every * (2 if slow else 1), slow, item.physics,
    )


def draw_idle_weeks(truth: ProductTruth, weeks: int, rng: np.random.Generator) -> frozenset[int]:
    """Weeks in which a slow product sees no document at all (and its count is skipped)."""
    if not truth.slow:
        return frozenset()
    return frozenset(int(w) for w in np.flatnonzero(rng.random(weeks) < SLOW_IDLE_WEEK_PROBABILITY))


def plan_errors(
    truths: tuple[ProductTruth, ...], count_weeks: list[list[int]], errors: int, rng: np.random.Generator,
    excluded: set[tuple[int, int]] | None = None,
) -> dict[int, dict[int, str]]:
    """Which (product, count week) counts get a keying error, of which kind: never at a product's
    last count and never at two neighbouring counts of one product, so each reversal is in the
    data on its own. ``count_weeks[p]`` lists the weeks product p is counted, ascending."""
    excluded = excluded or set()
    candidates = [
        (p, k) for p, t in enumerate(truths) if not t.slow for k in range(len(count_weeks[p]) - 1)
        if (p, count_weeks[p][k]) not in excluded
    ]
    plan: dict[int, dict[int, str]] = {}
    taken_positions: dict[int, set[int]] = {}
    placed = 0
    for i in rng.permutation(len(candidates)):
        if placed == errors:
            break
        p, k = candidates[int(i)]
        taken = taken_positions.setdefault(p, set())
        if k - 1 in taken or k + 1 in taken:
            continue
        taken.add(k)
        plan.setdefault(p, {})[count_weeks[p][k]] = ERROR_KINDS[int(rng.integers(len(ERROR_KINDS)))]
        placed += 1
    if placed < errors:
        log.warning("asked for %d keying errors but only %d counts could take one", errors, placed)
    return plan


class StoreSchedule:
    """Store-wide document times: one sales report per day, one count per week, receipts per group.

    A week's count is held on the Sunday night after the sales report; ``count_in_the_morning``
    moves one to the next Monday morning, in the same second as a supplier's receipt.
    """

    def __init__(self, rng: np.random.Generator, start: date, weeks: int, groups: int):
        self.start = start
        self.days = 7 * weeks
        self.sales = [self._at(d, rng.integers(20 * 3600 + 1800, 22 * 3600 + 900)) for d in range(self.days)]
        self.counts = [
            self.sales[7 * w + 6] + timedelta(seconds=int(rng.integers(15 * 60, 75 * 60))) for w in range(weeks)
        ]
        self._receipt_seconds = rng.integers(7 * 60 + 30, 11 * 60 + 30, size=(self.days, groups)) * 60
        self.count_day = [7 * w + 6 for w in range(weeks)]
        self.count_phase = ["night"] * weeks  # or "before_receipts" / "after_receipts" (a morning count)

    def _at(self, day: int, seconds: int | np.integer) -> datetime:
        return datetime.combine(self.start + timedelta(days=day), time()) + timedelta(seconds=int(seconds))

    def receipt(self, day: int, group_slot: int) -> datetime:
        """All of a supplier's (group's) deliveries on a day arrive on one document, at one time."""
        return self._at(day, self._receipt_seconds[day, group_slot])

    def daytime(self, day: int, rng: np.random.Generator) -> datetime:
        return self._at(day, rng.integers(12 * 3600, 18 * 3600))

    def count_in_the_morning(self, week: int, group_slot: int, receipt_first: bool) -> int:
        """Hold week ``week``'s count next Monday at group ``group_slot``'s receipt time; returns that day."""
        day = 7 * week + 7
        self.count_day[week] = day
        self.counts[week] = self.receipt(day, group_slot)
        self.count_phase[week] = "after_receipts" if receipt_first else "before_receipts"
        return day


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
    posting: Posting


@dataclass
class _DraftCount:
    key: tuple
    product: str
    moment: datetime
    book: int  # grams
    physical: float  # kg, the stock the count covered
    counted: int  # grams
    error_kind: str | None = None
    reversed_by: tuple | None = None
    reversed_at: datetime | None = None
    weighing: float = 0.0  # kg of count noise (realistic plans)
    proportional: float = 0.0
    honest: int | None = None  # grams an honest count would have booked (realistic plans)


@dataclass
class _Pending:
    """Goods on the shelf whose receipt will be posted on ``post_day`` at ``label``."""

    post_day: int
    label: datetime
    grams: int


@dataclass
class _Shelf:
    truth: ProductTruth
    rng: np.random.Generator
    schedule: StoreSchedule
    index: int
    group_slot: int
    params: SimulationParams
    plan: ProductPlan
    extra: np.random.Generator | None = None  # draws of the realistic plan (kept off ``rng``)
    books: Books = field(default_factory=Books)
    # Physical batches by the moment they reached the shelf -> fresh-equivalent mass M (kg).
    fresh_mass: dict[datetime, float] = field(default_factory=dict)
    label_of: dict[datetime, datetime] = field(default_factory=dict)  # physical arrival -> book label, if they differ
    pending: dict[datetime, _Pending] = field(default_factory=dict)  # physical arrival -> receipt not yet posted
    documents: list[_DraftDocument] = field(default_factory=list)
    counts: list[_DraftCount] = field(default_factory=list)
    late: list[tuple[tuple, datetime, datetime, int]] = field(default_factory=list)  # key, arrival, posted, grams
    late_sale_day: int | None = None
    outstanding_error: int = 0  # grams a keyed-wrong count left on the books (until the next count)

    @property
    def key_suffix(self) -> tuple:
        return () if self.params.store_index is None else (self.params.store_index,)

    # --- physics -------------------------------------------------------------------------

    def _age(self, arrival: datetime, moment: datetime) -> float:
        return (moment - arrival).total_seconds() / 86400.0

    def physical_kg(self, moment: datetime, counted_only: bool = False) -> float:
        """Kilograms on the shelf; ``counted_only`` leaves out goods whose receipt is not posted."""
        s = self.truth.curve
        return sum(m * (1.0 - s(self._age(a, moment))) for a, m in self.fresh_mass.items()
                   if not (counted_only and a in self.pending))

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

    def _newest_counted_label(self) -> datetime | None:
        """Book label of the newest batch on the shelf that a count covers (where a surplus goes
        when no batch is left on the books)."""
        counted = [a for a in self.fresh_mass if a not in self.pending]
        return self.label_of.get(max(counted), max(counted)) if counted else None

    # --- books ---------------------------------------------------------------------------

    def _post(self, key: tuple, doc_type: str, moment: datetime, posting: Posting) -> None:
        before = self.books.snapshot()
        self.books.post(posting)
        lines = batch_lines(before, self.books.grams)
        self.documents.append(_DraftDocument(key + self.key_suffix, self.truth.name, doc_type, moment, lines, posting))

    # --- events --------------------------------------------------------------------------

    def stock_initial(self, start: date) -> tuple[BatchLine, ...]:
        """Batches on hand when the simulation starts (just after a count: books = shelf)."""
        profile = self.truth.profile
        moment = datetime.combine(start, time())
        n = int(self.rng.integers(1, 4))
        ages = sorted(self.rng.uniform(*profile.initial_age_days, size=n), reverse=True)
        slowness = 2 if self.truth.slow else 1
        days_of_stock = (self.truth.delivery_every_days + 2) * self.rng.uniform(0.6, 1.2) * slowness
        total_kg = max(self.truth.demand_kg_per_day * days_of_stock, 1.0)
        shares = self.rng.dirichlet(np.ones(n))
        opening: dict[datetime, int] = {}
        for age, share in zip(ages, shares):
            # Deliveries come in the morning: the arrival day is ``age`` days back, at 7:30..11:30.
            arrival = datetime.combine(start - timedelta(days=math.ceil(age)), time()) + timedelta(
                minutes=int(self.rng.integers(7 * 60 + 30, 11 * 60 + 30)))
            grams = max(int(round(total_kg * share * 1000)), 50)
            opening[arrival] = opening.get(arrival, 0) + grams
            self.fresh_mass[arrival] = opening[arrival] / 1000 / (1.0 - self.truth.curve(self._age(arrival, moment)))
        self.books = Books(opening)
        return tuple(BatchLine(a, g, 0, 0, g) for a, g in sorted(opening.items()))

    def run(self) -> None:
        plan, schedule = self.plan, self.schedule
        counts_on: dict[int, list[int]] = {}
        for week, day in enumerate(schedule.count_day):
            counted = plan.count_weeks is None or week in plan.count_weeks
            if counted and week not in plan.idle_weeks and day // 7 not in plan.idle_weeks:
                counts_on.setdefault(day, []).append(week)
        next_delivery = int(self.rng.integers(0, self.truth.delivery_every_days))
        pending_error: str | None = None
        for day in range(schedule.days):
            if day // 7 in plan.idle_weeks:
                continue
            todays = counts_on.get(day, ())
            morning = [week for week in todays if schedule.count_phase[week] != "night"]
            for week in morning:
                if self._counts_before_receipt(day, week):
                    pending_error = self._count(week, plan.errors.get(week) or pending_error)
            self._post_pending(day)
            next_delivery = self._maybe_receive(day, next_delivery)
            for week in morning:
                if not self._counts_before_receipt(day, week):
                    pending_error = self._count(week, plan.errors.get(week) or pending_error)
            self._occasional_outflows(day)
            self._sell(day, day % 7)
            for week in todays:
                if schedule.count_phase[week] == "night":
                    pending_error = self._count(week, plan.errors.get(week) or pending_error)

    def _counts_before_receipt(self, day: int, week: int) -> bool:
        """A morning count precedes this product's receipt of the day if it is earlier, or, in
        the same second, if the store posted the count first."""
        receipt, count = self.schedule.receipt(day, self.group_slot), self.schedule.counts[week]
        return receipt > count or (receipt == count and self.schedule.count_phase[week] == "before_receipts")

    def _maybe_receive(self, day: int, next_delivery: int) -> int:
        t, plan = self.truth, self.plan
        forced = day in plan.forced_receipts or day in plan.late_days
        if not forced and (day < next_delivery
                           or self.books.total() > t.demand_kg_per_day * (t.delivery_every_days + 1) * 1000):
            return next_delivery
        usual_kg = t.demand_kg_per_day * (t.delivery_every_days + 2) * self.rng.uniform(0.8, 1.3)
        kg = plan.forced_receipts.get(day) or usual_kg
        grams = max(int(round(kg * 1000)), 300)
        moment = self.schedule.receipt(day, self.group_slot)
        self.fresh_mass[moment] = grams / 1000 * (1.0 + t.surplus_rate)
        if day in plan.late_days or self._late_by_chance(day):
            # On the shelf (and on sale) today; the receipt is posted tomorrow with the supplier's paperwork.
            self.pending[moment] = _Pending(day + 1, self.schedule.receipt(day + 1, self.group_slot), grams)
            self.late_sale_day = day
        else:
            self._post((RECEIPT, moment, self.group_slot), RECEIPT, moment, Posting("receive", grams, moment))
        return day + t.delivery_every_days

    def _late_by_chance(self, day: int) -> bool:
        plan = self.plan
        if not plan.realistic or self.truth.slow or day + 1 >= self.schedule.days:
            return False
        tomorrow = day + 1
        if tomorrow in plan.forced_receipts or tomorrow in plan.late_days or self._morning_count_on(tomorrow):
            return False
        if day in plan.forced_receipts:
            return False
        if self.books.total() > self.truth.demand_kg_per_day * LATE_RECEIPT_STOCK_DAYS * 1000:
            return False
        return bool(self.extra.random() < LATE_RECEIPT_SHARE)

    def _morning_count_on(self, day: int) -> bool:
        """A count posted before that day's sales report (a posting made then would have to be
        placed before or after it in time; late receipts keep clear of it)."""
        schedule = self.schedule
        return any(d == day and schedule.count_phase[w] != "night" for w, d in enumerate(schedule.count_day))

    def _post_pending(self, day: int) -> None:
        for arrival, pending in list(self.pending.items()):
            if pending.post_day != day:
                continue
            del self.pending[arrival]
            self.label_of[arrival] = pending.label
            # Its own document (a negative third element keeps it apart from the group's receipt).
            key = (RECEIPT, pending.label, -1 - self.index)
            self._post(key, RECEIPT, pending.label, Posting("receive", pending.grams, pending.label))
            self.late.append((key + self.key_suffix, arrival, pending.label, pending.grams))

    def _removable_grams(self, moment: datetime, wanted_kg: float) -> int:
        """Grams that can leave: what is asked, at most what is on the shelf and on the books."""
        return max(0, min(int(wanted_kg * 1000), int(self.physical_kg(moment) * 1000), self.books.total()))

    def _outflow(self, doc_type: str, moment: datetime, key: tuple, grams: int, allow_negative: bool = False) -> None:
        self._post(key, doc_type, moment, Posting("take", grams, allow_negative=allow_negative))
        self._take_physical(moment, grams / 1000)

    def _occasional_outflows(self, day: int) -> None:
        profile = self.truth.profile
        kinds = [(WRITE_OFF, profile.write_off_per_day, _WRITE_OFF_SHARE), *_OCCASIONAL_OUTFLOWS]
        if self.params.unknown_documents:
            kinds.append(_UNKNOWN_OUTFLOW)
        for doc_type, probability, share in kinds:
            if self.rng.random() >= probability:
                continue
            moment = self.schedule.daytime(day, self.rng)
            if self.plan.realistic and self.extra.random() < SAME_TIME_OUTFLOW_SHARE:
                moment = self.schedule.sales[day]  # posted in the same second as the sales report, before it
            grams = self._removable_grams(moment, self.physical_kg(moment) * uniform(self.rng, share))
            if grams >= 10:
                self._outflow(doc_type, moment, (doc_type, moment, self.index), grams)

    def _sell(self, day: int, weekday: int) -> None:
        moment = self.schedule.sales[day]
        weekend_lift = 1.3 if weekday >= 4 else 1.0
        wanted = self.truth.demand_kg_per_day * weekend_lift * float(self.rng.lognormal(0.0, 0.35))
        if self.late_sale_day == day:
            # The old stock sold out and the first grams of today's delivery went too; its receipt
            # is not posted yet, so the books assign those grams to no batch.
            beyond = int(self.extra.integers(NO_BATCH_GRAMS[0], NO_BATCH_GRAMS[1] + 1))
            grams = min(max(self.books.total(), 0) + beyond, int(self.physical_kg(moment) * 1000))
            self._outflow(SALE, moment, (SALE, moment), grams, allow_negative=True)
            return
        grams = self._removable_grams(moment, wanted)
        if grams > 0:
            self._outflow(SALE, moment, (SALE, moment), grams)

    def _count_noise(self, physical: float, natural_shortage: float) -> tuple[float, float]:
        """(weighing, proportional) error of a count, kg: a few grams per weighed item, either
        sign, plus a share of the shortage since the last count (more stock, longer interval)."""
        items = math.ceil(physical / ITEM_KG[self.truth.product_type]) if physical > 0 else 0
        weighing = float(self.extra.normal(0.0, COUNT_WEIGHING_SD_G * math.sqrt(items))) / 1000 if items else 0.0
        proportional = float(self.extra.normal(0.0, COUNT_PROPORTIONAL_SD * abs(natural_shortage)))
        return weighing, proportional

    def _count(self, week: int, error_kind: str | None) -> str | None:
        """Book the count; returns the error kind still waiting if it could not be applied here.

        A product whose count matches the books to the gram gets no line on the count document.
        """
        moment = self.schedule.counts[week]
        physical = self.physical_kg(moment, counted_only=True)
        book = self.books.total()
        counted = int(round(physical * 1000))
        weighing = proportional = 0.0
        if self.plan.realistic and physical > 0:  # nothing on the shelf is counted as exactly nothing
            natural = book / 1000 - physical - self.outstanding_error / 1000
            weighing, proportional = self._count_noise(physical, natural)
            counted = max(0, int(round((physical + weighing + proportional) * 1000)))
        honest = counted
        applied = None
        if error_kind is not None and physical >= 1.0:
            miskeyed = _miskey(counted, error_kind, self.rng)
            if miskeyed != book:
                counted, applied, error_kind = miskeyed, error_kind, None
        if counted == book:
            return error_kind
        self.outstanding_error = counted - honest
        key = (COUNT, moment)
        previous_error = next((c for c in reversed(self.counts) if c.error_kind and c.reversed_by is None), None)
        if previous_error is not None:
            previous_error.reversed_by, previous_error.reversed_at = key + self.key_suffix, moment
        self.counts.append(_DraftCount(key + self.key_suffix, self.truth.name, moment, book, physical, counted, applied,
                                       weighing=weighing, proportional=proportional,
                                       honest=honest if self.plan.realistic else None))
        if counted < book:
            posting = Posting("take", book - counted)
        else:
            posting = Posting("surplus", counted - book, self._newest_counted_label())
        self._post(key, COUNT, moment, posting)
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


# ---------------------------------------------------------------------------------------
# A whole store
# ---------------------------------------------------------------------------------------


@dataclass
class StoreRun:
    """Every shelf of a store simulated; documents still need their numbers."""

    params: SimulationParams
    truths: tuple[ProductTruth, ...]
    plans: tuple[ProductPlan, ...]
    opening: dict[str, tuple[BatchLine, ...]]
    drafts: list[_DraftDocument]
    draft_counts: list[_DraftCount]
    late: list[tuple[str, tuple, datetime, datetime, int]]

    def assemble(self, numbers: dict[tuple, int]) -> StoreSimulation:
        documents = tuple(
            MovementDocument(d.product, d.doc_type, numbers[d.key], d.moment, d.lines) for d in self.drafts
        )
        counts = tuple(
            CountTruth(c.product, numbers[c.key], c.moment, c.book / 1000, round(c.physical, 6), c.counted / 1000,
                       round(c.weighing, 6), round(c.proportional, 6))
            for c in self.draft_counts
        )
        late = tuple(LateReceipt(product, numbers[key], arrival, posted, grams)
                     for product, key, arrival, posted, grams in self.late)
        errors = _keying_errors(self.draft_counts, numbers)
        log.info("simulated %d weeks x %d products of %s: %d documents, %d keying errors",
                 self.params.weeks, self.params.products, self.params.warehouse, len(documents), len(errors))
        return StoreSimulation(self.params, self.truths, self.opening, documents, counts, errors,
                               tuple(d.posting for d in self.drafts), self.plans, late)


def run_store(
    params: SimulationParams,
    truths: tuple[ProductTruth, ...],
    schedule: StoreSchedule,
    group_slots: dict[tuple[str, ...], int],
    plans: tuple[ProductPlan, ...],
    rngs: list[tuple[np.random.Generator, np.random.Generator | None]],
) -> StoreRun:
    """Run every product's shelf over the schedule; ``rngs[i]`` = (routine draws, realistic draws)."""
    drafts: list[_DraftDocument] = []
    opening: dict[str, tuple[BatchLine, ...]] = {}
    draft_counts: list[_DraftCount] = []
    late: list[tuple[str, tuple, datetime, datetime, int]] = []
    for index, truth in enumerate(truths):
        rng, extra = rngs[index]
        shelf = _Shelf(truth, rng, schedule, index, group_slots[truth.group_path], params, plans[index], extra)
        opening[truth.name] = shelf.stock_initial(params.start)
        shelf.run()
        drafts.extend(shelf.documents)
        draft_counts.extend(shelf.counts)
        late.extend((truth.name, *entry) for entry in shelf.late)
    return StoreRun(params, truths, plans, opening, drafts, draft_counts, late)


def number_documents(drafts: list[_DraftDocument], rng: np.random.Generator) -> dict[tuple, int]:
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
            0.0 if c.honest is None else round(c.honest / 1000 - c.physical, 6),
        )
        for c in counts
        if c.error_kind
    )

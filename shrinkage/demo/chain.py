"""A chain of stores that looks like real 1C exports (DOMAIN.md "What real exports contain").

Each store of the chain is a :class:`~shrinkage.demo.simulation.StoreSimulation` of the same
assortment (:data:`~shrinkage.demo.catalogue.REALISTIC_CATALOGUE`: real abbreviations, half of
it snacks) with its own physics: a product's true curve differs per store, as do its demand,
its count rhythm (every 7, 14 or 28 days, or irregular) and the times of its documents.
On top of the daily routine every store gets, on fixed weeks:

- a count held on a Monday morning in the same second as a supplier's receipt (posted
  after the receipt in the first store, before it in the second);
- a glazed frozen delivery of ~19 kg the day before a count, which books a large surplus;
- a delivery whose receipt is posted the next morning, after a sale and a count: the books
  go negative on a no-batch line under the sale, and the count fills it.

Receipts posted late also happen by chance when stock is low, so no-batch lines appear
under sales throughout. One weekly file is left unwritten (a missing week), and
:meth:`ChainSimulation.reexport` renders an overlapping re-export in which one sale was
re-posted with another quantity. :meth:`ChainSimulation.ground_truth` describes all of it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property

import numpy as np

from shrinkage.demo.books import NO_BATCH, replay
from shrinkage.demo.catalogue import (
    PRODUCT_TYPE_CODES,
    REALISTIC_CATALOGUE,
    REALISTIC_TRAITS,
    CatalogueItem,
    pick_products,
)
from shrinkage.demo.simulation import (
    COUNT,
    COUNT_PROPORTIONAL_SD,
    COUNT_WEIGHING_SD_G,
    DEFAULT_START,
    DEFAULT_WAREHOUSE,
    ITEM_KG,
    RECEIPT,
    SALE,
    ProductPlan,
    ProductTruth,
    ShrinkageCurve,
    SimulationParams,
    StoreSchedule,
    StoreSimulation,
    check_size,
    draw_idle_weeks,
    draw_truth,
    error_json,
    group_slots_of,
    monday_of,
    number_documents,
    plan_errors,
    run_store,
)
from shrinkage.demo.statement import BookHistory, MovementDocument, Statement
from shrinkage.sources.cells import normalize_text

MIN_WEEKS = 6  # room for the forced events and the missing week, each on its own week
GLAZED_DELIVERY_KG = (17.0, 21.0)
IRREGULAR_COUNT_SHARE = 0.5  # an irregularly counted product is counted in about half the weeks
MODEL_TEXT = "S(t) = a*(1 - exp(-b*t)) + c*t, t = batch age in days; physical receipt = q*(1 + surplus_rate)"
REALISTIC_ERROR_NOTE = (
    "After a keying error the books hold the counted (wrong) quantity while the shelf holds the true one, "
    "so the product's next count in the same store (reversed_by_doc_number) books the natural shrinkage "
    "since the error plus error_kg: the error reverses there. error_kg = counted_kg - physical_kg - the "
    "count noise an honest count would have had."
)
NOISE_NOTE = (
    "counted_kg = physical_kg + weighing_noise_kg + proportional_noise_kg (+ a keying error), rounded to "
    "grams, never below 0; weighing noise ~ N(0, (weighing_sd_g_per_item/1000)^2 * items), items = "
    "ceil(physical_kg / item_kg[product_type]); proportional noise ~ N(0, (proportional_sd * natural "
    "shortage since the last count)^2). A count of an empty shelf is exact."
)


@dataclass(frozen=True)
class StoreProfile:
    """One store of the chain: its warehouse name, how often it counts, how it orders a tie."""

    warehouse: str
    tag: str  # short name for file names
    count_mix: tuple[tuple[int | None, float], ...]  # (count interval in days, None: irregular; share)
    receipt_before_count: bool  # order of the receipt and the count posted in the same second


DEFAULT_STORES = (
    # The store the real statement came from counts everything weekly; the other every 2 or 4 weeks.
    StoreProfile(DEFAULT_WAREHOUSE, "Ленина", ((7, 0.7), (14, 0.15), (28, 0.05), (None, 0.1)), True),
    StoreProfile('Магазин "Рыбный двор" (пр. Мира, 45)', "Мира",
                 ((7, 0.15), (14, 0.4), (28, 0.35), (None, 0.1)), False),
)


@dataclass(frozen=True)
class RealisticParams:
    """Everything ``shrinkage demo-data --realistic`` varies (the defaults are the CLI's)."""

    weeks: int = 12
    products: int = 30
    seed: int = 0
    start: date | None = None  # moved back to its Monday; default 2025-03-03
    stores: tuple[StoreProfile, ...] = DEFAULT_STORES
    errors: int | None = None  # keying errors per store; None: one per 60 counts, at least 2
    surplus: bool = True
    unknown_documents: bool = True
    # (store index, week) of weekly files left unwritten; None: one mid-late week of the last store.
    missing: tuple[tuple[int, int], ...] | None = None
    shared_numbering: bool = True  # one 1C base: one number sequence per document type chain-wide
    reexport: bool = False  # also write an overlapping re-export with one document re-posted


@dataclass(frozen=True)
class ForcedEvents:
    """Weeks and products of one store's forced events (product None: the store has none to spare)."""

    same_second_week: int  # that week's count is held next Monday morning, with a receipt
    same_second_day: int
    same_second_moment: datetime
    same_second_product: str | None
    glaze_week: int
    glaze_product: str | None
    glaze_day: int
    no_batch_week: int
    no_batch_product: str | None
    no_batch_day: int


@dataclass(frozen=True)
class Reexport:
    """An overlapping statement exported after one document was re-posted."""

    statement: Statement
    store: int
    truth: dict


@dataclass(frozen=True)
class ChainSimulation:
    params: RealisticParams
    start: date
    catalogue: tuple[CatalogueItem, ...]
    stores: tuple[StoreSimulation, ...]
    events: tuple[ForcedEvents, ...]
    missing: frozenset[tuple[int, int]] = field(default_factory=frozenset)

    @property
    def warehouses(self) -> tuple[str, ...]:
        return tuple(p.warehouse for p in self.params.stores)

    def written_weeks(self, store: int) -> list[int]:
        return [w for w in range(self.params.weeks) if (store, w) not in self.missing]

    def statements(self, store: int) -> tuple[Statement, ...]:
        """The weekly statements of a store that are written (the missing week left out)."""
        all_weeks = self.stores[store].statements
        return tuple(all_weeks[w] for w in self.written_weeks(store))

    def week_of(self, moment: datetime) -> int:
        return (moment.date() - self.start).days // 7

    @cached_property
    def _count_context(self) -> dict[tuple[int, str, int], dict]:
        """Per (store, product, count number): its interval, its previous count, whether it is in a
        written file, and whether its start is known from the written files (a previous count in
        them and no missing week in between)."""
        out: dict[tuple[int, str, int], dict] = {}
        start = datetime.combine(self.start, datetime.min.time())
        for s, store in enumerate(self.stores):
            missing = {w for (m, w) in self.missing if m == s}
            previous: dict[str, datetime] = {}
            seen_in_files: set[str] = set()
            for count in sorted(store.counts, key=lambda c: c.doc_datetime):
                before = previous.get(count.product)
                since = before or start
                written = self.week_of(count.doc_datetime) not in missing
                gap = any(w in missing for w in range(self.week_of(since), self.week_of(count.doc_datetime) + 1))
                first = written and count.product not in seen_in_files
                out[(s, count.product, count.doc_number)] = {
                    "previous_count_datetime": before.isoformat() if before else None,
                    "interval_days": round((count.doc_datetime - since).total_seconds() / 86400, 6),
                    "in_written_file": written,
                    "first_in_data": first,
                    "after_missing_file": written and gap,
                    "start_known": written and not first and not gap,
                }
                previous[count.product] = count.doc_datetime
                if written:
                    seen_in_files.add(count.product)
        return out

    # -- re-export -------------------------------------------------------------------------
    def reexport(self, store: int = 0, period_start: date | None = None, period_end: date | None = None) -> Reexport:
        """The statement of an overlapping period (default: Thursday of week 2 to the Wednesday
        two weeks later) exported after one sale in it was re-posted with 10 % less: the re-posted
        sale and every later balance of that product differ from the weekly files."""
        sim = self.stores[store]
        if period_start is None:
            period_start = self.start + timedelta(days=7 * min(2, self.params.weeks - 3) + 3)
        if period_end is None:
            period_end = period_start + timedelta(days=13)
        low = datetime.combine(period_start, datetime.min.time())
        high = datetime.combine(period_end + timedelta(days=1), datetime.min.time())
        product, index = self._sale_to_repost(sim, low, high)
        docs = [i for i, d in enumerate(sim.documents) if d.product == product]
        postings = [sim.postings[i] for i in docs]
        at = docs.index(index)
        original = postings[at]
        delta = max(10, round(original.grams * 0.1))
        postings[at] = replace(original, grams=original.grams - delta)
        opening = {b.arrival: b.closing for b in sim.opening_batches[product]}
        relined = {i: lines for i, lines in zip(docs, replay(opening, postings))}
        documents = [replace(d, lines=relined[i]) if i in relined else d for i, d in enumerate(sim.documents)]
        opening_totals = {name: sum(b.opening for b in batches) for name, batches in sim.opening_batches.items()}
        statement = sim.statement_for(period_start, period_end, BookHistory(opening_totals, documents))
        doc = sim.documents[index]
        truth = {
            "warehouse": sim.params.warehouse,
            "period_start": period_start.isoformat(), "period_end": period_end.isoformat(),
            "changed_document": {
                "product": product, "doc_type": doc.doc_type, "doc_number": f"{doc.number:015d}",
                "doc_datetime": doc.moment.isoformat(), "original_outgoing_kg": original.grams / 1000,
                "reposted_outgoing_kg": (original.grams - delta) / 1000,
            },
            "later_balances_shift_kg": delta / 1000,
            "note": ("The re-export repeats every document of its period that the weekly files hold; "
                     "only the changed document differs, and with it every later balance of that product "
                     "(by later_balances_shift_kg). Keep the most recent export's version of a document."),
        }
        return Reexport(statement, store, truth)

    @staticmethod
    def _sale_to_repost(sim: StoreSimulation, low: datetime, high: datetime) -> tuple[str, int]:
        """The first sale in the period of a product that never goes negative and sells at least twice in it."""
        negative = {d.product for d in sim.documents if any(line.arrival is NO_BATCH for line in d.lines)}
        sales: dict[str, list[int]] = defaultdict(list)
        for i, d in enumerate(sim.documents):
            if d.doc_type == SALE and low <= d.moment < high and d.product not in negative and d.outgoing >= 200:
                sales[d.product].append(i)
        for truth in sim.products:
            if len(sales.get(truth.name, ())) >= 2:
                return truth.name, sales[truth.name][0]
        raise ValueError("no product sells twice in the re-export period; choose a longer period")

    # -- ground truth ------------------------------------------------------------------------
    def ground_truth(self) -> dict:
        """A JSON-ready account of the chain: see docs in the module and in the writer."""
        p = self.params
        end = self.start + timedelta(days=7 * p.weeks - 1)
        return {
            "mode": "realistic",
            "seed": p.seed,
            "parameters": {
                "weeks": p.weeks, "products": p.products, "start": self.start.isoformat(), "end": end.isoformat(),
                "stores": len(p.stores), "errors_per_store": [s.params.errors for s in self.stores],
                "surplus": p.surplus, "unknown_documents": p.unknown_documents,
                "shared_numbering": p.shared_numbering,
            },
            "model": MODEL_TEXT,
            "count_noise": {"weighing_sd_g_per_item": COUNT_WEIGHING_SD_G, "item_kg": dict(ITEM_KG),
                            "proportional_sd": COUNT_PROPORTIONAL_SD, "note": NOISE_NOTE},
            "error_propagation": REALISTIC_ERROR_NOTE,
            "document_numbering": (
                "one number sequence per document type across the chain (one 1C base)" if p.shared_numbering else
                "each store numbers its own documents: (type, number, date) can repeat across warehouses"),
            "warehouses": [self._warehouse_json(s) for s in range(len(self.stores))],
            "traits": REALISTIC_TRAITS,
            "catalogue": [_catalogue_json(item) for item in self.catalogue],
            "products": [self._product_json(s, i) for s in range(len(self.stores))
                         for i in range(len(self.stores[s].products))],
            "counts": [self._count_json(s, c) for s, store in enumerate(self.stores) for c in store.counts],
            "errors": [{"warehouse": store.params.warehouse, **error_json(e)}
                       for store in self.stores for e in store.errors],
            "no_batch_lines": [line for s in range(len(self.stores)) for line in self._no_batch_lines(s)],
            "late_receipts": [
                {"warehouse": store.params.warehouse, "product": r.product, "doc_type": RECEIPT,
                 "doc_number": f"{r.doc_number:015d}", "physical_arrival": r.physical_arrival.isoformat(),
                 "posted_at": r.posted_at.isoformat(), "kg": r.grams / 1000}
                for store in self.stores for r in store.late_receipts],
            "same_timestamp": [group for s in range(len(self.stores)) for group in self._same_timestamp(s)],
            "forced_events": [self._events_json(s) for s in range(len(self.stores))],
            "missing_statements": [
                {"warehouse": self.stores[s].params.warehouse, "week": w,
                 "period_start": self.stores[s].week_periods[w][0].isoformat(),
                 "period_end": self.stores[s].week_periods[w][1].isoformat()}
                for s, w in sorted(self.missing)],
        }

    def _warehouse_json(self, s: int) -> dict:
        profile = self.params.stores[s]
        return {"index": s, "name": profile.warehouse, "tag": profile.tag,
                "count_mix": [{"interval_days": k, "share": share} for k, share in profile.count_mix],
                "same_second_order": "receipt_first" if profile.receipt_before_count else "count_first"}

    def _product_json(self, s: int, i: int) -> dict:
        store = self.stores[s]
        t, plan = store.products[i], store.plans[i]
        curve = t.curve
        return {
            "warehouse": store.params.warehouse, "name": t.name, "product_type": t.product_type,
            "product_type_code": t.product_type_code, "group_path": list(t.group_path), "physics": t.physics,
            "a": curve.a, "b": curve.b, "c": curve.c,
            "S": {str(days): round(curve(days), 8) for days in (7, 14, 28)},
            "surplus_rate": t.surplus_rate, "demand_kg_per_day": t.demand_kg_per_day,
            "delivery_every_days": t.delivery_every_days, "slow": t.slow,
            "count_interval_days": plan.count_interval_days,
            "count_weeks": sorted(plan.count_weeks or ()), "idle_weeks": sorted(plan.idle_weeks),
        }

    def _count_json(self, s: int, c) -> dict:
        store = self.stores[s]
        keyed_wrong = {(e.product, e.doc_number) for e in store.errors}
        return {
            "warehouse": store.params.warehouse, "product": c.product, "doc_type": COUNT,
            "doc_number": f"{c.doc_number:015d}", "doc_datetime": c.doc_datetime.isoformat(),
            "book_kg": c.book_kg, "physical_kg": c.physical_kg, "counted_kg": c.counted_kg,
            "true_shortage_kg": c.true_shortage_kg, "booked_shortage_kg": c.booked_shortage_kg,
            "weighing_noise_kg": c.weighing_noise_kg, "proportional_noise_kg": c.proportional_noise_kg,
            "keying_error": (c.product, c.doc_number) in keyed_wrong,
            **self._count_context[(s, c.product, c.doc_number)],
        }

    def _no_batch_lines(self, s: int) -> list[dict]:
        store = self.stores[s]
        return [
            {"warehouse": store.params.warehouse, "product": d.product, "doc_type": d.doc_type,
             "doc_number": f"{d.number:015d}", "doc_datetime": d.moment.isoformat(),
             "opening_kg": line.opening / 1000, "incoming_kg": line.incoming / 1000,
             "outgoing_kg": line.outgoing / 1000, "closing_kg": line.closing / 1000}
            for d in store.documents for line in d.lines if line.arrival is NO_BATCH
        ]

    def _same_timestamp(self, s: int) -> list[dict]:
        """Documents of one product posted in the same second, in posting (= statement row) order."""
        store = self.stores[s]
        groups: dict[tuple[str, datetime], list[MovementDocument]] = defaultdict(list)
        for d in store.documents:
            groups[(d.product, d.moment)].append(d)
        return [
            {"warehouse": store.params.warehouse, "product": product, "doc_datetime": moment.isoformat(),
             "documents": [{"doc_type": d.doc_type, "doc_number": f"{d.number:015d}"} for d in docs]}
            for (product, moment), docs in groups.items() if len(docs) > 1
        ]

    def _events_json(self, s: int) -> dict:
        e, store = self.events[s], self.stores[s]
        day = lambda d: (self.start + timedelta(days=d)).isoformat()  # noqa: E731
        return {
            "warehouse": store.params.warehouse,
            "same_second_receipt_and_count": {
                "product": e.same_second_product, "week": e.same_second_week, "date": day(e.same_second_day),
                "moment": e.same_second_moment.isoformat(),
                "order": "receipt_first" if self.params.stores[s].receipt_before_count else "count_first"},
            "glazed_delivery_before_count": {"product": e.glaze_product, "week": e.glaze_week,
                                             "receipt_date": day(e.glaze_day)},
            "no_batch_line_at_count": {"product": e.no_batch_product, "week": e.no_batch_week,
                                       "date": day(e.no_batch_day)},
        }


def _catalogue_json(item: CatalogueItem) -> dict:
    return {"name": item.name, "normalized_name": normalize_text(item.name), "expected_type": item.product_type,
            "expected_type_code": PRODUCT_TYPE_CODES[item.product_type], "group_path": list(item.group_path),
            "traits": list(item.traits), "non_fish": item.physics == "snack"}


# ---------------------------------------------------------------------------------------
# Simulating the chain
# ---------------------------------------------------------------------------------------


def simulate_chain(params: RealisticParams | None = None) -> ChainSimulation:
    """Simulate every store of the chain (pure and seeded; statements render on first use)."""
    params = params or RealisticParams()
    weeks, products = params.weeks, params.products
    check_size(weeks, products)
    if weeks < MIN_WEEKS:
        raise ValueError(f"the realistic chain needs at least {MIN_WEEKS} weeks, got {weeks}")
    if not params.stores:
        raise ValueError("the realistic chain needs at least one store")
    start = monday_of(params.start or DEFAULT_START)
    items = pick_products(products, REALISTIC_CATALOGUE)
    product_seq, number_seq, *store_seqs = np.random.SeedSequence(params.seed).spawn(2 + len(params.stores))
    # The goods themselves (base curve, glaze, slow seller): shared by the stores.
    base = tuple(draw_truth(item, np.random.default_rng(seq), params.surplus)
                 for item, seq in zip(items, product_seq.spawn(products)))
    same_week, glaze_week, negative_week, late_week = _event_weeks(weeks)
    missing = _missing(params, late_week)
    runs, events = [], []
    for s, profile in enumerate(params.stores):
        run, forced = _run_store(params, s, profile, start, base, store_seqs[s],
                                 (same_week, glaze_week, negative_week))
        runs.append(run)
        events.append(forced)
    number_rngs = [np.random.default_rng(seq) for seq in number_seq.spawn(len(runs))]
    if params.shared_numbering:
        numbers = number_documents([d for run in runs for d in run.drafts], number_rngs[0])
        stores = tuple(run.assemble(numbers) for run in runs)
    else:
        stores = tuple(run.assemble(number_documents(run.drafts, rng)) for run, rng in zip(runs, number_rngs))
    return ChainSimulation(params, start, items, stores, tuple(events), frozenset(missing))


def _event_weeks(weeks: int) -> tuple[int, int, int, int]:
    """Four distinct weeks with a week before and after each: same second, glaze, no-batch count, missing."""
    middle = list(range(1, weeks - 1))
    picks = np.linspace(0, len(middle) - 1, 4).round().astype(int)
    return tuple(middle[i] for i in picks)  # type: ignore[return-value]


def _missing(params: RealisticParams, default_week: int) -> set[tuple[int, int]]:
    if params.missing is None:
        return {(len(params.stores) - 1, default_week)}
    for store, week in params.missing:
        if not (0 <= store < len(params.stores) and 0 <= week < params.weeks):
            raise ValueError(f"missing week {(store, week)} is outside the chain's stores and weeks")
    return set(params.missing)


def _vary(truth: ProductTruth, rng: np.random.Generator, store: int) -> ProductTruth:
    """A store's version of the goods: its own counter (curve) and customers (demand).

    The first store keeps the base curve; others dry the product 30-60 % more or 25-40 % less.
    """
    demand = round(truth.demand_kg_per_day * float(rng.uniform(0.6, 1.5)), 3)
    if store == 0:
        return replace(truth, demand_kg_per_day=demand)
    factor = float(rng.uniform(1.3, 1.6)) if rng.random() < 0.5 else float(rng.uniform(0.6, 0.75))
    curve = truth.curve
    varied = ShrinkageCurve(round(curve.a * factor, 6), round(curve.b * float(rng.uniform(0.8, 1.25)), 4),
                            round(curve.c * factor, 8))
    return replace(truth, curve=varied, demand_kg_per_day=demand)


def _intervals(profile: StoreProfile, n: int, rng: np.random.Generator) -> list[int | None]:
    """Count intervals for n products in the store's shares (largest remainder), shuffled."""
    shares = np.array([share for _, share in profile.count_mix], dtype=float)
    exact = shares / shares.sum() * n
    quota = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - quota))[: n - quota.sum()]:
        quota[i] += 1
    out = [k for (k, _), q in zip(profile.count_mix, quota) for _ in range(q)]
    return [out[i] for i in rng.permutation(n)]


def _count_weeks(interval: int | None, weeks: int, rng: np.random.Generator) -> frozenset[int]:
    if interval is None:
        chosen = set(np.flatnonzero(rng.random(weeks) < IRREGULAR_COUNT_SHARE).tolist())
        while len(chosen) < 2:
            chosen.add(int(rng.integers(weeks)))
        return frozenset(chosen)
    every = interval // 7
    phase = int(rng.integers(every))
    return frozenset(w for w in range(weeks) if w % every == phase)


def _designate(truths: tuple[ProductTruth, ...],
               items: tuple[CatalogueItem, ...]) -> tuple[int | None, int | None, int | None]:
    """(same-second product, glazed product, no-batch product): plain fast-selling fish for the
    first and last, the first glazed frozen line for the second; None when the assortment is too small."""
    plain = [i for i, (t, item) in enumerate(zip(truths, items))
             if item.physics is None and "top_level" not in item.traits and not t.slow]
    glazed = [i for i, item in enumerate(items) if item.physics == "frozen_glazed"]
    return (plain[0] if plain else None, glazed[0] if glazed else None, plain[1] if len(plain) > 1 else None)


def _run_store(params: RealisticParams, s: int, profile: StoreProfile, start: date,
               base: tuple[ProductTruth, ...], seq: np.random.SeedSequence, weeks_of: tuple[int, int, int]):
    weeks, products = params.weeks, params.products
    schedule_seq, plan_seq, *product_seqs = seq.spawn(2 + 3 * products)
    plan_rng = np.random.default_rng(plan_seq)
    truths = tuple(_vary(t, np.random.default_rng(product_seqs[3 * i]), s) for i, t in enumerate(base))
    group_slots = group_slots_of(truths)
    schedule = StoreSchedule(np.random.default_rng(schedule_seq), start, weeks, len(group_slots))
    items = pick_products(products, REALISTIC_CATALOGUE)
    same_week, glaze_week, negative_week = weeks_of
    same_p, glaze_p, negative_p = _designate(truths, items)
    designated = {p for p in (same_p, glaze_p, negative_p) if p is not None}

    intervals = _intervals(profile, products, plan_rng)
    idle = [frozenset() if i in designated else draw_idle_weeks(t, weeks, plan_rng) for i, t in enumerate(truths)]
    count_weeks = []
    for i in range(products):
        if i in designated:
            intervals[i] = 7  # the forced events need a count at their week
        count_weeks.append(_count_weeks(intervals[i], weeks, plan_rng) - idle[i])

    forced: dict[int, dict[int, float]] = defaultdict(dict)
    late: dict[int, frozenset[int]] = {}
    same_day = schedule.count_in_the_morning(same_week, group_slots[truths[same_p].group_path] if same_p is not None
                                             else 0, profile.receipt_before_count)
    if same_p is not None:
        forced[same_p][same_day] = 0.0  # the usual size, at the count's second
    glaze_day = 7 * glaze_week + 5  # Saturday morning; the count is on Sunday night
    if glaze_p is not None:
        forced[glaze_p][glaze_day] = float(plan_rng.uniform(*GLAZED_DELIVERY_KG))
    negative_day = 7 * negative_week + 6  # Sunday: delivered, sold, counted; posted on Monday
    if negative_p is not None:
        late[negative_p] = frozenset({negative_day})

    excluded = {(p, w) for p, week in ((same_p, same_week), (glaze_p, glaze_week), (negative_p, negative_week))
                if p is not None for w in (week - 1, week)}
    ordered = [sorted(w) for w in count_weeks]
    total_counts = sum(len(w) for w in ordered)
    errors = params.errors if params.errors is not None else max(2, round(total_counts / 60))
    error_plan = plan_errors(truths, ordered, errors, plan_rng, excluded)
    plans = tuple(
        ProductPlan(idle[i], error_plan.get(i, {}), frozenset(count_weeks[i]), intervals[i],
                    dict(forced.get(i, {})), late.get(i, frozenset()), realistic=True)
        for i in range(products)
    )
    rngs = [(np.random.default_rng(product_seqs[3 * i + 1]), np.random.default_rng(product_seqs[3 * i + 2]))
            for i in range(products)]
    sim_params = SimulationParams(weeks, products, params.seed, start, errors, params.surplus,
                                  params.unknown_documents, profile.warehouse, store_index=s, mixed_order=True)
    run = run_store(sim_params, truths, schedule, group_slots, plans, rngs)
    name = lambda p: truths[p].name if p is not None else None  # noqa: E731
    events = ForcedEvents(same_week, same_day, schedule.counts[same_week], name(same_p), glaze_week, name(glaze_p),
                          glaze_day,
                          negative_week, name(negative_p), negative_day)
    return run, events

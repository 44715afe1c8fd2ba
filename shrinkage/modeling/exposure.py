"""Exposure: how much book stock of what age sat on the shelf between consecutive counts.

Between two counts every kilogram on the shelf shrinks, including what is sold later, and the
count books the accumulated difference. The batch statement lists every batch at every
document, so each batch's book balance K is a step function of time. A *segment* is one
stretch of constant K of one batch; its expected loss is K (S(a1) - S(a0)) / (1 - S(a0)) with
a0, a1 the batch's ages at its ends. Summing a count's segments and subtracting r Q (surplus
on the quantity Q received in the interval) gives the expected shortage at that count.

Input contract (one DataFrame, many products): ``product``, ``doc_datetime``, ``doc_kind``,
``doc_number``, ``batch_arrival`` (NaT when unlabelled), ``labelled``, ``opening``,
``incoming``, ``outgoing``, ``closing``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shrinkage.config import CONFIG
from shrinkage.modeling.curves import CurveFamily

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = (
    "product", "doc_datetime", "doc_kind", "doc_number", "batch_arrival",
    "opening", "incoming", "outgoing", "closing",
)
DAY = pd.Timedelta(days=1)
EMPTY_KG = CONFIG.modeling.empty_kg
FIRST_COUNT_POLICIES = ("drop", "from_data_start")


@dataclass(frozen=True)
class ProductExposure:
    """The arrays one product's (or one pooled type's) fit needs, counts indexed locally.

    ``count_rows`` are the rows of :attr:`Exposure.counts` these counts come from, so that
    residuals can be joined back; ``count_product`` tells pooled fits whose count it is.
    """

    products: tuple
    K: np.ndarray
    age_start: np.ndarray
    age_end: np.ndarray
    segment_count: np.ndarray  # local count index of each segment
    observed: np.ndarray
    received: np.ndarray
    count_rows: np.ndarray
    count_product: np.ndarray  # index into ``products`` per count
    count_datetime: np.ndarray

    def __post_init__(self):
        # Segments sorted by count let np.add.reduceat sum them per count in one pass (rows
        # and Jacobian columns alike), the inner loop of every fit.
        seg_count = np.asarray(self.segment_count, dtype=np.int64)
        if len(seg_count) and np.any(np.diff(seg_count) < 0):
            order = np.argsort(seg_count, kind="stable")
            for name in ("K", "age_start", "age_end"):
                object.__setattr__(self, name, np.asarray(getattr(self, name))[order])
            seg_count = seg_count[order]
        object.__setattr__(self, "segment_count", seg_count)
        groups, starts = np.unique(seg_count, return_index=True)
        object.__setattr__(self, "_groups", groups)
        object.__setattr__(self, "_group_starts", starts)
        object.__setattr__(self, "_ages", np.concatenate([self.age_start, self.age_end]))

    @property
    def n_counts(self) -> int:
        return len(self.observed)

    def sum_by_count(self, values: np.ndarray) -> np.ndarray:
        """Per-segment values (1-D or rows of a 2-D array) summed per count."""
        out = np.zeros((self.n_counts, *values.shape[1:]))
        if len(values):
            out[self._groups] = np.add.reduceat(values, self._group_starts, axis=0)
        return out

    def exposure_loss(self, family: CurveFamily, theta) -> np.ndarray:
        """Σ_segments K (S(a1) - S(a0)) / (1 - S(a0)) per count (no surplus term)."""
        n = len(self.K)
        s = family.curve(self._ages, theta)
        s0, s1 = s[:n], s[n:]
        return self.sum_by_count(self.K * (s1 - s0) / (1.0 - s0))

    def exposure_jacobian(self, family: CurveFamily, theta) -> np.ndarray:
        """d exposure_loss / d theta, shape (n_counts, n_params)."""
        n = len(self.K)
        s, g = family.curve_and_gradient(self._ages, theta)
        s0, s1, g0, g1 = s[:n], s[n:], g[:n], g[n:]
        # d/dθ [(s1 - s0)/(1 - s0)] = [g1 (1 - s0) - g0 (1 - s1)] / (1 - s0)^2
        factor = (self.K / (1.0 - s0) ** 2)[:, None]
        return self.sum_by_count(factor * (g1 * (1.0 - s0)[:, None] - g0 * (1.0 - s1)[:, None]))

    def expected_shortage(self, family: CurveFamily, theta, surplus_rate=0.0) -> np.ndarray:
        """Expected count shortage: exposure loss minus r Q (r scalar or one per count)."""
        return self.exposure_loss(family, theta) - np.asarray(surplus_rate) * self.received

    def rate_hint(self) -> float:
        """A rough loss fraction per day (Σ observed / Σ K·days) to scale starting points."""
        kg_days = float(np.sum(self.K * (self.age_end - self.age_start)))
        if kg_days <= 0:
            return 1e-6
        return max(float(np.sum(np.maximum(self.observed, 0.0))) / kg_days, 1e-6)

    def subset(self, keep: np.ndarray) -> ProductExposure:
        """Only the counts where ``keep`` is true (and their segments), renumbered."""
        keep = np.asarray(keep, dtype=bool)
        new_index = np.cumsum(keep) - 1
        seg_keep = keep[self.segment_count]
        return ProductExposure(
            products=self.products,
            K=self.K[seg_keep], age_start=self.age_start[seg_keep], age_end=self.age_end[seg_keep],
            segment_count=new_index[self.segment_count[seg_keep]],
            observed=self.observed[keep], received=self.received[keep],
            count_rows=self.count_rows[keep], count_product=self.count_product[keep],
            count_datetime=self.count_datetime[keep],
        )

    @staticmethod
    def concat(parts: Sequence[ProductExposure]) -> ProductExposure:
        """Several products' exposures as one (pooled fits), counts renumbered."""
        count_offsets = np.cumsum([0] + [p.n_counts for p in parts[:-1]])
        product_offsets = np.cumsum([0] + [len(p.products) for p in parts[:-1]])
        return ProductExposure(
            products=tuple(x for p in parts for x in p.products),
            K=np.concatenate([p.K for p in parts]),
            age_start=np.concatenate([p.age_start for p in parts]),
            age_end=np.concatenate([p.age_end for p in parts]),
            segment_count=np.concatenate(
                [p.segment_count + off for p, off in zip(parts, count_offsets)]),
            observed=np.concatenate([p.observed for p in parts]),
            received=np.concatenate([p.received for p in parts]),
            count_rows=np.concatenate([p.count_rows for p in parts]),
            count_product=np.concatenate(
                [p.count_product + off for p, off in zip(parts, product_offsets)]),
            count_datetime=np.concatenate([p.count_datetime for p in parts]),
        )


@dataclass(frozen=True)
class Exposure:
    """Segments and counts of many products, built once from the movements.

    ``counts`` has one row per count document: product, count_no (0-based within the
    product), doc_number, count_datetime, interval_start, interval_end, observed (kg short),
    received (kg received in the interval), usable, partial_start, unlabelled.
    ``on_hand`` has the book stock per batch after each product's last document (product,
    batch_arrival, unlabelled, quantity, as_of, age_days), for forecasts.
    Segment arrays are sorted by product code; ``segment_count`` is the row in ``counts``,
    or -1 for the segments after a product's last count (the pending period).
    """

    products: tuple
    counts: pd.DataFrame
    on_hand: pd.DataFrame
    segment_product: np.ndarray
    segment_count: np.ndarray
    K: np.ndarray
    age_start: np.ndarray
    age_end: np.ndarray
    segment_unlabelled: np.ndarray
    # kg received after each product's last count (the pending period), for preliminary forecasts
    pending_received: dict = field(default_factory=dict)

    def product_code(self, product) -> int:
        try:
            return self.products.index(product)
        except ValueError:
            raise KeyError(f"product {product!r} has no movements in the data") from None

    def _segment_slice(self, code: int) -> slice:
        lo, hi = np.searchsorted(self.segment_product, [code, code + 1])
        return slice(int(lo), int(hi))

    def product(self, product, usable_only: bool = True) -> ProductExposure:
        """One product's counts and segments (only usable counts unless told otherwise)."""
        code = self.product_code(product)
        rows = np.flatnonzero((self.counts["product_code"].to_numpy() == code)
                              & (self.counts["usable"].to_numpy() | (not usable_only)))
        seg = self._segment_slice(code)
        seg_count = self.segment_count[seg]
        inside = np.isin(seg_count, rows)
        local = np.searchsorted(rows, seg_count[inside])
        c = self.counts
        return ProductExposure(
            products=(product,),
            K=self.K[seg][inside], age_start=self.age_start[seg][inside],
            age_end=self.age_end[seg][inside], segment_count=local,
            observed=c["observed"].to_numpy(float)[rows],
            received=c["received"].to_numpy(float)[rows],
            count_rows=rows, count_product=np.zeros(len(rows), dtype=int),
            count_datetime=c["count_datetime"].to_numpy()[rows],
        )

    def pending_segments(self, product) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(K, age_start, age_end) of the segments after the product's last count."""
        seg = self._segment_slice(self.product_code(product))
        pending = self.segment_count[seg] < 0
        return self.K[seg][pending], self.age_start[seg][pending], self.age_end[seg][pending]


def _check_columns(movements: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in movements.columns]
    if missing:
        raise ValueError(
            f"movements lack column(s) {', '.join(missing)}: pass the stored batch movements "
            f"with columns {', '.join(REQUIRED_COLUMNS)}"
        )


def build_exposure(movements: pd.DataFrame, first_count_policy: str | None = None) -> Exposure:
    """Segments of constant book balance and per-count observations, for all products at once.

    The first count of a product has no earlier count to start from. If the product had no
    stock at its first document (every batch arrived inside the data), the whole interval is
    known and the count is used. Otherwise the stock already on hand had been shrinking since
    an unknown earlier count, and the shortage booked at the first count includes loss the
    data cannot attribute: with ``"drop"`` (the default, ``CONFIG.modeling.first_count_policy``)
    such a count is marked unusable,
    because keeping it biases S low by an unknown amount; ``"from_data_start"`` keeps it with
    the interval starting at the first document (batches arriving later start at their
    arrival anyway) and marks it ``partial_start`` — useful when counts are scarce.

    Unlabelled batch rows (NaT arrival) get the product's first document time as arrival
    (a lower bound of the true age) and are flagged ``unlabelled``.
    """
    if first_count_policy is None:
        first_count_policy = CONFIG.modeling.first_count_policy
    if first_count_policy not in FIRST_COUNT_POLICIES:
        raise ValueError(f"first_count_policy must be one of {FIRST_COUNT_POLICIES}, "
                         f"got {first_count_policy!r}")
    _check_columns(movements)
    df = movements.loc[:, list(REQUIRED_COLUMNS)].copy()
    for col in ("opening", "incoming", "outgoing", "closing"):
        df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0.0).astype(float)
    df["doc_datetime"] = pd.to_datetime(df["doc_datetime"])
    df["batch_arrival"] = pd.to_datetime(df["batch_arrival"])
    codes, products = pd.factorize(df["product"], sort=False)
    df["product_code"] = codes
    df["doc_number"] = df["doc_number"].astype(str)
    df = df.sort_values(["product_code", "doc_datetime", "doc_number"], kind="stable")
    df = df.reset_index(drop=True)

    # ---- documents: order, next document time, which count interval each one falls in ---
    df["doc_id"] = df.groupby(["product_code", "doc_datetime", "doc_number"], sort=False).ngroup()
    docs = df.groupby("doc_id", sort=True).agg(
        product_code=("product_code", "first"), doc_datetime=("doc_datetime", "first"),
        doc_kind=("doc_kind", "first"), doc_number=("doc_number", "first"),
        opening=("opening", "sum"), incoming=("incoming", "sum"), outgoing=("outgoing", "sum"),
    )
    same_product_next = docs["product_code"].shift(-1) == docs["product_code"]
    docs["next_datetime"] = docs["doc_datetime"].shift(-1).where(same_product_next)
    docs["is_count"] = docs["doc_kind"] == "count"
    # counts at or before each document: a segment starting at doc d belongs to count number
    # counts_through[d] (0-based) of its product; the count doc c itself has counts_through = c+1.
    docs["counts_through"] = docs.groupby("product_code")["is_count"].cumsum()
    first_doc = docs.groupby("product_code")["doc_datetime"].transform("min")
    docs["first_datetime"] = first_doc
    first_opening = docs.groupby("product_code")["opening"].transform("first")

    # ---- counts -------------------------------------------------------------------------
    count_docs = docs[docs["is_count"]].copy()
    count_docs["count_no"] = count_docs["counts_through"] - 1
    count_docs["observed"] = count_docs["outgoing"] - count_docs["incoming"]
    count_docs["interval_start"] = count_docs.groupby("product_code")["doc_datetime"].shift(1)
    is_first = count_docs["count_no"] == 0
    count_docs.loc[is_first, "interval_start"] = count_docs.loc[is_first, "first_datetime"]
    stock_before_data = first_opening.loc[count_docs.index] > EMPTY_KG
    count_docs["partial_start"] = is_first & stock_before_data
    count_docs["usable"] = ~count_docs["partial_start"] if first_count_policy == "drop" \
        else pd.Series(True, index=count_docs.index)
    receipts = docs[docs["doc_kind"] == "receipt"]
    received = receipts.groupby(["product_code", "counts_through"])["incoming"].sum()
    count_docs["received"] = received.reindex(
        pd.MultiIndex.from_arrays([count_docs["product_code"], count_docs["count_no"]])
    ).fillna(0.0).to_numpy()
    count_docs = count_docs.reset_index(drop=True)

    # ---- segments: one per batch row, from its document to the product's next document ----
    df = df.join(docs[["next_datetime", "counts_through", "first_datetime"]], on="doc_id")
    unlabelled = df["batch_arrival"].isna().to_numpy()
    arrival = df["batch_arrival"].where(~unlabelled, df["first_datetime"])
    df["age_start"] = ((df["doc_datetime"] - arrival) / DAY).clip(lower=0.0)
    df["age_end"] = ((df["next_datetime"] - arrival) / DAY).clip(lower=0.0)
    df["unlabelled"] = unlabelled
    # unlabelled rows of one document are told apart by their position in it
    df["batch_key"] = arrival.astype("int64")
    df.loc[unlabelled, "batch_key"] = -1 - df[unlabelled].groupby("doc_id").cumcount()

    last = df["next_datetime"].isna()
    on_hand = df[last & (df["closing"] > EMPTY_KG)]
    on_hand = _renamed(on_hand, products, batch_arrival="batch_arrival", unlabelled="unlabelled",
                       quantity="closing", as_of="doc_datetime", age_days="age_start")

    seg = df.loc[~last & (df["closing"] > EMPTY_KG),
                 ["product_code", "counts_through", "batch_key", "doc_datetime", "next_datetime",
                  "closing", "age_start", "age_end", "unlabelled"]]
    seg = _merge_constant_runs(seg)
    n_counts_of = docs.groupby("product_code")["is_count"].sum()
    k = seg["counts_through"].to_numpy()
    p = seg["product_code"].to_numpy()
    pending = k >= n_counts_of.reindex(p).to_numpy()
    first_count_row = np.searchsorted(count_docs["product_code"].to_numpy(), p)
    segment_count = np.where(pending, -1, first_count_row + k).astype(np.int64)

    seg_unl = seg["unlabelled"].to_numpy(bool)
    unl_counts = np.zeros(len(count_docs), dtype=bool)
    unl_counts[segment_count[(segment_count >= 0) & seg_unl]] = True
    counts = _renamed(count_docs, products, product_code="product_code", count_no="count_no",
                      doc_number="doc_number", count_datetime="doc_datetime", interval_start="interval_start",
                      interval_end="doc_datetime", observed="observed", received="received", usable="usable",
                      partial_start="partial_start")
    counts = counts.astype({"observed": float, "received": float, "usable": bool, "partial_start": bool})
    counts["unlabelled"] = unl_counts
    if unl_counts.any():
        log.info("%d counts include unlabelled batches (age counted from the first document)",
                 int(unl_counts.sum()))
    n_counts_per_product = n_counts_of.to_dict()
    product_list = products.tolist()
    pending_received = {
        product_list[pc]: float(kg) for (pc, k), kg in received.items()
        if k >= n_counts_per_product.get(pc, 0)
    }
    return Exposure(
        products=tuple(products.tolist()),
        pending_received=pending_received,
        counts=counts,
        on_hand=on_hand,
        segment_product=p.astype(np.int64),
        segment_count=segment_count,
        K=seg["closing"].to_numpy(float),
        age_start=seg["age_start"].to_numpy(float),
        age_end=seg["age_end"].to_numpy(float),
        segment_unlabelled=seg_unl,
    )


def _merge_constant_runs(seg: pd.DataFrame) -> pd.DataFrame:
    """Join consecutive segments of one batch with the same balance inside one interval.

    A batch untouched by a document keeps its balance; one segment over the joined stretch is
    both cheaper and exact (K shrinking from a0 to a2 loses K (S(a2) - S(a0)) / (1 - S(a0))).
    Done on numpy arrays: on a year of 1,000 products (~600,000 segments) pandas' sorting and
    grouping of the whole frame cost seconds.
    """
    product_code = seg["product_code"].to_numpy()
    counts_through = seg["counts_through"].to_numpy()
    batch_key = seg["batch_key"].to_numpy()
    doc_datetime = seg["doc_datetime"].to_numpy()
    # stable, like a sort by (product_code, counts_through, batch_key, doc_datetime)
    order = np.lexsort((doc_datetime, batch_key, counts_through, product_code))
    product_code, counts_through = product_code[order], counts_through[order]
    batch_key, doc_datetime = batch_key[order], doc_datetime[order]
    closing = seg["closing"].to_numpy()[order]
    next_datetime = seg["next_datetime"].to_numpy()[order]
    same = (
        (product_code[1:] == product_code[:-1])
        & (counts_through[1:] == counts_through[:-1])
        & (batch_key[1:] == batch_key[:-1])
        & (np.abs(closing[1:] - closing[:-1]) < 1e-9)
        & (doc_datetime[1:] == next_datetime[:-1])
    )
    first = np.flatnonzero(np.concatenate([[True], ~same])) if len(order) else np.array([], int)
    last = np.append(first[1:] - 1, len(order) - 1) if len(order) else first
    # runs come out ordered by (product_code, counts_through), as the segments are used
    return pd.DataFrame({
        "product_code": product_code[first],
        "counts_through": counts_through[first],
        "closing": closing[first],
        "age_start": seg["age_start"].to_numpy()[order][first],
        "age_end": seg["age_end"].to_numpy()[order][last],
        "unlabelled": seg["unlabelled"].to_numpy()[order][first],
    })


def _renamed(frame: pd.DataFrame, products: np.ndarray, **columns: str) -> pd.DataFrame:
    """A new frame: ``product`` (the name of each row's product code) and ``name=source`` columns."""
    return pd.DataFrame({"product": products[frame["product_code"].to_numpy()],
                         **{name: frame[source].to_numpy() for name, source in columns.items()}})

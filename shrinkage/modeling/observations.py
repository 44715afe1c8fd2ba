"""What a fit run works from, built from stored rows (frames in, frames out; no SQL here).

- ``dedupe_movements``: overlapping source files list the same document twice; one copy of
  each batch line is kept, or the exposure model would count that stock twice;
- ``turnover_observations``: the coarser per-period observation of a turnover statement
  (docs/DOMAIN.md), for products and periods that have no batch movements;
- :class:`Observations`: movements in the exposure contract, the exposure, product types,
  fixed surplus rates, priority periods, calculation rows and the naive baseline points.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shrinkage.modeling.baseline import naive_observations
from shrinkage.modeling.exposure import DAY, REQUIRED_COLUMNS, Exposure, build_exposure

# Identity of one batch line of one document, whichever file it came from.
LINE_KEY = ("product", "doc_number", "doc_datetime", "batch_arrival", "line_no")


def dedupe_movements(movements: pd.DataFrame) -> pd.DataFrame:
    """One copy of every batch line: key (product, document number, document time, batch
    arrival, order of the line among equal keys in its file); the newest file wins.

    Expects the exposure contract plus ``source_data_id`` and ``source_row``.
    """
    if movements.empty:
        return movements.copy()
    df = movements.sort_values(["source_data_id", "source_row"], kind="stable").copy()
    # NaT never equals itself: unlabelled lines get a sentinel arrival for the key
    df["_arrival_key"] = pd.to_datetime(df["batch_arrival"]).fillna(pd.Timestamp.min)
    df["line_no"] = df.groupby(
        ["source_data_id", "product", "doc_number", "doc_datetime", "_arrival_key"],
        dropna=False, sort=False).cumcount()
    # newest source first, so keep="first" keeps its copy
    df = df.sort_values(["source_data_id", "source_row"], ascending=[False, True], kind="stable")
    keep = ~df.duplicated(["product", "doc_number", "doc_datetime", "_arrival_key", "line_no"])
    out = df[keep].drop(columns=["_arrival_key"])
    return out.sort_values(["product", "doc_datetime", "source_data_id", "source_row"],
                           kind="stable").reset_index(drop=True)


def turnover_observations(calculations: pd.DataFrame,
                          surplus_rates: Mapping | None = None) -> pd.DataFrame:
    """Per product and period without batch movements: y = (opening + in(1+r) - out - closing)
    / (opening + in(1+r)) at t = storage_days (FIFO mean age) or the period length.

    ``calculations``: calculation_id, product, initial_balance, incoming, outgoing,
    final_balance, storage_days, inventory_period_start, inventory_period_end.
    When the count is already booked in ``outgoing`` the balance closes and y is 0: such a
    file carries no shrinkage signal, which the column ``informative`` says.
    """
    columns = ["calculation_id", "product", "t_days", "y", "shortage_kg", "base_kg", "informative"]
    if calculations.empty:
        return pd.DataFrame(columns=columns)
    rates = calculations["product"].map(dict(surplus_rates or {})).fillna(0.0).astype(float)
    opening = calculations["initial_balance"].fillna(0.0).astype(float)
    incoming = calculations["incoming"].fillna(0.0).astype(float) * (1.0 + rates)
    outgoing = calculations["outgoing"].fillna(0.0).astype(float)
    closing = calculations["final_balance"].fillna(0.0).astype(float)
    base = opening + incoming
    shortage = base - outgoing - closing
    length = (pd.to_datetime(calculations["inventory_period_end"])
              - pd.to_datetime(calculations["inventory_period_start"])) / DAY
    t = pd.to_numeric(calculations["storage_days"], errors="coerce").astype(float)
    t = t.where(t.notna(), length)
    return pd.DataFrame({
        "calculation_id": calculations["calculation_id"].to_numpy(),
        "product": calculations["product"].to_numpy(),
        "t_days": t.to_numpy(float),
        "y": np.where(base > 0, shortage / base.where(base > 0, 1.0), np.nan),
        "shortage_kg": shortage.to_numpy(float),
        "base_kg": base.to_numpy(float),
        "informative": (shortage.abs() > 1e-6).to_numpy(),
    }, columns=columns)


@dataclass(frozen=True)
class Observations:
    """Everything a fit run reads, keyed by product (the nomenclature id).

    ``movements``: de-duplicated batch lines in the exposure contract (+ source_data_id,
    calculation_id); ``count_calculations``: (product, doc_number, count_datetime,
    calculation_id) for every file that lists a count (a count of two overlapping files
    belongs to both files' calculation rows); ``calculations``: one row per calculation_data
    row; ``names`` / ``product_types``: product -> name / type; ``surplus_rates``: product ->
    fixed r from an active surplus specification; ``priority_periods``: period_start,
    period_end, priority_level.
    """

    movements: pd.DataFrame
    exposure: Exposure | None
    calculations: pd.DataFrame
    count_calculations: pd.DataFrame
    names: dict
    product_types: dict
    surplus_rates: dict = field(default_factory=dict)
    priority_periods: pd.DataFrame | None = None
    turnover: pd.DataFrame = field(default_factory=pd.DataFrame)
    naive: pd.DataFrame = field(default_factory=pd.DataFrame)
    duplicates_dropped: int = 0

    @property
    def n_products(self) -> int:
        return len(self.exposure.products) if self.exposure is not None else 0

    @property
    def n_counts(self) -> int:
        return 0 if self.exposure is None else int(self.exposure.counts["usable"].sum())


def build_observations(movements: pd.DataFrame, calculations: pd.DataFrame, names: Mapping,
                       product_types: Mapping, surplus_rates: Mapping | None = None,
                       priority_periods: pd.DataFrame | None = None) -> Observations:
    """De-duplicate, build the exposure, and derive the coarse and naive observations."""
    surplus_rates = dict(surplus_rates or {})
    raw = movements
    deduped = dedupe_movements(raw)
    exposure = build_exposure(deduped.loc[:, list(REQUIRED_COLUMNS)]) if len(deduped) else None
    counts_raw = raw[raw["doc_kind"] == "count"]
    count_calcs = counts_raw.drop_duplicates(
        ["product", "doc_number", "doc_datetime", "calculation_id"]
    ).rename(columns={"doc_datetime": "count_datetime"})[
        ["product", "doc_number", "count_datetime", "calculation_id"]].reset_index(drop=True)
    with_movements = set(raw["calculation_id"].dropna().astype(int))
    flat = calculations[~calculations["calculation_id"].isin(with_movements)]
    return Observations(
        movements=deduped, exposure=exposure, calculations=calculations,
        count_calculations=count_calcs, names=dict(names), product_types=dict(product_types),
        surplus_rates=surplus_rates, priority_periods=priority_periods,
        turnover=turnover_observations(flat, surplus_rates),
        naive=naive_observations(deduped.loc[:, list(REQUIRED_COLUMNS)]) if len(deduped)
        else pd.DataFrame(),
        duplicates_dropped=len(raw) - len(deduped),
    )

"""Check frames: the report's tables plus vectorised residual columns that the GX suites test.

Great Expectations checks one column at a time; the balance identities, sums and chains
of a batch statement are cross-row arithmetic. So every such rule is computed here once,
in pandas, as a ``chk_*`` column (a residual beyond tolerance, a share, a day count; NaN
where the rule does not apply, which GX skips), and the suite then states the rule as an
ordinary expectation on that column. The contract columns are kept as they came, so a
missing one is visible to the required-columns expectation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from shrinkage.config import Config
from shrinkage.sources.model import (
    BATCH_COLUMNS,
    DOCUMENT_COLUMNS,
    GROUP_COLUMNS,
    PRODUCT_COLUMNS,
    QUANTITY_COLUMNS,
    ParsedReport,
)

GROUP_SEPARATOR = " / "
DAY = np.timedelta64(1, "D")
SECOND_IN_DAYS = 1.0 / 86400.0

# The frames a report is validated as, and the contract columns each must carry.
CONTRACT_COLUMNS: dict[str, list[str]] = {
    "products": PRODUCT_COLUMNS,
    "groups": GROUP_COLUMNS,
    "documents": DOCUMENT_COLUMNS,
    "batches": BATCH_COLUMNS,
    "totals": ["level", "label", "row", *QUANTITY_COLUMNS],
}
CONTRACT_TABLES = ("products", "groups", "documents", "batches")
# "structure" is a zero-row frame whose columns are "<table>.<column>" for every table: the
# required-columns expectations run on it, so the big frames can be handed to GX narrowed
# to the columns their expectations read.
FRAME_NAMES = ("structure", *CONTRACT_COLUMNS)


@dataclass(frozen=True)
class CheckFrames:
    """The frames to validate, each with a RangeIndex (GX reports failing positions)."""

    frames: dict[str, pd.DataFrame]
    # Frames whose contract columns are incomplete: rules on them cannot be evaluated.
    missing_columns: dict[str, tuple[str, ...]]


def build_check_frames(report: ParsedReport, config: Config) -> CheckFrames:
    tables = {
        "products": report.products,
        "groups": report.groups,
        "documents": report.documents,
        "batches": report.batches,
    }
    tables = {name: _as_frame(table) for name, table in tables.items()}
    missing = {
        name: tuple(column for column in CONTRACT_COLUMNS[name] if column not in table.columns)
        for name, table in tables.items()
    }
    missing = {name: columns for name, columns in missing.items() if columns}

    tol = config.tolerances
    quantities = {name: _quantities(table) for name, table in tables.items()}
    # The plausible maximum applies to rows of one product; groups and totals sum many (only
    # infinity is refused there).
    most = config.validation.max_plausible_quantity_kg
    products = _with_row_checks(tables["products"], quantities["products"], tol.balance_kg, tol.balance_rel, most)
    groups = _with_row_checks(tables["groups"], quantities["groups"], tol.balance_kg, tol.balance_rel)
    documents = _with_row_checks(tables["documents"], quantities["documents"], tol.balance_kg, tol.balance_rel, most)
    batches = _with_row_checks(tables["batches"], quantities["batches"], tol.balance_kg, tol.balance_rel, most)

    _add_product_checks(products, quantities["products"], documents, quantities["documents"], report, config)
    _add_group_checks(groups, quantities["groups"], products, quantities["products"], config)
    _add_document_checks(documents, quantities["documents"], batches, quantities["batches"], report, config)
    _add_batch_checks(batches, quantities["batches"], config)
    totals = _totals_frame(report, quantities["products"], config)

    structure = pd.DataFrame(columns=[f"{name}.{column}" for name, table in tables.items() for column in table.columns])
    frames = {
        "structure": structure, "products": products, "groups": groups, "documents": documents,
        "batches": batches, "totals": totals,
    }
    return CheckFrames(frames=frames, missing_columns=missing)


# --- shared per-row checks ------------------------------------------------------------


def _as_frame(table: pd.DataFrame | None) -> pd.DataFrame:
    if table is None:
        return pd.DataFrame()
    return table.reset_index(drop=True)


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    if name in table.columns:
        return table[name]
    return pd.Series(np.nan, index=table.index, dtype="float64")


def _quantities(table: pd.DataFrame) -> pd.DataFrame:
    """The four quantities as floats; anything non-numeric (text, None) becomes NaN."""
    return pd.DataFrame(
        {name: pd.to_numeric(_column(table, name), errors="coerce") for name in QUANTITY_COLUMNS},
        index=table.index,
    ).astype("float64")


def _tolerance(scale: np.ndarray, balance_kg: float, balance_rel: float) -> np.ndarray:
    return balance_kg + balance_rel * np.abs(scale)


def _with_row_checks(table: pd.DataFrame, q: pd.DataFrame, balance_kg: float, balance_rel: float,
                     max_quantity: float = np.inf) -> pd.DataFrame:
    """Numeric, finite, plausible, sign and opening + in - out = closing checks every quantity row shares."""
    out = table.copy(deep=False)
    values = q.to_numpy()
    out["chk_non_numeric"] = np.isnan(values).sum(axis=1) if len(values) else np.zeros(0, dtype=int)
    with np.errstate(invalid="ignore"):
        implausible = np.isinf(values) | (np.abs(values) > max_quantity)
    out["chk_implausible_quantity"] = implausible.sum(axis=1) if len(values) else np.zeros(0, dtype=int)
    out["chk_quantity_limit"] = max_quantity if np.isfinite(max_quantity) else np.nan
    out["chk_min_flow"] = q[["incoming", "outgoing"]].min(axis=1)
    out["chk_min_balance"] = q[["opening", "closing"]].min(axis=1)
    residual = q["opening"] + q["incoming"] - q["outgoing"] - q["closing"]
    scale = np.nanmax(np.abs(values), axis=1, initial=0.0) if len(values) else np.zeros(0)
    out["chk_balance_residual"] = residual
    out["chk_balance_excess"] = residual.abs() - _tolerance(scale, balance_kg, balance_rel)
    return out


def _compare(out: pd.DataFrame, actual: pd.DataFrame, expected: pd.DataFrame, prefix: str,
             balance_kg: float, balance_rel: float, applies: pd.Series | None = None) -> None:
    """Add ``{prefix}_d_<quantity>`` differences and ``{prefix}_excess`` beyond tolerance."""
    with np.errstate(invalid="ignore"):  # inf - inf: an infinite quantity, which its own rule reports
        diff = actual[QUANTITY_COLUMNS].to_numpy() - expected[QUANTITY_COLUMNS].to_numpy()
        scale = np.fmax(np.abs(actual[QUANTITY_COLUMNS].to_numpy()), np.abs(expected[QUANTITY_COLUMNS].to_numpy()))
        excess = np.abs(diff) - _tolerance(scale, balance_kg, balance_rel)
    worst = np.nanmax(excess, axis=1, initial=-np.inf) if len(excess) else np.zeros(0)
    worst = np.where(np.isneginf(worst), np.nan, worst)
    if applies is not None:
        mask = applies.to_numpy(dtype=bool)
        worst = np.where(mask, worst, np.nan)
        diff = np.where(mask[:, None], diff, np.nan) if len(diff) else diff
    for position, name in enumerate(QUANTITY_COLUMNS):
        out[f"{prefix}_d_{name}"] = diff[:, position] if len(diff) else np.zeros(0)
    out[f"{prefix}_excess"] = worst


def _count_share(q: pd.DataFrame, kind: pd.Series, balance_kg: float) -> np.ndarray:
    """Net count shortage as a share of the book balance before the count (NaN off counts)."""
    shortage = (q["outgoing"] - q["incoming"]).to_numpy()
    book = np.maximum(q["opening"].to_numpy(), balance_kg)
    with np.errstate(over="ignore", invalid="ignore"):  # absurd quantities have their own rule
        return np.where(kind.to_numpy() == "count", shortage / book, np.nan)


def _datetimes(table: pd.DataFrame, name: str) -> pd.Series:
    """Naive timestamps; text (a reader that left it unparsed) is read day-first as 1C writes it."""
    values = _column(table, name)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values
    if values.isna().all():
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    return pd.to_datetime(values, errors="coerce", dayfirst=True, format="mixed")


# --- per-table checks -------------------------------------------------------------------


def _add_product_checks(products: pd.DataFrame, q: pd.DataFrame, documents: pd.DataFrame,
                        doc_q: pd.DataFrame, report: ParsedReport, config: Config) -> None:
    names = _column(products, "product")
    clean = names.where(names.notna(), "").astype(str).str.strip()
    products["chk_name"] = clean
    products["chk_name_nonempty"] = clean.where(clean != "", None)
    products["chk_group_path"] = _column(products, "group_path").where(lambda s: s.notna(), "").astype(str)

    # Product totals vs its documents: first opening, summed flows, last closing.
    applies = pd.Series(report.kind == "batch_statement", index=products.index)
    expected = q.copy()
    expected["incoming"] = 0.0
    expected["outgoing"] = 0.0
    expected["closing"] = q["opening"]
    if len(documents):
        docs = doc_q.assign(product=_column(documents, "product"), doc_seq=_column(documents, "doc_seq"))
        docs = docs.sort_values(["product", "doc_seq"], kind="stable")
        per_product = docs.groupby("product", sort=False).agg(
            opening=("opening", "first"), incoming=("incoming", "sum"),
            outgoing=("outgoing", "sum"), closing=("closing", "last"),
        )
        matched = per_product.reindex(names.to_numpy())
        has_docs = pd.Series(names.isin(per_product.index).to_numpy(), index=products.index)
        for name in QUANTITY_COLUMNS:
            expected[name] = np.where(has_docs, matched[name].to_numpy(), expected[name].to_numpy())
    tol = config.tolerances
    _compare(products, q, expected, "chk_docs", tol.balance_kg, tol.balance_rel, applies)


def _add_group_checks(groups: pd.DataFrame, q: pd.DataFrame, products: pd.DataFrame,
                      product_q: pd.DataFrame, config: Config) -> None:
    """A group's totals are the sum of every product below it, however deep."""
    parents = _column(groups, "group_path").where(lambda s: s.notna(), "").astype(str)
    own = _column(groups, "group").where(lambda s: s.notna(), "").astype(str)
    full_path = np.where(parents == "", own, parents + GROUP_SEPARATOR + own)

    paths = products["chk_group_path"] if "chk_group_path" in products else pd.Series("", index=products.index)
    sums_by_path = product_q.groupby(paths.to_numpy()).sum(min_count=1)
    prefix_rows = []
    for path in sums_by_path.index:
        parts = [part for part in str(path).split(GROUP_SEPARATOR)] if path else []
        for depth in range(1, len(parts) + 1):
            prefix_rows.append((path, GROUP_SEPARATOR.join(parts[:depth])))
    if prefix_rows:
        prefixes = pd.DataFrame(prefix_rows, columns=["path", "prefix"])
        descendant = (
            prefixes.join(sums_by_path, on="path").groupby("prefix")[QUANTITY_COLUMNS].sum()
        )
    else:
        descendant = pd.DataFrame(columns=QUANTITY_COLUMNS, dtype="float64")
    expected = descendant.reindex(full_path).fillna(0.0).set_axis(groups.index)
    groups["chk_full_path"] = full_path
    tol = config.tolerances
    _compare(groups, q, expected, "chk_children", tol.balance_kg, tol.balance_rel)


def _add_document_checks(documents: pd.DataFrame, q: pd.DataFrame, batches: pd.DataFrame,
                         batch_q: pd.DataFrame, report: ParsedReport, config: Config) -> None:
    tol = config.tolerances
    # Batches sum to their document (only when the report has a batch level at all).
    if len(batches):
        sums = batch_q.groupby(_column(batches, "doc_row").to_numpy()).sum(min_count=1)
        expected = sums.reindex(_column(documents, "row").to_numpy()).fillna(0.0).set_axis(documents.index)
        applies = None
    else:
        expected = pd.DataFrame(np.nan, index=documents.index, columns=QUANTITY_COLUMNS)
        applies = pd.Series(False, index=documents.index)
    _compare(documents, q, expected, "chk_batches", tol.balance_kg, tol.balance_rel, applies)

    # Documents chain: each opening equals the previous document's closing of the product.
    order = documents.assign(
        _product=_column(documents, "product"), _seq=_column(documents, "doc_seq")
    ).sort_values(["_product", "_seq"], kind="stable").index
    previous = q["closing"].loc[order].groupby(_column(documents, "product").loc[order].to_numpy()).shift(1)
    previous = previous.reindex(documents.index)
    documents["chk_prev_closing"] = previous
    gap = (q["opening"] - previous).abs()
    scale = np.fmax(q["opening"].abs(), previous.abs())
    documents["chk_chain_excess"] = gap - _tolerance(scale.to_numpy(), tol.balance_kg, tol.balance_rel)

    when = _datetimes(documents, "doc_datetime")
    documents["chk_doc_when"] = when
    documents["chk_days_outside_period"] = _days_outside(when, report.header.period_start, report.header.period_end)

    kind = _column(documents, "doc_kind")
    documents["chk_doc_kind"] = kind.where(kind.notna(), "").astype(str)
    documents["chk_count_share"] = _count_share(q, documents["chk_doc_kind"], tol.balance_kg)


def _days_outside(when: pd.Series, start: date | None, end: date | None) -> np.ndarray:
    """Days a timestamp lies before the period or after its last day; 0 inside, NaN unknown."""
    if start is None or end is None or when.empty:
        return np.full(len(when), np.nan)
    first = np.datetime64(pd.Timestamp(start))
    after_last = np.datetime64(pd.Timestamp(end) + pd.Timedelta(days=1))
    values = when.to_numpy(dtype="datetime64[ns]")
    before = (first - values) / DAY
    after = (values - after_last) / DAY + SECOND_IN_DAYS
    days = np.where(values < first, before, np.where(values >= after_last, after, 0.0))
    return np.where(np.isnat(values), np.nan, days)


def _add_batch_checks(batches: pd.DataFrame, q: pd.DataFrame, config: Config) -> None:
    arrival = _datetimes(batches, "batch_arrival")
    when = _datetimes(batches, "doc_datetime")
    batches["chk_arrival"] = arrival
    batches["chk_doc_when"] = when
    batches["chk_arrival_after_doc_days"] = (arrival - when) / pd.Timedelta(days=1)
    kind = _column(batches, "doc_kind")
    batches["chk_doc_kind"] = kind.where(kind.notna(), "").astype(str)
    batches["chk_count_share"] = _count_share(q, batches["chk_doc_kind"], config.tolerances.balance_kg)


def _totals_frame(report: ParsedReport, product_q: pd.DataFrame, config: Config) -> pd.DataFrame:
    """The warehouse row and Итого against the product rows (and against each other)."""
    product_sum = product_q.sum(min_count=1).reindex(QUANTITY_COLUMNS).fillna(0.0)
    records = []
    if report.warehouse_total is not None:
        records.append(("warehouse", "warehouse total row", report.warehouse_total, product_sum))
    if report.grand_total is not None:
        against = _total_values(report.warehouse_total) if report.warehouse_total is not None else product_sum
        records.append(("grand_total", "«Итого» row", report.grand_total, against))
    columns = CONTRACT_COLUMNS["totals"]
    frame = pd.DataFrame(
        [{"level": level, "label": label, "row": values.get("row"),
          **{name: values.get(name) for name in QUANTITY_COLUMNS}}
         for level, label, values, _ in records],
        columns=columns,
    )
    q = _quantities(frame)
    tol = config.tolerances
    frame = _with_row_checks(frame, q, tol.balance_kg, tol.balance_rel)
    expected = pd.DataFrame([against for *_, against in records], columns=QUANTITY_COLUMNS, index=frame.index)
    expected = expected.astype("float64")
    _compare(frame, q, expected, "chk_total", tol.balance_kg, tol.balance_rel)
    frame["chk_warehouse_excess"] = frame["chk_total_excess"].where(frame["level"] == "warehouse")
    frame["chk_grand_excess"] = frame["chk_total_excess"].where(frame["level"] == "grand_total")
    limits = config.validation
    diff = np.abs(frame[[f"chk_total_d_{name}" for name in QUANTITY_COLUMNS]].to_numpy())
    size = np.abs(q.to_numpy())
    if len(frame):
        allowed = np.maximum(limits.gross_total_mismatch_kg,
                             limits.gross_total_mismatch_share * np.nanmax(size, axis=1, initial=0.0))
        frame["chk_gross_excess"] = np.nanmax(diff, axis=1, initial=-np.inf) - allowed
        frame["chk_gross_excess"] = frame["chk_gross_excess"].replace(-np.inf, np.nan)
    else:
        frame["chk_gross_excess"] = pd.Series(dtype="float64")
    return frame


def _total_values(total: dict) -> pd.Series:
    return pd.to_numeric(pd.Series({name: total.get(name) for name in QUANTITY_COLUMNS}), errors="coerce")

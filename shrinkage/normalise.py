"""From a parsed report to the rows of the schema: one row per product and period, batch movements.

Pure pandas, no database: the loader writes what this returns. Definitions follow
docs/DOMAIN.md: ``storage_days`` is the FIFO mean age of the stock on hand at the end of the
report; the inventory period runs from the product's previous count in the file (or the
report start) to its last count; ``inventory_shrinkage_total`` sums the count shortages;
``pre_shrinkage_days`` is the mean age of the stock already on hand when the period began
(its pre-shrinkage, S(t_start), is filled in once a curve is fitted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

import numpy as np
import pandas as pd

from shrinkage.config import CONFIG, DEFAULT_PRODUCT_TYPE_KEYWORDS
from shrinkage.products import KeywordTable, classify
from shrinkage.sources.model import ParsedReport

CALCULATION_COLUMNS = [
    "product", "product_type", "product_type_code", "initial_balance", "incoming", "outgoing",
    "final_balance", "storage_days", "calculation_date", "inventory_period_start",
    "inventory_period_end", "is_valid_inventory_period", "inventory_shrinkage_total",
    "actual_deduction_batch", "fifo_principle_applied", "fifo_batch_sequence",
    "pre_shrinkage_days", "data_quality_flag", "human_error_probability",
    "manual_review_required", "inventory_confidence", "validation_errors",
]
MOVEMENT_COLUMNS = [
    "product", "source_row", "document_type", "document_kind", "document_number",
    "document_datetime", "batch_arrival", "is_labelled", "opening", "incoming", "outgoing", "closing",
]
ERROR_COLUMNS = ["product", "error_type", "description", "severity_level", "detected_by"]
DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class NormalisedReport:
    calculations: pd.DataFrame
    movements: pd.DataFrame
    errors: pd.DataFrame


def period_end_moment(report: ParsedReport) -> datetime | None:
    end = report.header.period_end
    return datetime.combine(end, time(23, 59, 59)) if end else None


def normalise(report: ParsedReport, validation=None,
              keywords: KeywordTable = DEFAULT_PRODUCT_TYPE_KEYWORDS) -> NormalisedReport:
    products = report.products.copy()
    calc = pd.DataFrame({
        "product": products["product"].astype(str),
        "initial_balance": products["opening"].astype(float),
        "incoming": products["incoming"].astype(float),
        "outgoing": products["outgoing"].astype(float),
        "final_balance": products["closing"].astype(float),
    })
    # Duplicate product rows (recorded by validation) collapse into one calculation row.
    calc = calc.groupby("product", sort=False, as_index=False).sum()
    groups = products.drop_duplicates("product").set_index("product")["group_path"] \
        if "group_path" in products else pd.Series(dtype=object)
    types = {name: classify(name, groups.get(name), table=keywords) for name in calc["product"]}
    calc["product_type"] = calc["product"].map(lambda n: types[n].name)
    calc["product_type_code"] = calc["product"].map(lambda n: types[n].code)
    end = period_end_moment(report)
    start = datetime.combine(report.header.period_start, time()) if report.header.period_start else None
    calc["calculation_date"] = end or datetime.now().replace(microsecond=0)

    batches = report.batches
    documents = report.documents
    if not batches.empty:
        calc = calc.merge(_count_summary(documents, batches, start), on="product", how="left")
        calc = calc.merge(_stock_ages(batches, end), on="product", how="left")
        calc = calc.merge(_fifo_check(batches), on="product", how="left")
    else:
        calc["inventory_period_start"] = start
        calc["inventory_period_end"] = end
        calc["is_valid_inventory_period"] = False
        calc["inventory_shrinkage_total"] = np.nan
        calc["storage_days"] = ((end - start) / DAY) if (start and end) else np.nan
        for name in ("actual_deduction_batch", "fifo_batch_sequence", "pre_shrinkage_days"):
            calc[name] = None
        calc["fifo_principle_applied"] = None
    if start:
        calc["inventory_period_start"] = calc["inventory_period_start"].fillna(start)
    calc = _with_quality(calc, validation)
    calc["storage_days"] = pd.to_numeric(calc["storage_days"], errors="coerce").round().astype("Int64")
    calc["pre_shrinkage_days"] = pd.to_numeric(calc["pre_shrinkage_days"], errors="coerce").round().astype("Int64")
    calc["is_valid_inventory_period"] = calc["is_valid_inventory_period"].astype("boolean").fillna(False).astype(bool)

    movements = pd.DataFrame({
        "product": batches["product"].astype(str),
        "source_row": batches["row"].astype(int),
        "document_type": batches["doc_type"].astype(str),
        "document_kind": batches["doc_kind"].astype(str),
        "document_number": batches["doc_number"],
        "document_datetime": pd.to_datetime(batches["doc_datetime"]),
        "batch_arrival": pd.to_datetime(batches["batch_arrival"]),
        "is_labelled": batches["labelled"].astype(bool),
        **{c: batches[c].astype(float) for c in ("opening", "incoming", "outgoing", "closing")},
    }) if not batches.empty else pd.DataFrame(columns=MOVEMENT_COLUMNS)
    return NormalisedReport(calc[CALCULATION_COLUMNS].reset_index(drop=True), movements,
                            errors_frame(validation))


def _count_summary(documents: pd.DataFrame, batches: pd.DataFrame, start: datetime | None) -> pd.DataFrame:
    counts = documents[documents["doc_kind"] == "count"].copy()
    counts["shortage"] = counts["outgoing"] - counts["incoming"]
    counts = counts.sort_values(["product", "doc_datetime"])
    grouped = counts.groupby("product", sort=False)
    summary = pd.DataFrame({
        "inventory_shrinkage_total": grouped["shortage"].sum(),
        "inventory_period_end": grouped["doc_datetime"].max(),
        # the previous count in this file, if there is one, opens the period of the last count
        "previous_count": grouped["doc_datetime"].apply(lambda s: s.iloc[-2] if len(s) > 1 else pd.NaT),
    })
    summary["inventory_period_start"] = summary["previous_count"].fillna(pd.Timestamp(start) if start else pd.NaT)
    summary["is_valid_inventory_period"] = summary["inventory_period_end"] > summary["inventory_period_start"]

    last_counts = counts.drop_duplicates("product", keep="last")[["product", "row"]]
    deducted = batches.merge(last_counts.rename(columns={"row": "doc_row"}), on=["product", "doc_row"])
    deducted = deducted[deducted["outgoing"] > 0].sort_values(["product", "batch_arrival"])
    first = deducted.drop_duplicates("product")[["product", "batch_arrival"]].set_index("product")["batch_arrival"]
    summary["actual_deduction_batch"] = first.map(lambda t: t.isoformat(sep=" ") if pd.notna(t) else "unlabelled")
    return summary.drop(columns="previous_count").reset_index()


def _stock_ages(batches: pd.DataFrame, end: datetime | None) -> pd.DataFrame:
    """FIFO order and mean age of the stock left after each product's last document and before its first."""
    ordered = batches.sort_values(["product", "doc_datetime", "row"])
    last_doc = ordered.groupby("product")["doc_row"].transform("max")
    first_doc = ordered.groupby("product")["doc_row"].transform("min")
    closing = ordered[(ordered["doc_row"] == last_doc) & (ordered["closing"] > 0)]
    opening = ordered[(ordered["doc_row"] == first_doc) & (ordered["opening"] > 0)]
    moment = pd.Timestamp(end) if end else ordered["doc_datetime"].max()

    def mean_age(frame: pd.DataFrame, weight: str, at) -> pd.Series:
        age = (pd.to_datetime(at) - frame["batch_arrival"]) / DAY
        w = frame[weight].where(age.notna(), 0.0)
        total = (age.fillna(0) * w).groupby(frame["product"]).sum()
        return total / w.groupby(frame["product"]).sum().replace(0, np.nan)

    sequences = {
        product: [
            {"batch_arrival": t.isoformat(sep=" ") if pd.notna(t) else None, "closing_kg": round(q, 3),
             "age_days": round((moment - t) / DAY, 2) if pd.notna(t) else None}
            for t, q in zip(group["batch_arrival"], group["closing"])
        ]
        for product, group in closing.sort_values("batch_arrival").groupby("product", sort=False)
    }
    first_times = ordered.groupby("product")["doc_datetime"].min()
    result = pd.DataFrame({
        "storage_days": mean_age(closing, "closing", moment),
        "pre_shrinkage_days": mean_age(opening, "opening", opening["product"].map(first_times)),
    })
    result["fifo_batch_sequence"] = result.index.map(lambda p: sequences.get(p, []))
    return result.rename_axis("product").reset_index()


def _fifo_check(batches: pd.DataFrame) -> pd.DataFrame:
    """True where every sale took from the oldest batches first (book FIFO held)."""
    tol = CONFIG.tolerances.balance_kg
    sales = batches[(batches["doc_kind"] == "sale") & batches["batch_arrival"].notna()]
    if sales.empty:
        return pd.DataFrame({"product": batches["product"].unique(), "fifo_principle_applied": None})
    newest_taken = sales["batch_arrival"].where(sales["outgoing"] > tol).groupby(sales["doc_row"]).transform("max")
    older_left = (sales["batch_arrival"] < newest_taken) & (sales["closing"] > tol)
    violated = older_left.groupby(sales["product"]).any()
    result = (~violated).rename("fifo_principle_applied").rename_axis("product").reset_index()
    return result


def quality_columns(calculations: pd.DataFrame, validation) -> pd.DataFrame:
    """The per-product quality columns of a validation, for rows normalised without one."""
    return _with_quality(calculations[["product"]].copy(), validation)


def _with_quality(calc: pd.DataFrame, validation) -> pd.DataFrame:
    if validation is None or getattr(validation, "per_product", None) is None or validation.per_product.empty:
        calc["data_quality_flag"] = "unchecked"
        calc["human_error_probability"] = np.nan
        calc["manual_review_required"] = False
        calc["inventory_confidence"] = np.nan
        calc["validation_errors"] = None
        return calc
    per = validation.per_product.drop_duplicates("product").set_index("product")
    calc["data_quality_flag"] = calc["product"].map(per["data_quality_flag"]).fillna("ok")
    calc["human_error_probability"] = calc["product"].map(per["human_error_probability"]).fillna(0.0).clip(0, 1)
    calc["manual_review_required"] = calc["product"].map(per["manual_review_required"]).fillna(False).astype(bool)
    calc["inventory_confidence"] = 1.0 - calc["human_error_probability"]
    messages: dict[str, list[str]] = {}
    for issue in validation.issues:
        if issue.product:
            messages.setdefault(issue.product, []).append(f"[{issue.severity_level}] {issue.error_type}")
    calc["validation_errors"] = calc["product"].map(lambda p: "; ".join(sorted(set(messages.get(p, [])))) or None)
    return calc


def errors_frame(validation) -> pd.DataFrame:
    if validation is None:
        return pd.DataFrame(columns=ERROR_COLUMNS)
    return pd.DataFrame(
        [{"product": i.product, "error_type": i.error_type, "description": i.description,
          "severity_level": i.severity_level, "detected_by": i.detected_by} for i in validation.issues],
        columns=ERROR_COLUMNS,
    )

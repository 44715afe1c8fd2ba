"""The rule catalogue: each rule's severity, its GX expectations, and how a failing row is explained.

A rule is one data-quality statement ("batches sum to their document"); it is implemented
by one or more Great Expectations expectations on the check frames (see ``frames.py``),
tagged with ``meta={"rule": name}`` so results map back to the rule. Whether a rule blocks
loading follows from its severity (``QualityThresholds.blocking_severities``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import great_expectations.expectations as gxe

from shrinkage.config import Config
from shrinkage.quality.frames import CONTRACT_COLUMNS, CONTRACT_TABLES
from shrinkage.sources.model import DOC_KINDS, QUANTITY_COLUMNS, Severity

Row = Mapping[str, object]

# A product name must hold a letter, and must not look like a batch or document row
# (a sign the reader mis-assigned the hierarchy) or like the closing «Итого» row.
NAME_HAS_LETTER = r"[A-Za-zА-Яа-яЁё]"
_DATE = r"(?:\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}-\d{1,2}-\d{1,2})"  # D.M.Y, D/M/Y, ISO
NAME_LOOKS_MISREAD = rf"(?i)^\s*{_DATE}|\sот\s+{_DATE}|^\s*итого\s*$"


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    severity: Severity
    # Probability that a row failing this rule is a human (keying) error, 0..1.
    error_weight: float
    # What the user should do; ends every issue description.
    advice: str


@dataclass(frozen=True)
class RuleExpectation:
    rule: str
    frame: str
    build: Callable[[Config], gxe.Expectation]
    # Other frames whose contract columns the check column was computed from.
    needs: tuple[str, ...] = ()


RULES: dict[str, Rule] = {rule.name: rule for rule in (
    Rule("required_columns", "Every table of the parsed report has the columns of the reader contract.",
         "critical", 1.0,
         "The reader produced an incomplete table: re-export the report from 1C in the standard layout "
         "and report the file to the maintainers if it happens again."),
    Rule("empty_report", "The report holds at least one product row.", "critical", 1.0,
         "Check that the file is a 1C batch or turnover statement with data for the period and export it again."),
    Rule("numeric_quantities", "Every opening / incoming / outgoing / closing value is a number.",
         "critical", 0.9,
         "Correct the cell (digits with a comma or point decimal) or export the report from 1C again."),
    Rule("implausible_quantity",
         "Every quantity is finite, and on a product, document or batch row at most the plausible "
         "maximum (validation.max_plausible_quantity_kg in the configuration).",
         "critical", 0.95,
         "A quantity this large is a misread or mistyped cell (a wrong unit, a pasted number): correct it "
         "in 1C and export the report again; for a wholesale warehouse raise the plausible maximum."),
    Rule("negative_quantity", "Incoming and outgoing quantities are not negative.", "critical", 0.9,
         "A negative movement (a reversal or a misread cell) cannot be aged: check the document in 1C, "
         "correct it and export the report again."),
    Rule("negative_balance", "Opening and closing balances are not negative.", "high", 0.6,
         "Negative stock means documents were booked out of order: check the dates of the receipts "
         "and sales around this row in 1C."),
    Rule("balance_identity",
         "opening + incoming − outgoing = closing on every product, group, document, batch and total row.",
         "high", 0.9,
         "Compare the row with 1C: a hand-edited or shifted cell breaks the identity; export the report again."),
    Rule("batches_sum_to_document", "The batch rows under a document sum to the document row.",
         "high", 0.8,
         "A batch row is missing, duplicated or edited: export the report again without editing it."),
    Rule("document_chain",
         "Within a product each document opens with the closing balance of the previous document.",
         "high", 0.8,
         "A document between these two is missing or the order is broken: export the full period again."),
    Rule("product_matches_documents",
         "A product row equals its documents: first opening, summed incoming / outgoing, last closing.",
         "high", 0.8,
         "Documents of this product were lost or misread: export the report again and check the product in 1C."),
    Rule("group_matches_products", "A group row equals the sum of the products below it.", "medium", 0.3,
         "Products were lost or assigned to the wrong group: check the grouping of the exported report."),
    Rule("warehouse_matches_products", "The warehouse row equals the sum of all product rows.", "high", 0.5,
         "Rows were lost or misread: check that the file is complete and export it again."),
    Rule("grand_total_matches", "The «Итого» row equals the warehouse row (or the sum of products).",
         "high", 0.5,
         "The report's totals disagree: check that the file is complete and export it again."),
    Rule("totals_grossly_mismatched",
         "«Итого», the warehouse row and the product rows agree within a gross limit; beyond it rows were lost.",
         "critical", 1.0,
         "The file is probably truncated (half-copied) or not in the standard layout: export it from 1C again."),
    Rule("document_date_missing", "Every document row carries a date that parses.", "high", 0.5,
         "Without a date the document cannot be placed in time: check the row text («<type> <number> от "
         "DD.MM.YYYY H:MM:SS») and export the report again."),
    Rule("document_outside_period", "Document dates lie inside the report period.", "medium", 0.3,
         "Check the period selected when exporting the report and the document's date in 1C."),
    Rule("batch_arrival_after_document", "A batch did not arrive after the document that moves it.",
         "high", 0.7,
         "A batch cannot move before it arrives: check the batch's receipt date in 1C."),
    Rule("unlabelled_batch", "Every batch row carries its arrival date-time.", "medium", 0.2,
         "The batch cannot be aged and is left out of the shrinkage fit: check the batch's receipt in 1C."),
    Rule("unknown_document_type", "Every document type is one the pipeline knows how to interpret.",
         "low", 0.05,
         "The document still balances but is not interpreted: ask the maintainers to add the type."),
    Rule("implausible_count_shortage",
         "A stock count's shortage is not larger than a plausible share of the book balance.",
         "medium", 0.5,
         "No plausible shrinkage explains this: check the count for keying errors (wrong batch, "
         "wrong unit) or losses, and review it before using it for coefficients."),
    Rule("implausible_batch_count_shortage",
         "A stock count's shortage on one batch is not larger than a plausible share of that batch's "
         "book balance (a batch line is noisy: losses of batches sold out on the books land on the "
         "batches still on hand, so this is a hint, the product-level rule is the verdict).",
         "low", 0.1,
         "Look at the product's count as a whole; review the batch only if the product is flagged too."),
    Rule("duplicate_rows", "No product, document or batch row appears twice.", "high", 0.7,
         "A duplicated row counts its quantities twice: remove the duplicate and export the report again."),
    Rule("product_name_empty", "Every product row carries a name.", "high", 0.5,
         "A product without a name cannot be linked to the nomenclature: check the row in the file."),
    Rule("product_name_implausible",
         "Product names look like names: a letter, not too long, not a date or document text.",
         "medium", 0.4,
         "The reader probably mistook a batch, document or total row for a product: check the file layout."),
)}


def _between_zero_and_zero(column: str) -> Callable[[Config], gxe.Expectation]:
    return lambda config: gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=0)


def _at_most(column: str, limit: Callable[[Config], float]) -> Callable[[Config], gxe.Expectation]:
    return lambda config: gxe.ExpectColumnValuesToBeBetween(column=column, max_value=limit(config))


def _at_least_zero(column: str) -> Callable[[Config], gxe.Expectation]:
    return lambda config: gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0)


def _not_null(column: str) -> Callable[[Config], gxe.Expectation]:
    return lambda config: gxe.ExpectColumnValuesToNotBeNull(column=column)


def _unique(*columns: str) -> Callable[[Config], gxe.Expectation]:
    return lambda config: gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns))


def _required(table: str) -> Callable[[Config], gxe.Expectation]:
    return lambda config: gxe.ExpectTableColumnsToMatchSet(
        column_set=[f"{table}.{column}" for column in CONTRACT_COLUMNS[table]], exact_match=False,
        meta={"rule": "required_columns", "table": table},
    )


def _zero(config: Config) -> float:
    return 0.0


QUANTITY_ROW_FRAMES = ("products", "groups", "documents", "batches", "totals")

EXPECTATIONS: tuple[RuleExpectation, ...] = (
    *(RuleExpectation("required_columns", "structure", _required(table)) for table in CONTRACT_TABLES),
    RuleExpectation("empty_report", "products", lambda config: gxe.ExpectTableRowCountToBeBetween(min_value=1)),
    *(RuleExpectation("numeric_quantities", frame, _between_zero_and_zero("chk_non_numeric"))
      for frame in QUANTITY_ROW_FRAMES),
    *(RuleExpectation("implausible_quantity", frame, _between_zero_and_zero("chk_implausible_quantity"))
      for frame in QUANTITY_ROW_FRAMES),
    *(RuleExpectation("negative_quantity", frame, _at_least_zero("chk_min_flow")) for frame in QUANTITY_ROW_FRAMES),
    *(RuleExpectation("negative_balance", frame, _at_least_zero("chk_min_balance")) for frame in QUANTITY_ROW_FRAMES),
    *(RuleExpectation("balance_identity", frame, _at_most("chk_balance_excess", _zero))
      for frame in QUANTITY_ROW_FRAMES),
    RuleExpectation("batches_sum_to_document", "documents", _at_most("chk_batches_excess", _zero), ("batches",)),
    RuleExpectation("document_chain", "documents", _at_most("chk_chain_excess", _zero)),
    RuleExpectation("product_matches_documents", "products", _at_most("chk_docs_excess", _zero), ("documents",)),
    RuleExpectation("group_matches_products", "groups", _at_most("chk_children_excess", _zero), ("products",)),
    RuleExpectation("warehouse_matches_products", "totals", _at_most("chk_warehouse_excess", _zero), ("products",)),
    RuleExpectation("grand_total_matches", "totals", _at_most("chk_grand_excess", _zero), ("products",)),
    RuleExpectation("totals_grossly_mismatched", "totals", _at_most("chk_gross_excess", _zero), ("products",)),
    RuleExpectation("document_date_missing", "documents", _not_null("chk_doc_when")),
    RuleExpectation("document_outside_period", "documents", _at_most("chk_days_outside_period", _zero)),
    RuleExpectation("batch_arrival_after_document", "batches", _at_most("chk_arrival_after_doc_days", _zero)),
    RuleExpectation("unlabelled_batch", "batches", _not_null("chk_arrival")),
    RuleExpectation(
        "unknown_document_type", "documents",
        lambda config: gxe.ExpectColumnValuesToBeInSet(column="chk_doc_kind",
                                                       value_set=sorted(set(DOC_KINDS.values()))),
    ),
    RuleExpectation("implausible_count_shortage", "documents",
                    _at_most("chk_count_share", lambda config: config.quality.max_plausible_count_share)),
    RuleExpectation("implausible_batch_count_shortage", "batches",
                    _at_most("chk_count_share", lambda config: config.quality.max_plausible_count_share)),
    RuleExpectation("duplicate_rows", "products", _unique("product", "chk_group_path")),
    RuleExpectation("duplicate_rows", "documents", _unique("product", "doc_type", "doc_number", "chk_doc_when")),
    RuleExpectation("duplicate_rows", "batches", _unique("doc_row", "chk_arrival", *QUANTITY_COLUMNS)),
    RuleExpectation(
        "product_name_empty", "products",
        lambda config: gxe.ExpectColumnValueLengthsToBeBetween(column="chk_name", min_value=1),
    ),
    RuleExpectation(
        "product_name_implausible", "products",
        lambda config: gxe.ExpectColumnValueLengthsToBeBetween(
            column="chk_name_nonempty", max_value=config.validation.max_product_name_length),
    ),
    RuleExpectation(
        "product_name_implausible", "products",
        lambda config: gxe.ExpectColumnValuesToMatchRegex(column="chk_name_nonempty", regex=NAME_HAS_LETTER),
    ),
    RuleExpectation(
        "product_name_implausible", "products",
        lambda config: gxe.ExpectColumnValuesToNotMatchRegex(column="chk_name_nonempty", regex=NAME_LOOKS_MISREAD),
    ),
)

# Rules that hold or fail for a table as a whole (no failing rows to point at).
TABLE_LEVEL_RULES = frozenset({"required_columns", "empty_report"})
# Rules evaluated even when their table lacks contract columns (they report exactly that).
STRUCTURAL_RULES = TABLE_LEVEL_RULES


def is_blocking(rule: Rule, config: Config) -> bool:
    return rule.severity in config.quality.blocking_severities


# --- explaining a failing row -------------------------------------------------------------


def _kg(value: object) -> str:
    number = as_number(value)
    return "?" if number is None else f"{number:.3f}"


def as_number(value: object) -> float | None:
    """A float, or None for text, None and NaN (cells shown as '?' in messages)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _when(value: object) -> str:
    if value is None or value != value:  # NaT / NaN compare unequal to themselves
        return "no date"
    strftime = getattr(value, "strftime", None)
    return strftime("%d.%m.%Y %H:%M:%S") if strftime else str(value)


def where(frame: str, row: Row) -> str:
    """The thing a row is, in words the user sees in the file."""
    product = as_text(row.get("product"))
    document = f"«{as_text(row.get('doc_type'))} {as_text(row.get('doc_number'))}»".replace(" »", "»")
    if frame == "products":
        return f"product «{product}»"
    if frame == "groups":
        return f"group «{as_text(row.get('group'))}»"
    if frame == "documents":
        return f"document {document} of product «{product}»"
    if frame == "batches":
        return f"batch {_when(row.get('chk_arrival'))} under document {document} of product «{product}»"
    return as_text(row.get("label")) or frame


def _quantities_text(row: Row) -> str:
    return ", ".join(f"{name} {_kg(row.get(name))}" for name in QUANTITY_COLUMNS)


def _differences(row: Row, prefix: str, against: str) -> str:
    parts = []
    for name in QUANTITY_COLUMNS:
        diff = as_number(row.get(f"{prefix}_d_{name}"))
        if diff is not None and abs(diff) > 0:
            actual = as_number(row.get(name))
            expected = None if actual is None else actual - diff
            parts.append(f"{name} {_kg(actual)} vs {_kg(expected)} {against} ({diff:+.3f} kg)")
    return "; ".join(parts) or "values differ"


def _non_numeric(row: Row) -> str:
    bad = [f"{name} = {row.get(name)!r}" for name in QUANTITY_COLUMNS if as_number(row.get(name)) is None]
    return "quantity is not a number: " + ", ".join(bad)


def _implausible(row: Row) -> str:
    limit = as_number(row.get("chk_quantity_limit"))
    bad = []
    for name in QUANTITY_COLUMNS:
        value = as_number(row.get(name))
        if value is not None and (math.isinf(value) or (limit is not None and abs(value) > limit)):
            bad.append(f"{name} {'infinite' if math.isinf(value) else f'{value:,.3f} kg'}")
    beyond = "" if limit is None else f" or beyond the plausible {limit:,.0f} kg per row"
    return f"quantity not finite{beyond}: " + ", ".join(bad)


def _negative(names: tuple[str, ...]) -> Callable[[Row], str]:
    def detail(row: Row) -> str:
        bad = [f"{name} {_kg(row.get(name))}" for name in names if (as_number(row.get(name)) or 0.0) < 0]
        return "negative " + ", ".join(bad)
    return detail


def _identity(row: Row) -> str:
    return (f"opening {_kg(row.get('opening'))} + incoming {_kg(row.get('incoming'))} − outgoing "
            f"{_kg(row.get('outgoing'))} ≠ closing {_kg(row.get('closing'))} "
            f"(off by {_kg(row.get('chk_balance_residual'))} kg)")


def _chain(row: Row) -> str:
    return (f"opens with {_kg(row.get('opening'))} kg but the previous document of the product "
            f"closed with {_kg(row.get('chk_prev_closing'))} kg")


def _count_share(row: Row) -> str:
    share = as_number(row.get("chk_count_share")) or 0.0
    shortage = (as_number(row.get("outgoing")) or 0.0) - (as_number(row.get("incoming")) or 0.0)
    return (f"the stock count found {shortage:.3f} kg missing out of a book balance of "
            f"{_kg(row.get('opening'))} kg ({share:.0%})")


def _outside_period(row: Row) -> str:
    days = as_number(row.get("chk_days_outside_period")) or 0.0
    return f"dated {_when(row.get('chk_doc_when'))}, {days:.1f} days outside the report period"


def _arrival_after(row: Row) -> str:
    return (f"arrived {_when(row.get('chk_arrival'))}, after the document dated "
            f"{_when(row.get('chk_doc_when'))}")


def _name(row: Row) -> str:
    return f"the product name {as_text(row.get('product'))[:80]!r} does not look like a nomenclature name"


def _duplicate(frame: str) -> Callable[[Row], str]:
    return lambda row: f"the same {frame[:-1]} row appears more than once ({_quantities_text(row)})"


DETAILS: dict[str, Callable[[Row], str]] = {
    "numeric_quantities": _non_numeric,
    "implausible_quantity": _implausible,
    "negative_quantity": _negative(("incoming", "outgoing")),
    "negative_balance": _negative(("opening", "closing")),
    "balance_identity": _identity,
    "batches_sum_to_document": lambda row: _differences(row, "chk_batches", "summed over its batch rows"),
    "document_chain": _chain,
    "product_matches_documents": lambda row: _differences(row, "chk_docs", "from its documents"),
    "group_matches_products": lambda row: _differences(row, "chk_children", "summed over its products"),
    "warehouse_matches_products": lambda row: _differences(row, "chk_total", "summed over the product rows"),
    "grand_total_matches": lambda row: _differences(row, "chk_total", "on the warehouse row"),
    "totals_grossly_mismatched": lambda row: _differences(row, "chk_total", "expected"),
    "document_date_missing": lambda row: "the document's date is missing or does not parse",
    "document_outside_period": _outside_period,
    "batch_arrival_after_document": _arrival_after,
    "unlabelled_batch": lambda row: "the batch row has no arrival date-time",
    "unknown_document_type": lambda row: f"unknown document type «{as_text(row.get('doc_type'))}»",
    "implausible_count_shortage": _count_share,
    "implausible_batch_count_shortage": _count_share,
    "product_name_empty": lambda row: "the product name is empty",
    "product_name_implausible": _name,
}


def detail(rule: str, frame: str, row: Row) -> str:
    if rule == "duplicate_rows":
        return _duplicate(frame)(row)
    return DETAILS[rule](row)


def error_probability(rule: Rule, row: Row, config: Config) -> float:
    """How likely the failing row is a keying error; a count shortage grades with its size."""
    if rule.name != "implausible_count_shortage":
        return rule.error_weight
    limit = config.quality.max_plausible_count_share
    share = as_number(row.get("chk_count_share")) or limit
    # Just above the limit: a coin toss; twice the limit or more: almost surely not shrinkage.
    return float(min(0.99, 0.5 + 0.5 * max(0.0, share - limit) / limit))

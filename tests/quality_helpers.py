"""Hand-built ParsedReports for the validation tests: a clean batch statement to break rule by rule.

The builder lays out worksheet rows the way a 1C batch statement does (warehouse, group,
product, document, batches) and derives every total from the batch rows, so the clean
report satisfies every identity exactly and each test breaks one thing on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from shrinkage.sources.model import (
    BATCH_COLUMNS,
    DOC_KINDS,
    DOCUMENT_COLUMNS,
    GROUP_COLUMNS,
    PRODUCT_COLUMNS,
    ParsedReport,
    ReportHeader,
)

SOURCE = Path("inbox/ведомость_март.xls")
PERIOD = (date(2025, 3, 1), date(2025, 3, 31))


@dataclass
class Doc:
    doc_type: str
    number: str
    when: str
    # (arrival, opening, incoming, outgoing); closing is derived.
    batches: list[tuple[str, float, float, float]]


@dataclass
class Product:
    name: str
    group: str
    docs: list[Doc] = field(default_factory=list)


def herring() -> Product:
    """The docs/DOMAIN.md example: 0.036 kg short at the count out of 2.150 (1.7 %)."""
    return Product("СЕЛЬДЬ Х/К", "КОПЧЕНАЯ РЫБА (весовой товар)", [
        Doc("Отчет отдела о розничных продажах", "000000000000301", "03.03.2025 21:05:10",
            [("21.02.2025 8:40:00", 4.100, 0.0, 1.950)]),
        Doc("Приходная накладная", "000000000000077", "04.03.2025 9:15:00",
            [("21.02.2025 8:40:00", 2.150, 0.0, 0.0), ("04.03.2025 9:15:00", 0.0, 2.000, 0.0)]),
        Doc("Инвентаризация", "000000000000012", "05.03.2025 22:30:00",
            [("21.02.2025 8:40:00", 2.150, 0.0, 0.036), ("04.03.2025 9:15:00", 2.000, 0.0, 0.0)]),
    ])


def roach(count_outgoing: float = 0.050) -> Product:
    """A dried product with one count; ``count_outgoing`` of a 1.000 kg batch sets the share."""
    return Product("ВОБЛА ВЯЛЕНАЯ", "ВЯЛЕНАЯ РЫБА (весовой товар)", [
        Doc("Приходная накладная", "000000000000080", "10.03.2025 10:00:00",
            [("10.03.2025 10:00:00", 0.0, 3.000, 0.0)]),
        Doc("Отчет отдела о розничных продажах", "000000000000320", "12.03.2025 21:00:00",
            [("10.03.2025 10:00:00", 3.000, 0.0, 2.000)]),
        Doc("Инвентаризация", "000000000000013", "20.03.2025 22:00:00",
            [("10.03.2025 10:00:00", 1.000, 0.0, count_outgoing)]),
    ])


def build_report(products: list[Product] | None = None, warehouse: str = "Магазин №1") -> ParsedReport:
    products = products if products is not None else [herring(), roach()]
    row = 10
    warehouse_row = row
    group_rows, product_rows, doc_rows, batch_rows = [], [], [], []
    by_group: dict[str, list[Product]] = {}
    for product in products:
        by_group.setdefault(product.group, []).append(product)
    for group, members in by_group.items():
        row += 1
        group_row = {"group": group, "group_path": "", "row": row}
        group_rows.append(group_row)
        group_totals = [0.0, 0.0, 0.0, 0.0]
        for product in members:
            row += 1
            product_row = {"product": product.name, "group_path": group, "row": row}
            product_rows.append(product_row)
            totals = None
            for seq, doc in enumerate(product.docs, start=1):
                row += 1
                doc_row_number = row
                when = pd.Timestamp(pd.to_datetime(doc.when, dayfirst=True))
                kind = DOC_KINDS.get(doc.doc_type, "other")
                doc_q = [0.0, 0.0, 0.0, 0.0]
                for arrival, opening, incoming, outgoing in doc.batches:
                    row += 1
                    closing = round(opening + incoming - outgoing, 3)
                    quantities = [opening, incoming, outgoing, closing]
                    doc_q = [a + b for a, b in zip(doc_q, quantities)]
                    batch_rows.append({
                        "product": product.name, "doc_row": doc_row_number, "row": row,
                        "doc_type": doc.doc_type, "doc_kind": kind, "doc_number": doc.number,
                        "doc_datetime": when, "batch_arrival": pd.Timestamp(pd.to_datetime(arrival, dayfirst=True)),
                        "labelled": True, **_quantities(quantities),
                    })
                doc_q = [round(value, 3) for value in doc_q]
                doc_rows.append({
                    "product": product.name, "row": doc_row_number, "doc_seq": seq, "doc_type": doc.doc_type,
                    "doc_kind": kind, "doc_number": doc.number, "doc_datetime": when, **_quantities(doc_q),
                })
                if totals is None:
                    totals = list(doc_q)
                else:
                    totals = [totals[0], totals[1] + doc_q[1], totals[2] + doc_q[2], doc_q[3]]
            totals = [round(value, 3) for value in (totals or [0.0, 0.0, 0.0, 0.0])]
            product_row.update(_quantities(totals))
            group_totals = [a + b for a, b in zip(group_totals, totals)]
        group_row.update(_quantities([round(value, 3) for value in group_totals]))
    grand = [round(sum(group[name] for group in group_rows), 3)
             for name in ("opening", "incoming", "outgoing", "closing")]
    return ParsedReport(
        kind="batch_statement",
        source=SOURCE,
        header=ReportHeader(title="Ведомость по партиям номенклатуры", period_start=PERIOD[0],
                            period_end=PERIOD[1], warehouse=warehouse, unit="кг"),
        products=pd.DataFrame(product_rows, columns=PRODUCT_COLUMNS),
        groups=pd.DataFrame(group_rows, columns=GROUP_COLUMNS),
        documents=pd.DataFrame(doc_rows, columns=DOCUMENT_COLUMNS),
        batches=pd.DataFrame(batch_rows, columns=BATCH_COLUMNS),
        warehouse_total={"row": warehouse_row, **_quantities(grand)},
        grand_total={"row": row + 1, **_quantities(grand)},
        rows_read=row + 1 - warehouse_row,
    )


def _quantities(values: list[float]) -> dict[str, float]:
    return dict(zip(("opening", "incoming", "outgoing", "closing"), (float(value) for value in values)))


def row_of(frame: pd.DataFrame, **match) -> int:
    """The worksheet row of the single frame row matching ``match``."""
    mask = pd.Series(True, index=frame.index)
    for column, value in match.items():
        mask &= frame[column] == value
    rows = frame.loc[mask, "row"].tolist()
    assert len(rows) == 1, f"expected one row for {match}, found {rows}"
    return int(rows[0])


def index_of(frame: pd.DataFrame, row: int) -> int:
    return int(frame.index[frame["row"] == row][0])


def failed_rules(result) -> set[str]:
    return {check.name for check in result.checks if not check.passed}


def issues_of(result, rule: str) -> list:
    return [issue for issue in result.issues if issue.error_type == rule]


def issue_rows(result, rule: str) -> list[int | None]:
    return [issue.row for issue in result.issues if issue.error_type == rule]


def big_report(n_batches: int, batches_per_doc: int = 5, docs_per_product: int = 10,
               n_groups: int = 20) -> ParsedReport:
    """A clean synthetic report with ``n_batches`` batch rows, built vectorised (speed runs).

    Every batch sells 0.010 kg per document; the last document of each product is a count.
    Worksheet rows: warehouse, the groups, then product / document / batch blocks.
    """
    import numpy as np

    per_product = batches_per_doc * docs_per_product
    n_products = max(1, n_batches // per_product)
    block = 1 + docs_per_product * (1 + batches_per_doc)  # rows per product
    first_product_row = 12 + n_groups
    product_idx = np.arange(n_products)
    product_row = first_product_row + product_idx * block
    names = np.char.add("ТОВАР Х/К ", np.char.zfill(product_idx.astype(str), 6))
    group_of = np.array([f"ГРУППА {g:02d}" for g in range(n_groups)])[product_idx % n_groups]

    # Documents: (product, seq)
    doc_p = np.repeat(product_idx, docs_per_product)
    doc_s = np.tile(np.arange(docs_per_product), n_products)
    doc_row = product_row[doc_p] + 1 + doc_s * (1 + batches_per_doc)
    doc_when = pd.Timestamp("2025-03-01 21:00") + pd.to_timedelta(doc_s * 2, unit="D")
    is_count = doc_s == docs_per_product - 1
    doc_type = np.where(is_count, "Инвентаризация", "Отчет отдела о розничных продажах")
    doc_kind = np.where(is_count, "count", "sale")
    sold = 0.010
    doc_opening = batches_per_doc * (1.0 - sold * doc_s)
    doc_out = np.full(doc_s.shape, batches_per_doc * sold)

    # Batches: (document, b)
    bat_d = np.repeat(np.arange(len(doc_p)), batches_per_doc)
    bat_b = np.tile(np.arange(batches_per_doc), len(doc_p))
    bat_opening = 1.0 - sold * doc_s[bat_d]
    arrival = pd.Timestamp("2025-02-01 08:00") + pd.to_timedelta(bat_b, unit="h")
    documents = pd.DataFrame({
        "product": names[doc_p], "row": doc_row, "doc_seq": doc_s + 1, "doc_type": doc_type,
        "doc_kind": doc_kind, "doc_number": np.char.zfill(np.arange(len(doc_p)).astype(str), 15),
        "doc_datetime": doc_when, "opening": doc_opening, "incoming": 0.0, "outgoing": doc_out,
        "closing": doc_opening - doc_out,
    }, columns=DOCUMENT_COLUMNS)
    batches = pd.DataFrame({
        "product": names[doc_p][bat_d], "doc_row": doc_row[bat_d], "row": doc_row[bat_d] + 1 + bat_b,
        "doc_type": doc_type[bat_d], "doc_kind": doc_kind[bat_d],
        "doc_number": documents["doc_number"].to_numpy()[bat_d], "doc_datetime": doc_when[bat_d],
        "batch_arrival": arrival, "labelled": True, "opening": bat_opening, "incoming": 0.0,
        "outgoing": sold, "closing": bat_opening - sold,
    }, columns=BATCH_COLUMNS)
    total_out = batches_per_doc * sold * docs_per_product
    products = pd.DataFrame({
        "product": names, "group_path": group_of, "row": product_row, "opening": float(batches_per_doc),
        "incoming": 0.0, "outgoing": total_out, "closing": batches_per_doc - total_out,
    }, columns=PRODUCT_COLUMNS)
    sums = products.groupby("group_path")[["opening", "incoming", "outgoing", "closing"]].sum()
    groups = sums.reset_index().rename(columns={"group_path": "group"})
    groups["group_path"] = ""
    groups["row"] = 11 + np.arange(len(groups))
    grand = products[["opening", "incoming", "outgoing", "closing"]].sum().to_dict()
    last_row = int(batches["row"].max()) + 1
    return ParsedReport(
        kind="batch_statement", source=Path("inbox/big.xls"),
        header=ReportHeader(title="Ведомость по партиям номенклатуры", period_start=PERIOD[0],
                            period_end=PERIOD[1], warehouse="Склад", unit="кг"),
        products=products, groups=groups[GROUP_COLUMNS], documents=documents, batches=batches,
        warehouse_total={"row": 10, **grand}, grand_total={"row": last_row, **grand},
        rows_read=last_row - 9,
    )

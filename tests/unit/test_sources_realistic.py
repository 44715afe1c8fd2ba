"""The batch statement reader on what real exports contain: the realistic demo chain's files read
back exactly, and a hand-made statement with every awkward case of a real store in a few rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pandas as pd
import pytest

from shrinkage.sources import read_report
from shrinkage.sources.cells import normalize_text
from tests import sources_helpers as h
from tests.demo_helpers import expected_parse, parsed_tuples

EXPECTED_CODES = {"unlabelled_batch", "unknown_doc_type"}  # what a clean real export still reports


@pytest.fixture(scope="module")
def reports(realistic_demo):
    """(store, statement, parsed report) for every written weekly file, then the re-export."""
    chain = realistic_demo.chain
    out = [(s, statement, read_report(path))
           for s in range(len(chain.stores))
           for path, statement in zip(realistic_demo.weekly[s], chain.statements(s))]
    reexport = chain.reexport(0)
    out.append((reexport.store, reexport.statement, read_report(realistic_demo.reexport)))
    return out


def _group_paths(chain, store):
    return {p.name: p.group_path for p in chain.stores[store].products}


def test_every_realistic_file_reads_back_exactly(realistic_demo, reports):
    chain = realistic_demo.chain
    assert len(reports) == 2 * chain.params.weeks - 1 + 1
    for s, statement, report in reports:
        name = report.source.name
        assert parsed_tuples(report) == expected_parse(statement, _group_paths(chain, s)), name
        assert report.header.warehouse == chain.warehouses[s], name
        assert (report.header.period_start, report.header.period_end) == (statement.period_start,
                                                                           statement.period_end)
        assert {i.code for i in report.issues} <= EXPECTED_CODES, (name, report.issues[:3])
        warehouse_row = statement.rows[0]
        assert report.warehouse_total["closing"] == warehouse_row.closing / 1000 == report.grand_total["closing"]


def test_count_documents_total_the_booked_shortages_of_the_truth(realistic_demo, reports):
    booked = {(c["warehouse"], normalize_text(c["product"]), c["doc_number"]): c["booked_shortage_kg"]
              for c in realistic_demo.truth["counts"]}
    seen = set()
    for s, _, report in reports[:-1]:  # the re-export re-posted a sale, not a count
        counts = report.documents[report.documents["doc_kind"] == "count"]
        for row in counts.itertuples():
            key = (realistic_demo.chain.warehouses[s], row.product, row.doc_number)
            assert round(row.outgoing - row.incoming, 3) == booked[key], key
            seen.add(key)
    written = {(c["warehouse"], normalize_text(c["product"]), c["doc_number"]) for c in realistic_demo.truth["counts"]
               if c["in_written_file"]}
    assert seen == written


def test_no_batch_lines_read_as_unlabelled_rows_with_negative_balances(reports):
    batches = pd.concat([r.batches for _, _, r in reports[:-1]], ignore_index=True)
    documents = pd.concat([r.documents for _, _, r in reports[:-1]], ignore_index=True)
    unlabelled = batches[~batches["labelled"]]
    assert len(unlabelled) >= 10 and unlabelled["batch_arrival"].isna().all()
    assert (unlabelled["closing"] < 0).any() and (unlabelled["opening"] < 0).any()
    assert set(unlabelled["doc_kind"]) >= {"sale", "count", "receipt"}
    assert (batches.loc[batches["labelled"], ["opening", "closing"]] >= 0).all().all()
    assert (documents["closing"] < 0).any(), "a product's book balance goes negative"
    assert (batches[["incoming", "outgoing"]] >= 0).all().all()


def test_same_second_documents_come_in_posting_order(realistic_demo, reports):
    by_store = defaultdict(list)
    for s, _, report in reports[:-1]:
        by_store[realistic_demo.chain.warehouses[s]].append(report.documents)
    documents = {w: pd.concat(frames, ignore_index=True) for w, frames in by_store.items()}
    checked = 0
    for group in realistic_demo.truth["same_timestamp"]:
        docs = documents[group["warehouse"]]
        when = pd.Timestamp(group["doc_datetime"])
        found = docs[(docs["product"] == normalize_text(group["product"])) & (docs["doc_datetime"] == when)]
        if found.empty:
            continue  # in the missing week
        assert list(zip(found["doc_type"], found["doc_number"])) == [
            (d["doc_type"], d["doc_number"]) for d in group["documents"]]
        assert found["row"].is_monotonic_increasing and found["doc_seq"].diff().dropna().eq(1).all()
        checked += 1
    assert checked >= 10


def test_groups_nest_and_the_product_outside_any_group_stays_outside(realistic_demo, reports):
    chain = realistic_demo.chain
    top = next(p.name for p in chain.stores[0].products if not p.group_path)
    static_weeks = 0
    for _s, _statement, report in reports:
        row = report.products[report.products["product"] == normalize_text(top)]
        assert row["group_path"].tolist() == [""]
        static_weeks += not (report.documents["product"] == normalize_text(top)).any()
        assert "РЫБА / КОПЧЕНАЯ РЫБА (весовой товар) / ХОЛОДНОГО КОПЧЕНИЯ" in set(report.products["group_path"])
        groups = set(report.groups["group"])
        assert {"Тушка", "ФИЛЕ", "СУШКА", "ВЯЛЕНАЯ РЫБА (весовой товар)"} <= groups
    assert static_weeks, "in some weeks the top-level product has no documents (an undecided row)"


def test_product_totals_over_the_files_are_the_books(realistic_demo, reports):
    """Summed over a store's weekly files, each product's in and out are its documents' in and out."""
    chain = realistic_demo.chain
    for s, store in enumerate(chain.stores):
        weeks = set(chain.written_weeks(s))
        expected = defaultdict(lambda: [0, 0])
        for doc in store.documents:
            if (doc.moment.date() - chain.start).days // 7 in weeks:
                expected[normalize_text(doc.product)][0] += doc.incoming
                expected[normalize_text(doc.product)][1] += doc.outgoing
        got = defaultdict(lambda: [0, 0])
        for store_index, _, report in reports[:-1]:
            if store_index != s:
                continue
            for row in report.products.itertuples():
                got[row.product][0] += round(row.incoming * 1000)
                got[row.product][1] += round(row.outgoing * 1000)
        assert {k: v for k, v in got.items() if v != [0, 0]} == dict(expected)


# --- one small statement with every awkward case of a real store -------------------------------

DRIED = "ВЯЛЕНАЯ РЫБА (весовой товар)"
SNACKS = "СНЕКИ"
ROACH = "ВОБЛА"
FLOUNDER = 'КАМБАЛА ВЯЛЕНАЯ "АКЦИЯ"'  # directly under the warehouse, no documents this week
PEANUTS = "АРАХИС (ХОЛОДЕЦ/ХРЕН)"
ROACH_TOTALS = (0.200, 2.050, 0.345, 1.905)
PEANUT_TOTALS = (-0.030, 1.000, 0.200, 0.770)
FLOUNDER_TOTALS = (1.000, 0.0, 0.0, 1.000)
REAL_STORE_ROWS = [
    (DRIED, *ROACH_TOTALS),
    (ROACH, *ROACH_TOTALS),
    # the old batch runs out and 50 g more are sold before the receipt is posted
    ("Отчет отдела о розничных продажах 000000000000401 от 06.04.2025 21:00:00", 0.200, None, 0.250, -0.050),
    ("", None, None, 0.050, -0.050),
    ("10.03.2025 9:00:00", 0.200, None, 0.200, None),
    # the count that night fills the no-batch line: a surplus of 50 g, all of it on the empty line
    ("Инвентаризация 000000000000031 от 06.04.2025 22:00:00", -0.050, 0.050, None, None),
    ("", -0.050, 0.050, None, None),
    # a receipt and a count posted in the same second, receipt first
    ("Приходная накладная 000000000000090 от 07.04.2025 9:00:00", None, 2.000, None, 2.000),
    ("07.04.2025 9:00:00", None, 2.000, None, 2.000),
    ("Инвентаризация 000000000000032 от 07.04.2025 9:00:00", 2.000, None, 0.095, 1.905),
    ("07.04.2025 9:00:00", 2.000, None, 0.095, 1.905),
    (FLOUNDER, *FLOUNDER_TOTALS),
    (SNACKS, *PEANUT_TOTALS),
    (PEANUTS, *PEANUT_TOTALS),
    # sold before last week's receipt was posted: the week opens below zero, the receipt fills it
    ("Приходная накладная 000000000000091 от 07.04.2025 8:00:00", -0.030, 1.000, None, 0.970),
    ("", -0.030, 0.030, None, None),
    ("07.04.2025 8:00:00", None, 0.970, None, 0.970),
    ("Отчет отдела о розничных продажах 000000000000402 от 07.04.2025 21:00:00", 0.970, None, 0.200, 0.770),
    ("07.04.2025 8:00:00", 0.970, None, 0.200, 0.770),
]


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    warehouse = h.add(ROACH_TOTALS, FLOUNDER_TOTALS, PEANUT_TOTALS)
    grid = h.batch_statement_grid(REAL_STORE_ROWS, warehouse='Магазин "Рыбный двор" (пр. Мира, 45)',
                                  warehouse_totals=warehouse, period="06.04.2025 - 12.04.2025")
    return read_report(h.write_xlsx(tmp_path_factory.mktemp("real-store") / "real.xlsx", grid))


def test_real_store_products_groups_and_warehouse(real_store):
    assert real_store.header.warehouse == 'Магазин "Рыбный двор" (пр. Мира, 45)'
    assert real_store.header.period_start == date(2025, 4, 6)
    assert real_store.products[["product", "group_path", "opening", "closing"]].values.tolist() == [
        [ROACH, DRIED, 0.2, 1.905], [FLOUNDER, "", 1.0, 1.0], [PEANUTS, SNACKS, -0.03, 0.77]]
    assert real_store.groups["group"].tolist() == [DRIED, SNACKS]
    assert [i.code for i in real_store.issues] == ["unlabelled_batch"] * 3


def test_real_store_no_batch_lines_and_the_count_total(real_store):
    docs = real_store.documents
    counts = docs[docs["doc_kind"] == "count"]
    assert (counts["outgoing"] - counts["incoming"]).round(3).tolist() == [-0.05, 0.095]
    batches = real_store.batches
    empty = batches[~batches["labelled"]]
    assert empty[["doc_kind", "opening", "incoming", "outgoing", "closing"]].values.tolist() == [
        ["sale", 0.0, 0.0, 0.05, -0.05], ["count", -0.05, 0.05, 0.0, 0.0], ["receipt", -0.03, 0.03, 0.0, 0.0]]
    labelled_count = batches[batches["labelled"] & (batches["doc_number"] == "000000000000031")]
    assert labelled_count.empty, "the count's booked surplus is all on its no-batch line"


def test_real_store_same_second_documents_keep_row_order(real_store):
    roach = real_store.documents[real_store.documents["product"] == ROACH]
    same = roach[roach["doc_datetime"] == pd.Timestamp("2025-04-07 09:00:00")]
    assert same["doc_type"].tolist() == ["Приходная накладная", "Инвентаризация"]
    assert same["doc_seq"].tolist() == [3, 4] and same["row"].is_monotonic_increasing

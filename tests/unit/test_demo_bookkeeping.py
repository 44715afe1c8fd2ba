"""Every balance identity of a batch statement holds on every row, and the books follow FIFO."""

from __future__ import annotations

from collections import defaultdict

import pytest

from shrinkage.demo.simulation import COUNT, RECEIPT, simulate_store
from shrinkage.demo.writer import HEADER_ROWS, write_statements
from tests.demo_helpers import default_simulation, kg, read_sheet


def _parsed(rows, statement):
    """File rows (kg) paired with the kind the simulator gave each row (texts must agree)."""
    data = rows[HEADER_ROWS:]
    assert len(data) == len(statement.rows)
    return [
        (row.kind, row.depth, cells[0], kg(cells[4]), kg(cells[6]), kg(cells[7]), kg(cells[8]))
        for row, cells in zip(statement.rows, data)
    ]


def _close(x: float, y: float) -> bool:
    return round(x, 3) == round(y, 3)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    sim = default_simulation()
    paths = write_statements(sim, tmp_path_factory.mktemp("demo-books"))
    return sim, [_parsed(read_sheet(p), s) for p, s in zip(paths, sim.statements)]


def test_every_row_balances(files):
    _, weeks = files
    for rows in weeks:
        for kind, _, text, opening, incoming, outgoing, closing in rows:
            assert _close(opening + incoming - outgoing, closing), (kind, text)


def test_children_sum_to_parents(files):
    _, weeks = files
    for rows in weeks:
        for index, row in enumerate(rows):
            kind = row[0]
            if kind == "document":
                batches = []
                for nxt in rows[index + 1:]:
                    if nxt[0] != "batch":
                        break
                    batches.append(nxt)
                assert batches, row[2]
                for col in range(3, 7):
                    assert _close(sum(b[col] for b in batches), row[col]), (row[2], col)
        # documents chain inside each product and sum to the product row
        for index, row in enumerate(rows):
            if row[0] != "product":
                continue
            product_docs = []
            for nxt in rows[index + 1:]:
                if nxt[0] in ("product", "group", "total"):
                    break
                if nxt[0] == "document":
                    product_docs.append(nxt)
            balance = row[3]
            for doc in product_docs:
                assert _close(doc[3], balance), (row[2], doc[2])
                balance = doc[6]
            assert _close(balance, row[6])
            assert _close(sum(d[4] for d in product_docs), row[4])
            assert _close(sum(d[5] for d in product_docs), row[5])


def test_groups_sum_their_direct_children_and_warehouse_equals_total(files):
    _, weeks = files
    for rows in weeks:
        stack: list[tuple[int, list[float]]] = []  # (depth, accumulated children) of open groups
        group_values: list[tuple[tuple, list[float]]] = []
        top = [0.0] * 4

        def close_groups(down_to: int, stack=stack, group_values=group_values, top=top) -> None:
            while stack and stack[-1][0] >= down_to:
                depth, acc = stack.pop()
                row = group_values.pop()[0]
                assert all(_close(a, v) for a, v in zip(acc, row[3:])), row[2]
                parent = stack[-1][1] if stack else top
                for k in range(4):
                    parent[k] += row[3 + k]

        for row in rows:
            kind, depth = row[0], row[1]
            if kind == "group":
                close_groups(depth)
                stack.append((depth, [0.0] * 4))
                group_values.append((row, stack[-1][1]))
            elif kind == "product":
                assert stack, "every demo product sits in a group"
                for k in range(4):
                    stack[-1][1][k] += row[3 + k]
            elif kind == "total":
                close_groups(0)
        warehouse, total = rows[0], rows[-1]
        assert all(_close(t, v) for t, v in zip(top, warehouse[3:]))
        assert warehouse[3:] == total[3:]


def test_weeks_chain(files):
    _, weeks = files
    for previous, current in zip(weeks, weeks[1:]):
        closing = {r[2]: r[6] for r in previous if r[0] == "product"}
        opening = {r[2]: r[3] for r in current if r[0] == "product"}
        for name, value in opening.items():
            assert _close(value, closing.get(name, 0.0)), name
        for name, value in closing.items():
            if value:
                assert name in opening, f"{name} had stock at the end of the previous week"
        assert _close(previous[0][6], current[0][3])


def test_documents_list_every_batch_on_hand_and_fifo_holds():
    sim = default_simulation()
    by_product = defaultdict(list)
    for doc in sim.documents:
        by_product[doc.product].append(doc)
    checked = defaultdict(int)
    for product, docs in by_product.items():
        on_hand = {b.arrival for b in sim.opening_batches[product] if b.closing}
        for doc in docs:
            listed = [line.arrival for line in doc.lines]
            assert listed == sorted(listed)
            assert {line.arrival for line in doc.lines if line.opening} == on_hand, (product, doc.text)
            on_hand = {line.arrival for line in doc.lines if line.closing}
            outgoing = [line for line in doc.lines if line.outgoing]
            incoming = [line for line in doc.lines if line.incoming]
            if outgoing:
                # FIFO by book balance: every batch older than the last one touched is emptied
                last = max(line.arrival for line in outgoing)
                assert all(line.closing == 0 for line in doc.lines if line.arrival < last), doc.text
                assert not incoming, doc.text
                checked["out"] += 1
            if doc.doc_type == RECEIPT:
                assert [line.arrival for line in incoming] == [doc.moment]
                assert doc.moment == max(listed)
                checked["receipt"] += 1
            elif incoming:
                assert doc.doc_type == COUNT
                assert [line.arrival for line in incoming] == [max(listed)], "count surplus goes to the newest batch"
                checked["surplus"] += 1
    assert checked["out"] and checked["receipt"] and checked["surplus"]


def test_after_a_count_books_equal_what_was_counted():
    sim = default_simulation()
    closing_of = {(d.product, d.number): d.closing for d in sim.documents if d.doc_type == COUNT}
    assert len(closing_of) == len(sim.counts)
    for count in sim.counts:
        assert closing_of[(count.product, count.doc_number)] / 1000 == pytest.approx(count.counted_kg, abs=1e-9)
    errors = {(e.product, e.doc_number) for e in sim.errors}
    honest = [c for c in sim.counts if (c.product, c.doc_number) not in errors]
    assert all(abs(c.counted_kg - c.physical_kg) <= 0.0005 + 1e-9 for c in honest)


def test_shared_documents_share_number_and_time():
    sim = simulate_store(weeks=2, products=12, seed=3)
    moments = defaultdict(set)
    for doc in sim.documents:
        moments[(doc.doc_type, doc.number)].add(doc.moment)
    assert all(len(m) == 1 for m in moments.values())
    # one sales report a day and one count a week, store-wide
    assert len({n for t, n in moments if t == "Отчет отдела о розничных продажах"}) <= 14
    assert len({n for t, n in moments if t == COUNT}) <= 2

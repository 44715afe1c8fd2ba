"""Every balance identity of a batch statement holds on every row, and the books follow FIFO:
in the default store and in every store of the realistic chain (negative no-batch lines included)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from shrinkage.demo.books import NO_BATCH, replay
from shrinkage.demo.simulation import COUNT, RECEIPT, simulate_store
from shrinkage.demo.writer import write_statements
from tests.demo_helpers import default_simulation, realistic_chain, sheet_rows


def _close(x: float, y: float) -> bool:
    return round(x, 3) == round(y, 3)


@pytest.fixture(scope="module", params=["default", "realistic"])
def runs(request, tmp_path_factory):
    """Runs of weekly files (week index, rows) of one store each, as written and read back."""
    if request.param == "default":
        sim = default_simulation()
        paths = write_statements(sim, tmp_path_factory.mktemp("demo-books"))
        return [list(enumerate(sheet_rows(p, s) for p, s in zip(paths, sim.statements)))]
    demo = request.getfixturevalue("realistic_demo")
    chain = demo.chain
    return [
        list(zip(chain.written_weeks(s), (sheet_rows(p, st) for p, st in zip(demo.weekly[s], chain.statements(s)))))
        for s in range(len(chain.stores))
    ]


def _weeks(runs):
    return [rows for run in runs for _, rows in run]


def test_every_row_balances(runs):
    for rows in _weeks(runs):
        for kind, _, text, opening, incoming, outgoing, closing in rows:
            assert _close(opening + incoming - outgoing, closing), (kind, text)
            assert incoming >= 0 and outgoing >= 0, (kind, text)


def test_children_sum_to_parents(runs):
    for rows in _weeks(runs):
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


def test_groups_sum_their_direct_children_and_warehouse_equals_total(runs):
    for rows in _weeks(runs):
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
                close_groups(depth)  # a product under d groups closes every deeper group
                assert len(stack) == depth, row[2]
                parent = stack[-1][1] if stack else top
                for k in range(4):
                    parent[k] += row[3 + k]
            elif kind == "total":
                close_groups(0)
        warehouse, total = rows[0], rows[-1]
        assert all(_close(t, v) for t, v in zip(top, warehouse[3:]))
        assert warehouse[3:] == total[3:]


def test_weeks_chain(runs):
    for run in runs:
        for (w1, previous), (w2, current) in zip(run, run[1:]):
            if w2 != w1 + 1:
                continue  # a missing week in between: the books need not chain (see test_demo_realistic)
            closing = {r[2]: r[6] for r in previous if r[0] == "product"}
            opening = {r[2]: r[3] for r in current if r[0] == "product"}
            for name, value in opening.items():
                assert _close(value, closing.get(name, 0.0)), name
            for name, value in closing.items():
                if value:
                    assert name in opening, f"{name} had stock at the end of the previous week"
            assert _close(previous[0][6], current[0][3])


def _simulations():
    yield default_simulation()
    yield from realistic_chain().stores


@pytest.mark.parametrize("sim", list(_simulations()), ids=lambda s: s.params.warehouse[-14:])
def test_documents_list_every_batch_on_hand_and_fifo_holds(sim):
    by_product = defaultdict(list)
    for doc in sim.documents:
        by_product[doc.product].append(doc)
    checked = defaultdict(int)
    for product, docs in by_product.items():
        on_hand = {b.arrival for b in sim.opening_batches[product] if b.closing}
        for doc in docs:
            listed = [line.arrival for line in doc.lines]
            labelled = listed[1:] if listed and listed[0] is NO_BATCH else listed
            assert NO_BATCH not in labelled, "the no-batch line comes first"
            assert labelled == sorted(labelled)
            assert {line.arrival for line in doc.lines if line.opening} == on_hand, (product, doc.text)
            on_hand = {line.arrival for line in doc.lines if line.closing}
            assert all(line.closing >= 0 for line in doc.lines if line.arrival is not NO_BATCH)
            outgoing = [line for line in doc.lines if line.outgoing]
            incoming = [line for line in doc.lines if line.incoming]
            if outgoing:
                # FIFO by book balance: every batch older than the last one touched is emptied, and
                # the no-batch line only takes what no batch can give
                assert not incoming, doc.text
                touched = [line.arrival for line in outgoing if line.arrival is not NO_BATCH]
                if touched:
                    assert all(line.closing == 0 for line in doc.lines
                               if line.arrival is not NO_BATCH and line.arrival < max(touched)), doc.text
                if any(line.arrival is NO_BATCH for line in outgoing):
                    assert all(line.closing == 0 for line in doc.lines if line.arrival is not NO_BATCH), doc.text
                    checked["no batch"] += 1
                checked["out"] += 1
            filled = [line for line in incoming if line.arrival is NO_BATCH]
            assert all(line.closing == 0 or line.closing < 0 and line.opening < line.closing for line in filled)
            rest = [line.arrival for line in incoming if line.arrival is not NO_BATCH]
            if doc.doc_type == RECEIPT:
                assert rest in ([doc.moment], []), doc.text
                assert not rest or doc.moment == max(labelled)
                checked["receipt"] += 1
            elif incoming:
                assert doc.doc_type == COUNT
                assert not rest or rest == [max(labelled)], \
                    "a count surplus fills the no-batch line, then the newest batch"
                checked["surplus"] += 1
            checked["filled"] += bool(filled)
    assert checked["out"] and checked["receipt"] and checked["surplus"]
    assert bool(checked["no batch"]) == bool(checked["filled"]) == (sim.params.store_index is not None)


@pytest.mark.parametrize("sim", list(_simulations()), ids=lambda s: s.params.warehouse[-14:])
def test_postings_replay_to_the_same_documents(sim):
    """Every document is what posting its Posting onto the books before it gives (re-posting relies on it)."""
    for product in {d.product for d in sim.documents}:
        index = [i for i, d in enumerate(sim.documents) if d.product == product]
        opening = {b.arrival: b.closing for b in sim.opening_batches[product]}
        lines = replay(opening, [sim.postings[i] for i in index])
        assert lines == [sim.documents[i].lines for i in index], product


@pytest.mark.parametrize("sim", list(_simulations()), ids=lambda s: s.params.warehouse[-14:])
def test_after_a_count_books_equal_what_was_counted(sim):
    closing_of = {(d.product, d.number): d.closing for d in sim.documents if d.doc_type == COUNT}
    assert len(closing_of) == len(sim.counts)
    for count in sim.counts:
        assert closing_of[(count.product, count.doc_number)] / 1000 == pytest.approx(count.counted_kg, abs=1e-9)
    errors = {(e.product, e.doc_number) for e in sim.errors}
    honest = [c for c in sim.counts if (c.product, c.doc_number) not in errors]
    noise = [abs(c.counted_kg - c.physical_kg - c.weighing_noise_kg - c.proportional_noise_kg) for c in honest
             if c.counted_kg > 0]
    assert max(noise) <= 0.0005 + 1e-9


def test_shared_documents_share_number_and_time():
    sim = simulate_store(weeks=2, products=12, seed=3)
    moments = defaultdict(set)
    for doc in sim.documents:
        moments[(doc.doc_type, doc.number)].add(doc.moment)
    assert all(len(m) == 1 for m in moments.values())
    # one sales report a day and one count a week, store-wide
    assert len({n for t, n in moments if t == "Отчет отдела о розничных продажах"}) <= 14
    assert len({n for t, n in moments if t == COUNT}) <= 2


def test_realistic_chain_numbers_documents_chain_wide():
    """One 1C base: a document number means one document across the stores."""
    chain = realistic_chain()
    owners = defaultdict(set)
    for s, store in enumerate(chain.stores):
        for doc in store.documents:
            owners[(doc.doc_type, doc.number)].add((s, doc.moment))
    assert all(len(o) == 1 for o in owners.values())

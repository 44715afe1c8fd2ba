"""Ground truth, determinism and the physics of the simulated store."""

from __future__ import annotations

import json
from datetime import date

import pytest

from shrinkage.demo.catalogue import CATALOGUE, TYPE_PROFILES, pick_products
from shrinkage.demo.simulation import COUNT, ERROR_KINDS, simulate_store
from shrinkage.demo.writer import GROUND_TRUTH_FILE, HEADER_ROWS, main_demo_data, write_statements
from shrinkage.products import classify
from tests.demo_helpers import default_simulation, exposure_by_product, read_sheet, small_simulation


def test_catalogue_names_classify_to_their_type():
    for item in CATALOGUE:
        assert classify(item.name).name == item.product_type, item.name
    assert {item.product_type for item in pick_products(30)} == set(TYPE_PROFILES)
    assert any(item.name != item.name.rstrip() for item in CATALOGUE)
    assert any('"' in item.name for item in CATALOGUE) and any("/" in item.name for item in CATALOGUE)


def test_more_products_than_the_catalogue_get_numbered_variants():
    items = pick_products(2 * len(CATALOGUE) + 3)
    names = [i.name for i in items]
    assert len(set(names)) == len(names)
    assert f"{CATALOGUE[0].name} №2" in names and f"{CATALOGUE[2].name} №3" in names
    assert all(classify(i.name).name == i.product_type for i in items)


def test_same_seed_same_store_other_seed_other_store():
    a, b = simulate_store(weeks=3, products=10, seed=7), simulate_store(weeks=3, products=10, seed=7)
    assert a.documents == b.documents and a.statements == b.statements
    assert a.ground_truth() == b.ground_truth()
    c = simulate_store(weeks=3, products=10, seed=8)
    assert c.documents != a.documents
    assert c.ground_truth()["products"] != a.ground_truth()["products"]


def test_written_files_are_deterministic(tmp_path):
    first = main_demo_data(tmp_path / "a", weeks=2, products=6, seed=5)
    second = main_demo_data(tmp_path / "b", weeks=2, products=6, seed=5)
    assert [p.name for p in first] == [p.name for p in second]
    for x, y in zip(first, second):
        if x.suffix == ".xlsx":
            assert read_sheet(x) == read_sheet(y)
        else:
            assert x.read_text(encoding="utf-8") == y.read_text(encoding="utf-8")


def test_a_products_truth_does_not_depend_on_how_many_products_there_are():
    few = simulate_store(weeks=1, products=5, seed=2).ground_truth()["products"]
    many = simulate_store(weeks=1, products=20, seed=2).ground_truth()["products"]
    assert many[:5] == few


def test_ground_truth_json(tmp_path):
    sim = small_simulation()
    write_statements(sim, tmp_path)
    truth = json.loads((tmp_path / GROUND_TRUTH_FILE).read_text(encoding="utf-8"))
    assert truth["seed"] == 1
    assert truth["parameters"]["weeks"] == 3 and truth["parameters"]["products"] == 14
    assert truth["parameters"]["start"] == "2025-03-03" and truth["parameters"]["end"] == "2025-03-23"
    names = [p["name"] for p in truth["products"]]
    assert len(names) == 14 and len(set(names)) == 14
    in_files = set()
    for entry in truth["statements"]:
        for name in entry["files"]:
            in_files |= {r[0] for r in read_sheet(tmp_path / name)[HEADER_ROWS:]}
    assert set(names) <= in_files
    for product in truth["products"]:
        profile = TYPE_PROFILES[product["product_type"]]
        assert profile.a[0] <= product["a"] <= profile.a[1]
        assert profile.b[0] <= product["b"] <= profile.b[1]
        assert profile.c[0] <= product["c"] * (1 + 1e-6) and product["c"] <= profile.c[1] * (1 + 1e-6)
        assert product["product_type_code"] == classify(product["name"]).code
        if product["product_type"] == "seafood":
            assert 0.04 <= product["surplus_rate"] <= 0.10
    assert len(truth["errors"]) == 1
    error = truth["errors"][0]
    assert error["kind"] in ERROR_KINDS and len(error["doc_number"]) == 15
    assert error["booked_shortage_kg"] == pytest.approx(error["book_kg"] - error["counted_kg"], abs=1e-9)
    assert error["error_kg"] == pytest.approx(error["counted_kg"] - error["physical_kg"], abs=1e-6)
    assert "next count" in truth["error_propagation"]
    assert truth["counts"] and all(len(c["doc_number"]) == 15 for c in truth["counts"])


def test_keying_errors_show_in_the_statement_and_are_reversed_at_the_next_count():
    sim = simulate_store(weeks=8, products=20, seed=11, errors=4, surplus=False)  # no glaze at the reversal
    assert len(sim.errors) == 4
    counts = {(d.product, d.number): d for d in sim.documents if d.doc_type == COUNT}
    for error in sim.errors:
        doc = counts[(error.product, error.doc_number)]
        assert doc.moment == error.doc_datetime
        assert (doc.outgoing - doc.incoming) / 1000 == pytest.approx(error.booked_shortage_kg, abs=1e-9)
        assert abs(error.error_kg) >= 0.1
        reversal = counts[(error.product, error.reversed_by_doc_number)]
        later = [d for d in counts.values() if d.product == error.product and d.moment > error.doc_datetime]
        assert reversal == min(later, key=lambda d: d.moment)
        # the next count books the error reversed plus the (small, positive) natural loss since
        natural = (reversal.outgoing - reversal.incoming) / 1000 - error.error_kg
        assert 0 <= natural <= 0.08 * reversal.opening / 1000 + 0.01, (error, natural)


def test_no_errors_means_every_count_books_the_true_shortage():
    sim = simulate_store(weeks=4, products=12, seed=4, errors=0)
    assert sim.errors == ()
    assert all(c.booked_shortage_kg == pytest.approx(c.true_shortage_kg, abs=0.0006) for c in sim.counts)


@pytest.mark.parametrize("surplus", [False, True])
def test_count_shortages_match_the_exposure_model(surplus):
    """docs/DOMAIN.md's E[shortage] from book balances and the true S reproduces the counts."""
    sim = simulate_store(errors=0, surplus=surplus)
    exposures = exposure_by_product(sim)
    with_surplus = 0
    for truth in sim.products:
        e = exposures[truth.name]
        assert e.observed_kg == pytest.approx(e.expected_kg, rel=0.04, abs=0.01), truth.name
        with_surplus += truth.surplus_rate > 0
        if truth.surplus_rate > 0.04:
            assert e.observed_kg < 0, "glaze shows as a count surplus"
    assert (with_surplus > 0) == surplus


def test_keying_errors_cancel_over_the_product_history():
    sim = default_simulation()
    assert len(sim.errors) == 3
    exposures = exposure_by_product(sim)
    for error in sim.errors:
        e = exposures[error.product]
        assert e.observed_kg == pytest.approx(e.expected_kg, rel=0.04, abs=0.01 + 0.002 * abs(error.error_kg))


def test_plausible_magnitudes():
    for truth in default_simulation().products:
        s = truth.curve
        if truth.product_type in ("dried", "cold_smoked", "hot_smoked", "smoked"):
            assert 0.02 <= s(14) <= 0.12, truth.name
        elif truth.product_type == "chilled":
            assert s(10) < 0.01, truth.name
        elif truth.product_type == "frozen":
            assert 0.001 <= s(30) <= 0.003 and 0.0006 <= s(60) - s(30) <= 0.0015, truth.name
        assert s(400) < 0.5


def test_start_snaps_to_monday_and_bad_arguments_fail():
    sim = simulate_store(weeks=1, products=3, start=date(2025, 3, 6))
    assert sim.params.start == date(2025, 3, 3)
    with pytest.raises(ValueError, match="weeks"):
        simulate_store(weeks=0)
    with pytest.raises(ValueError, match="products"):
        simulate_store(products=0)


def test_twelve_weeks_of_thirty_products_write_twelve_statements_and_the_truth(tmp_path):
    paths = main_demo_data(tmp_path, weeks=12, products=30, seed=0)
    assert len(paths) == 13
    assert sorted(p.suffix for p in paths) == [".json"] + [".xlsx"] * 12

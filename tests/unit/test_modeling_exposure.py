"""Exposure: segments of constant book balance between counts, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shrinkage.modeling.curves import make_family
from shrinkage.modeling.exposure import ProductExposure, build_exposure
from tests.modeling_helpers import dried_products, hand_movements, simulate


def _linear(a):
    return make_family("linear", {"a": a})


def _piece(K, a0, a1, a=0.01):
    return K * a * (a1 - a0) / (1.0 - a * a0)


def test_counts_carry_observed_shortage_received_quantity_and_interval():
    ex = build_exposure(hand_movements())
    a = ex.counts[ex.counts["product"] == "A"].reset_index(drop=True)
    assert list(a["doc_number"]) == ["C1", "C2"]
    assert a["observed"].tolist() == pytest.approx([0.15, 0.1])
    assert a["received"].tolist() == pytest.approx([15.0, 0.0])
    assert a["interval_start"].tolist() == [pd.Timestamp("2025-03-01"), pd.Timestamp("2025-03-05")]
    assert a["interval_end"].tolist() == [pd.Timestamp("2025-03-05"), pd.Timestamp("2025-03-08")]
    assert a["usable"].all() and not a["partial_start"].any()


def test_expected_shortage_sums_segments_by_hand():
    ex = build_exposure(hand_movements())
    pe = ex.product("A")
    curve = _linear(0.01)
    # count 1: b1 10 kg for days 0-2, 6 kg days 2-4 (two documents, one merged segment),
    # b2 5 kg days 0-1; minus r * 15 kg received
    first = _piece(10, 0, 2) + _piece(6, 2, 4) + _piece(5, 0, 1) - 0.02 * 15
    # count 2: b1 5.8 kg days 4-6; b2 5.05 kg days 1-3, then 4.05 kg days 3-4
    second = _piece(5.8, 4, 6) + _piece(5.05, 1, 3) + _piece(4.05, 3, 4)
    got = pe.expected_shortage(curve, curve.theta_, 0.02)
    assert got == pytest.approx([first, second], rel=1e-12)
    assert len(pe.K) == 6  # the two untouched 6 kg stretches of b1 were merged


def test_pending_period_and_stock_on_hand_after_last_count():
    ex = build_exposure(hand_movements())
    K, a0, a1 = ex.pending_segments("A")
    assert K.tolist() == pytest.approx([3.95]) and a0.tolist() == [4.0] and a1.tolist() == [5.0]
    stock = ex.on_hand[ex.on_hand["product"] == "A"]
    assert stock["quantity"].tolist() == pytest.approx([2.95])
    assert stock["age_days"].tolist() == pytest.approx([5.0])


def test_first_count_with_stock_before_the_data_is_dropped_or_kept_on_request():
    dropped = build_exposure(hand_movements())
    row = dropped.counts[dropped.counts["product"] == "B"].iloc[0]
    assert row["partial_start"] and not row["usable"]
    assert dropped.product("B").n_counts == 0

    kept = build_exposure(hand_movements(), first_count_policy="from_data_start")
    pe = kept.product("B")
    assert pe.n_counts == 1
    # exposure only from the first document (2 March, age 10 days): its 2 kg closing until
    # the count on 5 March (age 13); what happened before the data is unknown
    curve = _linear(0.01)
    want = _piece(2.0, 10, 13)
    assert pe.expected_shortage(curve, curve.theta_) == pytest.approx([want])


def test_unlabelled_batches_age_from_first_document_and_are_flagged():
    ex = build_exposure(hand_movements())
    row = ex.counts[ex.counts["product"] == "C"].iloc[0]
    assert row["unlabelled"] and row["usable"]
    pe = ex.product("C")
    assert pe.age_start.tolist() == [0.0] and pe.age_end.tolist() == [2.0]
    assert not ex.counts[ex.counts["product"] == "A"]["unlabelled"].any()


def test_vectorised_sums_match_a_plain_loop_on_a_simulated_store():
    sim = simulate(dried_products(3), weeks=6, seed=5)
    ex = build_exposure(sim.movements)
    curve = make_family("exp_linear", {"a": 0.03, "b": 0.2, "c": 0.0005})
    for product in ex.products:
        pe = ex.product(product)
        loop = np.zeros(pe.n_counts)
        for K, a0, a1, k in zip(pe.K, pe.age_start, pe.age_end, pe.segment_count):
            s0, s1 = curve.predict(np.array([a0, a1]))
            loop[k] += K * (s1 - s0) / (1 - s0)
        assert pe.exposure_loss(curve, curve.theta_) == pytest.approx(loop, rel=1e-10)
        # with the true S the expectation tracks the observed shortages closely
        assert np.corrcoef(loop, pe.observed)[0, 1] > 0.95


def test_jacobian_matches_finite_differences():
    sim = simulate(dried_products(1), weeks=4, seed=2)
    pe = build_exposure(sim.movements).product("P000")
    curve = make_family("exp_linear")
    theta = np.array([0.03, 0.2, 0.0005])
    jac = pe.exposure_jacobian(curve, theta)
    for j in range(3):
        step = np.zeros(3)
        step[j] = 1e-7 * max(theta[j], 1e-3)
        numeric = (pe.exposure_loss(curve, theta + step)
                   - pe.exposure_loss(curve, theta - step)) / (2 * step[j])
        assert jac[:, j] == pytest.approx(numeric, rel=1e-4, abs=1e-9)


def test_concat_and_subset_keep_counts_and_segments_together():
    ex = build_exposure(hand_movements(), first_count_policy="from_data_start")
    parts = [ex.product(p) for p in ("A", "B")]
    pooled = ProductExposure.concat(parts)
    curve = _linear(0.01)
    separate = np.concatenate([p.exposure_loss(curve, curve.theta_) for p in parts])
    assert pooled.exposure_loss(curve, curve.theta_) == pytest.approx(separate)
    assert pooled.count_product.tolist() == [0, 0, 1]
    only_second = pooled.subset(np.array([False, True, True]))
    assert only_second.exposure_loss(curve, curve.theta_) == pytest.approx(separate[1:])


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="batch_arrival"):
        build_exposure(hand_movements().drop(columns=["batch_arrival"]))

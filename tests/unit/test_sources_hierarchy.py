"""Group / product disambiguation by sums (no outline levels in 1C files)."""

from __future__ import annotations

import pytest

from shrinkage.sources.hierarchy import nest_rows

TOL = 0.0015
STATIC_10 = (10.0, 0.0, 0.0, 10.0)


def test_certain_group_owns_rows_until_their_sum_matches():
    totals = [(20, 5, 5, 20), (0, 5, 5, 0), STATIC_10, STATIC_10, (1, 1, 0, 2)]
    roles = ["group", "leaf", "either", "either", "leaf"]
    nesting = nest_rows(totals, roles, (21, 6, 5, 22), TOL)
    assert nesting.exact
    assert nesting.parent == [-1, 0, 0, 0, -1]
    # the first static row could be a "group" of the second (equal totals), but then the
    # enclosing group would be 10 kg short: the search rejects that reading
    assert nesting.is_group == [True, False, False, False, False]


@pytest.mark.parametrize("target, parents, groups", [
    ((13, 1, 0, 14), [-1, 0, -1], [True, False, False]),    # static group with its one product
    ((23, 1, 0, 24), [-1, -1, -1], [False, False, False]),  # two static products side by side
])
def test_static_rows_are_decided_by_the_enclosing_total(target, parents, groups):
    nesting = nest_rows([STATIC_10, STATIC_10, (3, 1, 0, 4)], ["either", "either", "leaf"], target, TOL)
    assert (nesting.parent, nesting.is_group, nesting.exact) == (parents, groups, True)


def test_nesting_three_levels_deep():
    leaf_a, leaf_b = (1.0, 2.0, 0.5, 2.5), (0.25, 0.0, 0.25, 0.0)
    inner = (1.25, 2.0, 0.75, 2.5)
    totals = [inner, inner, leaf_a, leaf_b, (3.0, 0, 0, 3.0)]
    roles = ["group", "group", "leaf", "leaf", "either"]
    outer_target = (4.25, 2.0, 0.75, 5.5)
    nesting = nest_rows(totals, roles, outer_target, TOL)
    assert nesting.parent == [-1, 0, 1, 1, -1]
    assert nesting.is_group == [True, True, False, False, False]


def test_broken_group_sum_falls_back_to_a_best_guess_without_false_groups():
    totals = [(20, 5, 5, 21), (0, 5, 5, 0), STATIC_10, STATIC_10, (1, 1, 0, 2)]  # group closing off by 1
    roles = ["group", "leaf", "either", "either", "leaf"]
    nesting = nest_rows(totals, roles, (21, 6, 5, 22), TOL)
    assert not nesting.exact
    assert nesting.parent == [-1, 0, 0, 0, -1]
    assert nesting.is_group == [True, False, False, False, False]


def test_wrong_target_still_gives_the_exact_tree_below_it():
    totals = [(5, 1, 1, 5), (5, 1, 1, 5), (2, 0, 0, 2)]
    nesting = nest_rows(totals, ["group", "leaf", "either"], (99, 1, 1, 99), TOL)
    assert (nesting.parent, nesting.is_group, nesting.exact) == ([-1, 0, -1], [True, False, False], False)


def test_flat_list_without_target_stays_flat():
    totals = [(4.1, 2, 1.986, 4.114), (10, 10, 10, 9.886), (1.5, 3, 0.7, 3.8)]
    nesting = nest_rows(totals, ["either"] * 3, None, TOL)
    assert nesting.parent == [-1, -1, -1] and not any(nesting.is_group)


def test_many_rows_are_handled_iteratively():
    n = 5000  # deeper than Python's recursion limit if the search recursed per row
    totals = [(1.0, 0.5, 0.25, 1.25)] * n
    nesting = nest_rows([(n * 1.0, n * 0.5, n * 0.25, n * 1.25)] + totals, ["group"] + ["leaf"] * n, None, TOL)
    assert nesting.exact and nesting.parent == [-1] + [0] * n


def test_long_run_of_identical_static_rows_stays_flat_when_the_total_says_so():
    rows = [(1.0, 0.0, 0.0, 1.0)] * 2000  # every row "could" be a group of the next one
    nesting = nest_rows(rows, ["either"] * len(rows), (2000.0, 0.0, 0.0, 2000.0), TOL)
    assert nesting.exact and not any(nesting.is_group)

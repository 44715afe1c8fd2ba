"""Rebuilding the group / product tree of a 1C report from its totals alone.

1C writes the grouping of a report as plain consecutive rows: no outline levels, no
indentation we can rely on. What the rows do carry is arithmetic: the four totals of a
group row (opening, incoming, outgoing, closing) are the sums of the rows directly under
it, and the warehouse row is the sum of the top level. This module recovers the nesting
from that fact.

The algorithm
-------------
Input: the "name rows" in file order (everything that is not a document or batch row),
each with its totals and a *role*:

* ``leaf``   - certainly a product (a batch-statement row followed by its documents);
* ``group``  - certainly a group (a batch-statement row with movements but no documents:
  a product that moved in the period always has documents, so only a group can show
  movement without them);
* ``either`` - undecided: a static row (in = out = 0, opening = closing) in a batch
  statement, or any row of a turnover statement.

A row that opens a group owns the contiguous rows after it until their totals add up to
its own. Children may themselves be groups, so "the rows after it" means *subtrees*.

1. ``group_ends[k]`` - the positions where a group opened at row ``k`` can end - is
   computed for every row that may be a group, from the last row backwards, so that the
   subtrees a scan needs are already known (no recursion, any file size). Each scan walks
   forward from ``k + 1`` carrying the still-unexplained remainder of row ``k``'s totals;
   at each position it may take the next row as a leaf or as a group (jumping to one of
   that row's ``group_ends``); a remainder within tolerance of zero is an end. A
   remainder that goes negative in a component where no row is negative is pruned, which
   keeps scans short (a group's children can never exceed it).
2. The same scan over the whole file with the warehouse totals as target (or with no
   target if the file has no warehouse/total row) must end exactly at the last row. The
   global target rejects a coincidental "group" (a static row followed by an equal one)
   whose would-be child is then missing from the sum. States are kept per (position,
   remainder), at most a few per position; a remainder larger than the sum of all rows
   still ahead can never close and is dropped; the whole search has a step budget.
3. If that fails only because the target itself is off (a damaged warehouse row), the
   same scan without a target still yields an exact tree below it.
4. If no complete parse exists - a broken group sum, a duplicated row - a greedy stack
   walk gives a best-effort tree: a certain group always opens a frame; an undecided row
   opens one only when its would-be children, taken as its siblings, would overshoot the
   enclosing group; a frame closes when its remainder reaches zero or when the next row
   would overshoot it. The result is flagged inexact and the caller's reconciliation
   reports every sum that does not hold, with row numbers.

All sums are done on integers (grams) so that equal sums are equal exactly.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

Role = Literal["leaf", "group", "either"]
Totals = tuple[float, float, float, float]

_SCALE = 1000  # grams per kg
_MAX_ENDS_PER_GROUP = 4
_MAX_STATES_PER_POSITION = 16
_STEP_BUDGET = 1_000_000


@dataclass(frozen=True)
class Nesting:
    """parent[i]: index of the group row directly above row i, -1 for the top level."""

    parent: list[int]
    is_group: list[bool]
    exact: bool  # True when every group (and the target) is exactly the sum of its children


class _BudgetExceeded(Exception):
    pass


def nest_rows(totals: Sequence[Totals], roles: Sequence[Role], root_target: Totals | None,
              tolerance_kg: float) -> Nesting:
    """Assign each name row its parent group; see the module docstring for the method."""
    n = len(totals)
    if n == 0:
        return Nesting([], [], True)
    tol = max(1, int(tolerance_kg * _SCALE + 1e-9))
    units = [_to_units(t) for t in totals]
    prunable = tuple(all(u[c] >= -tol for u in units) for c in range(4))
    solver = _Solver(units, list(roles), tol, prunable)
    try:
        solver.compute_group_ends()
        target = _to_units(root_target) if root_target is not None else None
        result = solver.parse_root(target)
        if result is None and target is not None:
            # Only the target itself may be wrong (a damaged warehouse row): the tree
            # below it can still be exact. Flag it as inexact so the caller reconciles.
            free = solver.parse_root(None)
            result = Nesting(free.parent, free.is_group, False) if free is not None else None
    except _BudgetExceeded:
        log.warning("hierarchy search gave up after %d steps on %d rows; using the greedy walk",
                    _STEP_BUDGET, n)
        result = None
    if result is not None:
        return result
    return solver.greedy(_to_units(root_target) if root_target is not None else None)


def _to_units(t: Totals) -> tuple[int, int, int, int]:
    return tuple(0 if (v is None or math.isnan(v)) else round(v * _SCALE) for v in t)  # type: ignore[return-value]


class _Solver:
    def __init__(self, units: list[tuple[int, int, int, int]], roles: list[Role], tol: int,
                 prunable: tuple[bool, ...]):
        self.units = units
        self.roles = roles
        self.tol = tol
        self.prunable = prunable
        self.n = len(units)
        self.group_ends: list[list[int]] = [[] for _ in range(self.n)]
        # For group k: {end: [(child_start, child_end), ...]} — one decomposition per end.
        self.children: list[dict[int, list[tuple[int, int]]]] = [{} for _ in range(self.n)]
        self.steps = 0
        # suffix[k]: sum of rows k.. — a remainder larger than what is left can never close.
        suffix = [(0, 0, 0, 0)] * (self.n + 1)
        for k in range(self.n - 1, -1, -1):
            u, t = units[k], suffix[k + 1]
            suffix[k] = (t[0] + max(u[0], 0), t[1] + max(u[1], 0), t[2] + max(u[2], 0), t[3] + max(u[3], 0))
        self.suffix = suffix

    # -- exact search -------------------------------------------------------------------
    def compute_group_ends(self) -> None:
        for k in range(self.n - 1, -1, -1):
            if self.roles[k] == "leaf":
                continue
            found = self._scan(k + 1, self.units[k], stop_at_first_ends=_MAX_ENDS_PER_GROUP)
            for end, chain in found.items():
                self.group_ends[k].append(end)
                self.children[k][end] = chain

    def parse_root(self, target: tuple[int, ...] | None) -> Nesting | None:
        found = self._scan(0, target, stop_at_first_ends=1, require_end=self.n)
        if self.n not in found:
            return None
        parent = [-1] * self.n
        is_group = [False] * self.n
        pending = [(-1, found[self.n])]
        while pending:
            owner, chain = pending.pop()
            for start, end in chain:
                parent[start] = owner
                if end > start + 1:
                    is_group[start] = True
                    pending.append((start, self.children[start][end]))
        return Nesting(parent, is_group, True)

    def _zero(self, r: tuple[int, ...]) -> bool:
        tol = self.tol
        return -tol <= r[0] <= tol and -tol <= r[1] <= tol and -tol <= r[2] <= tol and -tol <= r[3] <= tol

    def _overshoots(self, r: tuple[int, ...]) -> bool:
        tol = self.tol
        p = self.prunable
        return (p[0] and r[0] < -tol) or (p[1] and r[1] < -tol) or (p[2] and r[2] < -tol) or (p[3] and r[3] < -tol)

    def _out_of_reach(self, r: tuple[int, ...], pos: int) -> bool:
        left = self.suffix[pos]
        tol = self.tol
        p = self.prunable
        return ((p[0] and r[0] > left[0] + tol) or (p[1] and r[1] > left[1] + tol)
                or (p[2] and r[2] > left[2] + tol) or (p[3] and r[3] > left[3] + tol))

    def _scan(self, start: int, target: tuple[int, ...] | None, stop_at_first_ends: int,
              require_end: int | None = None) -> dict[int, list[tuple[int, int]]]:
        """Forward search for runs of subtrees from ``start`` that sum to ``target``.

        Returns {end position: [(subtree start, subtree end), ...]} for up to
        ``stop_at_first_ends`` ends, nearest first. With ``target`` None the sum is free
        and only ``require_end`` counts as an end.
        """
        n = self.n
        free = target is None
        first = (0, 0, 0, 0) if free else target
        # came_from[(pos, remainder)] = (previous pos, previous remainder) or None at start
        came_from: dict[tuple, tuple | None] = {(start, first): None}
        pending: dict[int, list[tuple[int, ...]]] = {start: [first]}
        heap = [start]
        ends: dict[int, list[tuple[int, int]]] = {}
        while heap:
            pos = heapq.heappop(heap)
            for remainder in pending.pop(pos):
                self.steps += 1
                if self.steps > _STEP_BUDGET:
                    raise _BudgetExceeded
                if require_end is not None:
                    done = pos == require_end and (free or self._zero(remainder))
                else:
                    done = pos > start and self._zero(remainder)
                if done:
                    if pos not in ends:
                        ends[pos] = self._chain(came_from, pos, remainder)
                        if len(ends) >= stop_at_first_ends:
                            return ends
                    continue
                if pos >= n or (require_end is None and self._zero(remainder)):
                    continue
                u = self.units[pos]
                role = self.roles[pos]
                # With a target, try the row as a leaf first: the state cap then never
                # drops the plain reading. Without one, groups first, or no group would
                # ever be seen (the all-leaf reading always "fits" a free sum).
                options = list(self.group_ends[pos]) if role != "leaf" else []
                if role != "group":
                    if free:
                        options.append(pos + 1)
                    else:
                        options.insert(0, pos + 1)
                for end in options:
                    if free:
                        nxt = (remainder[0] + u[0], remainder[1] + u[1], remainder[2] + u[2], remainder[3] + u[3])
                    else:
                        nxt = (remainder[0] - u[0], remainder[1] - u[1], remainder[2] - u[2], remainder[3] - u[3])
                        if self._overshoots(nxt) or self._out_of_reach(nxt, end):
                            continue
                    key = (end, nxt)
                    if key in came_from:
                        continue
                    bucket = pending.get(end)
                    if bucket is None:
                        bucket = pending[end] = []
                        heapq.heappush(heap, end)
                    if len(bucket) < _MAX_STATES_PER_POSITION:
                        bucket.append(nxt)
                        came_from[key] = (pos, remainder)
        return ends

    @staticmethod
    def _chain(came_from: dict, pos: int, remainder: tuple) -> list[tuple[int, int]]:
        chain = []
        step = came_from[(pos, remainder)]
        while step is not None:
            prev_pos, prev_remainder = step
            chain.append((prev_pos, pos))
            pos, remainder = prev_pos, prev_remainder
            step = came_from[(pos, remainder)]
        chain.reverse()
        return chain

    # -- best effort --------------------------------------------------------------------
    def greedy(self, target: tuple[int, ...] | None) -> Nesting:
        n = self.n
        parent = [-1] * n
        is_group = [False] * n
        stack: list[list] = [[-1, target]]  # frames: [owner row, remainder or None]
        for i in range(n):
            u = self.units[i]
            while len(stack) > 1 and self._overshoots(_minus(stack[-1][1], u)):
                stack.pop()
            top = stack[-1]
            before = top[1]
            parent[i] = top[0]
            if before is not None:
                top[1] = _minus(before, u)
            role = self.roles[i]
            if role == "group" or (role == "either" and self._greedy_opens(i, before)):
                is_group[i] = True
                stack.append([i, u])
                continue
            while len(stack) > 1 and self._zero(stack[-1][1]):
                stack.pop()
        return Nesting(parent, is_group, False)

    def _greedy_opens(self, i: int, parent_remainder: tuple[int, ...] | None) -> bool:
        """An undecided row opens a group only if its would-be children, taken as its
        siblings instead, would overshoot the enclosing group; otherwise it stays a leaf,
        so that a broken sum elsewhere does not swallow real products into false groups."""
        if not self.group_ends[i] or parent_remainder is None:
            return False
        end = self.group_ends[i][0]
        remainder = parent_remainder
        for k in range(i, end):
            remainder = _minus(remainder, self.units[k])
        return self._overshoots(remainder)


def _minus(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, int, int, int]:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3])

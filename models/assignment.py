"""Strategic accounts to managers of their region: a min-cost flow (OR-Tools), not a greedy loop.

The problem, per region
-----------------------
Each strategic account goes to one active manager of its region; manager m takes at most
`capacity_m` accounts. If the region has more accounts than capacity, the accounts with the
lowest expected value are left unassigned (the shortfall, reported per region; the tier stage
moves them to the next tier). Among the complete assignments of the rest, the solver minimises

    balance cost  -  continuity bonus.

*Balance.* The accounts of a region are cut into `value_bands` bands of expected value (equal
counts, best first), each with a weight W_b = its mean value over the region's mean value. A
book is a row of slots: the k-th slot of manager m has the fill level L_mk = k / capacity_m.
An account of band b in slot k costs W_b * L_mk: filling a book gets more expensive the fuller
it is (an increasing marginal cost per slot, so the cost of a book is convex in its size), and
more so for valuable accounts. By the rearrangement inequality the optimum pairs the most
valuable accounts with the emptiest books: the first slots of every book go to the top band,
and so on down, so each book receives a cross-section of the region's values and the expected
value of the books ends up in proportion to their capacity.

*Continuity.* An account whose current manager is an active manager of its region saves
`continuity_bonus * W_b` (in units of W_b times a full book) when it stays with that manager:
with a bonus of 1 or more a relationship is always kept when the book has room; with 0.25 it
is kept unless that puts it a quarter of a book higher than the balance would.

Costs are integers (OR-Tools works in int64): W_b and L_mk are scaled and rounded separately
so that the product form, and with it the rearrangement argument, holds exactly. The network:
band hubs (supply = accounts of the band without a current manager), one node per account with
a current manager (supply 1; an arc to its manager's band node with the bonus as negative cost,
and an arc to its hub), arcs hub -> (manager, band) node, arcs (manager, band) -> each slot of
that manager with cost W_b * L_mk, and slot -> sink with capacity 1. `assignment_cost`
evaluates the same objective for any assignment, which the tests check against brute force.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow

from features.contract import (
    ACTIVE,
    CAPACITY,
    CURRENT_MANAGER_ID,
    CUSTOMER_ID,
    MANAGER_ID,
    MANAGERS,
    REGION,
)
from models.columns import ACCOUNTS, EXPECTED_VALUE, KEPT_MANAGER, UNASSIGNED
from models.tier_policy import AssignmentPolicy

__all__ = [
    "AssignmentResult",
    "assign_managers",
    "assignment_cost",
]

_WEIGHT_SCALE = 1000   # W_b as an integer
_LEVEL_SCALE = 10_000  # L_mk as an integer


@dataclass(frozen=True)
class AssignmentResult:
    """`assignments`: customer_id, region, manager_id (NA when unassigned), kept_manager.
    `books`: per manager: manager_id, region, capacity, accounts, expected_value.
    `shortfall`: per region: region, accounts, capacity, unassigned. `cost`: the objective."""

    assignments: pd.DataFrame
    books: pd.DataFrame
    shortfall: pd.DataFrame
    cost: int


@dataclass(frozen=True)
class _Region:
    """One region's problem: accounts kept (within capacity) with their band, and the costs."""

    ids: np.ndarray
    band: np.ndarray          # band of each kept account
    current: np.ndarray       # index of the current manager in `managers`, -1 if none
    dropped: np.ndarray       # ids over capacity
    managers: np.ndarray      # manager ids
    capacity: np.ndarray
    weight: np.ndarray        # integer W_b per band
    bonus: np.ndarray         # integer bonus per band

    def level(self, m: int) -> np.ndarray:
        """Integer fill levels L_mk of manager m's slots k = 1..capacity."""
        cap = int(self.capacity[m])
        return np.rint(_LEVEL_SCALE * np.arange(1, cap + 1) / cap).astype(np.int64)


def _check(accounts: pd.DataFrame, managers: pd.DataFrame) -> None:
    for frame, name, columns in (
        (accounts, ACCOUNTS, (CUSTOMER_ID, REGION, EXPECTED_VALUE)),
        (managers, MANAGERS, (MANAGER_ID, REGION, CAPACITY)),
    ):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks column(s) {missing}")
    if accounts[CUSTOMER_ID].duplicated().any():
        raise ValueError(f"{ACCOUNTS}: {CUSTOMER_ID} must be unique")
    if managers[MANAGER_ID].duplicated().any():
        raise ValueError(f"{MANAGERS}: {MANAGER_ID} must be unique")


def _region(accounts: pd.DataFrame, managers: pd.DataFrame, policy: AssignmentPolicy) -> _Region:
    managers = managers[managers[CAPACITY] > 0]
    order = accounts.assign(_ev=accounts[EXPECTED_VALUE].astype(float)).sort_values(
        ["_ev", CUSTOMER_ID], ascending=[False, True], kind="stable")
    capacity_total = int(managers[CAPACITY].sum())
    kept, dropped = order.iloc[:capacity_total], order.iloc[capacity_total:]
    n = len(kept)
    n_bands = max(1, min(policy.value_bands, n))
    band = (np.arange(n) * n_bands) // max(n, 1)
    values = kept["_ev"].to_numpy()
    band_size = np.bincount(band, minlength=n_bands)
    band_mean = np.bincount(band, weights=values, minlength=n_bands) / np.maximum(band_size, 1)
    overall = values.mean() if n else 0.0
    ratio = band_mean / overall if overall > 0 else np.ones(n_bands)
    weight = np.maximum(np.rint(_WEIGHT_SCALE * ratio), 1).astype(np.int64)
    manager_ids = managers[MANAGER_ID].to_numpy(dtype=object)
    position = {m: i for i, m in enumerate(manager_ids)}
    if CURRENT_MANAGER_ID in kept.columns:
        current = np.array([position.get(m, -1) if isinstance(m, str) else -1
                            for m in kept[CURRENT_MANAGER_ID]], dtype=np.int64)
    else:
        current = np.full(n, -1, dtype=np.int64)
    return _Region(
        ids=kept[CUSTOMER_ID].to_numpy(dtype=object), band=band, current=current,
        dropped=dropped[CUSTOMER_ID].to_numpy(dtype=object), managers=manager_ids,
        capacity=managers[CAPACITY].to_numpy(dtype=np.int64), weight=weight,
        bonus=np.rint(policy.continuity_bonus * _LEVEL_SCALE * weight).astype(np.int64),
    )


def _solve(problem: _Region) -> tuple[np.ndarray, int]:
    """Index of the manager of each kept account, and the optimal cost."""
    n, n_bands, n_managers = len(problem.ids), len(problem.weight), len(problem.managers)
    if n == 0:
        return np.empty(0, dtype=np.int64), 0
    continuity = np.flatnonzero(problem.current >= 0)
    n_cont = len(continuity)
    cont_node = n_bands + np.arange(n_cont)
    mb_base = n_bands + n_cont
    slot_base = mb_base + n_managers * n_bands
    slot_start = slot_base + np.concatenate([[0], np.cumsum(problem.capacity)[:-1]])
    sink = slot_base + int(problem.capacity.sum())

    tails, heads, caps, costs = [], [], [], []

    def add(tail, head, capacity, cost) -> None:
        tail = np.asarray(tail, dtype=np.int64).ravel()

        def fit(values) -> np.ndarray:  # a scalar or an array of the tails' size, as 1-D
            values = np.asarray(values, dtype=np.int64)
            return values.ravel() if values.size == tail.size else np.full(tail.size, values)

        tails.append(tail)
        heads.append(fit(head))
        caps.append(fit(capacity))
        costs.append(fit(cost))

    m_grid, b_grid = np.meshgrid(np.arange(n_managers), np.arange(n_bands), indexing="ij")
    add(b_grid, mb_base + m_grid * n_bands + b_grid, n, 0)          # hub -> (m, b): arcs 0..
    cont_band, cont_mgr = problem.band[continuity], problem.current[continuity]
    add(cont_node, cont_band, 1, 0)                                   # account -> its hub
    direct_start = n_managers * n_bands + n_cont
    add(cont_node, mb_base + cont_mgr * n_bands + cont_band, 1,       # -> its own manager
        -problem.bonus[cont_band])
    for m in range(n_managers):                                       # (m, b) -> slot k
        level = problem.level(m)
        slots = slot_start[m] + np.arange(len(level))
        add(np.repeat(mb_base + m * n_bands + np.arange(n_bands), len(level)),
            np.tile(slots, n_bands), 1, np.outer(problem.weight, level).ravel())
    add(slot_base + np.arange(sink - slot_base), sink, 1, 0)         # slot -> sink

    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails), np.concatenate(heads), np.concatenate(caps), np.concatenate(costs))
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_bands] = np.bincount(np.delete(problem.band, continuity), minlength=n_bands)
    supplies[cont_node] = 1
    supplies[sink] = -n
    flow.set_nodes_supplies(np.arange(sink + 1), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow did not solve the assignment (status {status})")

    result = np.full(n, -1, dtype=np.int64)
    direct = flow.flows(np.arange(direct_start, direct_start + n_cont))
    result[continuity[direct == 1]] = cont_mgr[direct == 1]
    hub_flow = flow.flows(np.arange(n_managers * n_bands)).reshape(n_managers, n_bands)
    for b in range(n_bands):
        # accounts are in value order; interleave the managers' shares of the band so that
        # each book gets a cross-section of it (any order has the same cost: one band, one W_b)
        pool = np.flatnonzero((problem.band == b) & (result < 0))
        counts = hub_flow[:, b]
        targets = np.repeat(np.arange(n_managers), counts)
        spread = np.concatenate([(np.arange(c) + 0.5) / c for c in counts if c] or [[]])
        targets = targets[np.argsort(spread, kind="stable")]
        if len(targets) != len(pool):
            raise RuntimeError("min-cost flow left accounts without a manager")
        result[pool] = targets
    return result, int(flow.optimal_cost())


def _cost(problem: _Region, manager_index: np.ndarray) -> int:
    """The objective of an assignment (index of the manager of each kept account): in each
    book the heaviest accounts take the lowest slots, which is optimal by rearrangement."""
    total = 0
    for m in range(len(problem.managers)):
        weights = np.sort(problem.weight[problem.band[manager_index == m]])[::-1]
        total += int((weights * problem.level(m)[: len(weights)]).sum())
    kept = (problem.current >= 0) & (manager_index == problem.current)
    return total - int(problem.bonus[problem.band[kept]].sum())


def _prepare(accounts: pd.DataFrame, managers: pd.DataFrame):
    _check(accounts, managers)
    if ACTIVE in managers.columns:
        managers = managers[managers[ACTIVE].fillna(False).astype(bool)]
    regions = sorted(set(accounts[REGION].dropna()) | set(managers[REGION].dropna()))
    return managers, regions


def assign_managers(
    accounts: pd.DataFrame, managers: pd.DataFrame, policy: AssignmentPolicy
) -> AssignmentResult:
    """Assign each account (customer_id, region, expected_value[, current_manager_id]) to an
    active manager (manager_id, region, capacity[, active]) of its region; see the module
    docstring for the objective. Accounts beyond a region's capacity stay unassigned (lowest
    expected value first) and are counted in `shortfall`; none is dropped from the result."""
    managers, regions = _prepare(accounts, managers)
    rows, books, shortfall, cost = [], [], [], 0
    for region in regions:
        in_region = accounts[accounts[REGION] == region]
        region_managers = managers[managers[REGION] == region]
        problem = _region(in_region, region_managers, policy)
        chosen, region_cost = _solve(problem)
        cost += region_cost
        manager_of = problem.managers[chosen] if len(chosen) else np.empty(0, dtype=object)
        kept = (problem.current >= 0) & (chosen == problem.current)
        rows.append(pd.DataFrame({CUSTOMER_ID: problem.ids, REGION: region,
                                  MANAGER_ID: manager_of, KEPT_MANAGER: kept}))
        rows.append(pd.DataFrame({CUSTOMER_ID: problem.dropped, REGION: region,
                                  MANAGER_ID: None, KEPT_MANAGER: False}))
        value = in_region.set_index(CUSTOMER_ID)[EXPECTED_VALUE]
        for i, manager in enumerate(problem.managers):
            mine = problem.ids[chosen == i]
            books.append({MANAGER_ID: manager, REGION: region,
                          CAPACITY: int(problem.capacity[i]), ACCOUNTS: len(mine),
                          EXPECTED_VALUE: float(value.loc[mine].sum()) if len(mine) else 0.0})
        shortfall.append({REGION: region, ACCOUNTS: len(in_region),
                          CAPACITY: int(region_managers[CAPACITY].clip(lower=0).sum()),
                          UNASSIGNED: len(problem.dropped)})
    unplaced = accounts[accounts[REGION].isna()]
    if len(unplaced):
        rows.append(pd.DataFrame({CUSTOMER_ID: unplaced[CUSTOMER_ID].to_numpy(), REGION: None,
                                  MANAGER_ID: None, KEPT_MANAGER: False}))
        shortfall.append({REGION: None, ACCOUNTS: len(unplaced), CAPACITY: 0,
                          UNASSIGNED: len(unplaced)})
    assignments = (pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=[CUSTOMER_ID, REGION, MANAGER_ID, KEPT_MANAGER]))
    assignments[MANAGER_ID] = assignments[MANAGER_ID].astype("str").where(
        assignments[MANAGER_ID].notna(), None) if len(assignments) else assignments[MANAGER_ID]
    assignments[KEPT_MANAGER] = assignments[KEPT_MANAGER].astype(bool)
    return AssignmentResult(
        assignments=assignments,
        books=pd.DataFrame(books, columns=[MANAGER_ID, REGION, CAPACITY, ACCOUNTS,
                                           EXPECTED_VALUE]),
        shortfall=pd.DataFrame(shortfall, columns=[REGION, ACCOUNTS, CAPACITY, UNASSIGNED]),
        cost=cost,
    )


def assignment_cost(
    accounts: pd.DataFrame, managers: pd.DataFrame, manager_of: dict[str, str | None],
    policy: AssignmentPolicy,
) -> int:
    """The objective of any complete assignment `manager_of` (customer_id -> manager_id) of the
    accounts within capacity; accounts over a region's capacity must map to None."""
    managers, regions = _prepare(accounts, managers)
    total = 0
    for region in regions:
        problem = _region(accounts[accounts[REGION] == region],
                          managers[managers[REGION] == region], policy)
        position = {m: i for i, m in enumerate(problem.managers)}
        index = np.array([position[manager_of[c]] for c in problem.ids], dtype=np.int64)
        total += _cost(problem, index)
    return total

"""Manager assignment: capacity, region, continuity, balance, shortfall, and brute force."""

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.assignment import assign_managers, assignment_cost
from models.tier_policy import AssignmentPolicy


def accounts(values, regions, current=None) -> pd.DataFrame:
    ids = [f"C{i:02d}" for i in range(1, len(values) + 1)]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "region": regions,
            "expected_value": [float(v) for v in values],
            "current_manager_id": current or [None] * len(values),
        }
    )


def managers(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["manager_id", "region", "capacity", "active"])


def manager_of(result) -> dict:
    frame = result.assignments
    return {
        c: (m if isinstance(m, str) else None)
        for c, m in zip(frame["customer_id"], frame["manager_id"])
    }


def test_region_and_capacity_are_respected():
    acc = accounts([9, 8, 7, 6, 5], ["N", "N", "S", "S", "S"])
    man = managers([("M1", "N", 2, True), ("M2", "S", 1, True), ("M3", "S", 2, True)])
    result = assign_managers(acc, man, AssignmentPolicy())
    got = manager_of(result)
    assert {got["C01"], got["C02"]} == {"M1"}
    assert {got[c] for c in ("C03", "C04", "C05")} <= {"M2", "M3"}
    books = result.books.set_index("manager_id")["accounts"]
    assert books.to_dict() == {"M1": 2, "M2": 1, "M3": 2}


def test_continuity_keeps_current_manager_when_it_fits():
    acc = accounts([10, 10, 10, 10], ["N"] * 4, current=["M2", "M2", None, "M9"])
    man = managers([("M1", "N", 2, True), ("M2", "N", 2, True)])
    result = assign_managers(acc, man, AssignmentPolicy(continuity_bonus=1.0))
    got = manager_of(result)
    assert got["C01"] == got["C02"] == "M2" and got["C03"] == got["C04"] == "M1"
    assert result.assignments.set_index("customer_id")["kept_manager"].to_dict() == {
        "C01": True,
        "C02": True,
        "C03": False,
        "C04": False,
    }


def test_without_continuity_the_books_are_balanced_by_value():
    # two big and two small accounts all with M1: balance gives each manager one big, one small
    acc = accounts([100, 90, 10, 9], ["N"] * 4, current=["M1"] * 4)
    man = managers([("M1", "N", 4, True), ("M2", "N", 4, True)])
    result = assign_managers(acc, man, AssignmentPolicy(continuity_bonus=0, value_bands=2))
    got = manager_of(result)
    assert got["C01"] != got["C02"] and got["C03"] != got["C04"]


def test_shortfall_leaves_lowest_value_unassigned_and_reported():
    acc = accounts([5, 9, 7, 1], ["N"] * 4, current=[None, None, None, "M1"])
    man = managers([("M1", "N", 1, True), ("M2", "N", 1, True), ("M3", "N", 9, False)])
    result = assign_managers(acc, man, AssignmentPolicy())
    got = manager_of(result)
    assert got["C01"] is None and got["C04"] is None  # the two lowest values
    assert {got["C02"], got["C03"]} == {"M1", "M2"}  # inactive M3 takes nobody
    assert len(result.assignments) == 4  # none dropped from the result
    assert result.shortfall.to_dict("records") == [
        {"region": "N", "accounts": 4, "capacity": 2, "unassigned": 2}
    ]


def test_region_without_managers_is_all_shortfall():
    acc = accounts([5, 4], ["N", "W"])
    result = assign_managers(acc, managers([("M1", "N", 3, True)]), AssignmentPolicy())
    assert manager_of(result) == {"C01": "M1", "C02": None}
    assert result.shortfall.set_index("region")["unassigned"].to_dict() == {"N": 0, "W": 1}


def brute_force(acc, man, policy) -> int:
    """The minimum of the objective over every feasible complete assignment."""
    best = None
    ids = list(acc["customer_id"])
    options = {
        c: list(man.loc[man["region"] == r, "manager_id"])
        for c, r in zip(acc["customer_id"], acc["region"])
    }
    capacity = dict(zip(man["manager_id"], man["capacity"]))
    for choice in itertools.product(*(options[c] for c in ids)):
        counts = pd.Series(choice).value_counts()
        if any(counts[m] > capacity[m] for m in counts.index):
            continue
        cost = assignment_cost(acc, man, dict(zip(ids, choice)), policy)
        best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_solver_equals_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 7))
    man = managers(
        [
            ("M1", "N", int(rng.integers(1, 4)), True),
            ("M2", "N", int(rng.integers(1, 4)), True),
            ("M3", "S", int(rng.integers(2, 4)), True),
        ]
    )
    # regions drawn from the managers' slots, so every account is assignable
    slots = [r for r, c in zip(man["region"], man["capacity"]) for _ in range(c)]
    n = min(n, len(slots))
    regions = list(rng.choice(slots, n, replace=False))
    current = list(rng.choice(["M1", "M2", "M3", None], n))
    acc = accounts(rng.lognormal(3, 1, n).round(1), regions, current)
    policy = AssignmentPolicy(
        continuity_bonus=float(rng.choice([0.0, 0.5, 2.0])), value_bands=int(rng.integers(1, 4))
    )
    result = assign_managers(acc, man, policy)
    assert result.cost == assignment_cost(acc, man, manager_of(result), policy)
    assert result.cost == brute_force(acc, man, policy)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(0, 1e6), min_size=1, max_size=30),
    caps=st.lists(st.integers(0, 6), min_size=1, max_size=5),
    data=st.data(),
)
def test_invariants_capacity_region_and_nothing_dropped(values, caps, data):
    regions = data.draw(
        st.lists(st.sampled_from(["N", "S"]), min_size=len(values), max_size=len(values))
    )
    man_regions = data.draw(
        st.lists(st.sampled_from(["N", "S"]), min_size=len(caps), max_size=len(caps))
    )
    man = managers([(f"M{i}", r, c, True) for i, (r, c) in enumerate(zip(man_regions, caps))])
    current = data.draw(
        st.lists(
            st.sampled_from([None, *man["manager_id"]]), min_size=len(values), max_size=len(values)
        )
    )
    acc = accounts(values, regions, current)
    result = assign_managers(acc, man, AssignmentPolicy())
    frame = result.assignments
    assert sorted(frame["customer_id"]) == sorted(acc["customer_id"])
    placed = frame[frame["manager_id"].notna()]
    load = placed["manager_id"].value_counts()
    capacity = man.set_index("manager_id")["capacity"]
    assert all(load[m] <= capacity[m] for m in load.index)
    region_of = man.set_index("manager_id")["region"]
    assert (placed["manager_id"].map(region_of).to_numpy() == placed["region"].to_numpy()).all()
    for region, group in acc.groupby("region"):
        room = int(man.loc[man["region"] == region, "capacity"].sum())
        assert (frame["region"] == region).sum() == len(group)
        assert int(placed["region"].eq(region).sum()) == min(len(group), room)

"""Assignment on its edges: tied values at a region's capacity, managers without capacity or
of unknown activity, continuity with the region's first manager, and the size of the
continuity bonus (half a book)."""

import pandas as pd

from models.assignment import assign_managers
from models.tier_policy import AssignmentPolicy


def accounts(values, current=None, region="N") -> pd.DataFrame:
    ids = [f"C{i:02d}" for i in range(1, len(values) + 1)]
    return pd.DataFrame({
        "customer_id": ids, "region": region, "expected_value": [float(v) for v in values],
        "current_manager_id": current or [None] * len(values),
    })


def managers(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["manager_id", "region", "capacity", "active"])


def manager_of(result) -> dict:
    frame = result.assignments
    return {c: (m if isinstance(m, str) else None)
            for c, m in zip(frame["customer_id"], frame["manager_id"])}


def test_tied_values_at_the_capacity_edge_keep_the_smaller_id():
    result = assign_managers(accounts([5, 5, 5]), managers([("M1", "N", 2, True)]),
                             AssignmentPolicy())
    assert manager_of(result) == {"C01": "M1", "C02": "M1", "C03": None}
    assert result.shortfall.to_dict("records") == [
        {"region": "N", "accounts": 3, "capacity": 2, "unassigned": 1}
    ]


def test_managers_without_capacity_or_known_activity_take_no_book():
    man = managers([("M0", "N", 0, True), ("M1", "N", 2, True), ("M2", "N", 5, None)])
    result = assign_managers(accounts([9, 8, 7]), man, AssignmentPolicy())
    assert result.books["manager_id"].tolist() == ["M1"]
    assert manager_of(result) == {"C01": "M1", "C02": "M1", "C03": None}


def test_continuity_with_the_regions_first_manager():
    man = managers([("M1", "N", 2, True), ("M2", "N", 2, True)])
    acc = accounts([10, 10, 10, 10], current=["M1", "M1", None, None])
    result = assign_managers(acc, man, AssignmentPolicy(continuity_bonus=1.0))
    assert manager_of(result) == {"C01": "M1", "C02": "M1", "C03": "M2", "C04": "M2"}
    assert result.assignments["kept_manager"].tolist() == [True, True, False, False]


def test_a_bonus_of_half_a_book_keeps_relationships_up_to_half_a_book_above_balance():
    # four equal accounts with M1, two books of four slots: the balance alone splits them
    # 2 + 2; keeping a third with M1 costs a quarter of a book more than the balance and
    # saves the bonus (half a book); a fourth would cost half a book more: not worth it
    man = managers([("M1", "N", 4, True), ("M2", "N", 4, True)])
    acc = accounts([10, 10, 10, 10], current=["M1"] * 4)
    counts = {}
    for bonus in (0.0, 0.5, 1.0):
        result = assign_managers(acc, man, AssignmentPolicy(continuity_bonus=bonus))
        counts[bonus] = int(result.assignments["kept_manager"].sum())
    assert counts == {0.0: 2, 0.5: 3, 1.0: 4}

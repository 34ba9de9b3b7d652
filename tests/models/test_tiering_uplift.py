"""rank_by uplift and value_uplift: strategic slots by the manager's estimated gain, accounts
outside overlap never above accounts inside it, ties, capacity and continuity kept."""

import numpy as np
import pandas as pd
import pytest

from models.columns import GAIN_NOTE, IN_OVERLAP, MANAGER_GAIN, RANK_SCORE
from models.tier_policy import StrategicTier, TierBar, TierPolicy
from models.tiering import assign_tiers, decide, rank_order, rank_score


def policy(**changes) -> TierPolicy:
    base = dict(strategic=StrategicTier(min_bar=0.7, keep_bar=0.5, capacity_without_managers=2),
                tiers=(TierBar(name="key", min_bar=0.4, keep_bar=0.3),))
    return TierPolicy(**{**base, **changes})


def scores(value, gain, inside, previous=None, regions=None) -> pd.DataFrame:
    n = len(value)
    frame = pd.DataFrame({
        "customer_id": [f"C{i}" for i in range(n)],
        "expected_value": np.asarray(value, dtype=float), "churn_probability": 0.1,
        MANAGER_GAIN: np.asarray(gain, dtype=float), IN_OVERLAP: np.asarray(inside, dtype=bool),
        "previous_tier": previous or [None] * n})
    frame["value_at_risk"] = frame["expected_value"] * 0.1
    if regions:
        frame["region"] = regions
    return frame


def strategic(out) -> set[str]:
    return set(out.loc[out["tier"] == "strategic", "customer_id"])


def test_uplift_gives_the_slots_to_the_largest_gains_not_the_largest_values():
    # C0 is the largest account but a manager changes nothing there
    frame = scores(value=[1000, 500, 400, 300, 200, 100, 90, 80, 70, 60],
                   gain=[0, 5, 80, 10, 90, 1, 2, 3, 4, 6], inside=[True] * 10)
    out, _ = assign_tiers(frame, policy(rank_by="uplift"))
    assert strategic(out) == {"C4", "C2"}
    assert out["customer_id"].tolist()[:3] == ["C4", "C2", "C3"]
    assert out.set_index("customer_id").loc["C4", RANK_SCORE] == 90
    by_value, _ = assign_tiers(frame, policy())
    assert strategic(by_value) == {"C0", "C1"}


def test_outside_overlap_never_outranks_inside_on_an_extrapolated_gain():
    # C0 and C1 carry huge gains but are outside overlap: extrapolations, not estimates
    frame = scores(value=[5000, 4000, 10, 20, 30, 40, 50, 60, 70, 80],
                   gain=[1e6, 1e5, 1, 2, 3, 4, 5, 6, 7, 8],
                   inside=[False, False] + [True] * 8)
    out, _ = assign_tiers(frame, policy(rank_by="uplift"))
    order = out["customer_id"].tolist()
    assert order[-2:] == ["C0", "C1"]  # last, by expected value among themselves
    assert out.set_index("customer_id").loc[["C0", "C1"], RANK_SCORE].isna().all()
    assert strategic(out) == {"C9", "C8"}
    inside_pct = out.loc[out[IN_OVERLAP], "score_percentile"].min()
    assert (out.loc[~out[IN_OVERLAP], "score_percentile"] < inside_pct).all()


def test_a_gain_without_an_overlap_flag_counts_and_nan_ranks_last():
    frame = scores(value=[1, 2, 3], gain=[np.nan, 5, 7], inside=[True] * 3).drop(
        columns=IN_OVERLAP)
    score = rank_score(frame, policy(rank_by="uplift"))
    assert np.isnan(score.iloc[0]) and score.iloc[2] == 7
    assert rank_order(frame, score, policy(rank_by="uplift")).tolist() == [1.0, 2.0, 3.0]


def test_ties_of_the_gain_go_to_the_larger_expected_value_then_the_id():
    frame = scores(value=[10, 30, 20, 30, 5], gain=[50, 50, 50, 50, 1], inside=[True] * 5)
    out, _ = assign_tiers(frame, policy(rank_by="uplift"))
    assert out["customer_id"].tolist() == ["C1", "C3", "C2", "C0", "C4"]
    order = rank_order(frame, rank_score(frame, policy(rank_by="uplift")),
                       policy(rank_by="uplift"))
    assert order.iloc[1] == order.iloc[3]  # a full tie: the same order, then by id
    assert strategic(out) == set()  # tied at the top two: both at the share below 0.6 < 0.7
    wider = policy(rank_by="uplift", strategic=StrategicTier(
        min_bar=0.6, keep_bar=0.5, capacity_without_managers=2))
    assert strategic(assign_tiers(frame, wider)[0]) == {"C1", "C3"}


def test_capacity_per_region_and_incumbents_first_hold_under_uplift():
    regions = ["N", "S"] * 4
    # shares below: C0 .875, C1 .75, C5 .625 (an incumbent above its keep bar .5), C2 .5 ...
    frame = scores(value=[10] * 8, gain=[80, 70, 60, 50, 40, 65, 20, 10], inside=[True] * 8,
                   previous=[None, None, None, None, None, "strategic", None, None],
                   regions=regions)
    out, shortfall = assign_tiers(frame, policy(rank_by="uplift"), {"N": 1, "S": 1})
    assert strategic(out) == {"C0", "C5"}  # S: the incumbent C5 keeps its slot before C1
    c1 = out.set_index("customer_id").loc["C1"]
    assert c1["tier"] == "key" and "capacity" in c1["tier_reason"]
    assert shortfall.set_index("pool")["strategic"].to_dict() == {"N": 1, "S": 1}


def test_value_uplift_mixes_the_two_percentiles():
    frame = scores(value=[100, 90, 80, 70], gain=[1, 2, 30, 40], inside=[True, True, True, False])
    p = policy(rank_by="value_uplift", uplift_weight=0.25)
    score = rank_score(frame, p)
    value_pct = np.array([0.75, 0.5, 0.25, 0.0])
    gain_pct = np.array([0.25, 0.5, 0.75, 0.0])  # C3 outside overlap: the lowest
    assert np.allclose(score, 0.75 * value_pct + 0.25 * gain_pct)
    assert np.allclose(rank_score(frame, p.model_copy(update={"uplift_weight": 0.0})),
                       value_pct)


def _customers(n, managers=None):
    return pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)],
                         "region": ["N"] * n, "current_manager_id": managers or [None] * n,
                         "current_tier": [None] * n})


def test_decide_keeps_the_current_manager_and_the_capacity_under_uplift():
    frame = scores(value=[10] * 10, gain=[90, 80, 70, 60, 1, 2, 3, 4, 5, 6],
                   inside=[True] * 10).drop(columns="previous_tier")
    managers = pd.DataFrame({"manager_id": ["M1", "M2"], "region": ["N", "N"],
                             "capacity": [1, 1], "active": [True, True]})
    customers = _customers(10, [None, "M2"] + [None] * 8)
    result = decide(frame, customers, managers, None, policy(rank_by="uplift"))
    tiers = result.tiers.set_index("customer_id")
    assert set(tiers.index[tiers["tier"] == "strategic"]) == {"C0", "C1"}
    assert tiers.loc["C1", "manager_id"] == "M2" and tiers.loc["C1", "kept_manager"]
    assert tiers.loc["C0", "manager_id"] == "M1"
    assert tiers.loc["C2", "tier"] == "key"  # a candidate over the region's 2 slots


@pytest.mark.parametrize("rank_by", ["uplift", "value_uplift"])
def test_without_any_estimate_decide_ranks_by_value_and_says_why(rank_by):
    frame = scores(value=[30, 20, 10], gain=[np.nan] * 3, inside=[False] * 3).drop(
        columns="previous_tier").assign(**{GAIN_NOTE: "not estimated: no manager contacts"})
    result = decide(frame, _customers(3), None, None, policy(rank_by=rank_by))
    assert result.tiers["customer_id"].tolist() == ["C0", "C1", "C2"]
    assert result.tiers[RANK_SCORE].tolist() == [30, 20, 10]
    note = [n for n in result.notes if n.startswith(f"rank_by {rank_by}")]
    assert note and "not estimated: no manager contacts" in note[0]
    assert "ranked by expected value instead" in note[0]


def test_the_policy_accepts_the_new_rank_by_values_only():
    assert TierPolicy(rank_by="uplift").rank_by == "uplift"
    with pytest.raises(ValueError):
        TierPolicy(rank_by="gain")
    with pytest.raises(ValueError):
        TierPolicy(uplift_weight=1.5)

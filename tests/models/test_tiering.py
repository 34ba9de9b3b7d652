"""Tiers: bars, capacity per region, hysteresis, retention flags, ranking and movement."""

import pandas as pd
import pytest
from pydantic import ValidationError

from models.tier_policy import StrategicTier, TierBar, TierPolicy
from models.tiering import assign_tiers, demote, movement, rank_score

NAMES = ("strategic", "key", "growth", "self-service")


def policy(**changes) -> TierPolicy:
    base = dict(
        strategic=StrategicTier(min_bar=0.8, keep_bar=0.5, capacity_without_managers=1),
        tiers=(
            TierBar(name="key", min_bar=0.6, keep_bar=0.4),
            TierBar(name="growth", min_bar=0.3, keep_bar=0.1),
        ),
    )
    return TierPolicy(**{**base, **changes})


def scores(values, previous=None, regions=None, churn=None) -> pd.DataFrame:
    n = len(values)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "expected_value": [float(v) for v in values],
            "churn_probability": churn or [0.1] * n,
            "previous_tier": previous or [None] * n,
        }
    )
    frame["value_at_risk"] = frame["expected_value"] * frame["churn_probability"]
    if regions:
        frame["region"] = regions
    return frame


def tiers_of(frame) -> dict:
    return dict(zip(frame["customer_id"], frame["tier"]))


# ten accounts C0 (value 100) .. C9 (value 10): share below = 0.9, 0.8, ..., 0.0
TEN = [100, 90, 80, 70, 60, 50, 40, 30, 20, 10]


def test_bars_without_managers_use_configured_capacity():
    out, shortfall = assign_tiers(scores(TEN), policy())
    # strategic bar 0.8 -> C0, C1 candidates; 1 slot -> C0; C1 overflows to key
    assert [tiers_of(out)[f"C{i}"] for i in range(10)] == (
        [
            "strategic",
            "key",
            "key",
            "key",
            "growth",
            "growth",
            "growth",
            "self-service",
            "self-service",
            "self-service",
        ]
    )
    assert shortfall.to_dict("records") == [
        {"pool": "all", "candidates": 2, "capacity": 1, "strategic": 1, "overflow": 1}
    ]
    assert list(out["rank"]) == list(range(1, 11)) and out["customer_id"].iloc[0] == "C0"


def test_capacity_per_region():
    regions = ["N", "S"] * 5  # C0 N, C1 S, C2 N ...
    out, shortfall = assign_tiers(scores(TEN, regions=regions), policy(), {"N": 1, "S": 5})
    got = tiers_of(out)
    assert got["C0"] == "strategic" and got["C1"] == "strategic"
    assert shortfall.set_index("pool")["overflow"].to_dict() == {"N": 0, "S": 0}
    out, shortfall = assign_tiers(scores(TEN, regions=regions), policy(), {"N": 5, "S": 0})
    assert tiers_of(out)["C1"] == "key"  # no manager in S: next tier
    assert "capacity" in out.set_index("customer_id").loc["C1", "tier_reason"]
    assert shortfall.set_index("pool")["overflow"].to_dict() == {"N": 0, "S": 1}


def test_hysteresis_keeps_a_tier_above_its_lower_bar():
    previous = [None] * 10
    previous[4] = "key"  # share below 0.5: under key's entry 0.6, above keep 0.4
    previous[6] = "key"  # 0.3: under keep 0.4 -> growth by its own bar
    previous[5] = "strategic"  # 0.4: under strategic keep 0.5 -> key kept (above 0.4)
    previous[2] = "strategic"  # 0.7: above strategic keep 0.5, incumbent first
    out, _ = assign_tiers(scores(TEN, previous), policy(), {"all": 0})
    got = tiers_of(out)
    assert got["C4"] == "key" and got["C6"] == "growth" and got["C5"] == "key"
    # managers with no capacity at all: the incumbent overflows to key
    assert got["C2"] == "key"
    out, _ = assign_tiers(scores(TEN, previous), policy())  # one slot without managers
    got = tiers_of(out)
    assert got["C2"] == "strategic" and got["C0"] == "key"  # incumbent before newcomer
    reason = out.set_index("customer_id")["tier_reason"]
    assert reason["C2"].startswith("kept strategic") and reason["C4"].startswith("kept key")


def test_retention_flag_whatever_the_tier():
    churn = [0.9, 0.6, 0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.95]
    out, _ = assign_tiers(scores(TEN, churn=churn), policy())
    flagged = set(out.loc[out["retention_flag"], "customer_id"])
    # top 25% by value (share below >= 0.75) = C0, C1; C2 (0.7) and C9 are not valuable enough
    assert flagged == {"C0", "C1"}
    assert set(out.loc[out["retention_flag"], "tier"]) == {"strategic", "key"}


def test_rank_by_value_at_risk_and_mix():
    frame = scores([100, 50], churn=[0.1, 0.9])  # value at risk 10 and 45
    assert list(rank_score(frame, policy(rank_by="value_at_risk"))) == [10.0, 45.0]
    assert list(rank_score(frame, policy(rank_by="mix", mix_weight=0.5))) == [55.0, 47.5]
    out, _ = assign_tiers(frame, policy(rank_by="value_at_risk"))
    assert out["customer_id"].iloc[0] == "C1"


def test_thresholds_by_value():
    p = policy(
        thresholds_by="value",
        strategic=StrategicTier(min_bar=95, keep_bar=90, capacity_without_managers=5),
        tiers=(
            TierBar(name="key", min_bar=60, keep_bar=50),
            TierBar(name="growth", min_bar=25, keep_bar=20),
        ),
    )
    got = tiers_of(assign_tiers(scores(TEN), p)[0])
    assert [got[f"C{i}"] for i in (0, 1, 4, 5, 7, 8)] == [
        "strategic",
        "key",
        "key",
        "growth",
        "growth",
        "self-service",
    ]


def test_policy_validation():
    with pytest.raises(ValidationError, match="keep_bar"):
        TierBar(name="key", min_bar=0.5, keep_bar=0.6)
    with pytest.raises(ValidationError, match="distinct"):
        TierPolicy(fallback_tier="key")
    with pytest.raises(ValidationError, match="extra"):
        TierPolicy(colour="red")


def test_demote_moves_strategic_to_next_tier_with_reason():
    out, _ = assign_tiers(scores(TEN), policy())
    moved = demote(out, ["C0", "C5"], policy(), "no manager")
    assert tiers_of(moved)["C0"] == "key" and tiers_of(moved)["C5"] == tiers_of(out)["C5"]
    assert tiers_of(out)["C0"] == "strategic"  # input not mutated


def test_movement_counts_and_matrix():
    previous = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "region": ["N"] * 4,
            "tier": ["key", "strategic", "growth", "key"],
        }
    )
    current = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "E"],
            "region": ["N"] * 4,
            "tier": ["strategic", "strategic", "self-service", "growth"],
        }
    )
    change, summary, matrix = movement(previous, current, NAMES)
    assert list(change) == ["upgraded", "kept", "downgraded", "new"]
    totals = summary[["new", "kept", "upgraded", "downgraded", "lost"]].sum().to_dict()
    assert totals == {"new": 1, "kept": 1, "upgraded": 1, "downgraded": 1, "lost": 1}
    lost = summary.set_index("tier").loc["key", "lost"]
    assert lost == 1  # D lost, counted under its old tier
    assert matrix.loc["key", "strategic"] == 1 and matrix.loc["key", "(lost)"] == 1
    assert matrix.loc["(new)", "growth"] == 1 and matrix.to_numpy().sum() == 5
    change, summary, _ = movement(None, current, NAMES)
    assert set(change) == {"new"} and summary["new"].sum() == 4


def test_summarize_counts_every_tier_move_flag_and_pool():
    from models.tiering import MOVES, TierDecision, summarize

    tiers = pd.DataFrame({"customer_id": ["A", "B", "C"], "tier": ["key", "key", "growth"],
                          "retention_flag": [True, False, True],
                          "kept_manager": [False, False, True]})
    moves = pd.DataFrame({"region": ["N", "S"], **{m: [0, 0] for m in MOVES}})
    moves["kept"], moves["new"] = [1, 1], [0, 1]
    shortfall = pd.DataFrame({"pool": ["N", "S"], "overflow": [2, 0]})
    decision = TierDecision(tiers=tiers, movement=moves, matrix=pd.DataFrame(),
                            shortfall=shortfall, books=pd.DataFrame(), notes=("a note",),
                            basis="the basis")
    assert summarize(decision, NAMES) == {
        "customers": 3, "movement_basis": "the basis", "notes": ["a note"],
        "tiers": {"strategic": 0, "key": 2, "growth": 1, "self-service": 0},
        "moved": {"new": 1, "kept": 2, "upgraded": 0, "downgraded": 0, "lost": 0},
        "retention_flagged": 2, "kept_manager": 1, "shortfall": {"N": 2, "S": 0},
    }


def test_last_event_dates_ignore_events_after_as_of():
    from models.tiering import last_event_dates

    events = pd.DataFrame({"customer_id": ["A", "A", "B"],
                           "order_date": pd.to_datetime(["2024-01-05", "2024-03-01",
                                                         "2024-02-01"])})
    ids = pd.Series(["A", "B", "C"])
    got = last_event_dates(ids, events, "order_date", pd.Timestamp("2024-02-15"))
    assert got.iloc[:2].tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-02-01")]
    assert pd.isna(got.iloc[2])
    assert last_event_dates(ids, events, "order_date").iloc[0] == pd.Timestamp("2024-03-01")

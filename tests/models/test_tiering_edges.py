"""Tiers on their edges: an account exactly on a bar or a keep bar, tied scores (percentile,
capacity, rank), retention exactly on both limits, and the policy's own limits (equal bars,
keep_bar = min_bar, a percentile bar of 1). Bars in currency (`thresholds_by: value`) make
"exactly on the bar" exact.
"""

import pandas as pd

from models.tier_policy import StrategicTier, TierBar, TierPolicy
from models.tiering import assign_tiers

VALUE_POLICY = TierPolicy(
    thresholds_by="value",
    strategic=StrategicTier(min_bar=100, keep_bar=80, capacity_without_managers=5),
    tiers=(TierBar(name="key", min_bar=60, keep_bar=40),
           TierBar(name="growth", min_bar=30, keep_bar=10)),
)


def scores(values: dict, previous: dict | None = None, churn: dict | None = None) -> pd.DataFrame:
    ids = list(values)
    frame = pd.DataFrame({
        "customer_id": ids,
        "expected_value": [float(values[i]) for i in ids],
        "churn_probability": [float((churn or {}).get(i, 0.1)) for i in ids],
        "previous_tier": [(previous or {}).get(i) for i in ids],
    })
    frame["value_at_risk"] = frame["expected_value"] * frame["churn_probability"]
    return frame


def by_id(frame: pd.DataFrame, column: str) -> dict:
    return dict(zip(frame["customer_id"], frame[column]))


def test_percentile_is_the_share_strictly_below_so_ties_share_the_lower_one():
    out, _ = assign_tiers(scores({"A": 10, "B": 10, "C": 5, "D": 1}), TierPolicy())
    assert by_id(out, "score_percentile") == {"A": 0.5, "B": 0.5, "C": 0.25, "D": 0.0}


def test_an_account_exactly_on_a_bar_enters_the_tier():
    out, _ = assign_tiers(scores({"s": 100, "k": 60, "g": 30, "below": 29.99}), VALUE_POLICY)
    assert by_id(out, "tier") == {"s": "strategic", "k": "key", "g": "growth",
                                  "below": "self-service"}
    reasons = by_id(out, "tier_reason")
    assert reasons["k"] == "above the key bar" and reasons["g"] == "above the growth bar"
    assert reasons["below"] == "below every bar"


def test_an_account_exactly_on_a_keep_bar_keeps_its_tier():
    values = {"key_on_keep": 40, "growth_on_keep": 10, "strategic_on_keep": 80,
              "strategic_below_keep": 79, "former_strategic": 45}
    previous = {"key_on_keep": "key", "growth_on_keep": "growth",
                "strategic_on_keep": "strategic", "strategic_below_keep": "strategic",
                "former_strategic": "strategic"}
    out, _ = assign_tiers(scores(values, previous), VALUE_POLICY)
    tiers, reasons = by_id(out, "tier"), by_id(out, "tier_reason")
    assert tiers["key_on_keep"] == "key"
    assert reasons["key_on_keep"] == "kept key: above its lower bar"
    assert tiers["growth_on_keep"] == "growth"
    assert tiers["strategic_on_keep"] == "strategic"
    assert reasons["strategic_on_keep"] == "kept strategic: above its lower bar"
    assert tiers["strategic_below_keep"] == "key"  # by key's own bar (60)
    # a former strategic account counts as the next tier's: under key's bar, above its keep
    assert tiers["former_strategic"] == "key"
    assert reasons["former_strategic"] == "kept key: above its lower bar"


def test_capacity_takes_incumbents_first_then_tied_scores_by_id():
    policy = VALUE_POLICY.model_copy(update={"strategic": StrategicTier(
        min_bar=100, keep_bar=80, capacity_without_managers=2)})
    values = {"B": 150, "A": 150, "C": 150, "old": 90}
    out, shortfall = assign_tiers(scores(values, {"old": "strategic"}), policy)
    tiers = by_id(out, "tier")
    assert tiers["old"] == "strategic" and tiers["A"] == "strategic"  # incumbent, then A < B
    assert tiers["B"] == "key" and tiers["C"] == "key"
    over = "strategic candidate over the region's manager capacity"
    assert by_id(out, "tier_reason")["B"] == by_id(out, "tier_reason")["C"] == over
    assert shortfall.to_dict("records") == [
        {"pool": "all", "candidates": 4, "capacity": 2, "strategic": 2, "overflow": 2}
    ]
    # exactly as many candidates as slots: all in, none over
    out, shortfall = assign_tiers(scores({"A": 150, "B": 120}), policy)
    assert set(by_id(out, "tier").values()) == {"strategic"}
    assert shortfall["overflow"].tolist() == [0]


def test_equal_scores_rank_by_customer_id():
    out, _ = assign_tiers(scores({"B": 5, "A": 5, "C": 7}), TierPolicy())
    assert out["customer_id"].tolist() == ["C", "A", "B"]
    assert out["rank"].tolist() == [1, 2, 3]


def test_retention_exactly_on_both_limits_is_flagged():
    # percentiles 0.75, 0.5, 0.25, 0: A sits exactly on min_value_percentile 0.75
    values = {"A": 40, "B": 30, "C": 20, "D": 10}
    out, _ = assign_tiers(scores(values, churn={"A": 0.5, "B": 0.9, "C": 0.9, "D": 0.9}),
                          TierPolicy())
    assert by_id(out, "retention_flag") == {"A": True, "B": False, "C": False, "D": False}
    out, _ = assign_tiers(scores(values, churn={"A": 0.49, "B": 0.9}), TierPolicy())
    assert not out["retention_flag"].any()


def test_policy_accepts_bars_on_their_limits():
    assert TierBar(name="flat", min_bar=0.5, keep_bar=0.5).keep_bar == 0.5
    same = TierPolicy(strategic=StrategicTier(min_bar=0.75, keep_bar=0.7),
                      tiers=(TierBar(name="key", min_bar=0.75, keep_bar=0.6),))
    assert same.tier_names == ("strategic", "key", "self-service")
    top = TierPolicy(strategic=StrategicTier(min_bar=1.0, keep_bar=0.9))
    assert top.strategic.min_bar == 1.0

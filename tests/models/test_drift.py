"""models.drift: bins of the training reference, the PSI against them, the refuse decision."""

import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from models import drift

LIMITS = SimpleNamespace(score_psi_limit=0.25, feature_psi_limit=0.25, max_drifted_share=0.25,
                         top_features=2, min_rows_share=0.8)


def _customers(n: int, seed: int, scale: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A zero-inflated spend (60 % zeros), an order count, a region and a constant size; the
    scores follow the spend (`scale` multiplies every amount, as a currency slip would)."""
    rng = np.random.default_rng(seed)
    buys = rng.uniform(size=n) < 0.4
    spend = np.where(buys, rng.lognormal(6, 1, n), 0.0) * scale
    frame = pd.DataFrame({
        "spend_90d": spend,
        "spend_365d": spend * 3 + np.where(buys, 0, rng.lognormal(5, 1, n) * scale),
        "orders_90d": np.where(buys, rng.poisson(3, n) + 1, 0).astype(float),
        "days_since_order": np.where(rng.uniform(size=n) < 0.1, np.nan, rng.exponential(90, n)),
        "region": pd.Categorical(rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2])),
        "size": 50.0,
    })
    scores = pd.DataFrame({"expected_value": spend * 0.8 + 10 * scale,
                           "churn_probability": 1 / (1 + np.exp(frame["orders_90d"] - 1))})
    return frame, scores


COLUMNS = ["spend_90d", "spend_365d", "orders_90d", "days_since_order", "region", "size"]


def _profile(frame, scores, **kwargs):
    importance = ["spend_365d", "orders_90d", "spend_90d", "days_since_order", "region", "size"]
    return drift.reference_profile(frame, COLUMNS, scores, importance=importance, **kwargs)


def _row(table: pd.DataFrame, column: str) -> pd.Series:
    return table.set_index("column").loc[column]


def test_a_sample_against_itself_has_zero_psi_and_the_profile_is_json():
    frame, scores = _customers(2000, seed=1)
    profile = _profile(frame, scores)
    assert json.loads(json.dumps(profile, allow_nan=False)) == profile
    table = drift.population_stability(profile, frame, scores)
    assert len(table) == len(COLUMNS) + 2
    assert set(table.loc[table["kind"] == "score", "column"]) == set(drift.SCORE_COLUMNS)
    assert table["psi"].abs().max() < 1e-12
    assert (table["band"] == "stable").all() and (table["worst_bin"] == "").all()
    assert not drift.drift_decision(table, LIMITS).refuse


def test_psi_by_hand_on_two_bins():
    # (0.8 - 0.5) ln(0.8 / 0.5) + (0.2 - 0.5) ln(0.2 / 0.5) = 0.3 ln 1.6 + 0.3 ln 2.5
    assert drift.psi([0.5, 0.5], [0.8, 0.2]) == pytest.approx(0.3 * math.log(4.0), abs=1e-12)
    # an empty reference bin counts as EPSILON = 1e-4
    expected = (0.5 - 1.0) * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert drift.psi([1.0, 0.0], [0.5, 0.5]) == pytest.approx(expected)
    # the same through the bins: 100 distinct values, 2 quantile bins split at 50.5
    reference = pd.DataFrame({"x": np.arange(1.0, 101.0)})
    current = pd.DataFrame({"x": np.r_[np.arange(1.0, 81.0) % 50 + 1, np.arange(81.0, 101.0)]})
    scores = pd.DataFrame({"expected_value": [1.0] * 100, "churn_probability": [0.5] * 100})
    profile = drift.reference_profile(reference, ["x"], scores, bins=2)
    entry = profile["columns"][0]
    assert entry["labels"] == ["missing", "<= 50.5", "> 50.5"]
    assert entry["proportions"] == [0.0, 0.5, 0.5]
    row = _row(drift.population_stability(profile, current, scores), "x")
    assert row["psi"] == pytest.approx(0.3 * math.log(4.0), abs=1e-12)
    assert row["worst_bin"] == "> 50.5" and row["worst_current"] == pytest.approx(0.2)


def test_an_independent_sample_of_the_same_distribution_is_accepted():
    reference, ref_scores = _customers(5000, seed=1)
    current, cur_scores = _customers(5000, seed=2)
    table = drift.population_stability(_profile(reference, ref_scores), current, cur_scores)
    assert table["psi"].max() < 0.02  # sampling noise ~ 2 * (bins - 1) / n = 0.004
    decision = drift.drift_decision(table, LIMITS)
    assert not decision.refuse and decision.reasons == []


def test_amounts_times_100_are_refused_on_the_scores_and_the_features():
    reference, ref_scores = _customers(5000, seed=1)
    current, cur_scores = _customers(5000, seed=2, scale=100.0)
    table = drift.population_stability(_profile(reference, ref_scores), current, cur_scores)
    assert _row(table, "expected_value")["psi"] > 1
    assert _row(table, "churn_probability")["psi"] < 0.02  # counts did not move
    assert _row(table, "spend_90d")["band"] == "major"
    decision = drift.drift_decision(table, LIMITS)
    assert decision.refuse
    assert any(r.startswith("score PSI above 0.25: expected_value") for r in decision.reasons)
    assert any("top 2 features" in r and "spend_365d" in r for r in decision.reasons)
    # 2 of 6 features drifted (33 %) > 25 %
    assert any(r.startswith("2 of 6 features (33%)") for r in decision.reasons)


def test_one_unimportant_feature_alone_does_not_refuse_but_a_top_one_does():
    reference, ref_scores = _customers(5000, seed=1)
    current, cur_scores = _customers(5000, seed=2)
    profile = _profile(reference, ref_scores)
    shifted = current.assign(days_since_order=current["days_since_order"] * 5)
    table = drift.population_stability(profile, shifted, cur_scores)
    assert _row(table, "days_since_order")["band"] == "major"
    assert _row(table, "days_since_order")["importance_rank"] == 4
    assert not drift.drift_decision(table, LIMITS).refuse  # rank 4 > top 2, 1 of 6 < 25 %
    strict = SimpleNamespace(**{**vars(LIMITS), "top_features": 4})
    assert drift.drift_decision(table, strict).refuse


def test_a_partial_export_has_the_same_distributions_but_too_few_customers():
    reference, ref_scores = _customers(5000, seed=1)
    current, cur_scores = _customers(2000, seed=2)  # 40 % of the customers, same population
    table = drift.population_stability(_profile(reference, ref_scores), current, cur_scores)
    assert table["psi"].max() < 0.05
    decision = drift.drift_decision(table, LIMITS, rows=(5000, 2000))
    assert decision.refuse and decision.reasons == [
        "2,000 customers scored, 40% of the reference's 5,000, fewer than the 80% allowed "
        "(a partial export?)"]
    assert not drift.drift_decision(table, LIMITS, rows=(5000, 4000)).refuse  # 80 %: allowed
    off = SimpleNamespace(**{**vars(LIMITS), "min_rows_share": 0.0})
    assert not drift.drift_decision(table, off, rows=(5000, 2000)).refuse


def test_zero_inflated_column_has_a_zero_bin_and_equal_quantile_bins():
    reference, ref_scores = _customers(5000, seed=1)
    entry = next(c for c in _profile(reference, ref_scores)["columns"]
                 if c["column"] == "spend_90d")
    assert entry["points"] == [0.0] and entry["labels"][:2] == ["missing", "= 0"]
    props = np.asarray(entry["proportions"])
    assert props[1] == pytest.approx((reference["spend_90d"] == 0).mean())
    assert len(props) == 2 + 10 and np.allclose(props[2:], props[2:].mean(), rtol=0.05)
    # fewer zeros (more customers buying), same spend among buyers: the zero bin moves
    current = reference.assign(spend_90d=np.where(
        reference["spend_90d"] == 0, reference["spend_365d"], reference["spend_90d"]))
    row = _row(drift.population_stability(_profile(reference, ref_scores), current, ref_scores),
               "spend_90d")
    assert row["worst_bin"] == "= 0" and row["band"] == "major"


def test_constant_column_and_a_value_it_never_had():
    reference, ref_scores = _customers(1000, seed=1)
    entry = next(c for c in _profile(reference, ref_scores)["columns"] if c["column"] == "size")
    assert entry["labels"] == ["missing", "= 50", "any other value"]
    assert entry["proportions"] == [0.0, 1.0, 0.0]
    current = reference.assign(size=np.where(np.arange(1000) < 100, 51.0, 50.0))
    row = _row(drift.population_stability(_profile(reference, ref_scores), current, ref_scores),
               "size")
    # 10 % land in a bin the reference left empty (floored at 1e-4), 90 % stay at 50
    expected = (0.1 - 1e-4) * math.log(0.1 / 1e-4) + (0.9 - 1.0) * math.log(0.9)
    assert row["psi"] == pytest.approx(expected)
    assert row["worst_bin"] == "any other value"


def test_all_missing_reference_column_and_an_absent_current_column():
    reference, ref_scores = _customers(1000, seed=1)
    reference = reference.assign(days_since_order=np.nan)
    profile = _profile(reference, ref_scores)
    entry = next(c for c in profile["columns"] if c["column"] == "days_since_order")
    assert entry["proportions"][0] == 1.0
    table = drift.population_stability(profile, reference.drop(columns="spend_90d"), ref_scores)
    assert _row(table, "days_since_order")["psi"] == pytest.approx(0.0)
    absent = _row(table, "spend_90d")
    assert absent["current_missing"] == 1.0 and absent["band"] == "major"


def test_unseen_and_missing_categories():
    reference, ref_scores = _customers(2000, seed=1)
    entry = next(c for c in _profile(reference, ref_scores)["columns"] if c["column"] == "region")
    assert entry["labels"] == ["missing", "north", "south", "east", "other/unseen"]
    assert entry["proportions"][-1] == 0.0
    region = reference["region"].astype(str).to_numpy(copy=True)
    region[:600] = "west"     # 30 % in a region the models never saw
    region[600:800] = None    # 10 % missing
    current = reference.assign(region=region)
    row = _row(drift.population_stability(_profile(reference, ref_scores), current, ref_scores),
               "region")
    assert row["worst_bin"] == "other/unseen" and row["worst_current"] == pytest.approx(0.3)
    assert row["reference_missing"] == 0.0 and row["current_missing"] == pytest.approx(0.1)
    assert row["band"] == "major"


def test_bands_and_importance_ranking():
    assert [drift.band(v) for v in (0.0, 0.099, 0.1, 0.25, 0.2501, float("nan"))] == [
        "stable", "stable", "moderate", "moderate", "major", "unknown"]
    value = pd.Series({"a": 10.0, "b": 90.0, "c": 0.0})
    churn = pd.Series({"a": 5.0, "c": 5.0, "d": 90.0})
    # shares: a 0.1 / 0.05, b 0.9, c 0.05, d 0.9 -> by the largest share, ties by name
    assert drift.importance_ranking(value, churn) == ["b", "d", "a", "c"]
    assert drift.importance_ranking() == []


def test_missing_column_and_wrong_reference_are_clear_errors():
    frame, scores = _customers(100, seed=1)
    with pytest.raises(ValueError, match="'nope' is not in the feature frame"):
        drift.reference_profile(frame, ["nope"], scores)
    with pytest.raises(ValueError, match="'churn_probability' is not in the score frame"):
        drift.reference_profile(frame, COLUMNS, scores.drop(columns="churn_probability"))
    with pytest.raises(ValueError, match="not a drift reference"):
        drift.population_stability({"format": "other"}, frame, scores)

import numpy as np
import pandas as pd
import pytest

from features.contract import CUTOFF, LABEL_CHURNED, LABEL_SPEND
from models.churn import ChurnModel
from models.reasons import MIN_CHURN_PROBABILITY, explain, factors, phrase, tree_contributions
from models.training import model_features
from models.value import ValueModel
from tests.models import reason_checks

SMALL = {"n_estimators": 30, "num_leaves": 7, "min_child_samples": 10, "n_jobs": 1}


@pytest.fixture(scope="module")
def fitted(training_set):
    features = model_features(training_set)
    X = training_set[features]
    value = ValueModel(**SMALL).fit(X, training_set[LABEL_SPEND])
    churn = ChurnModel(**SMALL).fit(X, training_set[LABEL_CHURNED], cutoffs=training_set[CUTOFF])
    return value, churn, X


def test_phrase_uses_the_catalogue_with_context():
    text = phrase("txn_days_since_last_order", 142.0, {"txn_gap_mean_days": 47.0})
    assert text == "last order 142 days ago, three times its usual gap"


HISTORY = {"btyd_frequency": 11.0, "btyd_recency": 880.0, "btyd_T": 900.0,
           "btyd_monetary": 4321.4}


def test_a_model_output_is_stated_as_the_facts_it_is_computed_from():
    # the BTYD estimates are never quoted: their contribution reads as the order history
    assert phrase("btyd_expected_spend", 82_137.0, HISTORY) == (
        "ordered on 12 days since its first order 900 days ago, the latest 20 days ago, "
        "repeat orders averaging 4,321")
    for name in ("btyd_prob_alive", "btyd_prob_no_purchase", "btyd_expected_orders"):
        assert phrase(name, 0.99, HISTORY) == (
            "ordered on 12 days since its first order 900 days ago, the latest 20 days ago")
    single = {**HISTORY, "btyd_frequency": 0.0, "btyd_recency": 0.0, "btyd_T": 1.0}
    assert phrase("btyd_prob_alive", 0.5, single) == "a single order day, 1 day ago"
    never = dict.fromkeys(HISTORY, np.nan)
    assert phrase("btyd_prob_alive", np.nan, never) == "no order yet"
    # without the facts in the row: no phrase, so no reason
    assert phrase("btyd_expected_spend", 82_137.0) is None
    assert phrase("btyd_expected_spend", 82_137.0, {"btyd_T": 900.0}) is None


def test_a_model_output_without_its_facts_gives_no_reason_and_the_next_one_shows():
    X = pd.DataFrame({"btyd_expected_spend": [5.0, 80_000.0],
                      "txn_spend_365d": [10.0, 50_000.0]}, index=["x", "y"])

    class Value:
        def contributions(self, rows):
            out = pd.DataFrame(0.0, index=rows.index, columns=[*rows.columns, "bias"])
            return out.assign(btyd_expected_spend=1.0, txn_spend_365d=0.5)

    out = explain(X, Value(), None, rows=["y"])
    assert out.loc["y", "reasons"] == "Value up: 50,000 spent in the last 365 days."
    with_facts = X.assign(**{k: [1.0, v] for k, v in HISTORY.items()})
    out = explain(with_facts, Value(), None, rows=["y"])
    assert out.loc["y", "value_up"].startswith("ordered on 12 days since its first order")
    assert "model" not in out.loc["y", "reasons"] and "expected" not in out.loc["y", "reasons"]


def test_plain_limits_keep_a_stale_contact_or_an_overdue_order_out_of_value_up():
    # most customers were contacted even longer ago, so 285 days is "better than typical";
    # still, "last contact 285 days ago" is never a reason for value up
    X = pd.DataFrame({
        "ctc_days_since_last_contact": [285.0, 60.0, 400.0, 500.0, 600.0],
        "txn_days_since_last_order": [60.0, 20.0, 300.0, 300.0, 300.0],
        "txn_overdue_ratio": [3.0, 0.5, 1.0, 1.0, 1.0],
        "txn_gap_mean_days": [20.0, 40.0, 300.0, 300.0, 300.0],
    }, index=list("abcde"))

    class Value:
        def contributions(self, rows):
            return pd.DataFrame({"ctc_days_since_last_contact": 0.6,
                                 "txn_days_since_last_order": 0.5, "txn_overdue_ratio": 0.0,
                                 "txn_gap_mean_days": 0.0, "bias": 0.0}, index=rows.index)

    out = explain(X, Value(), None, rows=["a", "b"])
    # a: 285 days is beyond RECENT_DAYS, its last order 60 days ago is 3 times its usual gap
    assert out.loc["a", "reasons"] == ""
    # b: contacted 60 days ago, ordered well within its gap: both are good news
    assert out.loc["b", "value_up"] == "last contact 60 days ago; last order 20 days ago"

    class Down:
        def contributions(self, rows):
            return -Value().contributions(rows)

    # the same facts read as bad news are allowed: the limits move a value to the bad side
    out = explain(X, Down(), None, rows=["a"])
    assert out.loc["a", "value_down"] == (
        "last contact 285 days ago; last order 60 days ago, three times its usual gap")


def test_phrase_falls_back_to_the_name():
    assert phrase("not_a_feature", 3.25) == "not_a_feature = 3.25"


def test_factors_are_the_largest_contributions_in_each_direction(fitted):
    value, _, X = fitted
    rows = X.iloc[[0, 5, 9]]
    table = factors(value, rows, top_k=2)
    contrib = value.contributions(rows).drop(columns="bias")
    for label in rows.index:
        ups = table[(table["row"] == label) & (table["direction"] == "up")]
        expected = contrib.loc[label][contrib.loc[label] > 0].nlargest(2).index.tolist()
        assert ups["feature"].tolist() == expected
        downs = table[(table["row"] == label) & (table["direction"] == "down")]
        assert (downs["contribution"] < 0).all() and len(downs) <= 2


def test_explain_renders_sentences_for_the_asked_rows_only(fitted):
    value, churn, X = fitted
    rows = X.index[:4]
    out = explain(X, value, churn, rows=rows, top_k=2)
    assert out.index.equals(rows)
    assert set(out.columns) == {"value_up", "value_down", "churn_up", "reasons"}
    assert all(isinstance(r, str) and r for r in out["reasons"])
    assert out["reasons"].str.contains("Value up: |Value down: |Churn risk up: ").all()
    # a sentence holds catalogue phrases, not raw column names
    assert not out["value_up"].str.contains("txn_").any()


def test_explain_without_models_gives_empty_reasons(fitted):
    _, _, X = fitted
    out = explain(X.head(2))
    assert (out["reasons"] == "").all()


def test_explain_keeps_the_rules_on_real_models(fitted):
    value, churn, X = fitted
    out = explain(X, value, churn, rows=X.index[:300])
    p = pd.Series(churn.predict_proba(X.loc[out.index])[:, 1], index=out.index)
    assert (out.loc[p < MIN_CHURN_PROBABILITY, "churn_up"] == "").all()
    assert not out["churn_up"].str.contains("a dedicated manager is in touch").any()
    assert not out["value_down"].str.contains("a dedicated manager is in touch").any()
    assert not out["reasons"].str.contains("unknown|{", regex=True).any()


# Hand-built: five customers (the reference for "typical") and stub models whose
# contributions are set per customer, so every expected text is worked out by hand.
X_HAND = pd.DataFrame(
    {
        "txn_days_since_last_order": [10.0, 400.0, 30.0, 60.0, 20.0],  # median 30
        "txn_tenure_days": [2000.0, 300.0, 900.0, 1500.0, 100.0],  # median 900
        "btyd_T": [1990.0, 290.0, 890.0, 1490.0, 95.0],
        "ctc_has_manager": [1.0, 1.0, 0.0, 0.0, 0.0],  # 0 is typical
        "txn_spend_365d": [50000.0, 0.0, 12000.0, 8000.0, 3000.0],  # median 8,000
        "ctc_complaints_365d": [0.0, 3.0, 0.0, 1.0, 0.0],  # 0 is typical
        "cust_region": pd.Categorical(["north", "south", "north", "east", "west"]),
    },
    index=["a", "b", "c", "d", "e"],
)


class _Stub:
    """A model whose contributions (and churn probability) are given per customer."""

    def __init__(self, contributions: dict[str, dict[str, float]], proba=None):
        table = pd.DataFrame(0.0, index=X_HAND.index, columns=X_HAND.columns)
        for row, values in contributions.items():
            for name, c in values.items():
                table.loc[row, name] = c
        self.table, self.proba = table.assign(bias=0.0), proba

    def contributions(self, X):
        return self.table.loc[X.index]

    def predict_proba(self, X):
        p = np.array([self.proba[i] for i in X.index])
        return np.column_stack([1 - p, p])


VALUE = _Stub({
    # a: more spend, long tenure (btyd_T is the same fact), recent order; its manager's
    # contribution down and the complaints' up read the wrong way round; 0.1 is below 10%
    # of its largest contribution (1.2)
    "a": {"txn_spend_365d": 1.2, "txn_tenure_days": 0.4, "btyd_T": 0.35,
          "txn_days_since_last_order": 0.3, "ctc_has_manager": -0.2,
          "ctc_complaints_365d": 0.1, "cust_region": 0.03},
    "b": {"txn_days_since_last_order": -1.0, "txn_spend_365d": -0.8, "txn_tenure_days": -0.3,
          "cust_region": -0.2, "ctc_has_manager": -0.25, "ctc_complaints_365d": -0.02},
})
CHURN = _Stub({
    "a": {"ctc_has_manager": 0.5, "txn_days_since_last_order": 0.2},
    # b: nothing spent in 365 days is what "last order 400 days ago" says; tenure is the
    # fact of btyd_T; its manager raising the risk reads the wrong way round
    "b": {"txn_days_since_last_order": 1.5, "ctc_has_manager": 0.6, "txn_spend_365d": 0.5,
          "ctc_complaints_365d": 0.4, "btyd_T": 0.3, "txn_tenure_days": 0.2},
    "c": {"ctc_has_manager": 0.6, "txn_spend_365d": 0.02},
}, proba={"a": 0.004, "b": 0.8, "c": 0.3, "d": 0.1, "e": 0.1})


def test_explain_shows_material_facts_that_read_the_right_way_once():
    out = explain(X_HAND, VALUE, CHURN, rows=["a"], churn_probability=pd.Series({"a": 0.004}))
    assert out.loc["a", "reasons"] == (
        "Value up: 50,000 spent in the last 365 days; buying from us for 2,000 days; "
        "last order 10 days ago.")


def test_explain_serves_the_churn_section_first_and_each_fact_once():
    p = pd.Series(CHURN.proba)
    out = explain(X_HAND, VALUE, CHURN, churn_probability=p)
    assert out.loc["b", "churn_up"] == (
        "last order 400 days ago; 3 complaints in the last 365 days; first order 290 days ago")
    assert out.loc["b", "value_down"] == "region south"
    assert out.loc["b", "reasons"] == (
        "Value down: region south. Churn risk up: last order 400 days ago; 3 complaints in "
        "the last 365 days; first order 290 days ago.")


def test_no_churn_section_below_the_threshold():
    out = explain(X_HAND, VALUE, CHURN, rows=["b"], churn_probability=pd.Series({"b": 0.05}))
    assert out.loc["b", "churn_up"] == ""
    assert out.loc["b", "reasons"] == (
        "Value down: last order 400 days ago; buying from us for 300 days; region south.")
    # without probabilities given, the churn model's decide
    assert explain(X_HAND, VALUE, CHURN, rows=["a"]).loc["a", "churn_up"] == ""
    assert explain(X_HAND, VALUE, CHURN, rows=["b"]).loc["b", "churn_up"] != ""


def test_a_binary_feature_is_a_reason_only_on_its_bad_side():
    out = explain(X_HAND, None, CHURN, rows=["c", "a"], churn_probability=pd.Series(CHURN.proba))
    assert out.loc["c", "reasons"] == "Churn risk up: no dedicated manager in touch."
    assert out.loc["a", "reasons"] == ""  # p = 0.4%: no churn section at all


def test_the_thresholds_are_parameters():
    out = explain(X_HAND, VALUE, CHURN, rows=["a"], churn_probability=pd.Series({"a": 0.004}),
                  min_churn_probability=0.0, min_share=0.0, min_contribution=0.01)
    assert out.loc["a", "value_up"] == (
        "50,000 spent in the last 365 days; buying from us for 2,000 days; "
        "last order 10 days ago")
    assert out.loc["a", "churn_up"] == ""  # its manager still reads the wrong way round
    # 0.1 from no complaints is under 10% of a's largest contribution (1.2): not material
    out = explain(X_HAND, VALUE, None, rows=["a"], top_k=5)
    assert out.loc["a", "value_up"].endswith("last order 10 days ago")
    out = explain(X_HAND, VALUE, None, rows=["a"], top_k=5, min_share=0.0)
    assert out.loc["a", "value_up"].endswith("last order 10 days ago; no complaint in the "
                                             "last 365 days")


def test_a_missing_value_is_the_bad_side_when_it_means_never_and_no_reason_when_unknown():
    X = pd.DataFrame({"ctc_days_since_last_contact": [5.0, 50.0, np.nan],
                      "cust_size_employees": [10.0, 20.0, np.nan]}, index=["x", "y", "z"])

    class Model:
        def __init__(self, contributions):
            self.frame = pd.DataFrame(contributions, index=X.index).assign(bias=0.0)

        def contributions(self, rows):
            return self.frame.loc[rows.index]

    value = Model({"ctc_days_since_last_contact": [0.0, 0.0, 0.5],
                   "cust_size_employees": [0.0, 0.0, 0.4]})
    churn = Model({"ctc_days_since_last_contact": [0.0, 0.0, 0.5],
                   "cust_size_employees": [0.0, 0.0, 0.4]})
    out = explain(X, value, churn, rows=["z"], churn_probability=pd.Series({"z": 0.5}))
    # never contacted pushes value up: the wrong way round; employees not known: no reason
    assert out.loc["z", "reasons"] == "Churn risk up: never contacted."


def test_the_same_phrase_is_shown_once():
    X = pd.DataFrame({"txn_gap_mean_days": [30.0, 40.0, np.nan],
                      "btyd_frequency": [5.0, 8.0, 0.0]}, index=["x", "y", "z"])

    class Churn:
        def contributions(self, rows):
            return pd.DataFrame({"txn_gap_mean_days": 0.6, "btyd_frequency": 0.5, "bias": 0.0},
                                index=rows.index)

    out = explain(X, None, Churn(), rows=["z"], churn_probability=pd.Series({"z": 0.9}))
    # both read "no repeat order yet" (no gap without a repeat; no repeat order day)
    assert out.loc["z", "reasons"] == "Churn risk up: no repeat order yet."


# The fast path: contributions once per distinct path through each tree, phrases once per
# distinct value and context. Checked against LightGBM's own pred_contrib and against the
# same explain on models that hide their boosters (the slow reference).

def _edge_frame(n: int = 600, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """Values at every edge of LightGBM's decisions: NaN, exact zeros, values inside its
    zero threshold (1e-35), negatives, repeated thresholds, a categorical with missing and
    unseen categories."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "gap": np.where(rng.random(n) < 0.2, np.nan, rng.exponential(30.0, n)),
        "count": rng.integers(0, 6, n).astype(float),
        "signed": np.where(rng.random(n) < 0.3, 0.0, rng.normal(0.0, 1.0, n)),
        "tiny": rng.choice([0.0, 5e-36, -5e-36, 1.0, -1.0, np.nan], n),
        "region": pd.Categorical(rng.choice(["north", "south", "east", "west"], n),
                                 categories=["north", "south", "east", "west"]),
    })
    X.loc[rng.random(n) < 0.1, "region"] = np.nan
    y = (np.nan_to_num(X["gap"], nan=90.0) / 30 + X["count"] * (X["region"] == "south")
         + 2 * X["signed"] + 3 * np.nan_to_num(X["tiny"]) + rng.normal(0, 0.3, n))
    return X, y.to_numpy()


@pytest.mark.parametrize("params", [
    {"num_leaves": 15},
    {"num_leaves": 15, "zero_as_missing": True},  # splits whose missing type is Zero
    {"num_leaves": 90, "min_child_samples": 2},  # more than 64 splits in a tree
])
def test_tree_contributions_are_lightgbms_pred_contrib(params):
    import lightgbm as lgb

    X, y = _edge_frame()
    booster = lgb.LGBMRegressor(n_estimators=25, verbose=-1, n_jobs=1, **params).fit(X, y).booster_
    # scored on other rows: unseen values, and a category the booster never saw
    other, _ = _edge_frame(seed=2)
    other["region"] = other["region"].cat.add_categories("unseen")
    other.loc[other.index[:20], "region"] = "unseen"
    for rows in (X, other):
        got = tree_contributions(booster, rows)
        expected = booster.predict(rows, pred_contrib=True)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_rows_on_the_same_paths_share_one_treeshap():
    import lightgbm as lgb

    X, y = _edge_frame(300)
    booster = lgb.LGBMRegressor(n_estimators=10, num_leaves=15, verbose=-1,
                                n_jobs=1).fit(X, y).booster_
    tiled = pd.concat([X] * 3, ignore_index=True)
    asked, predict = [], booster.predict
    booster.predict = lambda data, **kw: asked.append(len(data)) or predict(data, **kw)
    got = tree_contributions(booster, tiled)
    assert len(asked) == 10 and max(asked) <= len(X)
    np.testing.assert_allclose(got, predict(tiled, pred_contrib=True), rtol=1e-10, atol=1e-10)


def test_tree_contributions_refuses_columns_in_another_order():
    import lightgbm as lgb

    X, y = _edge_frame(200)
    booster = lgb.LGBMRegressor(n_estimators=3, verbose=-1, n_jobs=1).fit(X, y).booster_
    with pytest.raises(ValueError, match="not the booster's"):
        tree_contributions(booster, X[X.columns[::-1]])


class _Opaque:
    """A model that shows only its contributions and probabilities (the slow path)."""

    def __init__(self, model):
        self.model = model

    def contributions(self, X):
        return self.model.contributions(X)

    def predict_proba(self, X):
        return self.model.predict_proba(X)


@pytest.mark.parametrize("objective", ["tweedie", "hurdle"])
def test_explain_fast_path_gives_the_slow_paths_reasons(training_set, objective, monkeypatch):
    features = model_features(training_set)
    X = training_set[features]
    value = ValueModel(objective=objective, **SMALL).fit(X, training_set[LABEL_SPEND])
    churn = ChurnModel(**SMALL).fit(X, training_set[LABEL_CHURNED], cutoffs=training_set[CUTOFF])
    rows = X.index[:800]
    slow = explain(X, _Opaque(value), _Opaque(churn), rows=rows)
    # the fast path asks the models themselves only for the few rows it checks against
    asked = []
    for model in (value, churn):
        own = model.contributions
        monkeypatch.setattr(model, "contributions",
                            lambda rows, own=own: asked.append(len(rows)) or own(rows))
    fast = explain(X, value, churn, rows=rows)
    assert asked and max(asked) <= 16
    pd.testing.assert_frame_equal(fast, slow)
    assert (fast["reasons"] != "").mean() > 0.5


def test_explain_falls_back_when_the_fast_contributions_disagree(fitted, monkeypatch):
    import models.reasons as reasons

    value, churn, X = fitted
    rows = X.index[:100]
    expected = explain(X, _Opaque(value), _Opaque(churn), rows=rows)
    monkeypatch.setattr(reasons._TreePaths, "contributions",
                        lambda self, M: np.zeros((len(M), len(self.names) + 1)))
    pd.testing.assert_frame_equal(explain(X, value, churn, rows=rows), expected)


def test_a_phrase_is_reused_only_with_the_same_context():
    from models.reasons import _Phrases

    # rows 0 and 1: the same days since the last order, other usual gaps (another phrase);
    # rows 1 and 2: the same value and gap (the same phrase); row 3: missing
    columns = {"txn_days_since_last_order": np.array([142.0, 142.0, 142.0, np.nan]),
               "txn_gap_mean_days": np.array([47.0, 140.0, 140.0, 10.0])}
    names = list(columns)
    render = _Phrases(names, columns)
    got = [render(i, 0) for i in (0, 1, 2, 3, 0)]
    assert got == [phrase(names[0], columns[names[0]][i], {n: v[i] for n, v in columns.items()})
                   for i in (0, 1, 2, 3, 0)]
    assert got[0] == "last order 142 days ago, three times its usual gap"
    assert got[1] == got[2] == "last order 142 days ago"


def test_the_reason_checks_catch_what_a_manager_would_call_wrong():
    # the phrases issue 14 found beside the rows they contradicted
    bad = {
        "Value up: expected spend 82,137 by the BG/NBD + Gamma-Gamma model.": 0.2,
        "Churn risk up: 100% chance of no order by the BG/NBD model.": 0.2,
        "Value up: last contact 285 days ago.": 0.2,
        "Value down: category concentration 0.32.": 0.2,
        "Churn risk up: spend trend -1.00 (last 90 days against the 90 before).": 0.2,
        "Churn risk up: a dedicated manager is in touch.": 0.2,
        "Value up: never contacted.": 0.2,
        "Churn risk up: last order 400 days ago.": 0.05,
    }
    for text, p in bad.items():
        assert reason_checks.problems(text, p, MIN_CHURN_PROBABILITY), text
    good = ("Value up: last contact 60 days ago; 50,000 spent in the last 365 days. Churn risk "
            "up: last order 400 days ago, three times its usual gap; no complaint-free... ")
    assert reason_checks.problems(good, 0.5, MIN_CHURN_PROBABILITY)  # does not parse
    fine = ("Value up: last contact 60 days ago; buys mostly from one product category. "
            "Churn risk up: last order 400 days ago, three times its usual gap.")
    assert reason_checks.sections(fine) == {
        "Value up": ["last contact 60 days ago", "buys mostly from one product category"],
        "Churn risk up": ["last order 400 days ago, three times its usual gap"]}
    assert reason_checks.problems(fine, 0.5, MIN_CHURN_PROBABILITY) == []
    assert reason_checks.problems("", 0.0, MIN_CHURN_PROBABILITY) == []


def test_reasons_on_real_models_agree_with_every_row(fitted, training_set):
    value, churn, X = fitted
    p = pd.Series(churn.predict_proba(X)[:, 1], index=X.index)
    out = explain(X, value, churn, churn_probability=p)
    assert (out["reasons"] != "").mean() > 0.9
    wrong = {i: found for i, text in out["reasons"].items()
             if (found := reason_checks.problems(text, p[i], MIN_CHURN_PROBABILITY))}
    assert not wrong, list(wrong.items())[:5]

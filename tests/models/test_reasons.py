import pytest

from features.contract import CUTOFF, LABEL_CHURNED, LABEL_SPEND
from models.churn import ChurnModel
from models.reasons import explain, factors, phrase
from models.training import model_features
from models.value import ValueModel

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
    assert text == "no order for 142 days, three times its usual gap"


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

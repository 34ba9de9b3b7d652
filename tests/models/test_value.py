import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from features.contract import CUTOFF, LABEL_SPEND
from models.metrics import normalized_gini
from models.training import model_features
from models.value import ValueModel


def _split(frame):
    last = frame[CUTOFF].max()
    train = frame[frame[CUTOFF] <= last - pd.Timedelta(days=365)]
    return train, frame[frame[CUTOFF] == last]


@pytest.mark.parametrize("objective", ["tweedie", "hurdle"])
def test_value_model_ranks_future_spend_on_a_later_cutoff(training_set, small_params, objective):
    train, test = _split(training_set)
    features = model_features(training_set)
    model = ValueModel(objective=objective, **small_params).fit(train[features], train[LABEL_SPEND])
    predicted = model.predict(test[features])
    assert (predicted >= 0).all() and predicted.shape == (len(test),)
    assert normalized_gini(test[LABEL_SPEND], predicted) > 0.5
    assert list(model.feature_names_in_) == features
    assert set(model.estimators_) == (
        {"regressor"} if objective == "tweedie" else {"classifier", "regressor"}
    )


def test_tweedie_contributions_add_up_to_log_prediction(training_set, small_params):
    features = model_features(training_set)
    X = training_set[features].head(50)
    model = ValueModel(**small_params).fit(training_set[features], training_set[LABEL_SPEND])
    contrib = model.contributions(X)
    assert list(contrib.columns) == [*features, "bias"]
    np.testing.assert_allclose(np.exp(contrib.sum(axis=1)), model.predict(X), rtol=1e-6)


def test_negative_spend_is_clipped_for_training():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = np.where(X[:, 0] > 0, 100.0, 0.0)
    y[:5] = -50.0  # returns exceeding orders
    model = ValueModel(n_estimators=10, min_child_samples=5, n_jobs=1).fit(X, y)
    assert (model.predict(X) >= 0).all()
    assert model.n_features_in_ == 3


def test_estimator_contract(training_set, small_params):
    model = ValueModel(objective="hurdle", **small_params)
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.predict(training_set[model_features(training_set)])
    with pytest.raises(ValueError, match="objective"):
        ValueModel(objective="poisson").fit(np.ones((4, 1)), np.ones(4))


def test_hurdle_needs_buyers_and_non_buyers():
    with pytest.raises(ValueError, match="buyers"):
        ValueModel(objective="hurdle", n_estimators=2).fit(np.ones((10, 1)), np.zeros(10))


def test_columns_must_match_training(training_set, small_params):
    features = model_features(training_set)
    model = ValueModel(**small_params).fit(training_set[features], training_set[LABEL_SPEND])
    with pytest.raises(ValueError, match="feature names"):
        model.predict(training_set[features[::-1]])


def test_labels_must_be_observed():
    with pytest.raises(ValueError, match="NaN"):
        ValueModel(n_estimators=2).fit(np.ones((3, 1)), [1.0, np.nan, 2.0])


def test_init_signature_is_objective_then_the_lightgbm_params():
    import inspect

    params = inspect.signature(ValueModel).parameters
    assert list(params)[:3] == ["objective", "tweedie_variance_power", "n_estimators"]
    assert params["objective"].default == "tweedie" and params["random_state"].default == 0
    assert ValueModel("hurdle").objective == "hurdle"  # positional, as before

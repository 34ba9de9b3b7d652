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


def _noise(seed: int = 0, n_cutoffs: int = 8, per_cutoff: int = 500):
    """Spend unrelated to the features (half zeros, gamma otherwise) over weekly cutoffs."""
    rng = np.random.default_rng(seed)
    n = n_cutoffs * per_cutoff
    X = pd.DataFrame(rng.normal(size=(n, 5)), columns=[f"f{i}" for i in range(5)])
    y = np.where(rng.uniform(size=n) < 0.5, 0.0, rng.gamma(2.0, 100.0, size=n))
    cutoffs = np.repeat(pd.date_range("2024-01-07", periods=n_cutoffs, freq="W-SUN"), per_cutoff)
    groups = np.tile([f"C{i:04d}" for i in range(per_cutoff)], n_cutoffs)
    return X, y, cutoffs, groups


NOISY = {"n_estimators": 300, "learning_rate": 0.1, "num_leaves": 15, "n_jobs": 1,
         "early_stopping_rounds": 20}


@pytest.mark.parametrize("objective", ["tweedie", "hurdle"])
def test_early_stopping_picks_few_trees_on_noise(objective):
    X, y, cutoffs, groups = _noise()
    model = ValueModel(objective=objective, **NOISY).fit(X, y, cutoffs=cutoffs, groups=groups)
    for name, best in model.best_iterations_.items():
        assert best is not None and best < 60, (name, best)
        assert model.estimators_[name].booster_.num_trees() == best  # refitted with that many
    # the refit used every row: a different fit from the early-stopping one on fewer rows
    assert model.estimators_["regressor"].n_features_in_ == 5


def test_early_stopping_keeps_more_trees_where_there_is_signal(training_set):
    features = model_features(training_set)
    params = NOISY | {"learning_rate": 0.05, "num_leaves": 7, "early_stopping_rounds": 10}
    signal = ValueModel(**params).fit(
        training_set[features], training_set[LABEL_SPEND], cutoffs=training_set[CUTOFF],
        groups=training_set["customer_id"],
    )
    X, y, cutoffs, groups = _noise()
    noise = ValueModel(**params).fit(X, y, cutoffs=cutoffs, groups=groups)
    assert signal.best_iterations_["regressor"] > 3 * noise.best_iterations_["regressor"]


def test_without_cutoffs_there_is_no_early_stopping():
    X, y, _, _ = _noise(per_cutoff=100)
    model = ValueModel(**(NOISY | {"n_estimators": 40})).fit(X, y)
    assert model.best_iterations_ == {"regressor": None}
    assert model.estimators_["regressor"].booster_.num_trees() == 40  # the cap, as before
    off = ValueModel(**(NOISY | {"n_estimators": 40, "early_stopping_rounds": None}))
    X, y, cutoffs, groups = _noise(per_cutoff=100)
    assert off.fit(X, y, cutoffs=cutoffs, groups=groups).best_iterations_ == {"regressor": None}
    # cutoffs without the customers: no customer-disjoint fold, so no early stopping
    on = ValueModel(**(NOISY | {"n_estimators": 40}))
    assert on.fit(X, y, cutoffs=cutoffs).best_iterations_ == {"regressor": None}
    with pytest.raises(ValueError, match="cutoffs has 3 values"):
        ValueModel(n_estimators=2).fit(X, y, cutoffs=cutoffs[:3])
    with pytest.raises(ValueError, match="groups has 3 values"):
        ValueModel(n_estimators=2).fit(X, y, cutoffs=cutoffs, groups=groups[:3])
    with pytest.raises(ValueError, match="early_stopping_rounds"):
        ValueModel(n_estimators=2, early_stopping_rounds=0).fit(X, y, cutoffs=cutoffs)

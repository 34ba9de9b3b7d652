import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from features.contract import CUTOFF, LABEL_CHURNED
from models.churn import ChurnModel
from models.metrics import expected_calibration_error
from models.training import model_features


@pytest.fixture(scope="module")
def split(training_set):
    last = training_set[CUTOFF].max()
    train = training_set[training_set[CUTOFF] <= last - pd.Timedelta(days=365)]
    return train, training_set[training_set[CUTOFF] == last], model_features(training_set)


def test_booster_on_earlier_cutoffs_calibrator_on_the_latest(split, small_params):
    train, test, features = split
    model = ChurnModel(**small_params).fit(
        train[features], train[LABEL_CHURNED], cutoffs=train[CUTOFF]
    )
    assert model.calibrated_ and model.calibration_cutoffs_ == [train[CUTOFF].max()]
    latest = train[CUTOFF] == train[CUTOFF].max()
    # the booster never saw the calibration rows: same as a booster fitted on the others
    early = train[~latest]
    again = ChurnModel(calibration="none", **small_params).fit(
        early[features], early[LABEL_CHURNED]
    )
    np.testing.assert_allclose(model.raw_proba(test[features]), again.raw_proba(test[features]))
    p = model.predict_proba(test[features])
    assert p.shape == (len(test), 2) and np.allclose(p.sum(axis=1), 1)
    assert ((p >= 0) & (p <= 1)).all()
    assert roc_auc_score(test[LABEL_CHURNED], p[:, 1]) > 0.75
    # calibration keeps the booster's ranking (isotonic ties broken by the raw score)
    raw = model.raw_proba(test[features])
    assert spearmanr(raw, p[:, 1]).statistic > 0.999


# ---- calibration, checked out of sample on a process with a known churn probability ------
#
# Each cutoff draws fresh customers with a signal feature x and two noise features; the true
# P(churn | x) at cutoff k is sigmoid(a_k + slope * x). The intercept a_k drifts upwards and
# jumps at the latest cutoff (with slope 1.5 the churn rate goes from 24% to 36% over the
# earlier cutoffs, then to 50%), so the booster, fitted on the earlier cutoffs, learns the old
# base rate; its parameters (200 trees at learning rate 0.2, leaves down to 5 rows, no
# subsampling) also let it fit noise. The raw probabilities are then
# miscalibrated for a real reason, and the calibrator must fix them from the latest cutoff
# alone. Everything is checked on an independent held-out sample drawn from the process of
# the latest cutoff (the period the calibrated model is meant for), never on the rows the
# calibrator was fitted on (where isotonic regression matches the label mean by
# construction, whatever the features).

INTERCEPTS = (-1.6, -1.4, -1.2, -1.0, -0.8, 0.0)  # per cutoff, oldest first; the latest jumps
OVERFIT = {
    "n_estimators": 200,
    "learning_rate": 0.2,
    "num_leaves": 15,
    "min_child_samples": 5,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "n_jobs": 1,
    "early_stopping_rounds": None,  # over-fits on purpose: early stopping would prevent it
}


def _draw(rng, n: int, intercept: float, slope: float):
    X = pd.DataFrame(
        {"x": rng.normal(size=n), "noise_a": rng.normal(size=n), "noise_b": rng.uniform(size=n)}
    )
    p = 1.0 / (1.0 + np.exp(-(intercept + slope * X["x"].to_numpy())))
    return X, p, (rng.uniform(size=n) < p).astype(int)


def drifting_churn(slope: float, seed: int = 0, per_cutoff: int = 3000, held_out: int = 20_000):
    """A stacked training set (X, y, cutoffs) over month-end cutoffs, and an independent
    held-out sample (X, true probability, y) from the process of the latest cutoff."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-31", periods=len(INTERCEPTS), freq="ME")
    parts = [_draw(rng, per_cutoff, a, slope) for a in INTERCEPTS]
    X = pd.concat([X for X, _, _ in parts], ignore_index=True)
    y = np.concatenate([y for _, _, y in parts])
    cutoffs = np.repeat(dates.to_numpy(), per_cutoff)
    return X, y, cutoffs, _draw(rng, held_out, INTERCEPTS[-1], slope)


@pytest.mark.parametrize("calibration", ["isotonic", "sigmoid"])
def test_calibration_holds_on_an_independent_sample(calibration):
    X, y, cutoffs, (X_new, p_true, y_new) = drifting_churn(slope=1.5)
    model = ChurnModel(calibration=calibration, **OVERFIT).fit(X, y, cutoffs=cutoffs)
    assert model.calibrated_ and model.calibration_cutoffs_ == [pd.Timestamp(cutoffs.max())]
    raw = ChurnModel(calibration="none", **OVERFIT).fit(X, y, cutoffs=cutoffs)
    assert not raw.calibrated_
    p = model.predict_proba(X_new)[:, 1]
    p_raw = raw.predict_proba(X_new)[:, 1]
    # the uncalibrated booster is measurably off: it predicts the old churn rate
    ece_raw = expected_calibration_error(y_new, p_raw)
    assert ece_raw > 0.12 and p_raw.mean() < y_new.mean() - 0.1
    # calibrated: close to the observed rates bin by bin (10 bins of 0.1), a small fraction of
    # the raw error, the right overall rate, and close to the true probabilities themselves
    ece = expected_calibration_error(y_new, p)
    assert ece < 0.04, ece
    assert ece < ece_raw / 4
    assert abs(p.mean() - y_new.mean()) < 0.03
    assert np.abs(p - p_true).mean() < np.abs(p_raw - p_true).mean() / 2
    # and the signal is kept: the ranking is the booster's
    assert roc_auc_score(y_new, p) > 0.75


@pytest.mark.parametrize("calibration", ["isotonic", "sigmoid"])
def test_calibration_does_not_invent_signal_from_noise(calibration):
    # slope 0: every feature is noise, the churn probability is the base rate of the cutoff
    X, y, cutoffs, (X_new, _, y_new) = drifting_churn(slope=0.0)
    model = ChurnModel(calibration=calibration, **OVERFIT).fit(X, y, cutoffs=cutoffs)
    assert model.calibrated_
    raw = model.raw_proba(X_new)
    p = model.predict_proba(X_new)[:, 1]
    base = y_new.mean()
    # the over-fitted booster spreads its scores over noise, around the old base rate
    assert raw.std() > 0.05 and np.mean(np.abs(raw - base) < 0.1) < 0.2
    # calibrated, nearly every probability collapses onto the current base rate (isotonic
    # regression may leave a few extreme steps at the ends of the score range)
    assert abs(p.mean() - base) < 0.03
    assert np.mean(np.abs(p - base) < 0.1) > 0.9
    assert np.quantile(p, 0.9) - np.quantile(p, 0.1) < 0.1
    assert expected_calibration_error(y_new, p) < 0.04
    assert roc_auc_score(y_new, p) < 0.55


def test_sigmoid_and_uncalibrated(split, small_params):
    train, test, features = split
    sigmoid = ChurnModel(calibration="sigmoid", **small_params).fit(
        train[features], train[LABEL_CHURNED], cutoffs=train[CUTOFF]
    )
    assert sigmoid.calibrated_ and ((sigmoid.predict_proba(test[features]) >= 0).all())
    plain = ChurnModel(**small_params).fit(train[features], train[LABEL_CHURNED])
    assert not plain.calibrated_ and plain.calibrator_ is None
    np.testing.assert_allclose(
        plain.predict_proba(test[features])[:, 1], plain.raw_proba(test[features])
    )


def test_single_cutoff_is_not_calibrated(split, small_params):
    train, _, features = split
    one = train[train[CUTOFF] == train[CUTOFF].max()]
    model = ChurnModel(**small_params).fit(one[features], one[LABEL_CHURNED], cutoffs=one[CUTOFF])
    assert not model.calibrated_


def test_estimator_contract(split, small_params):
    _, test, features = split
    model = ChurnModel(calibration="sigmoid", **small_params)
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.predict_proba(test[features])
    with pytest.raises(ValueError, match="0/1"):
        ChurnModel(n_estimators=2).fit(np.ones((3, 1)), [0, 2, 1])
    with pytest.raises(ValueError, match="cutoffs"):
        ChurnModel(n_estimators=2).fit(np.ones((4, 1)), [0, 1, 0, 1], cutoffs=["2024-01-31"])


def test_init_signature_is_calibration_then_the_lightgbm_params():
    import inspect

    params = inspect.signature(ChurnModel).parameters
    assert list(params)[:3] == ["calibration", "calibration_cutoffs", "n_estimators"]
    assert params["calibration"].default == "isotonic" and params["n_jobs"].default == 2


def _rows(n: int) -> np.ndarray:
    """Every row its own customer: drifting_churn draws independent rows per cutoff."""
    return np.array([f"R{i:06d}" for i in range(n)])


def test_early_stopping_picks_few_trees_on_noise():
    X, y, cutoffs, (X_new, _, y_new) = drifting_churn(slope=0.0)
    params = OVERFIT | {"early_stopping_rounds": 20}
    model = ChurnModel(**params).fit(X, y, cutoffs=cutoffs, groups=_rows(len(y)))
    assert model.best_iteration_ is not None and model.best_iteration_ < 40
    assert model.classifier_.booster_.num_trees() == model.best_iteration_
    assert model.raw_proba(X_new).std() < 0.03  # no scores spread over noise (OVERFIT: > 0.05)
    assert ChurnModel(**OVERFIT).fit(X, y, cutoffs=cutoffs).best_iteration_ is None


def test_the_calibration_cutoff_never_chooses_the_trees():
    # the latest cutoff calibrates; the trees are chosen on the booster's own later cutoffs,
    # so relabelling the calibration cutoff changes the calibrator, not the number of trees
    X, y, cutoffs, _ = drifting_churn(slope=1.0)
    params = OVERFIT | {"early_stopping_rounds": 10, "learning_rate": 0.1}
    flipped = y.copy()
    latest = cutoffs == cutoffs.max()
    flipped[latest] = 1 - flipped[latest]
    groups = _rows(len(y))
    a = ChurnModel(**params).fit(X, y, cutoffs=cutoffs, groups=groups)
    b = ChurnModel(**params).fit(X, flipped, cutoffs=cutoffs, groups=groups)
    assert a.calibration_cutoffs_ == b.calibration_cutoffs_ == [pd.Timestamp(cutoffs.max())]
    assert a.best_iteration_ == b.best_iteration_ is not None
    assert a.best_iteration_ < params["n_estimators"]


def test_churn_without_cutoffs_or_customers_has_no_early_stopping():
    X, y, cutoffs, _ = drifting_churn(slope=1.0, per_cutoff=200)
    params = OVERFIT | {"n_estimators": 30, "early_stopping_rounds": 5}
    model = ChurnModel(**params).fit(X, y)
    assert model.best_iteration_ is None and model.classifier_.booster_.num_trees() == 30
    assert ChurnModel(**params).fit(X, y, cutoffs=cutoffs).best_iteration_ is None
    with pytest.raises(ValueError, match="groups has 1 values"):
        ChurnModel(n_estimators=2).fit(X, y, cutoffs=cutoffs, groups=["a"])

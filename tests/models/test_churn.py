import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from features.contract import CUTOFF, LABEL_CHURNED
from models.churn import ChurnModel
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


def test_calibrated_mean_matches_the_calibration_fold(split, small_params):
    train, _, features = split
    model = ChurnModel(**small_params).fit(
        train[features], train[LABEL_CHURNED], cutoffs=train[CUTOFF]
    )
    late = train[train[CUTOFF] == train[CUTOFF].max()]
    p = model.predict_proba(late[features])[:, 1]
    assert p.mean() == pytest.approx(late[LABEL_CHURNED].mean(), abs=1e-3)


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

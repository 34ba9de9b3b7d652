"""The shared LightGBM parameters: typed ones, any other LightGBM parameter checked by
LightGBM's own list and checks, early stopping."""

import inspect

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMRegressor
from sklearn.base import clone

from models._lightgbm import (
    LIGHTGBM_PARAMS,
    OUR_PARAMS,
    check_lgbm_params,
    early_stopping_split,
    fit_boosted,
    lgbm_kwargs,
    resolve_min_child_samples,
)
from models.churn import ChurnModel
from models.value import ValueModel

OWN = {ValueModel: ["objective", "tweedie_variance_power"],
       ChurnModel: ["calibration", "calibration_cutoffs"]}


@pytest.mark.parametrize("cls", [ValueModel, ChurnModel])
def test_hand_written_init_lists_own_then_lightgbm_params_with_their_defaults(cls):
    signature = inspect.signature(cls)
    assert list(signature.parameters) == [*OWN[cls], *LIGHTGBM_PARAMS, "lgbm_params"]
    for name, (_, default) in LIGHTGBM_PARAMS.items():
        assert signature.parameters[name].default == default, name
    model = cls(*[p.default for p in signature.parameters.values()][:2], 10, random_state=None)
    assert (model.n_estimators, model.random_state, model.learning_rate) == (10, None, 0.05)
    with pytest.raises(TypeError):
        cls(beta=1)


def test_lgbm_kwargs_pass_the_lightgbm_params_and_the_checked_extra_ones():
    kwargs = lgbm_kwargs(ValueModel(max_bin=63))
    assert kwargs["max_bin"] == 63 and kwargs["verbose"] == -1
    assert OUR_PARAMS == ("early_stopping_rounds",)
    assert "objective" not in kwargs and "lgbm_params" not in kwargs
    assert set(kwargs) == {*LIGHTGBM_PARAMS, "verbose"} - {*OUR_PARAMS}
    assert lgbm_kwargs(ValueModel(), n_rows=300_000)["min_child_samples"] == 150  # "auto"
    assert lgbm_kwargs(ValueModel(min_child_samples=7), n_rows=300_000)["min_child_samples"] == 7
    extra = lgbm_kwargs(ValueModel(lgbm_params={"max_depth": 4, "reg_alpha": 0.5}))
    assert (extra["max_depth"], extra["reg_alpha"]) == (4, 0.5)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"max_dpth": 4}, "max_dpth is not a LightGBM parameter: did you mean max_depth"),
        ({"num_iterations": 10}, "num_iterations is n_estimators under LightGBM's name"),
        ({"bagging_fraction": 0.5}, "set subsample"),  # an alias of a typed parameter
        ({"n_estimators": 10}, "set n_estimators"),  # a typed one given twice
        ({"objective": "l1"}, "cannot be set: the model's formulation"),
        ({"early_stopping_round": 5}, "set early_stopping_rounds"),
        ({"lambda_l1": 1.0, "reg_alpha": 2.0}, "the same LightGBM parameter"),
        ({"max_depth": "six"}, "max_depth should be of type int"),  # LightGBM's parser
        ({"feature_fraction_bynode": 1.5}, r"feature_fraction_bynode\) <= \(1.0\)"),  # its check
        ({"boosting": "forest"}, "Unknown boosting type forest"),
    ],
)
def test_other_lightgbm_parameters_are_checked_by_lightgbm(params, message):
    with pytest.raises(ValueError, match=message):
        check_lgbm_params(params)


def test_known_lightgbm_parameters_pass_by_any_of_their_names():
    params = {"max_depth": 5, "min_split_gain": 0.0, "lambda_l1": 0.1, "boosting": "gbdt",
              "extra_trees": True, "path_smooth": 1.0, "importance_type": "gain"}
    assert check_lgbm_params(params) == params
    assert check_lgbm_params(None) == {}


def test_an_extra_parameter_reaches_the_booster_and_survives_clone():
    X = pd.DataFrame({"a": np.arange(200.0), "b": np.arange(200.0) % 7})
    y = (X["a"] % 3 == 0).astype(float) * X["b"]
    model = ValueModel(n_estimators=5, n_jobs=1, early_stopping_rounds=None,
                       lgbm_params={"max_depth": 2}).fit(X, y)
    assert model.estimators_["regressor"].get_params()["max_depth"] == 2
    assert all(tree["tree_structure"] and _depth(tree["tree_structure"]) <= 2
               for tree in model.estimators_["regressor"].booster_.dump_model()["tree_info"])
    copy = clone(model)
    assert copy.lgbm_params == {"max_depth": 2} and copy.lgbm_params is not model.lgbm_params
    with pytest.raises(ValueError, match="max_dpth"):
        ValueModel(n_estimators=5, lgbm_params={"max_dpth": 2}).fit(X, y)


def _depth(node) -> int:
    if "left_child" not in node:
        return 0
    return 1 + max(_depth(node["left_child"]), _depth(node["right_child"]))


@pytest.mark.parametrize(
    ("rows", "expected"),
    [(None, 20), (0, 20), (6_000, 20), (40_000, 20), (41_999, 20), (42_000, 21),
     (200_000, 100), (1_000_000, 500), (2_000_000, 1000), (50_000_000, 1000)],
)
def test_auto_min_child_samples_scales_with_the_rows(rows, expected):
    assert resolve_min_child_samples("auto", rows) == expected


def test_min_child_samples_must_be_a_positive_integer_or_auto():
    assert resolve_min_child_samples(35, 10**9) == 35  # a number is kept whatever the rows
    for bad in (0, -3, "many", 2.5, True):
        with pytest.raises(ValueError, match="min_child_samples"):
            resolve_min_child_samples(bad, 100)


def _cutoffs(n_cutoffs: int, per_cutoff: int) -> np.ndarray:
    dates = pd.date_range("2024-01-07", periods=n_cutoffs, freq="W-SUN")
    return np.repeat(dates.to_numpy(), per_cutoff)


def _customers(n_cutoffs: int, per_cutoff: int) -> np.ndarray:
    return np.tile([f"C{i:04d}" for i in range(per_cutoff)], n_cutoffs)


def test_early_stopping_fold_is_later_in_time_and_customer_disjoint():
    per_cutoff = 400
    cutoffs, groups = _cutoffs(8, per_cutoff), _customers(8, per_cutoff)
    fit, held = early_stopping_split(cutoffs, groups)
    dates = pd.to_datetime(cutoffs)
    # the latest quarter of the 8 cutoffs is held out, of a quarter of the customers
    assert set(dates[held]) == set(pd.date_range("2024-02-18", periods=2, freq="W-SUN"))
    assert dates[fit].max() < dates[held].min()
    assert not set(groups[fit]) & set(groups[held])
    share = len(set(groups[held])) / per_cutoff
    assert 0.18 < share < 0.32
    assert len(set(groups[fit])) == per_cutoff - len(set(groups[held]))  # the others fit
    again = early_stopping_split(cutoffs, groups)  # the same every run: a hash, not a draw
    assert (again[0] == fit).all() and (again[1] == held).all()
    # at least one cutoff held out; one cutoff, no cutoffs or no customers: no fold
    assert set(pd.to_datetime(_cutoffs(3, 40)[early_stopping_split(
        _cutoffs(3, 40), _customers(3, 40))[1]])) == {pd.Timestamp("2024-01-21")}
    assert early_stopping_split(_cutoffs(1, 10), _customers(1, 10)) is None
    assert early_stopping_split(None, groups) is None
    assert early_stopping_split(cutoffs, None) is None
    with pytest.raises(ValueError, match="groups"):
        early_stopping_split(cutoffs, groups[:-1])


def _regressor(**overrides):
    params = {"n_estimators": 300, "learning_rate": 0.1, "num_leaves": 15,
              "min_child_samples": 5, "n_jobs": 1, "verbose": -1}
    return LGBMRegressor(**(params | overrides))


def test_fit_boosted_stops_early_on_noise_and_refits_with_the_best_number_of_trees():
    rng = np.random.default_rng(0)
    cutoffs = _cutoffs(8, 250)
    X = rng.normal(size=(len(cutoffs), 4))
    noise = rng.normal(size=len(cutoffs))
    signal = 3 * np.sin(2 * X[:, 0]) + X[:, 1] + 0.3 * noise
    split = early_stopping_split(cutoffs, _customers(8, 250))
    model, best_noise = fit_boosted(_regressor, X, noise, None, split, rounds=20)
    assert best_noise < 60 and model.booster_.num_trees() == best_noise
    _, best_signal = fit_boosted(_regressor, X, signal, None, split, rounds=20)
    assert best_signal > 3 * best_noise  # a real signal keeps improving the held-out loss
    model, best = fit_boosted(_regressor, X, noise, None, None, rounds=20)
    assert best is None and model.booster_.num_trees() == 300  # no fold: the cap
    model, best = fit_boosted(_regressor, X, noise, None, split, rounds=None)
    assert best is None and model.booster_.num_trees() == 300  # switched off

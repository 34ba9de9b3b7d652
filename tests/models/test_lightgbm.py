"""The shared LightGBM parameters: the generated __init__ behaves like a hand-written one."""

import inspect

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMRegressor
from sklearn.base import BaseEstimator

from models._lightgbm import (
    LIGHTGBM_PARAMS,
    OUR_PARAMS,
    early_stopping_split,
    fit_boosted,
    lgbm_kwargs,
    lightgbm_estimator,
    resolve_min_child_samples,
)


@lightgbm_estimator
class Toy(BaseEstimator):
    OWN_PARAMS = {"alpha": (float, 1.0)}


def test_signature_lists_own_then_lightgbm_params():
    names = list(inspect.signature(Toy).parameters)
    assert names == ["alpha", *LIGHTGBM_PARAMS]
    assert sorted(Toy().get_params()) == sorted(names)


def test_arguments_by_position_or_keyword_are_stored_unchanged():
    toy = Toy(2.0, 10, random_state=None)
    assert (toy.alpha, toy.n_estimators, toy.random_state) == (2.0, 10, None)
    assert toy.learning_rate == 0.05  # default
    with pytest.raises(TypeError):
        Toy(beta=1)


def test_lgbm_kwargs_pass_the_lightgbm_params_only():
    kwargs = lgbm_kwargs(Toy(max_bin=63))
    assert kwargs["max_bin"] == 63 and kwargs["verbose"] == -1
    assert OUR_PARAMS == ("early_stopping_rounds",)
    assert "alpha" not in kwargs and set(kwargs) == {*LIGHTGBM_PARAMS, "verbose"} - {*OUR_PARAMS}
    assert lgbm_kwargs(Toy(), n_rows=300_000)["min_child_samples"] == 150  # "auto"
    assert lgbm_kwargs(Toy(min_child_samples=7), n_rows=300_000)["min_child_samples"] == 7


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

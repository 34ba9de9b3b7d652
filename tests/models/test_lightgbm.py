"""The shared LightGBM parameters: the generated __init__ behaves like a hand-written one."""

import inspect

import pytest
from sklearn.base import BaseEstimator

from models._lightgbm import LIGHTGBM_PARAMS, lgbm_kwargs, lightgbm_estimator


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
    assert "alpha" not in kwargs and set(kwargs) == {*LIGHTGBM_PARAMS, "verbose"}

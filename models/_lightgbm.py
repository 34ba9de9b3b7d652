"""The LightGBM hyper-parameters our estimators share (ValueModel, ChurnModel).

scikit-learn reads an estimator's parameters from the signature of its `__init__`, which
must store each argument unchanged under the same name (no validation, no **kwargs). Both
models take the same eleven LightGBM arguments after their own, so instead of writing that
signature and its assignments twice, `lightgbm_estimator` builds the `__init__` of a class
from its `OWN_PARAMS` and `LIGHTGBM_PARAMS`, with a real `inspect.Signature` (what
`get_params`, `clone` and `help()` see). `lgbm_kwargs` passes the values on to LightGBM.
"""

import inspect

from sklearn.base import BaseEstimator

__all__ = ["LIGHTGBM_PARAMS", "lgbm_kwargs", "lightgbm_estimator"]

# name -> (annotation, default); same meaning as in LightGBM
LIGHTGBM_PARAMS: dict[str, tuple[type, object]] = {
    "n_estimators": (int, 300),
    "learning_rate": (float, 0.05),
    "num_leaves": (int, 31),
    "min_child_samples": (int, 100),
    "subsample": (float, 0.8),
    "subsample_freq": (int, 1),
    "colsample_bytree": (float, 0.5),  # feature fraction per tree: halves histogram work
    "reg_lambda": (float, 1.0),
    "max_bin": (int, 63),  # fewer histogram bins: faster on millions of rows
    "n_jobs": (int, 2),
    "random_state": (int | None, 0),
}


def lgbm_kwargs(estimator: BaseEstimator) -> dict:
    """The LightGBM keyword arguments of one of our estimators (same names as LightGBM's)."""
    return {name: getattr(estimator, name) for name in LIGHTGBM_PARAMS} | {"verbose": -1}


def lightgbm_estimator(cls):
    """Class decorator: give `cls` an `__init__(self, <OWN_PARAMS>, <LIGHTGBM_PARAMS>)`.

    `cls.OWN_PARAMS` is a dict name -> (annotation, default) of the class's own parameters;
    they come first, in order, then LIGHTGBM_PARAMS. Arguments are accepted by position or
    keyword, like a hand-written `__init__`, and each is stored as an attribute unchanged."""
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = [
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default,
                          annotation=annotation)
        for name, (annotation, default) in {**cls.OWN_PARAMS, **LIGHTGBM_PARAMS}.items()
    ]
    signature = inspect.Signature([self_param, *params])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    __init__.__doc__ = f"Store the parameters of {cls.__name__} (see the class docstring)."
    cls.__init__ = __init__
    return cls

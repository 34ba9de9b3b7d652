"""The LightGBM hyper-parameters our estimators share (ValueModel, ChurnModel).

scikit-learn reads an estimator's parameters from the signature of its `__init__`, which
must store each argument unchanged under the same name (no validation, no **kwargs). Both
models take the same eleven LightGBM arguments after their own, so instead of writing that
signature and its assignments twice, `lightgbm_estimator` builds the `__init__` of a class
from its `OWN_PARAMS` and `LIGHTGBM_PARAMS`, with a real `inspect.Signature` (what
`get_params`, `clone` and `help()` see). `lgbm_kwargs` passes the values on to LightGBM.

Two of the parameters are ours, not LightGBM's, and are resolved when fitting:

- min_child_samples "auto" (the default) = max(20, rows / 2000), at most 1000, on the rows
  the booster is fitted on. 20 is LightGBM's own default and suits small sets (a short
  history's few thousand rows, where a fixed 100 would forbid most splits). The stacked
  cutoffs repeat every customer once per cutoff, so a fixed leaf size means fewer and fewer
  distinct customers per leaf as the rows grow: 100 rows of 12 stacked cutoffs can be 8
  customers. rows / 2000 keeps each leaf at 0.05% of the rows or more (500 rows, about 40
  customers of 12 cutoffs, at the default cap of 1M training rows); the cap of 1000 keeps
  leaves small enough for the few large customers that make the top of the value ranking.
- early_stopping_rounds (default 50; None = off): `fit_boosted` holds out a later time fold
  of other customers, grows up to n_estimators trees (now a cap) on the earlier rows, stops
  when the held-out loss has not improved for that many rounds, and refits on all rows with
  the best number of trees (see `early_stopping_split` for the fold, which needs the rows'
  cutoffs and customers: the estimators' fit(X, y, cutoffs=, groups=)).
"""

import inspect
from collections.abc import Callable

import lightgbm
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

__all__ = [
    "LIGHTGBM_PARAMS",
    "OUR_PARAMS",
    "early_stopping_split",
    "fit_boosted",
    "lgbm_kwargs",
    "lightgbm_estimator",
    "resolve_min_child_samples",
]

# name -> (annotation, default); same meaning as in LightGBM
LIGHTGBM_PARAMS: dict[str, tuple[type, object]] = {
    "n_estimators": (int, 300),
    "learning_rate": (float, 0.05),
    "num_leaves": (int, 31),
    "min_child_samples": (int | str, "auto"),  # "auto": max(20, rows / 2000), at most 1000
    "subsample": (float, 0.8),
    "subsample_freq": (int, 1),
    "colsample_bytree": (float, 0.5),  # feature fraction per tree: halves histogram work
    "reg_lambda": (float, 1.0),
    "max_bin": (int, 63),  # fewer histogram bins: faster on millions of rows
    "n_jobs": (int, 2),
    "random_state": (int | None, 0),
    "early_stopping_rounds": (int | None, 50),  # None: no early stopping, n_estimators trees
}
OUR_PARAMS = ("early_stopping_rounds",)  # resolved by fit_boosted, not passed to LightGBM

MIN_CHILD_FLOOR, ROWS_PER_MIN_CHILD, MIN_CHILD_CAP = 20, 2000, 1000
# the early-stopping fold: the latest quarter of the distinct cutoffs (at least one) and a
# quarter of the customers (groups), chosen by a hash of their id
HOLDOUT_CUTOFF_SHARE, HOLDOUT_GROUP_BUCKETS = 0.25, 4


def resolve_min_child_samples(value, n_rows: int | None) -> int:
    """`value` when it is a number; "auto" -> max(20, n_rows / 2000) capped at 1000 (20
    without `n_rows`). ValueError for anything else."""
    if value == "auto":
        rows = 0 if n_rows is None else int(n_rows)
        return int(min(MIN_CHILD_CAP, max(MIN_CHILD_FLOOR, rows // ROWS_PER_MIN_CHILD)))
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f'min_child_samples must be a positive integer or "auto", got {value!r}')
    return int(value)


def lgbm_kwargs(estimator: BaseEstimator, n_rows: int | None = None) -> dict:
    """The LightGBM keyword arguments of one of our estimators (same names as LightGBM's),
    min_child_samples resolved for a booster fitted on `n_rows` rows; without OUR_PARAMS."""
    kwargs = {n: getattr(estimator, n) for n in LIGHTGBM_PARAMS if n not in OUR_PARAMS}
    kwargs["min_child_samples"] = resolve_min_child_samples(kwargs["min_child_samples"], n_rows)
    return kwargs | {"verbose": -1}


def early_stopping_split(cutoffs, groups) -> tuple[np.ndarray, np.ndarray] | None:
    """Row masks (fit, held_out) of the early-stopping fold; None when there is none.

    The fold is later in time and customer-disjoint. Later: the held-out rows are at the
    latest quarter of the distinct `cutoffs` (at least one; two distinct cutoffs or more are
    needed), the fit rows at the earlier ones, as the scoring date is later than every
    training cutoff. Customer-disjoint: a quarter of the customers (`groups`, the customer of
    each row, by a hash of the id, so the same in every run) is held out at the latest cutoffs
    and left out of the fit rows; the others fit. Consecutive cutoffs hold mostly the same
    customers with nearly the same features and overlapping label windows, so a customer seen
    in the fit rows is easy to "predict" in the held-out ones and the held-out loss keeps
    improving as the trees memorise customers: on the demo's training set a fold only later in
    time ran to the 300-tree cap every time (at twice the cost), the customer-disjoint one
    stopped at 115 (value) and 125 (churn) trees with the same backtest metrics. Without
    `groups` (or `cutoffs`) there is therefore no fold and no early stopping.
    """
    if cutoffs is None or groups is None:
        return None
    dates = pd.to_datetime(pd.Series(np.asarray(cutoffs)))
    ids = pd.Series(np.asarray(groups)).astype(str)
    if len(ids) != len(dates):
        raise ValueError(f"groups has {len(ids)} values for {len(dates)} rows")
    distinct = np.sort(dates.unique())
    if len(distinct) < 2:
        return None
    n_held = max(1, int(len(distinct) * HOLDOUT_CUTOFF_SHARE))
    late = (dates >= distinct[-n_held]).to_numpy()
    bucket = pd.util.hash_pandas_object(ids, index=False).to_numpy() % HOLDOUT_GROUP_BUCKETS
    fit, held = ~late & (bucket != 0), late & (bucket == 0)
    if not fit.any() or not held.any():
        return None
    return fit, held


# LightGBM 4.6 takes the held-out set as eval_X / eval_y and deprecates eval_set
_EVAL_XY = "eval_X" in inspect.signature(lightgbm.LGBMModel.fit).parameters


def _rows(X, mask: np.ndarray):
    return X.loc[mask] if isinstance(X, pd.DataFrame) else X[mask]


def fit_boosted(make: Callable[..., object], X, y: np.ndarray, weight: np.ndarray | None,
                split: tuple[np.ndarray, np.ndarray] | None, rounds: int | None):
    """A LightGBM estimator fitted on every row of (X, y), and the number of trees chosen by
    early stopping (None when it did not run).

    `make(**overrides)` builds the unfitted LightGBM estimator. With a `split` (fit and
    held-out masks, `early_stopping_split`) and `rounds`, a first estimator grows up to its
    n_estimators trees on the fit rows and stops once the held-out loss (the objective's own
    metric) has not improved for `rounds` rounds; the returned one is refitted on all rows
    with the best number of trees. The refit, rather than the first estimator, is kept: the
    first never saw the held-out rows, the latest cutoffs, closest to the scoring date.
    """
    if split is None or rounds is None:
        return make().fit(X, y, sample_weight=weight), None
    fit, held = split
    w = (None, None) if weight is None else (weight[fit], [weight[held]])
    probe = make()
    held_out = {"eval_X": (_rows(X, held),), "eval_y": (y[held],)} if _EVAL_XY else {
        "eval_set": [(_rows(X, held), y[held])]}
    probe.fit(
        _rows(X, fit), y[fit], sample_weight=w[0], eval_sample_weight=w[1], **held_out,
        callbacks=[lightgbm.early_stopping(rounds, first_metric_only=True, verbose=False)],
    )
    best = int(probe.best_iteration_ or probe.n_estimators)
    return make(n_estimators=max(1, best)).fit(X, y, sample_weight=weight), best


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

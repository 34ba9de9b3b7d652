"""The LightGBM hyper-parameters our estimators share (ValueModel, ChurnModel).

Both models take the same twelve typed LightGBM arguments after their own
(`LIGHTGBM_PARAMS`: the ones configs/model.yaml writes out, with our defaults), and any other
LightGBM parameter through `lgbm_params`, a dict checked against LightGBM's own parameter list
and value checks (`check_lgbm_params`). `lgbm_kwargs` passes them on to LightGBM. Each
estimator writes its `__init__` out by hand, as scikit-learn and IDEs read parameters from
the signature; tests/models/test_lightgbm.py checks that their defaults are LIGHTGBM_PARAMS.

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

import difflib
import inspect
import re
from collections.abc import Callable
from functools import cache

import lightgbm
import numpy as np
import pandas as pd
from lightgbm.basic import _ConfigAliases
from sklearn.base import BaseEstimator

__all__ = [
    "LIGHTGBM_PARAMS",
    "OUR_PARAMS",
    "RESERVED_PARAMS",
    "check_lgbm_params",
    "early_stopping_split",
    "fit_boosted",
    "lgbm_kwargs",
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


# LightGBM parameters our estimators set themselves (with why), refused in lgbm_params
RESERVED_PARAMS = {
    "objective": "the model's formulation sets it (value_objective, churn = binary)",
    "num_class": "the models are binary or single-output",
    "metric": "early stopping uses the objective's own loss",
    "verbosity": "LightGBM's log is kept quiet (verbose -1)",
    "tweedie_variance_power": "set value.tweedie_variance_power",
    "early_stopping_round": "set early_stopping_rounds",
}


@cache
def _aliases() -> dict[str, frozenset[str]]:
    """LightGBM's own parameter list: canonical name -> every name it accepts for it (from
    the library, LGBM_DumpParamAliases; read once, on first use)."""
    table = _ConfigAliases._get_all_param_aliases()
    return {name: frozenset({name, *names}) for name, names in table.items()}


def _canonical(name: str) -> str | None:
    return next((c for c, names in _aliases().items() if name in names), None)


# scikit-learn-API names of LGBMModel that are not LightGBM parameters (importance_type, ...)
_SKLEARN_ONLY = frozenset(inspect.signature(lightgbm.LGBMModel.__init__).parameters) - {
    "self", "kwargs"}


def check_lgbm_params(params: dict | None) -> dict:
    """`params` (the estimators' lgbm_params, configs/model.yaml's extra LightGBM keys) as a
    dict, after checking them the way LightGBM would; ValueError naming the key otherwise.

    A key must be a LightGBM parameter or one of its aliases (LightGBM's own list) or a name of
    its scikit-learn API; it must not be one of the typed parameters (or an alias of one:
    `num_iterations` is n_estimators), nor reserved (RESERVED_PARAMS), nor given twice under
    two aliases. The values are checked by LightGBM itself: a booster is built with the
    typed defaults and these on a 4-row data set, which runs LightGBM's parameter parser and
    range checks (`max_depth: "six"` -> "should be of type int"), in about a millisecond."""
    params = dict(params or {})
    typed = {_canonical(name): name for name in LIGHTGBM_PARAMS}
    seen: dict[str, str] = {}
    for key in params:
        if not isinstance(key, str):
            raise ValueError(f"LightGBM parameter names are strings, got {key!r}")
        canonical = _canonical(key)
        if canonical is None:
            if key in _SKLEARN_ONLY - set(LIGHTGBM_PARAMS):
                continue
            known = [n for names in _aliases().values() for n in names]
            hint = difflib.get_close_matches(key, known, n=1)
            raise ValueError(
                f"{key} is not a LightGBM parameter"
                + (f": did you mean {hint[0]}?" if hint else " (see LightGBM's Parameters page)")
            )
        if key in LIGHTGBM_PARAMS or canonical in typed:
            raise ValueError(
                f"{key} is {typed[canonical]} under LightGBM's name: set {typed[canonical]}")
        if canonical in RESERVED_PARAMS:
            raise ValueError(f"{key} cannot be set: {RESERVED_PARAMS[canonical]}")
        if canonical in seen:
            raise ValueError(f"{key} and {seen[canonical]} are the same LightGBM parameter")
        seen[canonical] = key
    lightgbm_only = {k: v for k, v in params.items() if _canonical(k) is not None}
    if lightgbm_only:
        _check_values(lightgbm_only)
    return params


def _check_values(params: dict) -> None:
    """Run LightGBM's own parser and checks over `params` with the typed defaults."""
    defaults = {name: default for name, (_, default) in LIGHTGBM_PARAMS.items()
                if name not in OUR_PARAMS}
    defaults["min_child_samples"] = MIN_CHILD_FLOOR
    full = {**defaults, **params, "verbose": -1, "num_threads": 1}
    try:
        data = lightgbm.Dataset(np.arange(8.0).reshape(4, 2), label=np.arange(4.0),
                                params={"verbose": -1})
        lightgbm.Booster(params={**full, "objective": "regression"}, train_set=data)
    except lightgbm.basic.LightGBMError as error:
        message = re.sub(r" at \S+ line \d+ \.?", "", str(error)).strip()
        raise ValueError(f"LightGBM refuses {params}: {message}") from None


def lgbm_kwargs(estimator: BaseEstimator, n_rows: int | None = None) -> dict:
    """The LightGBM keyword arguments of one of our estimators (same names as LightGBM's):
    the typed ones, min_child_samples resolved for a booster fitted on `n_rows` rows, without
    OUR_PARAMS, and the checked extra ones of its `lgbm_params`."""
    kwargs = {n: getattr(estimator, n) for n in LIGHTGBM_PARAMS if n not in OUR_PARAMS}
    kwargs["min_child_samples"] = resolve_min_child_samples(kwargs["min_child_samples"], n_rows)
    return kwargs | check_lgbm_params(estimator.lgbm_params) | {"verbose": -1}


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

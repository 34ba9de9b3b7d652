"""The value model: expected spend of a customer over the horizon, with LightGBM.

Two formulations, chosen by the `objective` hyperparameter and compared on the backtest:

- "tweedie": one LGBMRegressor with the Tweedie loss (log link), which models the mass at
  zero spend and the heavy right tail in one distribution. Tweedie needs labels >= 0, so net
  spend below zero (returns exceeding orders in the window) is clipped at 0 for training
  only; predictions are always >= 0.
- "hurdle": P(buy) from an LGBMClassifier on spend > 0, times E[spend | buy] from an
  LGBMRegressor with the gamma loss (log link) trained on the buyers only.

DataFrames keep their column names and pandas `category` columns, which LightGBM splits on
natively; arrays are validated as numeric (NaN allowed: LightGBM handles missing values).
"""

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from models._lightgbm import early_stopping_split, fit_boosted
from models._lightgbm import lgbm_kwargs as _lgbm_kwargs

__all__ = ["ValueModel"]


def _check_X(estimator: BaseEstimator, X, reset: bool):
    """Validate X and record/check n_features_in_ and feature_names_in_.

    A DataFrame is passed through unchanged (LightGBM needs its categoricals and names);
    anything else becomes a 2-d float array with NaN allowed.
    """
    if isinstance(X, pd.DataFrame):
        validate_data(estimator, X, reset=reset, skip_check_array=True)
        return X
    return validate_data(estimator, X, reset=reset, dtype=np.float64, ensure_all_finite="allow-nan")


def _check_y(X, y) -> np.ndarray:
    y = column_or_1d(np.asarray(y, dtype=np.float64), warn=True)
    if len(y) != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {len(y)}")
    if not np.isfinite(y).all():
        raise ValueError("y holds NaN or infinite values: labels must be fully observed")
    return y


def _take(X, mask: np.ndarray):
    return X.loc[mask] if isinstance(X, pd.DataFrame) else X[mask]


def _check_rounds(rounds) -> int | None:
    """early_stopping_rounds: None (off) or a positive integer."""
    if rounds is None:
        return None
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds <= 0:
        raise ValueError(f"early_stopping_rounds must be a positive integer or None, got {rounds!r}")
    return int(rounds)


def _split(cutoffs, groups, n_rows: int):
    """The early-stopping fold of `models._lightgbm.early_stopping_split`, after checking
    that `cutoffs` and `groups` have one value per row."""
    for name, values in (("cutoffs", cutoffs), ("groups", groups)):
        if values is not None and len(values) != n_rows:
            raise ValueError(f"{name} has {len(values)} values for {n_rows} rows")
    return early_stopping_split(cutoffs, groups)


class ValueModel(RegressorMixin, BaseEstimator):
    """Predict spend over the horizon (>= 0) with LightGBM, as Tweedie or hurdle model.

    Parameters
    ----------
    objective : "tweedie" or "hurdle"
        The formulation (see the module docstring).
    tweedie_variance_power : float in (1, 2)
        Tweedie power p: near 1 behaves like Poisson, near 2 like gamma.
    n_estimators, learning_rate, num_leaves, min_child_samples, subsample, subsample_freq,
    colsample_bytree, reg_lambda, max_bin, n_jobs, random_state
        Passed to every LightGBM estimator (same meaning as in LightGBM), except that
        n_estimators is the cap of early stopping and min_child_samples may be "auto"
        (max(20, rows / 2000), at most 1000: models._lightgbm).
    early_stopping_rounds : int or None
        Rounds without improvement on the later time fold before the boosting stops (needs
        `cutoffs` and `groups` in fit); None: n_estimators trees.
    lgbm_params : dict or None
        Any other LightGBM parameter (max_depth, reg_alpha, boosting, ...), checked against
        LightGBM's own list and value checks when fitting (models._lightgbm.check_lgbm_params).

    Attributes
    ----------
    estimators_ : dict
        "regressor" (tweedie, or the hurdle's spend-if-buying model) and, for the hurdle,
        "classifier" (P(buy)).
    best_iterations_ : dict
        Per booster of `estimators_`, the number of trees early stopping chose (the refitted
        booster has that many), or None when it did not run.
    n_features_in_, feature_names_in_ : as in scikit-learn.
    """

    def __init__(
        self,
        objective: str = "tweedie",
        tweedie_variance_power: float = 1.5,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int | str = "auto",
        subsample: float = 0.8,
        subsample_freq: int = 1,
        colsample_bytree: float = 0.5,
        reg_lambda: float = 1.0,
        max_bin: int = 63,
        n_jobs: int = 2,
        random_state: int | None = 0,
        early_stopping_rounds: int | None = 50,
        lgbm_params: dict | None = None,
    ):
        self.objective = objective
        self.tweedie_variance_power = tweedie_variance_power
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.max_bin = max_bin
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.early_stopping_rounds = early_stopping_rounds
        self.lgbm_params = lgbm_params

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN is LightGBM's missing value
        return tags

    def fit(self, X, y, cutoffs=None, sample_weight=None, groups=None):
        """Fit on features X and spend over the horizon y (negative spend counts as 0).

        `cutoffs` (the cutoff date of each row) and `groups` (its customer) turn on early
        stopping: each booster grows up to n_estimators trees on the earlier cutoffs, stops
        when the loss on the latest ones, of customers left out of the fit, stops improving
        for early_stopping_rounds, and is refitted on every row with the best number of trees
        (`models._lightgbm.fit_boosted`). Without either, with a single cutoff or with
        early_stopping_rounds None, every booster has n_estimators trees.
        """
        if self.objective not in ("tweedie", "hurdle"):
            raise ValueError(f"objective must be 'tweedie' or 'hurdle', got {self.objective!r}")
        X = _check_X(self, X, reset=True)
        y = np.clip(_check_y(X, y), 0.0, None)
        weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        rounds = _check_rounds(self.early_stopping_rounds)
        split = _split(cutoffs, groups, len(y)) if rounds else None
        if self.objective == "tweedie":
            def tweedie(**overrides):
                return LGBMRegressor(
                    objective="tweedie", tweedie_variance_power=self.tweedie_variance_power,
                    **(_lgbm_kwargs(self, len(y)) | overrides),
                )

            regressor, best = fit_boosted(tweedie, X, y, weight, split, rounds)
            self.estimators_ = {"regressor": regressor}
            self.best_iterations_ = {"regressor": best}
            return self
        bought = y > 0
        if bought.all() or not bought.any():
            raise ValueError("the hurdle model needs both buyers (spend > 0) and non-buyers")

        def binary(**overrides):
            return LGBMClassifier(objective="binary", **(_lgbm_kwargs(self, len(y)) | overrides))

        def gamma(**overrides):
            return LGBMRegressor(
                objective="gamma", **(_lgbm_kwargs(self, int(bought.sum())) | overrides)
            )

        both = split if split is not None and all(
            np.unique(bought[part]).size == 2 for part in split) else None
        classifier, best_buy = fit_boosted(binary, X, bought.astype(int), weight, both, rounds)
        buyers = None if split is None else (split[0][bought], split[1][bought])
        if buyers is not None and not (buyers[0].any() and buyers[1].any()):
            buyers = None
        regressor, best_spend = fit_boosted(
            gamma, _take(X, bought), y[bought], None if weight is None else weight[bought],
            buyers, rounds,
        )
        self.estimators_ = {"classifier": classifier, "regressor": regressor}
        self.best_iterations_ = {"classifier": best_buy, "regressor": best_spend}
        return self

    def predict(self, X) -> np.ndarray:
        """Expected spend over the horizon, >= 0."""
        check_is_fitted(self)
        X = _check_X(self, X, reset=False)
        spend = self.estimators_["regressor"].predict(X)
        if self.objective == "hurdle":
            spend = self.estimators_["classifier"].predict_proba(X)[:, 1] * spend
        return np.asarray(spend, dtype=np.float64)

    def contributions(self, X) -> pd.DataFrame:
        """Per-feature contributions to the log of the predicted spend (LightGBM SHAP values).

        Columns: one per feature plus "bias". For the Tweedie model they add up to the log of
        the prediction. For the hurdle model they are the sum of the classifier's (log-odds of
        buying) and the regressor's (log spend if buying) contributions: their signs and
        sizes rank the factors, but they do not add up to the log of the prediction exactly.
        Costs about 1-2 ms per row on two cores (300 trees): call it for the rows you need.
        """
        check_is_fitted(self)
        X = _check_X(self, X, reset=False)
        total = np.asarray(self.estimators_["regressor"].predict(X, pred_contrib=True))
        if self.objective == "hurdle":
            total = total + np.asarray(self.estimators_["classifier"].predict(X, pred_contrib=True))
        names = [str(n) for n in getattr(self, "feature_names_in_", range(self.n_features_in_))]
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(total, columns=[*names, "bias"], index=index)

    def feature_importances(self) -> pd.Series:
        """Total split gain per feature (summed over the hurdle's two parts), highest first."""
        check_is_fitted(self)
        gains = sum(
            est.booster_.feature_importance(importance_type="gain")
            for est in self.estimators_.values()
        )
        names = self.estimators_["regressor"].booster_.feature_name()
        return pd.Series(gains, index=names, name="gain").sort_values(ascending=False)

"""The churn model: probability that a customer places no order over the horizon.

An LGBMClassifier ranks customers; its probabilities are then calibrated on the LATEST
cutoff(s), because the base rate drifts between cutoffs and boosted trees are over-confident.
`fit(X, y, cutoffs=...)` takes the cutoff date of every row: the booster is fitted on the
rows of all but the latest `calibration_cutoffs` cutoffs, and the calibrator (isotonic
regression, or Platt's sigmoid) on the booster's scores of the latest ones. Without
`cutoffs`, with a single cutoff, with calibration="none", or when either part would hold a
single class, the booster uses every row and the probabilities are LightGBM's own
(`calibrated_` is False).

What the calibration fold is, and is not. It is out of sample in ROWS: the booster was not
fitted on the rows of the latest cutoff(s), so the calibrator sees the booster's scores as
they come out on rows it did not fit, and the churn rate of the most recent fully observed
label window. It is NOT out of sample in TIME: with monthly cutoffs and a 365-day horizon,
the label window (c_n, c_n + H] of the latest cutoff shares all but about a month with the
window (c_n-1, c_n-1 + H] of the latest cutoff the booster trained on, and mostly the same
customers appear at both with features a month apart. The booster has therefore already seen
most of the outcomes behind the calibration labels, its scores there tend to look better than
they will on an unseen future, and the calibrator may come out somewhat too confident. Scoring
also assumes the churn rate of that last window carries over to the scoring horizon. The
calibration on truly unseen futures is what the backtest measures (models.backtest: each
fold fits booster and calibrator only on cutoffs whose label windows end by the fold cutoff
and reports the ECE over the fold's own future); read that, not the fit, for how well
calibrated the scores are.

Isotonic regression is a step function: within a step, ties are broken by the uncalibrated
score: p = (1 - 1e-6) * isotonic(raw) + 1e-6 * raw, a change below 1e-6, so the
calibrated probabilities rank like the booster.
"""

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from models._lightgbm import early_stopping_split, fit_boosted
from models._lightgbm import lgbm_kwargs as _lgbm_kwargs
from models.value import _check_rounds, _check_X, _check_y, _take

__all__ = ["ChurnModel"]

_TIE_BREAK = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class ChurnModel(ClassifierMixin, BaseEstimator):
    """P(no order over the horizon) from LightGBM, calibrated on the latest cutoff(s).

    The calibration fold is held out from the booster row-wise but, with overlapping label
    windows, not time-wise (see the module docstring): it corrects the base rate and the
    booster's over-confidence as seen on the latest cutoff(s); the backtest is where
    calibration on an unseen future is measured.

    Parameters
    ----------
    calibration : "isotonic", "sigmoid" or "none"
    calibration_cutoffs : int
        How many of the latest distinct cutoffs are held out from the booster to fit the
        calibrator.
    n_estimators, learning_rate, num_leaves, min_child_samples, subsample, subsample_freq,
    colsample_bytree, reg_lambda, max_bin, n_jobs, random_state
        Passed to LightGBM; n_estimators is the cap of early stopping, min_child_samples
        may be "auto" (max(20, rows / 2000), at most 1000: models._lightgbm).
    early_stopping_rounds : int or None
        Rounds without improvement on the later time fold before the boosting stops (needs
        `cutoffs` and `groups` in fit); None: n_estimators trees.
    lgbm_params : dict or None
        Any other LightGBM parameter (max_depth, reg_alpha, boosting, ...), checked against
        LightGBM's own list and value checks when fitting (models._lightgbm.check_lgbm_params).

    Attributes
    ----------
    classifier_ : fitted LGBMClassifier
    best_iteration_ : the number of trees early stopping chose, or None when it did not run
    calibrator_ : fitted IsotonicRegression or LogisticRegression, or None
    calibrated_ : bool
    calibration_cutoffs_ : list of the cutoffs the calibrator was fitted on
    classes_ : array([0, 1])
    """

    def __init__(
        self,
        calibration: str = "isotonic",
        calibration_cutoffs: int = 1,
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
        self.calibration = calibration
        self.calibration_cutoffs = calibration_cutoffs
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
        tags.classifier_tags.multi_class = False  # 1 = no order over the horizon, else 0
        return tags

    def fit(self, X, y, cutoffs=None, sample_weight=None, groups=None):
        """Fit on features X and churned y (1 = no order over the horizon).

        `cutoffs`: the cutoff date of each row (array-like of the same length), needed to
        calibrate on the latest cutoff(s) and to stop the boosting early: within the
        booster's rows (those not held out for calibration), up to n_estimators trees grow
        on the earlier cutoffs until the loss on the latest ones stops improving for
        early_stopping_rounds, and the booster is refitted on all its rows with the best
        number of trees (`models._lightgbm.fit_boosted`), the fold's customers left out of the
        fit; that needs `groups`, the customer of each row. The calibration cutoffs are never
        used to choose the trees. Without cutoffs: n_estimators trees, no calibration; without
        groups: n_estimators trees.
        """
        if self.calibration not in ("isotonic", "sigmoid", "none"):
            raise ValueError(
                f"calibration must be isotonic, sigmoid or none, got {self.calibration!r}"
            )
        X = _check_X(self, X, reset=True)
        y = _check_y(X, y)
        labels = np.unique(y)
        if np.isin(y, (0, 1)).all():
            self.classes_ = np.array([0, 1])  # 1 = churned, even when one class is absent
        elif len(labels) == 2:
            self.classes_ = labels  # two other labels: the larger one is the positive class
            y = (y == labels[1]).astype(float)
        else:
            raise ValueError("Only binary classification is supported. y must be 0/1 (or bool): "
                             "1 = no order over the horizon")
        y = y.astype(int)
        weight = None if sample_weight is None else _check_sample_weight(sample_weight, X)
        rounds = _check_rounds(self.early_stopping_rounds)
        late = np.zeros(len(y), dtype=bool)
        self.calibration_cutoffs_ = []
        if cutoffs is not None:
            cutoffs = pd.to_datetime(pd.Series(np.asarray(cutoffs)))
            if len(cutoffs) != len(y):
                raise ValueError(f"cutoffs has {len(cutoffs)} values for {len(y)} rows")
        if groups is not None and len(groups) != len(y):
            raise ValueError(f"groups has {len(groups)} values for {len(y)} rows")
        if cutoffs is not None and self.calibration != "none":
            distinct = np.sort(cutoffs.unique())
            if len(distinct) > self.calibration_cutoffs:
                held = distinct[-self.calibration_cutoffs :]
                late = cutoffs.isin(held).to_numpy()
                if np.unique(y[late]).size < 2 or np.unique(y[~late]).size < 2:
                    late[:] = False
                else:
                    self.calibration_cutoffs_ = [pd.Timestamp(c) for c in held]
        early = ~late
        split = None
        if rounds and cutoffs is not None and groups is not None:
            split = early_stopping_split(
                cutoffs[early].to_numpy(), np.asarray(groups)[early]
            )
            if split is not None and any(np.unique(y[early][part]).size < 2 for part in split):
                split = None  # the loss needs both classes on each side

        def binary(**overrides):
            kwargs = _lgbm_kwargs(self, int(early.sum())) | overrides
            return LGBMClassifier(objective="binary", **kwargs)

        self.classifier_, self.best_iteration_ = fit_boosted(
            binary, _take(X, early), y[early], None if weight is None else weight[early],
            split, rounds,
        )
        self.calibrator_ = None
        self.calibrated_ = bool(late.any())
        if self.calibrated_:
            raw = self.classifier_.predict_proba(_take(X, late))[:, 1]
            w = None if weight is None else weight[late]
            if self.calibration == "isotonic":
                self.calibrator_ = IsotonicRegression(
                    y_min=0.0, y_max=1.0, out_of_bounds="clip"
                ).fit(raw, y[late], sample_weight=w)
            else:
                self.calibrator_ = LogisticRegression(C=1e6).fit(
                    _logit(raw).reshape(-1, 1), y[late], sample_weight=w
                )
        return self

    def raw_proba(self, X) -> np.ndarray:
        """The booster's uncalibrated P(churn)."""
        check_is_fitted(self)
        X = _check_X(self, X, reset=False)
        return self.classifier_.predict_proba(X)[:, 1]

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probabilities, shape (n, 2): column 1 is P(no order over the horizon)."""
        raw = self.raw_proba(X)
        if self.calibrator_ is None:
            p = raw
        elif isinstance(self.calibrator_, IsotonicRegression):
            p = (1 - _TIE_BREAK) * self.calibrator_.predict(raw) + _TIE_BREAK * raw
        else:
            p = self.calibrator_.predict_proba(_logit(raw).reshape(-1, 1))[:, 1]
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """The positive class (1: churned) where P(churn) >= 0.5, else the other."""
        churned = (self.predict_proba(X)[:, 1] >= 0.5).astype(int)
        return self.classes_[churned]

    def contributions(self, X) -> pd.DataFrame:
        """Per-feature contributions to the booster's log-odds of churning (plus "bias")."""
        check_is_fitted(self)
        X = _check_X(self, X, reset=False)
        values = np.asarray(self.classifier_.predict(X, pred_contrib=True))
        names = [str(n) for n in getattr(self, "feature_names_in_", range(self.n_features_in_))]
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(values, columns=[*names, "bias"], index=index)

    def feature_importances(self) -> pd.Series:
        """Total split gain per feature, highest first."""
        check_is_fitted(self)
        booster = self.classifier_.booster_
        return pd.Series(
            booster.feature_importance(importance_type="gain"),
            index=booster.feature_name(),
            name="gain",
        ).sort_values(ascending=False)

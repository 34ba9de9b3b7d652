"""Which model publishes a target's scores: the candidate that wins the backtest.

Per target (value: spend over the horizon; churn: no order over the horizon) the candidates
are the LightGBM formulations, each configured baseline (BG/NBD + Gamma-Gamma among them) and
a blend of them all. The blend is backtested honestly: its non-negative weights for fold k
are fitted on the out-of-fold predictions of folds 0..k-1 only (every member's prediction on
a fold comes from models trained before that fold), and it is scored on fold k; so it has no
score on the first fold, and candidates are compared on the folds every one of them was
scored on (`compare`). The final blend's weights are fitted on every fold.

`beats(a, b, metric, margin)` is the one decision "a is better than b" used by the
selection here and by the champion gate (pipeline.tracking.gate): in the metric's better
direction, by more than `margin`; a missing or NaN score never beats and is always beaten.

The estimators here wrap what the other modules fit, so that FittedModels, the registered
serving models and the reasons take any winner the same way: `BaselineValue` /
`BaselineChurn` (a fitted models.baselines baseline as a value or churn model) and `Blend`
(weighted members; churn weights sum to 1, so a blend of probabilities is a probability).
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from features.contract import CUTOFF
from models.baselines import BTYD_EXPECTED_SPEND, BTYD_PROB_NO_PURCHASE
from models.metrics import HIGHER_IS_BETTER

__all__ = [
    "BLEND",
    "CHURN_MODEL",
    "BaselineChurn",
    "BaselineValue",
    "Blend",
    "Selection",
    "beats",
    "blend_weights",
    "compare",
    "value_model_name",
]

BLEND = "blend"
CHURN_MODEL = "lgbm_churn"


def value_model_name(objective: str) -> str:
    """Name of a LightGBM value formulation among the candidates, e.g. "lgbm_tweedie"."""
    return f"lgbm_{objective}"


def beats(a: float | None, b: float | None, metric: str, margin: float = 0.0) -> bool:
    """Whether score `a` is better than score `b` on `metric` by more than `margin` (in the
    metric's better direction, models.metrics.HIGHER_IS_BETTER). A missing or NaN `a` never
    beats; any finite `a` beats a missing or NaN `b`. Ties do not beat."""
    if a is None or not math.isfinite(a):
        return False
    if b is None or not math.isfinite(b):
        return True
    sign = 1.0 if HIGHER_IS_BETTER.get(metric, True) else -1.0
    return sign * (a - b) > margin


def blend_weights(predictions: np.ndarray, actual: np.ndarray, kind: str) -> np.ndarray:
    """Non-negative weights of the columns of `predictions` (rows x members) that best fit
    `actual` in least squares (scipy's NNLS, no intercept). For "churn" the weights are then
    scaled to sum to 1 (a mixture of probabilities stays a probability). Rows with a NaN
    prediction are left out; without a usable row or a positive weight: equal weights."""
    P = np.asarray(predictions, dtype=float)
    y = np.asarray(actual, dtype=float)
    m = P.shape[1]
    ok = np.isfinite(P).all(axis=1) & np.isfinite(y)
    equal = np.full(m, 1.0 / m)
    if ok.sum() < m:
        return equal
    scale = np.abs(P[ok]).max(axis=0)  # conditioning: members on very different scales
    scale[scale == 0] = 1.0
    weights, _ = nnls(P[ok] / scale, y[ok])
    weights = weights / scale
    if not np.isfinite(weights).all() or weights.sum() <= 0:
        return equal
    return weights / weights.sum() if kind == "churn" else weights


@dataclass(frozen=True)
class Selection:
    """The winner of one target on the backtest.

    `scores`: every candidate's mean of `metric` over `folds` (the folds all were scored on),
    best first. `winner` is the first of the best (ties keep the candidates' order, LightGBM
    first); `runner_up` the next; `best_baseline` the best of the baselines. `published` is
    what is actually published: the winner, unless a setting forces another candidate
    (`forced`). `cutoffs`: the folds' cutoff dates (YYYY-MM-DD), what makes the scores
    comparable with another run's (pipeline.tracking's champion gate)."""

    kind: str
    metric: str
    folds: list
    scores: dict[str, float]
    winner: str
    runner_up: str | None
    best_baseline: str | None
    published: str
    forced: bool = False
    weights: dict[str, float] = field(default_factory=dict)
    cutoffs: list[str] = field(default_factory=list)

    def margin(self, other: str | None) -> float:
        """The published candidate's score minus `other`'s (in the better direction)."""
        if other is None or other not in self.scores:
            return math.nan
        sign = 1.0 if HIGHER_IS_BETTER.get(self.metric, True) else -1.0
        return sign * (self.scores[self.published] - self.scores[other])

    @property
    def text(self) -> str:
        """One line: what publishes and by how much it beat the others."""
        s = self.scores
        parts = [f"{self.kind}: {self.published} publishes ({self.metric} "
                 f"{s[self.published]:.4f} on {len(self.folds)} fold(s)"]
        if self.forced:
            parts.append(f"; forced by configs/model.yaml selection.publish although "
                         f"{self.winner} won with {s[self.winner]:.4f}")
        elif self.runner_up is not None:
            parts.append(f", {self.margin(self.runner_up):+.4f} over {self.runner_up}")
        if self.best_baseline and self.best_baseline not in (self.published, self.runner_up):
            parts.append(f", {self.margin(self.best_baseline):+.4f} over the best baseline "
                         f"{self.best_baseline}")
        if self.published == BLEND and self.weights:
            shown = ", ".join(f"{k} {v:.3g}" for k, v in self.weights.items() if v > 0)
            parts.append(f"; blend weights {shown}")
        return "".join(parts) + ")"

    def as_dict(self) -> dict:
        """What model_info.json and the MLflow run record."""
        return {"kind": self.kind, "metric": self.metric, "folds": [str(f) for f in self.folds],
                "scores": self.scores, "winner": self.winner, "runner_up": self.runner_up,
                "best_baseline": self.best_baseline, "published": self.published,
                "forced": self.forced, "weights": self.weights, "cutoffs": self.cutoffs,
                "text": self.text}


def compare(metrics: pd.DataFrame, kind: str, metric: str, candidates: list[str],
            baselines: list[str], publish: str | None = None,
            weights: dict[str, float] | None = None) -> Selection | None:
    """The Selection of `kind` from the backtest's tidy per-fold `metrics` (fold, model,
    metric, value): each of `candidates` (in preference order for ties) scored as its mean
    over the folds where every candidate with a score has one. None when no candidate has a
    score. `publish`: a candidate to publish whatever won (None: the winner)."""
    rows = metrics[(metrics["metric"] == metric) & metrics["model"].isin(candidates)]
    rows = rows[np.isfinite(rows["value"].astype(float))]
    present = [c for c in candidates if c in set(rows["model"])]
    if not present:
        return None

    def common(names):  # the folds every one of `names` was scored on
        return sorted(set.intersection(*(set(rows.loc[rows["model"] == c, "fold"])
                                         for c in names)))

    folds = common(present)
    if not folds:  # no fold with all of them (cannot happen with the blend on folds 1..): drop it
        present = [c for c in present if c != BLEND]
        folds = common(present)
    means = rows[rows["fold"].isin(folds)].groupby("model")["value"].mean()
    ranked = []
    for c in present:  # stable: the first of equal scores stays first
        position = next((i for i, r in enumerate(ranked) if beats(means[c], means[r], metric)),
                        len(ranked))
        ranked.insert(position, c)
    scores = {c: float(means[c]) for c in ranked}
    winner = ranked[0]
    base = [c for c in ranked if c in baselines]
    forced = publish is not None and publish in scores and publish != winner
    cutoffs = []
    if CUTOFF in rows.columns:
        cutoffs = [f"{pd.Timestamp(c):%Y-%m-%d}"
                   for c in sorted(rows.loc[rows["fold"].isin(folds), CUTOFF].unique())]
    return Selection(kind, metric, folds, scores, winner, ranked[1] if len(ranked) > 1 else None,
                     base[0] if base else None, publish if forced else winner, forced,
                     dict(weights or {}), cutoffs)


class _Rule(BaseEstimator):
    """A fitted models.baselines baseline as a model of one target.

    `contributions(X)` says which of the rule's inputs (`baseline.inputs`; for "btyd" with
    the BTYD step's column in X, that column, whose reasons read as the order history it is
    computed from, models.reasons) moved each row's score, on the same log scale as the
    LightGBM models' (log(1 + spend); the log-odds of churning): an input's contribution is
    the row's score minus its score with that input set to the typical value (the median of
    the rows `fit` saw), one input at a time. For a rule of one input that is exact; for
    more it is the usual one-at-a-time attribution, so the contributions need not add up to
    the score."""

    _column = ""  # the BTYD step's column the "btyd" rule reads

    def __init__(self, baseline=None, name: str = ""):
        self.baseline = baseline
        self.name = name

    def fit(self, X, y=None):
        """Nothing to learn but the typical value of each input (the baseline comes fitted)."""
        check_is_fitted(self.baseline)
        X = pd.DataFrame(X)
        self.inputs_ = ([self._column] if self._reads_column(X)
                        else [c for c in self.baseline.inputs(X.columns) if c in X.columns])
        self.typical_ = {c: float(np.nanmedian(X[c].to_numpy(dtype=float)))
                         if X[c].notna().any() else 0.0 for c in self.inputs_}
        self.classes_ = np.array([0, 1])
        return self

    def _reads_column(self, X) -> bool:
        return self.name == "btyd" and self._column in X.columns

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # the baselines read a missing input as 0
        return tags

    def _score(self, X: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError

    def _log(self, score: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per row and feature of X the input's contribution (0 for features the rule does
        not read), and a "bias" column: the score at typical inputs."""
        check_is_fitted(self)
        here = self._log(self._score(X))
        out = pd.DataFrame(0.0, index=X.index, columns=[*map(str, X.columns), "bias"])
        for c in self.inputs_:
            typical = self._log(self._score(X.assign(**{c: self.typical_[c]})))
            out[c] = here - typical
        out["bias"] = here - out[list(self.inputs_)].sum(axis=1) if self.inputs_ else here
        return out


class BaselineValue(_Rule):
    """A fitted models.baselines value baseline (a regressor) as a value model: `predict(X)`
    is its prediction.

    The "btyd" baseline reads the BTYD step's columns of X when present (the fitted models'
    BTYD step with stored parameters, so a row's value depends on that row alone), else fits
    BG/NBD on X's rows as the baseline does."""

    _column = BTYD_EXPECTED_SPEND

    def _score(self, X: pd.DataFrame) -> np.ndarray:
        if self._reads_column(X):
            return X[BTYD_EXPECTED_SPEND].to_numpy(dtype=float)
        return np.asarray(self.baseline.predict(X), dtype=float)

    def _log(self, score: np.ndarray) -> np.ndarray:
        return np.log1p(np.clip(score, 0.0, None))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        return self._score(X)


class BaselineChurn(_Rule):
    """A fitted models.baselines churn baseline (a classifier) as a churn model:
    `predict_proba(X)[:, 1]` is its P(churn) (see BaselineValue for "btyd")."""

    _column = BTYD_PROB_NO_PURCHASE

    def _score(self, X: pd.DataFrame) -> np.ndarray:
        if self._reads_column(X):
            p = X[BTYD_PROB_NO_PURCHASE].to_numpy(dtype=float)
        else:
            p = np.asarray(self.baseline.predict_proba(X)[:, 1], dtype=float)
        return np.clip(p, 0.0, 1.0)

    def _log(self, score: np.ndarray) -> np.ndarray:
        p = np.clip(score, 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        p = self._score(X)
        return np.column_stack([1.0 - p, p])


class Blend(BaseEstimator):
    """Non-negative weights over fitted members (value models with `predict`, or churn
    models with `predict_proba`, per `kind`); the weights come from the backtest
    (`blend_weights` on every fold's out-of-fold predictions).

    `explained_by` is the member whose per-feature contributions stand for the blend's in
    the reasons: the member with the largest share of the blend's prediction on the fitting
    rows (`shares`; a LightGBM model's TreeSHAP or a rule's inputs, see _Rule)."""

    def __init__(self, members=None, weights=None, names=None, kind: str = "value",
                 shares=None):
        self.members = members
        self.weights = weights
        self.names = names
        self.kind = kind
        self.shares = shares

    def fit(self, X=None, y=None):
        """Nothing to learn: members and weights come fitted."""
        if len(self.members) != len(self.weights):
            raise ValueError("one weight per member")
        self.weights_ = np.asarray(self.weights, dtype=float)
        self.classes_ = np.array([0, 1])
        shares = np.asarray(self.shares if self.shares is not None else self.weights_, float)
        shares = shares / shares.sum() if shares.sum() > 0 else shares
        explained = [i for i, m in enumerate(self.members) if hasattr(m, "contributions")]
        best = max(explained, key=lambda i: shares[i], default=None)
        self.explained_by_ = self.members[best] if best is not None else None
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # every member takes NaN (LightGBM, the baselines)
        return tags

    @property
    def explained_by(self):
        check_is_fitted(self)
        return self.explained_by_

    def _parts(self, X) -> np.ndarray:
        if self.kind == "churn":
            return np.column_stack([m.predict_proba(X)[:, 1] for m in self.members])
        return np.column_stack([m.predict(X) for m in self.members])

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        out = self._parts(X) @ self.weights_
        return out if self.kind != "churn" else (out >= 0.5).astype(int)

    @available_if(lambda self: self.kind == "churn")  # a value blend has no predict_proba
    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self)
        p = np.clip(self._parts(X) @ self.weights_, 0.0, 1.0)
        return np.column_stack([1.0 - p, p])

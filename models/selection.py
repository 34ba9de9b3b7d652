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
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.optimize import minimize, nnls
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from features.contract import CUTOFF
from models.baselines import BTYD_EXPECTED_SPEND, BTYD_PROB_NO_PURCHASE
from models.metrics import HIGHER_IS_BETTER, metric_value

__all__ = [
    "BLEND",
    "CHURN_MODEL",
    "BaselineChurn",
    "BaselineValue",
    "Blend",
    "PairedFold",
    "Selection",
    "beats",
    "blend_weights",
    "compare",
    "paired_standard_error",
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


def blend_weights(predictions: np.ndarray, actual: np.ndarray, kind: str,
                  power: float = 1.5) -> np.ndarray:
    """Non-negative weights of the columns of `predictions` (rows x members) fitted to
    `actual` by the loss of the target's own distribution, the loss the LightGBM models
    are fitted with:

    - "value": the mean Tweedie deviance of variance power `power` (the value model's
      `tweedie_variance_power`) of the blend sum(w_j x member_j), w >= 0, no intercept.
      Spend is mostly zeros with a long tail; least squares would let the few largest
      spenders set the weights (on the CDNOW sample it gave the member with the best
      ranking a weight of 0), the deviance weighs errors relative to the level. The
      deviance sets the mix; the weights are then scaled by one factor so that the blend's
      total equals the labels' total (the deviance's optimum need not match it; a common
      factor leaves the ranking as it is). Negative labels (net returns) count as 0, as in
      the value model.
    - "churn": the mean log-loss of the mixture sum(w_j x p_j), w >= 0 summing to 1, so a
      blend of probabilities stays a probability.

    Started from the least-squares (NNLS) solution and refined with L-BFGS-B on analytic
    gradients; columns are scaled to a common size first (members on very different
    scales). Rows with a NaN prediction are left out; with fewer usable rows than members
    or no positive weight: equal weights."""
    P = np.asarray(predictions, dtype=float)
    y = np.asarray(actual, dtype=float)
    m = P.shape[1]
    ok = np.isfinite(P).all(axis=1) & np.isfinite(y)
    equal = np.full(m, 1.0 / m)
    if ok.sum() < m:
        return equal
    P, y = np.clip(P[ok], 0.0, None), y[ok]
    if kind == "churn":
        P, y = np.clip(P, 0.0, 1.0), np.clip(y, 0.0, 1.0)
    else:
        y = np.clip(y, 0.0, None)
    level = max(float(y.mean()), 1e-12)
    scale = P.mean(axis=0) / level  # each scaled column has the labels' mean: weights ~ 1/m
    scale[scale <= 0] = 1.0
    Q = P / scale
    start, _ = nnls(Q, y)
    if not np.isfinite(start).all() or start.sum() <= 0:
        start = equal.copy()
    if kind == "churn":
        start = start / start.sum()
    loss = _log_loss if kind == "churn" else _tweedie_loss(power, level)
    size = max(abs(loss(start, Q, y)[0]), 1e-12)  # the loss in units of its starting value

    def scaled(w):
        value, grad = loss(w, Q, y)
        return value / size, grad / size

    found = minimize(scaled, start, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * m,
                     options={"gtol": 1e-10, "ftol": 1e-13, "maxiter": 500})
    weights = found.x if found.fun <= scaled(start)[0] else start
    weights = np.where(weights > 1e-9 * weights.max(), weights, 0.0)
    if kind != "churn" and (Q @ weights).sum() > 0:  # the deviance sets the mix, the labels'
        weights = weights * y.sum() / (Q @ weights).sum()  # total the level (ranking unchanged)
    weights = weights / scale
    if not np.isfinite(weights).all() or weights.sum() <= 0:
        return equal
    return weights / weights.sum() if kind == "churn" else weights


def _tweedie_loss(power: float, level: float):
    """The mean Tweedie deviance (up to terms free of the weights) of the blend Q @ w and
    its gradient; the blend is floored at a millionth of the mean label, so a row that
    every member predicts at 0 costs a large but finite loss."""
    floor = max(level, 1e-12) * 1e-6

    def loss(w, Q, y):
        blend = Q @ w
        mu = np.maximum(blend, floor)
        value = np.mean(mu ** (2 - power) / (2 - power) - y * mu ** (1 - power) / (1 - power))
        d_mu = (mu ** (1 - power) - y * mu ** (-power)) * (blend > floor)
        return value, Q.T @ d_mu / len(y)
    return loss


def _log_loss(w, Q, y):
    """The mean log-loss of the mixture (Q @ w) / sum(w) and its gradient (the weights are
    normalised inside, so any positive vector is a mixture)."""
    total = max(float(w.sum()), 1e-12)
    q = Q @ w
    p = np.clip(q / total, 1e-9, 1 - 1e-9)
    value = -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))
    d_p = (p - y) / (p * (1 - p)) / len(y)
    grad = (Q.T @ d_p - float(d_p @ q) / total) / total  # d p / d w_j = (Q_j - p) / total
    return value, grad


@dataclass(frozen=True)
class Selection:
    """The winner of one target on the backtest.

    `scores`: every candidate's mean of `metric` over `folds` (the folds all were scored on),
    best first. `winner` is the first of the best (ties keep the candidates' order, LightGBM
    first); `runner_up` the next; `best_baseline` the best of the baselines. `published` is
    what is actually published: the winner, unless a simpler candidate is not worse by more
    than `within_se` standard errors (`simpler`, compare's one-standard-error rule) or a
    setting forces another candidate (`forced`). `standard_errors`: the bootstrap standard
    error of the winner's score minus each simpler candidate's that was weighed.
    `cutoffs`: the folds' cutoff dates (YYYY-MM-DD), what makes the scores comparable with
    another run's (pipeline.tracking's champion gate)."""

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
    standard_errors: dict[str, float] = field(default_factory=dict)
    within_se: float = 0.0

    @property
    def simpler(self) -> bool:
        """Whether a simpler candidate publishes because the winner's lead is within noise."""
        return not self.forced and self.published != self.winner

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
        elif self.simpler:
            se = self.standard_errors.get(self.published, math.nan)
            parts.append(f"; {self.winner} scored {s[self.winner]:.4f}, ahead by "
                         f"{-self.margin(self.winner):.4f}, within {self.within_se:g} standard "
                         f"error(s) ({se:.4f}) of the difference: the simpler candidate "
                         "publishes")
        elif self.runner_up is not None:
            parts.append(f", {self.margin(self.runner_up):+.4f} over {self.runner_up}")
            weighed = {c: e for c, e in self.standard_errors.items() if math.isfinite(e) and e > 0}
            if weighed:  # the simpler candidates it had to beat by more than the noise
                parts.append(" (" + ", ".join(
                    f"{self.margin(c) / e:.1f} standard errors over {c}"
                    for c, e in weighed.items()) + ")")
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
                "standard_errors": self.standard_errors, "within_se": self.within_se,
                "text": self.text}


def compare(metrics: pd.DataFrame, kind: str, metric: str, candidates: list[str],
            baselines: list[str], publish: str | None = None,
            weights: dict[str, float] | None = None, simplest_first: list[str] | None = None,
            spread=None, within_se: float = 0.0) -> Selection | None:
    """The Selection of `kind` from the backtest's tidy per-fold `metrics` (fold, model,
    metric, value): each of `candidates` (in preference order for ties) scored as its mean
    over the folds where every candidate with a score has one. None when no candidate has a
    score. `publish`: a candidate to publish whatever won (None: the selection's choice).

    The one-standard-error rule (Hastie, Tibshirani & Friedman, The Elements of Statistical
    Learning, 7.10): a more complex candidate publishes only when the backtest can tell it
    is better. Of the candidates that score at least the best baseline, the first in
    `simplest_first` order (the baselines as configured, then LightGBM, then the blend)
    whose score the winner does not beat by more than `within_se` x `spread(winner, it,
    folds)` (the standard error of the difference, `paired_standard_error`) publishes. A
    simple rule within noise of LightGBM is what a user would have anyway, and on a small
    or short history it is the safer bet; on a base where LightGBM's lead is many standard
    errors nothing changes. `within_se` 0 or no `spread`: the winner publishes."""
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
    chosen, errors = winner, {}
    if spread is not None and within_se > 0:
        chosen, errors = _simplest_within(scores, winner, base[0] if base else None, metric,
                                          simplest_first or present, spread, folds, within_se)
    forced = publish is not None and publish in scores and publish != chosen
    cutoffs = []
    if CUTOFF in rows.columns:
        cutoffs = [f"{pd.Timestamp(c):%Y-%m-%d}"
                   for c in sorted(rows.loc[rows["fold"].isin(folds), CUTOFF].unique())]
    return Selection(kind, metric, folds, scores, winner, ranked[1] if len(ranked) > 1 else None,
                     base[0] if base else None, publish if forced else chosen, forced,
                     dict(weights or {}), cutoffs, errors, within_se)


def _simplest_within(scores: dict[str, float], winner: str, best_baseline: str | None,
                     metric: str, order: list[str], spread, folds: list, within_se: float
                     ) -> tuple[str, dict[str, float]]:
    """(the candidate `compare`'s rule publishes, the standard errors it weighed)."""
    errors: dict[str, float] = {}
    floor = scores.get(best_baseline) if best_baseline else None
    for c in order:
        if c == winner:
            break
        if c not in scores or (floor is not None and beats(floor, scores[c], metric)):
            continue  # never publish what the backtest ranks below the best baseline
        errors[c] = float(spread(winner, c, folds))
        noise = within_se * errors[c] if math.isfinite(errors[c]) else 0.0  # unknown: none
        if not beats(scores[winner], scores[c], metric, noise):
            return c, errors
    return winner, errors


class PairedFold(NamedTuple):
    """One backtest fold of two candidates' predictions, as `paired_standard_error` reads it:
    each row's customer as a code 0..N-1 (the same code in every fold), the actual outcome,
    candidate a's and b's predictions, and the active-base mask (None unless the metric is
    one of models.metrics.ACTIVE_CHURN_METRICS)."""

    codes: np.ndarray
    actual: np.ndarray
    a: np.ndarray
    b: np.ndarray
    active: np.ndarray | None = None


def paired_standard_error(folds: list[PairedFold], metric: str, n_boot: int = 200,
                          max_customers: int = 20_000, seed: int = 0) -> float:
    """The bootstrap standard error of mean_f metric(a_f) - metric(b_f) over `folds` f.

    Customers, not rows, are resampled (with replacement, the same draw in every fold), since
    a customer's rows in different folds are not independent. Above `max_customers` a seeded
    subset is bootstrapped and the standard error scaled by sqrt(subset / all), the 1/sqrt(n)
    law of a mean-like statistic: a bounded cost on any base. NaN without two resamples
    that give a finite difference."""
    rng = np.random.default_rng(seed)
    n = int(max(f.codes.max() for f in folds)) + 1 if folds else 0
    if n == 0:
        return math.nan
    keep = np.arange(n) if n <= max_customers else np.sort(
        rng.choice(n, max_customers, replace=False))
    m = len(keep)
    position = np.full(n, -1)
    position[keep] = np.arange(m)
    parts = []
    for f in folds:
        at = position[np.asarray(f.codes)]
        rows = np.flatnonzero(at >= 0)
        parts.append(PairedFold(at[rows], *(None if v is None else np.asarray(v)[rows]
                                            for v in (f.actual, f.a, f.b, f.active))))
    draws = []
    for _ in range(n_boot):
        counts = np.bincount(rng.integers(0, m, m), minlength=m)
        differences = []
        for f in parts:
            rows = np.repeat(np.arange(len(f.codes)), counts[f.codes])
            active = None if f.active is None else f.active[rows]
            differences.append(metric_value(metric, f.actual[rows], f.a[rows], active)
                               - metric_value(metric, f.actual[rows], f.b[rows], active))
        finite = [d for d in differences if math.isfinite(d)]
        if finite:
            draws.append(float(np.mean(finite)))
    if len(draws) < 2:
        return math.nan
    return float(np.std(draws, ddof=1) * math.sqrt(m / n))


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
    rows (`shares`; a LightGBM model's TreeSHAP or a rule's inputs, see _Rule).

    `scale_free` (a value blend whose weights were fitted at another horizon than it
    predicts, models.backtest `label_free`): the weights apply to each member divided by its
    mean on the rows `fit(X)` is given, and the blend is scaled to the weight-averaged mean of
    the members there: each member keeps the part of the ranking it had in the backtest
    although the members grow differently with the horizon (last-period spend in proportion,
    a BTYD model's less, as customers die)."""

    def __init__(self, members=None, weights=None, names=None, kind: str = "value",
                 shares=None, scale_free: bool = False):
        self.members = members
        self.weights = weights
        self.names = names
        self.kind = kind
        self.shares = shares
        self.scale_free = scale_free

    def fit(self, X=None, y=None):
        """Nothing to learn: members and weights come fitted (with `scale_free`, the
        members' means on X, which is then required)."""
        if len(self.members) != len(self.weights):
            raise ValueError("one weight per member")
        self.weights_ = np.asarray(self.weights, dtype=float)
        if self.scale_free:
            if X is None:
                raise ValueError("a scale_free Blend needs the rows to scale on: fit(X)")
            means = self._parts(X).mean(axis=0)
            self.means_ = np.where(means > 0, means, 1.0)
            total = self.weights_.sum()
            mix = self.weights_ / total if total > 0 else self.weights_
            self.weights_ = mix / self.means_ * float(mix @ self.means_)
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

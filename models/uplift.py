"""The manager's effect per account: a doubly robust learner, its overlap check, and the
decisions and evaluations built on it.

The question is causal: how much more would this account spend over the horizon (or how much
less likely would it be to leave) with a dedicated manager than without one? History only
shows one of the two per account, and firms give managers to their largest accounts, so a
plain comparison of managed and unmanaged accounts mixes the manager's effect with the
difference between large and small accounts. The DR-learner (Kennedy 2023, "Towards optimal
doubly robust estimation of heterogeneous causal effects"; EconML's `DRLearner`) corrects for
the observed part of that difference:

1. Nuisance models, cross-fitted by customer (each account's nuisances come from models that
   never saw it): the propensity e(x) = P(manager | x) (LightGBM classifier) and the outcome
   models mu_1(x), mu_0(x) = E[Y | x, with / without a manager] (LightGBM, one per arm).
2. The doubly robust pseudo-outcome per row:
   phi = mu_1 - mu_0 + T (Y - mu_1) / e - (1 - T) (Y - mu_0) / (1 - e).
   Its mean is the average effect when either the propensity or the outcome models are right
   (hence "doubly robust"), and its conditional mean given x is the conditional effect tau(x).
3. The final model regresses phi on x (a small, strongly regularised LightGBM: phi is noisy);
   its predictions are the per-account effects. With final_scale "relative" it models the
   effect relative to the account's level without a manager, tau(x) = mu_0(x) g(x) (g fitted
   on phi / mu_0 with weights mu_0): spend effects scale with the account,
   and the relative effect, flatter in x, is easier to learn from few columns
   (final_features).

Overlap: an account whose propensity is below `overlap` or above 1 - `overlap` (say an
account so large that every account like it has a manager) has no comparable accounts in
the other arm: its effect would be extrapolated. Such rows are left out of the final model
and of the average, and `effects` flags them (`overlap` False) with no effect (NaN) rather
than a guess. Uncertainty: the average effect's interval is the normal interval of mean(phi)
with a standard error clustered by customer (rows of one customer at several cutoffs are not
independent); the per-account interval is the spread of the final model refitted on
`n_bootstrap` customer-bootstrap samples of the pseudo-outcomes, nuisances held fixed, so it
understates the nuisances' own uncertainty somewhat.

What it cannot do: it adjusts only for what x holds. If firms assign managers on something
the features do not see (a salesperson's hunch about a prospect), the estimate keeps that
bias. It is an observational estimate, and the report must say so.

The policy functions below are pure and take effects from anywhere (this learner, a ground
truth, a rule): `top_by_region` picks each region's capacity, `policy_gain` sums the true
effect over what a policy picked, `attainable_share` scales it between the status quo and the
optimum, `manager_value_curve` is the value of one more manager per region, and `qini` scores
an effect ranking against the true effects.
"""

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier, LGBMRegressor
from scipy.stats import norm
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from features.contract import REGION
from models.columns import (
    ACCOUNTS,
    GAIN_LOWER,
    GAIN_UPPER,
    IN_OVERLAP,
    MANAGER_GAIN,
    MARGINAL_VALUE,
    N_MANAGERS,
    PROPENSITY,
    TOTAL_VALUE,
)
from models.value import _check_X, _check_y, _take

__all__ = [
    "DRLearner",
    "attainable_share",
    "manager_value_curve",
    "policy_gain",
    "qini",
    "top_by_region",
]

_OUTCOMES = ("regression", "tweedie", "binary")
_SCALES = ("absolute", "relative")


def _folds(groups: np.ndarray, n_splits: int, seed: int) -> np.ndarray:
    """A fold number per row, the same for every row of a group (customer), by a seeded
    shuffle of the distinct groups."""
    distinct, inverse = np.unique(groups, return_inverse=True)
    order = np.random.default_rng(seed).permutation(len(distinct))
    return (order % n_splits)[inverse]


def _cluster_se(values: np.ndarray, groups: np.ndarray) -> float:
    """Standard error of the mean of `values`, clustered by `groups` (rows of one group are
    summed before the variance)."""
    n = len(values)
    if n < 2:
        return float("nan")
    centred = values - values.mean()
    sums = pd.Series(centred).groupby(groups).sum().to_numpy()
    n_groups = len(sums)
    if n_groups < 2:
        return float("nan")
    return float(np.sqrt((sums**2).sum() * n_groups / (n_groups - 1)) / n)


class DRLearner(RegressorMixin, BaseEstimator):
    """Conditional effect of a binary treatment (a dedicated manager) on an outcome (spend
    over the horizon, or churned), by the doubly robust learner (see the module docstring).

    Parameters
    ----------
    outcome : "regression", "tweedie" or "binary"
        The outcome models' loss: squared error, Tweedie (spend: zeros and a heavy tail; log
        link) or log loss (a 0/1 outcome such as churned; the effect is then a difference of
        probabilities).
    n_splits : int
        Cross-fitting folds (by customer).
    overlap : float in (0, 0.5)
        Rows with a propensity outside [overlap, 1 - overlap] are flagged and left out. 0.1 is
        Crump et al.'s (2009) rule of thumb; on simulated confounded data (tests/models/
        test_uplift.py) 0.05 left a bias of 1-1.5 standard errors from the few rows with
        extreme weights, 0.1 about 0.4.
    n_bootstrap : int
        Customer-bootstrap refits of the final model for the per-account interval; 0: none.
    n_estimators, learning_rate, num_leaves, min_child_samples : LightGBM settings of the
        nuisance models; the final model uses min_child_samples * 4 and 7 leaves.
    final_scale : "absolute" or "relative"
        "absolute" (the default): the final model regresses phi on x, tau(x) = f(x).
        "relative": tau(x) = m(x) g(x) with m(x) the cross-fitted outcome without the
        treatment (mu_0, floored at its 10th percentile over the rows in overlap so that
        tiny accounts do not get huge weights): g, the effect relative to the account's own
        level, is fitted on phi / m with weights m: the loss sum (phi - m g)^2 / m, weighted
        least squares for a pseudo-outcome whose variance grows with the level (spend: at
        least in proportion). Weights m^2 (the plain loss sum (phi - m g)^2) let a few of the
        largest accounts decide g: on bench_uplift its constant came out negative with a
        positive average effect and reversed the ranking; with weights m the constant is
        sum(phi) / sum(m), of the average effect's sign. Spend effects scale with the
        account's size, so the relative effect is flatter in x and a small model learns it
        from fewer, noisy pseudo-outcomes.
    level_column : with final_scale "relative", a column of X to use as m(x) instead of
        mu_0 (say last year's spend, floored the same way): any known positive m leaves the
        loss the same, and an observed column does not have mu_0's weakness where it
        matters most: trees cannot extrapolate, and mu_0, fitted on the accounts without a
        manager, is flat above the largest of them, exactly the accounts firms manage.
    final_features : columns of X the final model sees (None: all). A few strongly
        informative columns keep the noisy final stage from fitting noise.
    final_leaves, final_min_child_samples : the final model's LightGBM num_leaves (7) and
        min_child_samples (None: min_child_samples * 4).
    select_trees : bool
        False (the default): the final model has n_estimators trees. True: the number of
        trees, from 0 (a constant: the average effect, or the average relative effect times
        the account's level) up to n_estimators, that minimises the doubly robust loss
        sum (phi - tau(x))^2 on held-out customers (the final model's own cross-fitting, by
        customer); the bootstrap refits use the same number. Pseudo-outcomes are so noisy
        that a final model with the nuisances' trees mostly fits their noise; this is
        the usual model selection by the DR loss (Kennedy 2023, section 4; Nie and Wager's
        R-loss in the same spirit).
    pooled_outcome : bool
        False (the default): one outcome model per arm, mu_1 fitted on the managed rows only.
        True: one outcome model on all rows with the treatment as a column, mu_t(x) its
        prediction with the column set to t. Managed accounts are few (3% of a B2B base) and
        the largest, so mu_1 alone is fitted on a few hundred rows at the top of the range;
        the pooled model learns the level of spend from every account and the manager's
        shift from the managed ones, and its errors in mu_1 and mu_0 largely cancel in
        mu_1 - mu_0 (with no effect at all, the separate arms' error left a positive bias of
        about one standard error in bench_uplift).
    n_jobs, random_state : as in LightGBM.

    Attributes
    ----------
    ate_, ate_se_ : average effect over the rows in overlap, and its clustered standard error
    n_overlap_, n_rows_ : rows in overlap, rows seen
    propensity_, overlap_ : the training rows' cross-fitted propensities and overlap flags
    pseudo_outcomes_ : the training rows' phi (NaN outside overlap)
    final_ : the fitted final LightGBM; bootstrap_ : its bootstrap refits
    propensity_models_ : the folds' propensity models (their mean scores new rows)
    outcome_models_ : the folds' mu_0 models (the relative final model's level m(x))
    level_floor_ : with final_scale "relative", the floor of m(x)
    final_trees_ : the final model's number of trees (select_trees: the chosen one, 0 = a
        constant); selection_loss_ : held-out DR loss per candidate number
    heldout_effects_, heldout_folds_ : each training row's effect by the final model fitted
        without its customer fold, and that fold (NaN / -1 outside overlap): `policy_value`
    group_codes_ : each training row's customer as an integer code (no ids are kept)
    """

    def __init__(
        self,
        outcome: str = "regression",
        n_splits: int = 3,
        overlap: float = 0.1,
        n_bootstrap: int = 20,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        n_jobs: int = 1,
        random_state: int | None = 0,
        final_scale: str = "absolute",
        final_features: list[str] | tuple[str, ...] | None = None,
        final_leaves: int = 7,
        final_min_child_samples: int | None = None,
        select_trees: bool = False,
        level_column: str | None = None,
        pooled_outcome: bool = False,
    ):
        self.outcome = outcome
        self.n_splits = n_splits
        self.overlap = overlap
        self.n_bootstrap = n_bootstrap
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.final_scale = final_scale
        self.final_features = final_features
        self.final_leaves = final_leaves
        self.final_min_child_samples = final_min_child_samples
        self.select_trees = select_trees
        self.level_column = level_column
        self.pooled_outcome = pooled_outcome

    def _lgbm(self, **overrides) -> dict:
        return {"n_estimators": self.n_estimators, "learning_rate": self.learning_rate,
                "num_leaves": self.num_leaves, "min_child_samples": self.min_child_samples,
                "subsample": 0.8, "subsample_freq": 1, "n_jobs": self.n_jobs,
                "random_state": self.random_state, "verbose": -1} | overrides

    def _outcome_model(self):
        if self.outcome == "binary":
            return LGBMClassifier(objective="binary", **self._lgbm())
        return LGBMRegressor(objective=self.outcome, **self._lgbm())

    def _predict_outcome(self, model, X) -> np.ndarray:
        if self.outcome == "binary":
            return model.predict_proba(X)[:, 1]
        return model.predict(X)

    def _check_params(self) -> None:
        if self.outcome not in _OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(_OUTCOMES)}, got {self.outcome!r}")
        if not 0 < self.overlap < 0.5:
            raise ValueError(f"overlap must be in (0, 0.5), got {self.overlap!r}")
        if self.n_splits < 2:
            raise ValueError(f"n_splits must be 2 or more, got {self.n_splits!r}")
        if self.final_scale not in _SCALES:
            raise ValueError(f"final_scale must be one of {', '.join(_SCALES)}, got "
                             f"{self.final_scale!r}")
        if self.final_scale == "relative" and self.outcome == "binary":
            raise ValueError('final_scale "relative" needs a spend outcome, not "binary"')

    def _final_X(self, X):
        """The columns of X the final model sees (final_features; all when None)."""
        if self.final_features is None:
            return X
        if not isinstance(X, pd.DataFrame):
            raise ValueError("final_features needs X as a DataFrame with those columns")
        missing = [c for c in self.final_features if c not in X.columns]
        if missing:
            raise ValueError(f"final_features not in X: {', '.join(map(str, missing))}")
        return X[list(self.final_features)]

    def _raw_level(self, X) -> np.ndarray:
        if self.level_column is not None:
            if not isinstance(X, pd.DataFrame) or self.level_column not in X.columns:
                raise ValueError(f"level_column {self.level_column!r} is not a column of X")
            return X[self.level_column].to_numpy(dtype=float)
        return np.mean([self._predict_outcome(m, X) for m in self.outcome_models_], axis=0)

    def _level(self, X) -> np.ndarray:
        """m(x) of the relative final model on new rows: level_column, or the folds' mu_0
        models' mean, floored like the training rows'."""
        return np.maximum(np.nan_to_num(self._raw_level(X), nan=0.0), self.level_floor_)

    def _final_fit(self, X, phi, level, n_trees: int | None = None):
        if n_trees == 0:
            return _Constant.fit(phi, level)
        params = self._lgbm(num_leaves=self.final_leaves,
                            min_child_samples=(self.final_min_child_samples
                                               or self.min_child_samples * 4))
        if n_trees is not None:
            params["n_estimators"] = n_trees
        model = LGBMRegressor(objective="regression", **params)
        if level is None:
            return model.fit(self._final_X(X), phi)
        return model.fit(self._final_X(X), phi / level, sample_weight=level)

    def _tree_grid(self) -> list[int]:
        """The candidate numbers of final trees (0 = constant) of select_trees."""
        if not self.select_trees:
            return [self.n_estimators]
        return sorted({0, *(k for k in (5, 10, 25, 50, 100, 200, 400, 800)
                            if k < self.n_estimators), self.n_estimators})

    def _heldout(self, X, phi, level, groups, seed: int, grid: list[int]
                 ) -> tuple[np.ndarray, np.ndarray]:
        """(tau, fold): each row's effect by the final model fitted on the other customer
        folds, for each number of trees in `grid` (rows x grid; 0 = constant), and the
        row's fold."""
        fold = _folds(groups, self.n_splits, seed + 2)
        tau = np.zeros((len(phi), len(grid)))
        for k in range(self.n_splits):
            test, train = fold == k, fold != k
            lv_train = None if level is None else level[train]
            scale = 1.0 if level is None else level[test]
            constant = _Constant.fit(phi[train], lv_train)
            model = (self._final_fit(_take(X, train), phi[train], lv_train)
                     if any(grid) else None)
            X_test = _take(X, test)
            for i, trees in enumerate(grid):
                raw = (constant.predict(X_test) if trees == 0 else
                       model.predict(self._final_X(X_test), num_iteration=trees))
                tau[test, i] = raw * scale
        return tau, fold

    def _final_predict(self, model, X, level) -> np.ndarray:
        out = np.asarray(model.predict(self._final_X(X)), dtype=np.float64)
        return out if level is None else out * level

    def fit(self, X, y, treatment, groups=None):
        """Fit on features X (before the horizon), outcome y (over the horizon) and the 0/1
        `treatment` of each row (had a dedicated manager); `groups`: the customer of each row
        (rows of one customer share a cross-fitting fold and a bootstrap draw), default: each
        row its own customer."""
        self._check_params()
        X = _check_X(self, X, reset=True)
        y = _check_y(X, y)
        t = np.asarray(treatment)
        if t.shape != (len(y),) or not np.isin(t, (0, 1)).all():
            raise ValueError("treatment must be one 0/1 value per row (1 = had a manager)")
        t = t.astype(int)
        if t.sum() < self.n_splits or (1 - t).sum() < self.n_splits:
            raise ValueError(
                f"treatment needs at least {self.n_splits} rows in each arm, got "
                f"{int(t.sum())} treated and {int((1 - t).sum())} untreated")
        if self.outcome == "binary" and not np.isin(y, (0, 1)).all():
            raise ValueError('outcome "binary" needs a 0/1 y')
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        if len(groups) != len(y):
            raise ValueError(f"groups has {len(groups)} values for {len(y)} rows")
        seed = 0 if self.random_state is None else int(self.random_state)
        fold = _folds(groups, self.n_splits, seed)
        e, mu0, mu1 = (np.full(len(y), np.nan) for _ in range(3))
        self.propensity_models_, self.outcome_models_ = [], []
        for k in range(self.n_splits):
            test, train = fold == k, fold != k
            propensity = LGBMClassifier(objective="binary", **self._lgbm()).fit(
                _take(X, train), t[train])
            if self.pooled_outcome:
                pooled = self._outcome_model().fit(_with_arm(_take(X, train), t[train]), y[train])
                models = {arm: _ArmModel(pooled, arm) for arm in (0, 1)}
            else:
                models = {arm: self._outcome_model().fit(_take(X, train & (t == arm)),
                                                         y[train & (t == arm)])
                          for arm in (0, 1)}
            self.propensity_models_.append(propensity)
            self.outcome_models_.append(models[0])
            e[test] = propensity.predict_proba(_take(X, test))[:, 1]
            mu0[test] = self._predict_outcome(models[0], _take(X, test))
            mu1[test] = self._predict_outcome(models[1], _take(X, test))
        inside = (e >= self.overlap) & (e <= 1 - self.overlap)
        self.propensity_, self.overlap_ = e, inside
        if inside.sum() < 2:
            raise ValueError(
                f"only {int(inside.sum())} rows have a propensity within [{self.overlap}, "
                f"{1 - self.overlap}]: treated and untreated accounts do not overlap")
        phi = mu1 - mu0 + t * (y - mu1) / e - (1 - t) * (y - mu0) / (1 - e)
        self.n_rows_, self.n_overlap_ = len(y), int(inside.sum())
        self.ate_ = float(phi[inside].mean())
        self.ate_se_ = _cluster_se(phi[inside], groups[inside])
        self.pseudo_outcomes_ = np.where(inside, phi, np.nan)
        X_in, phi_in, groups_in = _take(X, inside), phi[inside], groups[inside]
        level_in = None
        if self.final_scale == "relative":
            raw = mu0 if self.level_column is None else np.nan_to_num(self._raw_level(X), nan=0.0)
            self.level_floor_ = float(max(np.quantile(raw[inside], 0.1), 1e-9))
            level_in = np.maximum(raw[inside], self.level_floor_)
        grid = self._tree_grid()
        tau, fold_in = self._heldout(X_in, phi_in, level_in, groups_in, seed, grid)
        loss = ((phi_in[:, None] - tau) ** 2).mean(axis=0)
        best = int(np.argmin(loss))
        if self.select_trees:
            self.selection_loss_ = dict(zip(grid, loss, strict=True))
        self.final_trees_ = int(grid[best])
        self.heldout_effects_ = np.full(len(y), np.nan)
        self.heldout_effects_[inside] = tau[:, best]
        self.heldout_folds_ = np.full(len(y), -1)
        self.heldout_folds_[inside] = fold_in
        self.group_codes_ = np.unique(groups, return_inverse=True)[1]
        self.final_ = self._final_fit(X_in, phi_in, level_in, self.final_trees_)
        rng = np.random.default_rng(seed + 1)
        distinct, inverse = np.unique(groups_in, return_inverse=True)
        positions = pd.Series(np.arange(len(inverse))).groupby(inverse).indices
        self.bootstrap_ = []
        for _ in range(self.n_bootstrap):
            drawn = rng.integers(0, len(distinct), len(distinct))
            rows = np.concatenate([positions[g] for g in drawn])
            sample = X_in.iloc[rows] if isinstance(X_in, pd.DataFrame) else X_in[rows]
            self.bootstrap_.append(self._final_fit(
                sample, phi_in[rows], None if level_in is None else level_in[rows],
                self.final_trees_))
        return self

    def _effect_draws(self, X) -> tuple[np.ndarray, np.ndarray | None]:
        """The final model's effect per row and the bootstrap refits' (rows x refits; None
        without bootstrap), on validated X."""
        level = self._level(X) if self.final_scale == "relative" else None
        effect = self._final_predict(self.final_, X, level)
        draws = (np.column_stack([self._final_predict(m, X, level) for m in self.bootstrap_])
                 if self.bootstrap_ else None)
        return effect, draws

    def bootstrap_effects(self, X) -> np.ndarray:
        """The bootstrap refits' effects per row (rows x n_bootstrap): the spread of a
        policy's claimed total gain comes from their column sums."""
        check_is_fitted(self)
        X = _check_X(self, X, reset=False)
        return self._effect_draws(X)[1] if self.bootstrap_ else np.empty((len(X), 0))

    def predict(self, X) -> np.ndarray:
        """The final model's effect per row, for every row (outside overlap too: use
        `effects` for what may be published)."""
        check_is_fitted(self)
        X = _check_X(self, X, reset=False)
        level = self._level(X) if self.final_scale == "relative" else None
        return self._final_predict(self.final_, X, level)

    def propensity(self, X) -> np.ndarray:
        """P(manager | x) on new rows: the mean of the folds' propensity models (the training
        rows' own cross-fitted propensities are `propensity_`)."""
        check_is_fitted(self)
        X = _check_X(self, X, reset=False)
        return np.mean([m.predict_proba(X)[:, 1] for m in self.propensity_models_], axis=0)

    def effects(self, X, level: float = 0.9) -> pd.DataFrame:
        """Per row: manager_gain with manager_gain_lower / _upper (the `level` interval: the
        bootstrap's quantiles, or the normal interval with the average's standard error
        without bootstrap), manager_propensity and in_overlap; gain and interval are NaN
        where in_overlap is False (not extrapolated)."""
        check_is_fitted(self)
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        X = _check_X(self, X, reset=False)
        effect, draws = self._effect_draws(X)
        if draws is not None:
            lower, upper = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=1)
        else:
            z = float(norm.ppf((1 + level) / 2))
            lower, upper = effect - z * self.ate_se_, effect + z * self.ate_se_
        propensity = self.propensity(X)
        inside = (propensity >= self.overlap) & (propensity <= 1 - self.overlap)
        frame = pd.DataFrame({
            MANAGER_GAIN: np.where(inside, effect, np.nan),
            GAIN_LOWER: np.where(inside, lower, np.nan),
            GAIN_UPPER: np.where(inside, upper, np.nan),
            PROPENSITY: propensity,
            IN_OVERLAP: inside,
        })
        if isinstance(X, pd.DataFrame):
            frame.index = X.index
        return frame

    def policy_value(self, share: float, level: float = 0.9) -> tuple[float, float, float]:
        """(estimate, lower, upper): the average effect over the accounts that a policy giving
        managers to the `share` of the accounts in overlap with the largest estimated gains
        would pick, estimated out of sample: in each customer fold of the training rows in
        overlap, the top `share` by the final model fitted on the other folds (ties in row
        order), the mean of their pseudo-outcomes phi, with a normal `level` interval
        clustered by customer. The sum of the picked accounts' own estimates is not an
        honest claim: picking the largest of noisy estimates makes them positive even when
        managers change nothing; phi of rows the ranking did not see is not inflated."""
        check_is_fitted(self)
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share!r}")
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        inside = self.overlap_
        tau, fold = self.heldout_effects_[inside], self.heldout_folds_[inside]
        phi, codes = self.pseudo_outcomes_[inside], self.group_codes_[inside]
        picked = np.zeros(len(tau), dtype=bool)
        for k in np.unique(fold):
            rows = np.flatnonzero(fold == k)
            n = max(1, int(round(share * len(rows))))
            picked[rows[np.argsort(-tau[rows], kind="stable")[:n]]] = True
        mean = float(phi[picked].mean())
        half = float(norm.ppf((1 + level) / 2)) * _cluster_se(phi[picked], codes[picked])
        return mean, mean - half, mean + half

    def ate_interval(self, level: float = 0.9) -> tuple[float, float]:
        """The average effect's normal interval (clustered standard error)."""
        check_is_fitted(self)
        z = float(norm.ppf((1 + level) / 2))
        return self.ate_ - z * self.ate_se_, self.ate_ + z * self.ate_se_


TREATED_COLUMN = "__manager__"  # the pooled outcome model's treatment column


def _with_arm(X, arm) -> pd.DataFrame:
    """X (a DataFrame, or an array made one) with the 0/1 treatment as one more column."""
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    frame[TREATED_COLUMN] = np.broadcast_to(np.asarray(arm, dtype=np.int8), (len(frame),))
    return frame


class _ArmModel:
    """The pooled outcome model seen as one arm's: predicts with the treatment set to `arm`."""

    def __init__(self, model, arm: int):
        self.model, self.arm = model, arm

    def predict(self, X):
        return self.model.predict(_with_arm(X, self.arm))

    def predict_proba(self, X):
        return self.model.predict_proba(_with_arm(X, self.arm))


class _Constant:
    """A final model with no trees: the (weighted) mean of the pseudo-outcomes, the average
    effect (absolute), or sum(phi) / sum(m), the average relative effect (relative: the
    ratio of the mean effect to the mean level, so its sign is the average effect's)."""

    def __init__(self, value: float):
        self.value = value

    @classmethod
    def fit(cls, phi: np.ndarray, level: np.ndarray | None) -> "_Constant":
        if level is None:
            return cls(float(np.mean(phi)))
        return cls(float(phi.sum() / level.sum()))

    def predict(self, X, num_iteration=None) -> np.ndarray:
        return np.full(len(X), self.value)


def top_by_region(score: pd.Series, region: pd.Series, capacity: dict) -> pd.Series:
    """True for the `capacity[r]` accounts with the highest score in each region r (ties by
    the index order; NaN scores are never picked; a region not in `capacity` gets none)."""
    picked = pd.Series(False, index=score.index)
    known = score.notna()
    for name, rows in score[known].groupby(region[known], sort=False):
        k = int(capacity.get(name, 0))
        if k > 0:
            order = np.argsort(-rows.to_numpy(dtype=float), kind="stable")
            picked.loc[rows.index[order[:k]]] = True
    return picked


def policy_gain(picked: pd.Series, true_effect: pd.Series) -> float:
    """The total true effect of the accounts a policy gives a manager."""
    return float(true_effect[picked.reindex(true_effect.index, fill_value=False)].sum())


def attainable_share(policy: float, status_quo: float, optimum: float) -> float:
    """(policy - status quo) / (optimum - status quo): the share of the incremental value a
    better assignment could add that this policy adds; NaN when the optimum adds nothing."""
    room = optimum - status_quo
    return float("nan") if room <= 0 else float((policy - status_quo) / room)


def manager_value_curve(effect: pd.Series, region: pd.Series, capacity_per_manager: int,
                        max_managers: int) -> pd.DataFrame:
    """Per region, the incremental value of the k-th manager, k = 1..max_managers, each
    taking the `capacity_per_manager` accounts with the largest positive effects that the
    first k - 1 did not take (an account with no gain, a negative or an unknown (NaN) effect
    is not given a manager).

    Columns: region, managers (k), accounts (taken by the k-th), marginal_value (the k-th
    manager's gain), total_value (of the first k): models.columns names them. Effects are sorted before they are
    dealt out, so marginal_value never increases with k, and the total of the last row is
    the sum of the positive effects the region's max_managers managers can take."""
    if capacity_per_manager < 1 or max_managers < 1:
        raise ValueError("capacity_per_manager and max_managers must be 1 or more")
    rows = []
    for name, group in effect.groupby(region, sort=True):
        gains = np.sort(group.to_numpy(dtype=float))[::-1]
        gains = gains[np.isfinite(gains) & (gains > 0)]
        total = 0.0
        for k in range(1, max_managers + 1):
            block = gains[(k - 1) * capacity_per_manager: k * capacity_per_manager]
            total += float(block.sum())
            rows.append({REGION: name, N_MANAGERS: k, ACCOUNTS: len(block),
                         MARGINAL_VALUE: float(block.sum()), TOTAL_VALUE: total})
    return pd.DataFrame(rows, columns=[REGION, N_MANAGERS, ACCOUNTS, MARGINAL_VALUE, TOTAL_VALUE])


def qini(true_effect, score) -> float:
    """Normalised Qini coefficient of a ranking by `score` against the true effects: the area
    between the cumulative true effect of the accounts taken in score order and the random
    order's straight line, as a share of the same area for the true effects' own order
    (1 = the best order, 0 = no better than random, below 0 = worse). NaN when every true
    effect is the same."""
    truth = np.asarray(true_effect, dtype=float)
    order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
    n = len(truth)
    if n == 0:
        return float("nan")
    line = truth.sum() * np.arange(1, n + 1) / n
    model = np.cumsum(truth[order]) - line
    best = np.cumsum(np.sort(truth)[::-1]) - line
    area = best.sum()
    return float("nan") if np.isclose(area, 0.0) else float(model.sum() / area)

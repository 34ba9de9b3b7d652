"""Buy-Till-You-Die models: BG/NBD, Pareto/NBD and Gamma-Gamma as scikit-learn estimators,
and the BTYD feature transformer fitted per cutoff.

Inputs follow the lifetimes conventions, in any time unit (days in this project):

- frequency x: number of repeat purchases (order days - 1),
- recency t_x: time from the first to the last purchase (0 when x = 0),
- T: time from the first purchase to the cutoff (the customer's age),
- monetary m: mean value of the repeat purchases (Gamma-Gamma only; used when x > 0).

`X` is either a DataFrame with the columns `btyd_frequency, btyd_recency, btyd_T` (and
`btyd_monetary` for Gamma-Gamma), as the feature builder writes them, or a 2-d array with the
columns in that order (Gamma-Gamma: `frequency, monetary`). Of a DataFrame only those columns
are read and validated (scikit-learn's validate_data), so `n_features_in_` is 3 (2) and
`feature_names_in_` their names; an array must have exactly those columns.

Fitting maximises the log-likelihood over log-parameters with L-BFGS-B, with bounds. Times are
divided by their mean (and spend by its mean) before fitting so that every log-parameter
starts near 0; the scale parameters (alpha, beta, v) are mapped back afterwards, so `params_`
is in the units of the input. Identical (x, t_x, T) rows are aggregated and weighted, and the
BG/NBD and Gamma-Gamma objectives come with analytic gradients, computed on the unique values
of x, t_x and T: a million customers fit in about a second.

References: Fader, Hardie and Lee (2005a), "Counting your customers the easy way: an
alternative to the Pareto/NBD model" (BG/NBD); Fader, Hardie and Lee (2005b), "A note on
deriving the Pareto/NBD model and related expressions"; Fader and Hardie (2013), "The
Gamma-Gamma model of monetary value"; the lifetimes and PyMC-Marketing implementations.
The hypergeometric terms use Euler's transformation 2F1(a,b;c;z) = (1-z)^(c-a-b)
2F1(c-a,c-b;c;z), which keeps them finite for heavy buyers.

Spend over a horizon is undiscounted by default: expected spend = conditional expected
transactions x expected spend per order (`GammaGammaModel.expected_spend` takes an optional
discount rate). `BTYDFeatures` / `add_btyd_features` add btyd_prob_alive, btyd_expected_orders,
btyd_expected_spend and btyd_prob_no_purchase over the horizon, fitted per cutoff.

Fitting runs with single-threaded BLAS (threadpoolctl): on a busy machine OpenBLAS threads
contending for cores made it 10-40x slower.
"""

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from features.contract import CUTOFF
from features.names import BTYD_FREQUENCY, BTYD_MONETARY, BTYD_RECENCY, BTYD_T
from models.columns import (
    BTYD_EXPECTED_ORDERS,
    BTYD_EXPECTED_SPEND,
    BTYD_OUTPUTS,
    BTYD_PROB_ALIVE,
    BTYD_PROB_NO_PURCHASE,
)

__all__ = [
    "BetaGeoModel",
    "ParetoNBDModel",
    "GammaGammaModel",
    "BTYDFeatures",
    "PROCESSES",
    "add_btyd_features",
    "FREQUENCY",
    "RECENCY",
    "AGE",
    "MONETARY",
    "PROB_ALIVE",
    "EXPECTED_ORDERS",
    "EXPECTED_SPEND",
    "PROB_NO_PURCHASE",
    "OUTPUT_COLUMNS",
]

# the summary columns BTYDFeatures reads (features.names) and adds (models.columns), under
# the short names this module's code uses
FREQUENCY, RECENCY, AGE, MONETARY = BTYD_FREQUENCY, BTYD_RECENCY, BTYD_T, BTYD_MONETARY
PROB_ALIVE, EXPECTED_ORDERS = BTYD_PROB_ALIVE, BTYD_EXPECTED_ORDERS
EXPECTED_SPEND, PROB_NO_PURCHASE = BTYD_EXPECTED_SPEND, BTYD_PROB_NO_PURCHASE
OUTPUT_COLUMNS = BTYD_OUTPUTS
_FEATURE_INPUTS = (FREQUENCY, RECENCY, AGE, MONETARY)  # what BTYDFeatures reads

_LOG_BOUND = 12.0  # log-parameters live in [-12, 12] (on the rescaled data)
_SHAPE_BOUND = 8.0  # ... and shape parameters below e^8


# ---------------------------------------------------------------------------------------------
# input handling


def _columns(X, names: tuple[str, ...], who: str) -> list[np.ndarray]:
    """The named columns of a DataFrame, or the columns of a 2-d array, as float arrays."""
    if isinstance(X, pd.DataFrame):
        missing = [c for c in names if c not in X.columns]
        if missing:
            raise ValueError(f"{who} needs the column(s) {missing}; got {list(X.columns)[:12]}")
        return [X[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in names]
    array = np.asarray(X, dtype=np.float64)
    if array.ndim == 1 and len(names) == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] != len(names):
        raise ValueError(
            f"{who} needs a 2-d array with the columns {list(names)}; got shape {array.shape}"
        )
    return [array[:, k] for k in range(len(names))]


def _validated(estimator, X, names: tuple[str, ...], reset: bool) -> list[np.ndarray]:
    """The columns `names` of X (a DataFrame: by name; an array: all its columns, which must
    be as many) as float arrays, through scikit-learn's validate_data: at fit (`reset`) it
    records n_features_in_ (and feature_names_in_ for a DataFrame), afterwards it checks
    them. NaN and inf pass (each model says what it accepts); no rows is fine after fit."""
    who = type(estimator).__name__
    if isinstance(X, pd.DataFrame):
        missing = [c for c in names if c not in X.columns]
        if missing:
            raise ValueError(f"{who} needs the column(s) {missing}; got {list(X.columns)[:12]}")
        X = X[list(names)]
    checks = {"dtype": np.float64, "ensure_all_finite": False,
              "ensure_min_samples": 1 if reset else 0}
    if reset or hasattr(estimator, "n_features_in_"):
        array = validate_data(estimator, X, reset=reset, **checks)
    else:  # fitted before n_features_in_ was recorded (a stored model): the array only
        array = check_array(X, **checks)
    if array.shape[1] != len(names):
        raise ValueError(
            f"{who} needs a 2-d array with the columns {list(names)}; got shape {array.shape}"
        )
    return [array[:, k] for k in range(len(names))]


def _summary(estimator, X, reset: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated (x, t_x, T); t_x is set to 0 where x = 0."""
    who = type(estimator).__name__
    x, tx, T = _validated(estimator, X, (FREQUENCY, RECENCY, AGE), reset)
    if not (np.isfinite(x).all() and np.isfinite(tx).all() and np.isfinite(T).all()):
        raise ValueError(
            f"{who}: frequency, recency and T must be finite, not NaN or inf (drop customers "
            "without orders)"
        )
    if (x < 0).any() or (tx < 0).any() or (tx > T + 1e-9).any():
        raise ValueError(f"{who}: need frequency >= 0 and 0 <= recency <= T")
    return x, np.where(x > 0, tx, 0.0), T


def _weights(sample_weight, n: int, fitting: bool = False) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=np.float64).ravel()
    if w.shape[0] != n or not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must be finite, >= 0 and have one value per row")
    if fitting and n and not w.any():
        raise ValueError("sample_weight is zero for every row: there is nothing to fit")
    return w


def _aggregate(*columns: np.ndarray, weight: np.ndarray):
    """Unique rows of the given columns with summed weights: (unique columns..., weights)."""
    codes, uniques = [], []
    for col in columns:
        u, inv = np.unique(col, return_inverse=True)
        uniques.append(u)
        codes.append(inv.astype(np.int64))
    sizes = [len(u) for u in uniques]
    if float(np.prod(np.array(sizes, dtype=float))) < 2.0**62:
        key = codes[0]
        for code, size in zip(codes[1:], sizes[1:]):
            key = key * size + code
        _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    else:  # pragma: no cover - only with astronomically many distinct values
        _, first, inv = np.unique(
            np.column_stack(codes), axis=0, return_index=True, return_inverse=True
        )
    w = np.bincount(inv.ravel(), weights=weight, minlength=len(first))
    keep = w > 0
    return tuple(col[first][keep] for col in columns) + (w[keep],)


def _fit_log_params(objective, start: np.ndarray, jac: bool, shapes, lower=None) -> np.ndarray:
    """Minimise `objective` over log-parameters with L-BFGS-B; return the log-parameters.

    `shapes` flags the shape parameters (r, a, b, s, p, q): they are capped at e^8 ~ 3000,
    beyond which the data cannot tell a population from a homogeneous one (a tiny or
    degenerate cutoff drives r to infinity) and the hypergeometric terms lose accuracy."""
    lo = np.full(len(start), -_LOG_BOUND) if lower is None else np.asarray(lower, dtype=float)
    hi = np.where(np.asarray(shapes, dtype=bool), _SHAPE_BOUND, _LOG_BOUND)
    bounds = list(zip(lo, hi))
    # single-threaded BLAS: the objective's dot products are short, and OpenBLAS threads
    # contending for busy cores made fitting 10-40x slower on a loaded machine
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(
            objective,
            np.clip(start, lo, hi),
            jac=jac,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 2000, "ftol": 1e-12, "gtol": 1e-7},
        )
    if not np.all(np.isfinite(result.x)):
        raise RuntimeError(f"BTYD fit failed: {result.message}")
    return result.x


def _scale(values: np.ndarray, weight: np.ndarray) -> float:
    """A positive typical size of `values` (weighted mean), used to rescale before fitting."""
    total = float(weight.sum())
    mean = float(np.dot(values, weight) / total) if total > 0 else 0.0
    return mean if mean > 0 else 1.0


# ---------------------------------------------------------------------------------------------
# BG/NBD


def bgnbd_log_likelihood(params, x, tx, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood at params (r, alpha, a, b), in the input time unit."""
    r, alpha, a, b = (float(p) for p in params)
    x, tx, T = (np.asarray(v, dtype=np.float64) for v in (x, tx, T))
    rx = r + x
    first = betaln(a, b + x) - betaln(a, b) - rx * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        second = np.where(
            x > 0,
            betaln(a + 1, np.maximum(b + x - 1, 1e-300)) - betaln(a, b) - rx * np.log(alpha + tx),
            -np.inf,
        )
    return gammaln(rx) - gammaln(r) + r * np.log(alpha) + np.logaddexp(first, second)


class _BGNBDObjective:
    """Mean negative BG/NBD log-likelihood and its gradient in log(r, alpha, a, b).

    Everything that depends on x alone, T alone or t_x alone is computed on the unique values
    and looked up; only a handful of operations run per (aggregated) row.
    """

    def __init__(self, x, tx, T, w):
        self.ux, self.ix = np.unique(x, return_inverse=True)
        self.uT, self.iT = np.unique(T, return_inverse=True)
        self.ut, self.it = np.unique(tx, return_inverse=True)
        self.x, self.w = x, w
        self.total = float(w.sum())
        self.Wx = np.bincount(self.ix, weights=w, minlength=len(self.ux))
        self.pos = self.ux > 0

    def __call__(self, theta):
        r, alpha, a, b = np.exp(theta)
        ux, ix, w = self.ux, self.ix, self.w
        lT = np.log(alpha + self.uT)
        lt = np.log(alpha + self.ut)
        base = betaln(a, b)
        B1 = betaln(a, b + ux) - base
        B2 = np.full(len(ux), -np.inf)
        B2[self.pos] = betaln(a + 1, b + ux[self.pos] - 1) - base
        rx = r + self.x
        A = B1[ix] - rx * lT[self.iT]
        Bt = B2[ix] - rx * lt[self.it]
        m = np.logaddexp(A, Bt)
        gl = gammaln(r + ux) - gammaln(r)
        ll = float(self.Wx @ gl) + self.total * r * np.log(alpha) + float(w @ m)

        w1 = np.exp(A - m)
        ww1 = w * w1
        ww2 = w - ww1
        W1x = np.bincount(ix, weights=ww1, minlength=len(ux))
        W2x = self.Wx - W1x
        d_r = (
            float(self.Wx @ (digamma(r + ux) - digamma(r)))
            + self.total * np.log(alpha)
            - float(ww1 @ lT[self.iT])
            - float(ww2 @ lt[self.it])
        )
        d_alpha = self.total * r / alpha - float(
            (rx * ww1) @ (1.0 / (alpha + self.uT))[self.iT]
            + (rx * ww2) @ (1.0 / (alpha + self.ut))[self.it]
        )
        psi_abx = digamma(a + b + ux)
        d_a = float(self.Wx @ (digamma(a + b) - psi_abx)) + float(W2x.sum()) / a
        psi_bx1 = np.zeros(len(ux))
        psi_bx1[self.pos] = digamma(b + ux[self.pos] - 1)
        d_b = (
            float(self.Wx @ (digamma(a + b) - digamma(b) - psi_abx))
            + float(W1x @ digamma(b + ux))
            + float(W2x @ psi_bx1)
        )
        grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        return -ll / self.total, -grad / self.total


def _bgnbd_pieces(params, x, tx, T):
    r, alpha, a, b = params
    # log of a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x); P(alive) = 1/(1+exp(.)), x > 0 only
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.where(
            x > 0,
            np.log(a)
            - np.log(np.maximum(b + x - 1, 1e-300))
            + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)),
            -np.inf,
        )
    return odds


def _bg_expected_if_alive(params, x, T, t) -> np.ndarray:
    """E[purchases in (T, T+t] | alive at T, x] of BG/NBD
    = (a+b+x-1)/(a-1) [1 - (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)], z = t/(alpha+T+t).

    The hypergeometric tail is evaluated in Euler's transformed form (finite for heavy
    buyers), else in the direct form (finite when a and b are huge, i.e. nearly the same p for
    everyone), else by quadrature of E_p[(1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p] over the
    posterior p ~ Beta(a, b+x), which is what the closed form integrates."""
    r, alpha, a, b = params
    a = _safe_a(a)
    x, T, t = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, T, t)))
    z = t / (alpha + T + t)
    with np.errstate(all="ignore"):
        tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        out = (a + b + x - 1) / (a - 1) * (1 - tail)
        bad = ~np.isfinite(out) | (out < 0)
        if bad.any():
            xb, zb = x[bad], z[bad]
            direct = np.exp((r + xb) * np.log1p(-zb)) * hyp2f1(r + xb, b + xb, a + b + xb - 1, zb)
            out[bad] = (a + b + xb - 1) / (a - 1) * (1 - direct)
            bad = ~np.isfinite(out) | (out < 0)
    if bad.any():
        from scipy.stats import beta as beta_dist

        nodes, weights = np.polynomial.legendre.leggauss(64)
        u, weights = (nodes + 1) / 2, weights / 2
        p = beta_dist.ppf(u[None, :], a, (b + x[bad])[:, None])
        p = np.clip(p, 1e-300, 1.0)
        decay = np.exp((r + x[bad])[:, None] * -np.log1p(p * (t[bad] / (alpha + T[bad]))[:, None]))
        out[bad] = (-np.expm1(np.log(decay)) / p) @ weights
    return out


def _safe_a(a: float) -> float:
    # the expectation formulas divide by a - 1; their limit at a = 1 is continuous
    return a + 1e-7 if abs(a - 1.0) < 1e-7 else a


class _FittedMixin:
    """What BG/NBD and Pareto/NBD share: the horizon check and their tags."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # counts and times are >= 0 (and recency <= T)
        return tags

    def _check_t(self, t) -> np.ndarray:
        t = np.asarray(self.horizon if t is None else t, dtype=np.float64)
        if (t < 0).any() or not np.isfinite(t).all():
            raise ValueError("the horizon t must be finite and >= 0")
        return t


class BetaGeoModel(_FittedMixin, BaseEstimator):
    """BG/NBD (beta-geometric / negative binomial) model of repeat purchases.

    While alive a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); after
    each repeat purchase it drops out with probability p ~ Beta(a, b).

    Parameters
    ----------
    horizon : float
        Default horizon t (in the input time unit) of `predict`.

    Attributes
    ----------
    params_ : dict  r, alpha, a, b (alpha in the input time unit).
    log_likelihood_ : float  total (weighted) log-likelihood at params_.
    n_customers_ : float  total weight of the fitted customers.
    """

    def __init__(self, horizon: float = 365.0):
        self.horizon = horizon

    def fit(self, X, y=None, sample_weight=None):
        """Fit on (frequency, recency, T); `sample_weight` counts each row that many times."""
        x, tx, T = _summary(self, X, reset=True)
        if len(x) == 0:
            raise ValueError("BetaGeoModel needs at least one customer")
        x, tx, T, w = _aggregate(x, tx, T, weight=_weights(sample_weight, len(x), fitting=True))
        scale = _scale(T, w)
        objective = _BGNBDObjective(x, tx / scale, T / scale, w)
        rate = float(np.dot(w, x) / max(np.dot(w, T / scale), 1e-12))
        start = np.log([1.0, 1.0 / max(rate, 1e-3), 1.0, 1.0])
        theta = _fit_log_params(objective, start, jac=True, shapes=(1, 0, 1, 1))
        r, alpha, a, b = np.exp(theta)
        self.params_ = {"r": float(r), "alpha": float(alpha * scale), "a": float(a), "b": float(b)}
        self.log_likelihood_ = float(w @ bgnbd_log_likelihood(self._p(), x, tx, T))
        self.n_customers_ = float(w.sum())
        return self

    def _p(self) -> tuple[float, float, float, float]:
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def expected_transactions(self, t) -> np.ndarray:
        """E[X(t)]: expected repeat purchases in (0, t] of a customer born at time 0."""
        check_is_fitted(self)
        t = self._check_t(t)
        return _bg_expected_if_alive(self._p(), 0.0, 0.0, t)

    def prob_alive(self, X) -> np.ndarray:
        """P(still alive at T | x, t_x, T); 1 for customers without repeat purchases."""
        check_is_fitted(self)
        x, tx, T = _summary(self, X)
        return expit(-_bgnbd_pieces(self._p(), x, tx, T))

    def conditional_expected_transactions(self, X, t=None) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t]."""
        check_is_fitted(self)
        x, tx, T = _summary(self, X)
        t = self._check_t(t)
        front = _bg_expected_if_alive(self._p(), x, T, t)
        return front * expit(-_bgnbd_pieces(self._p(), x, tx, T))

    def prob_no_purchase(self, X, t=None) -> np.ndarray:
        """P(no purchase in (T, T + t] | x, t_x, T)
        = P(alive) ((alpha+T)/(alpha+T+t))^(r+x) + (1 - P(alive))."""
        check_is_fitted(self)
        x, tx, T = _summary(self, X)
        r, alpha, _, _ = self._p()
        t = self._check_t(t)
        alive = expit(-_bgnbd_pieces(self._p(), x, tx, T))
        stay = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        return alive * stay + (1 - alive)

    def predict(self, X, t=None) -> np.ndarray:
        """Conditional expected purchases over the next `t` (default: `horizon`)."""
        return self.conditional_expected_transactions(X, t)

    def score(self, X, y=None, sample_weight=None) -> float:
        """Mean log-likelihood per customer (higher is better)."""
        check_is_fitted(self)
        x, tx, T = _summary(self, X)
        w = _weights(sample_weight, len(x))
        return float(w @ bgnbd_log_likelihood(self._p(), x, tx, T) / w.sum())


# ---------------------------------------------------------------------------------------------
# Pareto/NBD


def pnbd_log_likelihood(params, x, tx, T) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood at params (r, alpha, s, beta)."""
    r, alpha, s, beta = (float(p) for p in params)
    x, tx, T = (np.asarray(v, dtype=np.float64) for v in (x, tx, T))
    rsx = r + s + x
    if alpha >= beta:
        big, small, b_ = alpha, beta, s + 1.0
    else:
        big, small, b_ = beta, alpha, r + x
    cb = rsx + 1.0 - b_  # c - b of 2F1(r+s+x, b; r+s+x+1; z) after Euler's transformation

    def log_term(q):
        z = (big - small) / (big + q)
        return (
            np.log(hyp2f1(1.0, cb, rsx + 1.0, z))
            + (1.0 - b_) * (np.log(small + q) - np.log(big + q))
            - rsx * np.log(big + q)
        )

    l1, l2 = log_term(tx), log_term(T)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a0 = l1 + np.log1p(-np.exp(np.minimum(l2 - l1, 0.0)))
    alive_part = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    return (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + s * np.log(beta)
        + np.logaddexp(alive_part, np.log(s) - np.log(rsx) + log_a0)
    )


class ParetoNBDModel(_FittedMixin, BaseEstimator):
    """Pareto/NBD model: Poisson purchases with rate lambda ~ Gamma(r, alpha) during an
    exponential lifetime with rate mu ~ Gamma(s, beta).

    Attributes: params_ (r, alpha, s, beta; alpha and beta in the input time unit),
    log_likelihood_, n_customers_. The objective uses numerical gradients (Gauss
    hypergeometric terms), so it is meant for up to a few hundred thousand distinct rows.
    """

    def __init__(self, horizon: float = 365.0):
        self.horizon = horizon

    def fit(self, X, y=None, sample_weight=None):
        x, tx, T = _summary(self, X, reset=True)
        if len(x) == 0:
            raise ValueError("ParetoNBDModel needs at least one customer")
        x, tx, T, w = _aggregate(x, tx, T, weight=_weights(sample_weight, len(x), fitting=True))
        scale = _scale(T, w)
        xs, ts, Ts = x, tx / scale, T / scale
        total = float(w.sum())

        def objective(theta):
            ll = pnbd_log_likelihood(np.exp(theta), xs, ts, Ts)
            value = -float(w @ ll) / total
            return value if np.isfinite(value) else 1e100

        rate = float(np.dot(w, x) / max(np.dot(w, Ts), 1e-12))
        start = np.log([1.0, 1.0 / max(rate, 1e-3), 1.0, 1.0])
        theta = _fit_log_params(objective, start, jac=False, shapes=(1, 0, 1, 0))
        r, alpha, s, beta = np.exp(theta)
        self.params_ = {
            "r": float(r), "alpha": float(alpha * scale), "s": float(s), "beta": float(beta * scale)
        }
        self.log_likelihood_ = float(w @ pnbd_log_likelihood(self._p(), x, tx, T))
        self.n_customers_ = total
        return self

    def _p(self):
        p = self.params_
        return p["r"], p["alpha"], p["s"], p["beta"]

    def _log_alive_odds(self, x, tx, T):
        r, alpha, s, beta = self._p()
        # P(alive) = exp(alive part + constant) / L; odds of dead = L / alive - 1
        ll = pnbd_log_likelihood(self._p(), x, tx, T)
        alive = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive = alive - (r + x) * np.log(alpha + T) - s * np.log(beta + T)
        return alive - ll

    def expected_transactions(self, t) -> np.ndarray:
        """E[X(t)] for a customer born at time 0."""
        check_is_fitted(self)
        r, alpha, s, beta = self._p()
        t = self._check_t(t)
        if abs(s - 1.0) < 1e-7:
            return r * beta / alpha * np.log1p(t / beta)
        decay = np.exp((s - 1) * (np.log(beta) - np.log(beta + t)))
        return r * beta / (alpha * (s - 1)) * (1 - decay)

    def prob_alive(self, X) -> np.ndarray:
        """P(alive at T | x, t_x, T)."""
        check_is_fitted(self)
        x, tx, T = _summary(self, X)
        return np.exp(np.minimum(self._log_alive_odds(x, tx, T), 0.0))

    def conditional_expected_transactions(self, X, t=None) -> np.ndarray:
        """E[Y(t) | x, t_x, T]
        = P(alive) (r+x)(beta+T)/((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]."""
        check_is_fitted(self)
        x, tx, T = _summary(self, X)
        r, alpha, s, beta = self._p()
        t = self._check_t(t)
        if abs(s - 1.0) < 1e-7:
            front = (r + x) * (beta + T) / (alpha + T) * np.log1p(t / (beta + T))
        else:
            ratio = np.exp((s - 1) * (np.log(beta + T) - np.log(beta + T + t)))
            front = (r + x) * (beta + T) / ((alpha + T) * (s - 1)) * (1 - ratio)
        return front * np.exp(np.minimum(self._log_alive_odds(x, tx, T), 0.0))

    def prob_no_purchase(self, X, t=None) -> np.ndarray:
        """P(no purchase in (T, T + t] | x, t_x, T) = L(x, t_x, T + t) / L(x, t_x, T): the
        likelihood of the same history with the silence extended by t."""
        check_is_fitted(self)
        x, tx, T = _summary(self, X)
        t = self._check_t(t)
        p = self._p()
        out = np.exp(pnbd_log_likelihood(p, x, tx, T + t) - pnbd_log_likelihood(p, x, tx, T))
        return np.clip(out, 0.0, 1.0)

    def predict(self, X, t=None) -> np.ndarray:
        return self.conditional_expected_transactions(X, t)

    def score(self, X, y=None, sample_weight=None) -> float:
        check_is_fitted(self)
        x, tx, T = _summary(self, X)
        w = _weights(sample_weight, len(x))
        return float(w @ pnbd_log_likelihood(self._p(), x, tx, T) / w.sum())


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma


def gamma_gamma_log_likelihood(params, x, m) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend m of x > 0 orders."""
    p, q, v = (float(k) for k in params)
    x, m = np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64)
    return (
        gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v)
        + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(x * m + v)
    )


class _GGObjective:
    """Mean negative Gamma-Gamma log-likelihood and gradient in log(p, q, v), via per-x sums:
    only log(x m + v) and 1/(x m + v) are evaluated per customer."""

    def __init__(self, x, m, w):
        self.ux, ix = np.unique(x, return_inverse=True)
        self.Wx = np.bincount(ix, weights=w, minlength=len(self.ux))
        self.Slm = np.bincount(ix, weights=w * np.log(m), minlength=len(self.ux))
        self.xm, self.w, self.wx = x * m, w, w * x
        self.total = float(w.sum())

    def __call__(self, theta):
        p, q, v = np.exp(theta)
        ux, Wx = self.ux, self.Wx
        px = p * ux
        L = np.log(self.xm + v)
        inv = 1.0 / (self.xm + v)
        sum_wxL, sum_wL = float(self.wx @ L), float(self.w @ L)
        ll = (
            float(Wx @ (gammaln(px + q) - gammaln(px) - gammaln(q) + px * np.log(ux)))
            + self.total * q * np.log(v)
            + float((px - 1) @ self.Slm)
            - p * sum_wxL
            - q * sum_wL
        )
        psi = digamma(px + q)
        d_p = float(Wx @ (ux * (psi - digamma(px) + np.log(ux)))) + float(ux @ self.Slm) - sum_wxL
        d_q = float(Wx @ (psi - digamma(q))) + self.total * np.log(v) - sum_wL
        d_v = self.total * q / v - p * float(self.wx @ inv) - q * float(self.w @ inv)
        grad = np.array([d_p * p, d_q * q, d_v * v])
        return -ll / self.total, -grad / self.total


class GammaGammaModel(BaseEstimator):
    """Gamma-Gamma model of spend per order: order values ~ Gamma(p, nu), nu ~ Gamma(q, v).

    Fitted on the customers with x > 0 and m > 0 (the others carry no spend information);
    q is kept above `min_q` (> 1) so that the population mean spend p v / (q - 1) exists.

    Attributes: params_ (p, q, v; v in the input currency), log_likelihood_, n_customers_.
    """

    def __init__(self, min_q: float = 1.01):
        self.min_q = min_q

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # order counts and spend
        tags.input_tags.allow_nan = True  # a missing spend reads as the population mean
        return tags

    def fit(self, X, y=None, sample_weight=None):
        x, m = _validated(self, X, (FREQUENCY, MONETARY), reset=True)
        w = _weights(sample_weight, len(x), fitting=True)
        use = np.isfinite(x) & np.isfinite(m) & (x > 0) & (m > 0) & (w > 0)
        if use.sum() < 2:
            raise ValueError(
                "GammaGammaModel needs at least two customers with repeat purchases and spend > 0"
            )
        x, m, w = x[use], m[use], w[use]
        scale = _scale(m, w)
        objective = _GGObjective(x, m / scale, w)
        lower = [-_LOG_BOUND, np.log(self.min_q), -_LOG_BOUND]
        start = np.log([1.0, 2.0, 1.0])
        theta = _fit_log_params(objective, start, jac=True, shapes=(1, 1, 0), lower=lower)
        p, q, v = np.exp(theta)
        self.params_ = {"p": float(p), "q": float(q), "v": float(v * scale)}
        self.log_likelihood_ = float(w @ gamma_gamma_log_likelihood((p, q, v * scale), x, m))
        self.n_customers_ = float(w.sum())
        return self

    def expected_order_value(self, X) -> np.ndarray:
        """E[spend per order | x, m] = p (v + x m) / (p x + q - 1); the population mean
        p v / (q - 1) where x = 0 or m is missing or <= 0."""
        check_is_fitted(self)
        x, m = _validated(self, X, (FREQUENCY, MONETARY), reset=False)
        p, q, v = self.params_["p"], self.params_["q"], self.params_["v"]
        ok = np.isfinite(x) & np.isfinite(m) & (x > 0) & (m > 0)
        x, m = np.where(ok, x, 0.0), np.where(ok, m, 0.0)
        return p * (v + x * m) / (p * x + q - 1)

    def predict(self, X) -> np.ndarray:
        return self.expected_order_value(X)

    def expected_spend(
        self, transactions_model, X, t=None, discount_rate: float = 0.0
    ) -> np.ndarray:
        """Expected spend over (T, T + t]: conditional expected transactions of the fitted
        BG/NBD or Pareto/NBD model x expected spend per order. `discount_rate` > 0 divides by
        (1 + rate)^(t/2), a mid-horizon approximation (rate per unit of t); 0 = undiscounted."""
        check_is_fitted(self)
        orders = transactions_model.conditional_expected_transactions(X, t)
        value = orders * self.expected_order_value(X)
        if discount_rate:
            t = transactions_model.horizon if t is None else t
            value = value / (1.0 + discount_rate) ** (np.asarray(t, dtype=float) / 2.0)
        return value

    def score(self, X, y=None, sample_weight=None) -> float:
        check_is_fitted(self)
        x, m = _validated(self, X, (FREQUENCY, MONETARY), reset=False)
        use = (x > 0) & (m > 0)
        w = _weights(sample_weight, len(x))[use]
        ll = gamma_gamma_log_likelihood(tuple(self.params_.values()), x[use], m[use])
        return float(w @ ll / w.sum())


# ---------------------------------------------------------------------------------------------
# features


PROCESSES = {"bgnbd": BetaGeoModel, "pnbd": ParetoNBDModel}  # BTYDFeatures(process=...)


class BTYDFeatures(TransformerMixin, BaseEstimator):
    """BG/NBD (or, with `process="pnbd"`, Pareto/NBD) + Gamma-Gamma predictions over
    `horizon_days` as features, for ONE cutoff.

    `fit` takes the btyd_* summary columns of the customers at one cutoff (so only data up to
    that cutoff, by construction) and fits both models; `transform` returns a DataFrame (same
    index) with btyd_prob_alive, btyd_expected_orders, btyd_expected_spend and
    btyd_prob_no_purchase.

    `max_fit_customers`: the purchase process's parameters are fitted on a seeded sample of
    that many customers when there are more (Pareto/NBD's likelihood costs seconds per
    thousand customers, and four parameters need no more); every customer is predicted.

    Customers without an order up to the cutoff (null summaries) are outside the models: they
    get P(alive) NaN, 0 expected orders and spend, and P(no purchase) 1. With fewer than
    `min_customers` usable customers the Gamma-Gamma model is not fitted and the spend per
    order is the (weighted) mean observed spend of the repeat buyers.
    """

    def __init__(self, horizon_days: float = 365.0, min_customers: int = 10,
                 process: str = "bgnbd", max_fit_customers: int | None = None,
                 random_state: int = 0):
        self.horizon_days = horizon_days
        self.min_customers = min_customers
        self.process = process
        self.max_fit_customers = max_fit_customers
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # customers without an order have null summaries
        return tags

    def _check_frame(self, X, reset: bool) -> None:
        """X must be a DataFrame with the four summary columns; validate_data on them records
        (fit) or checks n_features_in_ and feature_names_in_ (the values are checked by the
        models; unusable rows are outside them)."""
        if not isinstance(X, pd.DataFrame):
            raise ValueError(
                f"BTYDFeatures needs a DataFrame with {FREQUENCY}, {RECENCY}, {AGE}, {MONETARY}"
            )
        _columns(X, _FEATURE_INPUTS, "BTYDFeatures")
        if reset or hasattr(self, "n_features_in_"):  # not on one stored before it recorded it
            validate_data(self, X[list(_FEATURE_INPUTS)], reset=reset, skip_check_array=True)

    def _usable(self, X) -> np.ndarray:
        x, tx, T = _columns(X, (FREQUENCY, RECENCY, AGE), "BTYDFeatures")
        return np.isfinite(x) & np.isfinite(tx) & np.isfinite(T) & (x >= 0) & (T >= 0) & (tx <= T)

    def fit(self, X, y=None):
        self._check_frame(X, reset=True)
        if self.process not in PROCESSES:
            raise ValueError(f"process must be one of {sorted(PROCESSES)}, got {self.process!r}")
        rows = X.loc[self._usable(X)]
        self.n_customers_ = len(rows)
        self.bgnbd_ = None  # the purchase process (BG/NBD or Pareto/NBD, by `process`)
        if len(rows) >= 1:
            fit_rows = rows
            if self.max_fit_customers is not None and len(rows) > self.max_fit_customers:
                fit_rows = rows.sample(self.max_fit_customers, random_state=self.random_state)
            self.bgnbd_ = PROCESSES[self.process](horizon=self.horizon_days).fit(fit_rows)
        x = rows[FREQUENCY].to_numpy(float)
        m = rows[MONETARY].to_numpy(float, na_value=np.nan)
        repeat = (x > 0) & np.isfinite(m) & (m > 0)
        self.gamma_gamma_ = None
        self.mean_order_value_ = float(m[repeat].mean()) if repeat.any() else 0.0
        if repeat.sum() >= max(self.min_customers, 2):
            self.gamma_gamma_ = GammaGammaModel().fit(rows)
        return self

    def transform(self, X) -> pd.DataFrame:
        check_is_fitted(self, "n_customers_")
        self._check_frame(X, reset=False)
        ok = self._usable(X)
        n = len(X)
        out = {
            PROB_ALIVE: np.full(n, np.nan),
            EXPECTED_ORDERS: np.zeros(n),
            EXPECTED_SPEND: np.zeros(n),
            PROB_NO_PURCHASE: np.ones(n),
        }
        if ok.any() and self.bgnbd_ is not None:
            rows = X.loc[ok]
            bg = self.bgnbd_
            orders = bg.conditional_expected_transactions(rows, self.horizon_days)
            if self.gamma_gamma_ is not None:
                per_order = self.gamma_gamma_.expected_order_value(rows)
            else:
                per_order = np.full(len(rows), self.mean_order_value_)
            out[PROB_ALIVE][ok] = bg.prob_alive(rows)
            out[EXPECTED_ORDERS][ok] = orders
            out[EXPECTED_SPEND][ok] = orders * per_order
            out[PROB_NO_PURCHASE][ok] = bg.prob_no_purchase(rows, self.horizon_days)
        return pd.DataFrame(out, index=X.index)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array(OUTPUT_COLUMNS, dtype=object)


PNBD_FIT_CUSTOMERS = 5_000  # Pareto/NBD's parameters are fitted on at most this many


def add_btyd_features(
    frame: pd.DataFrame, horizon_days: float, cutoff_col: str = CUTOFF, process: str = "bgnbd"
) -> pd.DataFrame:
    """A new frame: `frame` with the BTYDFeatures columns (of `process`; Pareto/NBD fitted on
    at most PNBD_FIT_CUSTOMERS customers per cutoff), the models fitted separately on the rows
    of each cutoff (each cutoff's summaries only use data up to it). Never mutates."""
    if cutoff_col not in frame.columns:
        raise ValueError(
            f"add_btyd_features needs the column {cutoff_col!r} to fit one model per cutoff"
        )
    values = {name: np.full(len(frame), np.nan) for name in OUTPUT_COLUMNS}
    positions = frame.groupby(cutoff_col, sort=True, observed=True, dropna=False).indices
    for _, pos in positions.items():
        part = frame.iloc[pos]
        step = BTYDFeatures(horizon_days=horizon_days, process=process,
                            max_fit_customers=PNBD_FIT_CUSTOMERS if process == "pnbd" else None)
        features = step.fit(part).transform(part)
        for name in OUTPUT_COLUMNS:
            values[name][pos] = features[name].to_numpy()
    return frame.assign(**values)

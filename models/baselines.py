"""Baselines the models must beat: what a user would otherwise pick.

Each baseline is a rule, and each rule is one scikit-learn estimator per target: a
regressor of the spend over the horizon (`*Value`, `predict` -> array) and, where the rule
has a churn view, a binary classifier of churned (`*Churn`, `predict_proba(X)[:, 1]` =
P(no order over the horizon)). `fit(X, y)` takes the labels in y, never from X; `X` is a
features frame, a DataFrame, because the rules read their inputs by name (the columns of
`inputs(columns)`, a spend window chosen by its name) and ignore the others; the frames of
several cutoffs hold a `cutoff` or `as_of` column, by which the rules that rank or fit per
date (rfm, btyd) split them.

- last_period: spend over the last H days (the longest feature window <= H, scaled to H);
  churn = churn rate of the training rows with the same number of orders in that window.
- rfm: recency, frequency and monetary quintile scores (1-5, per cutoff); value and churn
  are the mean future spend and churn rate of the training rows in the same R-F-M cell.
- avg_spend_retention: average spend per day over the customer's tenure x H x the
  training-set retention rate (1 - churn rate), so its value model is fitted on the churn
  labels too (`fit(X, y, churned=...)`); no churn view (one rate for everyone).
- btyd: BG/NBD + Gamma-Gamma (models.btyd), fitted per cutoff at prediction time on the
  customers' own summaries (frequency, recency, T, monetary; no labels): expected spend over
  H, and P(no purchase over H) as churn.
- pnbd: the same with Pareto/NBD for the purchase process (death at any time rather than
  only just after a purchase), often the better BTYD model on consumer bases.

`LABEL_FREE` lists the (rule, target) views that learn nothing from the labels (last_period's
value, btyd, pnbd): with a history shorter than the horizon there are no labels at the
horizon, and these are what can still publish (models.training, `fit_label_free`); the
BTYD models (`BTYD_MODELS`) are candidates there whether configured or not. pnbd is not a
configurable baseline of a labelled history: it fits on the rows it predicts (a per-date
step like btyd's BTYDTransformer does not exist for it), which the registered models, whose
scores depend on a row alone, cannot do. Their
fitted rules read nothing but the frame they predict; `last_period`'s `window_days` (default:
the horizon) sets which spend window it reads, so that a backtest at a shorter horizon
judges the rule a longer horizon would publish (the window of that horizon, scaled to the
backtest's).

`make_baseline(name, horizon_days, kind)` builds one, `fit_baseline` builds and fits it on
the labels its rule learns from (what the backtest and the final fit call).

The BTYD predictions are also features of the LightGBM models. `add_btyd` fits them per cutoff
(the training rows and the backtest: each cutoff's population at that cutoff);
`BTYDTransformer` is the same step fitted once and then applied with its stored parameters,
which is what the final models carry (models.training.FittedModels, the registered serving
models): a row's BTYD columns then depend on that row alone, not on the batch it comes in.
"""

import re

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from features.contract import AS_OF, CUTOFF
from features.names import (
    BTYD_SUMMARY,
    TXN_DAYS_SINCE_LAST_ORDER,
    TXN_ORDERS,
    TXN_SPEND_TOTAL,
    TXN_TENURE_DAYS,
    txn_orders_in,
    txn_spend_in,
)
from models.columns import BTYD_EXPECTED_SPEND, BTYD_OUTPUTS, BTYD_PROB_NO_PURCHASE

__all__ = [
    "BASELINES",
    "BTYD_MODELS",
    "AvgSpendRetentionValue",
    "BTYDChurn",
    "BTYDTransformer",
    "BTYDValue",
    "BTYD_EXPECTED_SPEND",
    "BTYD_OUTPUTS",
    "BTYD_PROB_NO_PURCHASE",
    "LABEL_FREE",
    "LastPeriodChurn",
    "LastPeriodValue",
    "RFMChurn",
    "PNBDChurn",
    "PNBDValue",
    "RFMValue",
    "add_btyd",
    "btyd_predictions",
    "fit_baseline",
    "fit_label_free",
    "last_horizon",
    "make_baseline",
    "pnbd_predictions",
    "spend_window",
]

_SPEND_WINDOW = re.compile("^" + txn_spend_in(r"(\d+)") + "$")  # txn_spend_{w}d


def _require(frame: pd.DataFrame, columns, who: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{who} needs the feature column(s) {missing}; switch on the transactions family"
        )


def spend_window(columns, horizon_days: int) -> int:
    """The longest txn_spend_{w}d window <= horizon_days (else the shortest one available)."""
    windows = sorted(int(m.group(1)) for c in columns if (m := _SPEND_WINDOW.match(str(c))))
    if not windows:
        raise ValueError(f"no {txn_spend_in('{w}')} column: switch on the transactions family")
    fitting = [w for w in windows if w <= horizon_days]
    return fitting[-1] if fitting else windows[0]


def last_horizon(frame: pd.DataFrame, horizon_days: int, max_orders: int = 5,
                 window_days: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(spend over the last horizon, orders in it capped at max_orders) per row: the
    status quo's ranking (models.backtest) and the last_period rule's inputs. The spend
    window is `spend_window`'s for `window_days` (default: the horizon), its spend scaled
    to `horizon_days`."""
    w = spend_window(frame.columns, window_days or horizon_days)
    spend = frame[txn_spend_in(w)].fillna(0.0).to_numpy(float) * horizon_days / w
    orders_col = txn_orders_in(w)
    orders = frame[orders_col].fillna(0.0).to_numpy(float) if orders_col in frame else (spend > 0)
    return spend, np.minimum(np.asarray(orders, dtype=float), max_orders).astype(int)


def _time_column(frame: pd.DataFrame) -> str | None:
    return CUTOFF if CUTOFF in frame.columns else AS_OF if AS_OF in frame.columns else None


def _groups(frame: pd.DataFrame):
    """The subframe of each cutoff, or the whole frame once."""
    column = _time_column(frame)
    if column is None:
        yield frame
    else:
        for _, part in frame.groupby(column, sort=True, observed=True):
            yield part


def add_btyd(frame: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """`frame` with the BG/NBD + Gamma-Gamma predictions added, the models fitted per cutoff
    (or per as-of) on the customers' summaries only (no labels, no data after the cutoff).
    A frame that already has them is returned as is."""
    if BTYD_EXPECTED_SPEND in frame.columns:
        return frame
    _require(frame, BTYD_SUMMARY, "the BTYD models")
    from models.btyd import add_btyd_features

    column = _time_column(frame)
    if column is None:
        raise ValueError(f"the BTYD models need a {CUTOFF!r} or {AS_OF!r} column to fit per date")
    return add_btyd_features(frame, horizon_days, cutoff_col=column)


def _check_btyd_frame(estimator, frame) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{type(estimator).__name__} needs a DataFrame with the columns "
                         f"{list(BTYD_SUMMARY)}, got {type(frame).__name__}")
    _require(frame, BTYD_SUMMARY, "the BTYD models")


class BTYDTransformer(TransformerMixin, BaseEstimator):
    """The BTYD feature step, fitted once: BG/NBD + Gamma-Gamma on the summaries of the
    customers of ONE date, then applied to any rows with those parameters (no refit).

    `fit(frame)` takes a features frame at one cutoff or as-of (the btyd_* summary columns;
    no labels) and fits models.btyd.BTYDFeatures; `transform(frame)` returns a new frame with
    the BTYD_OUTPUTS columns (re)computed from each row's own summaries and the stored
    parameters, so a customer gets the same values alone or inside any batch.

    Parameters
    ----------
    horizon_days : the horizon of the expected orders / spend and of P(no purchase).

    Attributes
    ----------
    params_ : {"bgnbd": {r, alpha, a, b} or None, "gamma_gamma": {p, q, v} or None,
              "mean_order_value": float, "n_customers": int, "fitted_on": date or None}
        None for a model that was not fitted (no usable customer; fewer than 10 repeat
        buyers for Gamma-Gamma, whose spend per order is then `mean_order_value`).
    features_ : the fitted models.btyd.BTYDFeatures.
    """

    def __init__(self, horizon_days: int = 365):
        self.horizon_days = horizon_days

    def fit(self, frame: pd.DataFrame, y=None):
        """Fit on the customers of `frame`, which must hold a single date (if it has a
        cutoff or as-of column): the population the parameters describe."""
        _check_btyd_frame(self, frame)
        validate_data(self, frame[list(BTYD_SUMMARY)], skip_check_array=True)
        from models.btyd import BTYDFeatures

        column = _time_column(frame)
        dates = pd.Series(frame[column].unique()).dropna() if column else pd.Series([])
        if len(dates) > 1:
            raise ValueError(
                f"BTYDTransformer fits on the customers of one date; the frame has {len(dates)} "
                f"values of {column!r}: pass the rows of one cutoff"
            )
        self.features_ = BTYDFeatures(horizon_days=self.horizon_days).fit(frame)
        bg, gg = self.features_.bgnbd_, self.features_.gamma_gamma_
        self.params_ = {
            "bgnbd": dict(bg.params_) if bg is not None else None,
            "gamma_gamma": dict(gg.params_) if gg is not None else None,
            "mean_order_value": float(self.features_.mean_order_value_),
            "n_customers": int(self.features_.n_customers_),
            "fitted_on": f"{pd.Timestamp(dates.iloc[0]):%Y-%m-%d}" if len(dates) else None,
        }
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A new frame: `frame` with the BTYD_OUTPUTS columns from the stored parameters
        (replacing any it already has). Never mutates `frame`."""
        check_is_fitted(self, "params_")
        _check_btyd_frame(self, frame)
        out = self.features_.transform(frame)
        return frame.assign(**{c: out[c].to_numpy() for c in BTYD_OUTPUTS})

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array(BTYD_OUTPUTS, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # customers without an order have null summaries
        return tags


def btyd_predictions(frame: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """Expected spend and P(no purchase) over the horizon from BG/NBD + Gamma-Gamma."""
    out = add_btyd(frame, horizon_days)
    return pd.DataFrame(
        {
            "expected_spend": out[BTYD_EXPECTED_SPEND].to_numpy(float),
            "prob_no_purchase": out[BTYD_PROB_NO_PURCHASE].to_numpy(float),
        },
        index=frame.index,
    )


# ---------------------------------------------------------------------------------------------
# the estimators


def _labels(y, n_rows: int, who: str, binary: bool) -> np.ndarray:
    """y as a finite float array of one value per row (0/1 when `binary`)."""
    if y is None:
        raise ValueError(f"{who} requires y to be passed, but the target y is None")
    y = column_or_1d(np.asarray(y, dtype=np.float64), warn=True)
    if len(y) != n_rows:
        raise ValueError(f"{who}: X has {n_rows} rows but y has {len(y)}")
    if not np.isfinite(y).all():
        raise ValueError(f"{who}: y holds NaN or infinite values: labels must be fully observed")
    if binary and not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"{who}: y must be 0/1 (or bool): 1 = no order over the horizon")
    return y


class _Baseline(BaseEstimator):
    """What every baseline shares: a features DataFrame read by name, labels in y."""

    def inputs(self, columns) -> list[str]:
        """The feature columns the rule reads (what its reasons can name)."""
        return []

    def _frame(self, X, reset: bool) -> pd.DataFrame:
        """X, which must be a DataFrame. At fit (`reset`) n_features_in_ and
        feature_names_in_ are recorded; at predict the frame may hold other columns than at
        fit (the rule reads its inputs by name), so they are not compared."""
        if not isinstance(X, pd.DataFrame):
            raise ValueError(
                f"{type(self).__name__} reads its inputs by name: pass a DataFrame of the "
                f"feature columns, got {type(X).__name__}"
            )
        if reset:
            validate_data(self, X, skip_check_array=True)
        return X

    def _fit_frame(self, X, y, binary: bool) -> tuple[pd.DataFrame, np.ndarray]:
        if y is None:  # before X: the labels are what a baseline is fitted on
            _labels(y, 0, type(self).__name__, binary)
        X = self._frame(X, reset=True)
        y = _labels(y, len(X), type(self).__name__, binary)
        if binary:
            self.classes_ = np.array([0, 1])
        return X, y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing features read as 0 (or as never bought)
        if tags.regressor_tags is not None:
            tags.regressor_tags.poor_score = True  # a rule of thumb, not a fit to y
        if tags.classifier_tags is not None:
            tags.classifier_tags.poor_score = True
            tags.classifier_tags.multi_class = False  # churned or not
        return tags


class _Churn(ClassifierMixin, _Baseline):
    """A rule's churn view: predict_proba from `_churn_score`, predict = P(churn) >= 0.5."""

    def _churn_score(self, X: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError

    def predict_proba(self, X) -> np.ndarray:
        """(P(order), P(no order)) over the horizon, shape (n, 2)."""
        check_is_fitted(self)
        p = np.asarray(self._churn_score(self._frame(X, reset=False)), dtype=float)
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """1 where P(churn) >= 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


class _LastPeriod(_Baseline):
    def __init__(self, horizon_days: int = 365, max_orders: int = 5,
                 window_days: int | None = None):
        self.horizon_days = horizon_days
        self.max_orders = max_orders
        self.window_days = window_days

    def inputs(self, columns) -> list[str]:
        w = spend_window(columns, self.window_days or self.horizon_days)
        return [c for c in (txn_spend_in(w), txn_orders_in(w)) if c in columns]

    def _last(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        return last_horizon(X, self.horizon_days, self.max_orders, self.window_days)


class LastPeriodValue(RegressorMixin, _LastPeriod):
    """Next horizon's spend = last horizon's spend (`last_horizon`), at least 0 (a net
    return is no negative future spend); nothing is learnt from y, which fit only checks."""

    def fit(self, X, y):
        X, _ = self._fit_frame(X, y, binary=False)
        spend_window(X.columns, self.horizon_days)  # fail at fit without a spend window
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        return np.clip(self._last(self._frame(X, reset=False))[0], 0.0, None)


class LastPeriodChurn(_Churn, _LastPeriod):
    """P(churn) = the churn rate of the training rows with the same number of orders in the
    last horizon (capped at max_orders; the overall rate for a count not seen in training).

    Attributes: overall_ (the training churn rate), rates_ (per order count 0..max_orders)."""

    def fit(self, X, y):
        X, churned = self._fit_frame(X, y, binary=True)
        _, cells = self._last(X)
        self.overall_ = float(churned.mean())
        rates = pd.Series(churned).groupby(cells).mean()
        self.rates_ = rates.reindex(range(self.max_orders + 1)).fillna(self.overall_)
        return self

    def _churn_score(self, X: pd.DataFrame) -> np.ndarray:
        return self.rates_.to_numpy()[self._last(X)[1]]


class _RFM(_Baseline):
    def __init__(self, bins: int = 5, min_cell_rows: int = 20):
        self.bins = bins
        self.min_cell_rows = min_cell_rows

    def inputs(self, columns) -> list[str]:
        return [TXN_DAYS_SINCE_LAST_ORDER, TXN_ORDERS, TXN_SPEND_TOTAL]

    def scores(self, frame: pd.DataFrame) -> pd.DataFrame:
        """R, F, M scores 1..bins per cutoff (higher = better: recent, frequent, big)."""
        _require(frame, self.inputs(frame.columns), "the RFM baseline")
        parts = []
        for part in _groups(frame):

            def score(values: pd.Series) -> pd.Series:
                pct = values.rank(pct=True, method="average")
                return np.ceil(pct * self.bins).clip(1, self.bins).fillna(1).astype(int)

            parts.append(
                pd.DataFrame(
                    {
                        "R": score(-part[TXN_DAYS_SINCE_LAST_ORDER].fillna(np.inf)
                                   .replace(np.inf, 1e9)),
                        "F": score(part[TXN_ORDERS].fillna(0)),
                        "M": score(part[TXN_SPEND_TOTAL].fillna(0)),
                    },
                    index=part.index,
                )
            )
        return pd.concat(parts).loc[frame.index]

    def _cells(self, frame: pd.DataFrame) -> np.ndarray:
        s = self.scores(frame)
        return ((s["R"] * 10 + s["F"]) * 10 + s["M"]).to_numpy()

    def _fit_cells(self, X: pd.DataFrame, y: np.ndarray) -> None:
        """overall_ (the mean of y) and table_ (its mean per R-F-M cell of at least
        min_cell_rows training rows)."""
        grouped = pd.Series(y).groupby(self._cells(X))
        stats = pd.DataFrame({"mean": grouped.mean(), "n": grouped.size()})
        self.overall_ = float(np.mean(y))
        self.table_ = stats.loc[stats["n"] >= self.min_cell_rows, "mean"]

    def _cell_means(self, X: pd.DataFrame) -> np.ndarray:
        return self.table_.reindex(self._cells(X)).fillna(self.overall_).to_numpy(float)


class RFMValue(RegressorMixin, _RFM):
    """Spend = the mean future spend of the training rows in the same R-F-M cell (the
    overall mean for a cell of fewer than min_cell_rows rows).

    Attributes: overall_, table_ (mean spend per cell)."""

    def fit(self, X, y):
        X, spend = self._fit_frame(X, y, binary=False)
        self._fit_cells(X, spend)
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self._cell_means(self._frame(X, reset=False))


class RFMChurn(_Churn, _RFM):
    """P(churn) = the churn rate of the training rows in the same R-F-M cell (the overall
    rate for a cell of fewer than min_cell_rows rows).

    Attributes: overall_, table_ (churn rate per cell)."""

    def fit(self, X, y):
        X, churned = self._fit_frame(X, y, binary=True)
        self._fit_cells(X, churned)
        return self

    def _churn_score(self, X: pd.DataFrame) -> np.ndarray:
        return self._cell_means(X)


class AvgSpendRetentionValue(RegressorMixin, _Baseline):
    """Average spend per day so far x horizon x retention rate (classic simple CLV).

    `fit(X, y, churned)`: y (the spend) is only checked; the one thing learnt is the
    retention rate 1 - mean(churned), from the churn labels, which are therefore required.

    Attributes: retention_."""

    def __init__(self, horizon_days: int = 365, min_tenure_days: int = 30):
        self.horizon_days = horizon_days
        self.min_tenure_days = min_tenure_days

    def inputs(self, columns) -> list[str]:
        return [TXN_SPEND_TOTAL, TXN_TENURE_DAYS]

    def fit(self, X, y, churned=None):
        X, _ = self._fit_frame(X, y, binary=False)
        if churned is None:
            raise ValueError(
                "AvgSpendRetentionValue learns the retention rate from the churn labels: "
                "pass fit(X, y, churned=...)"
            )
        churned = _labels(churned, len(X), "AvgSpendRetentionValue (churned)", binary=True)
        self.retention_ = float(1.0 - churned.mean())
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = self._frame(X, reset=False)
        _require(X, self.inputs(X.columns), "the average-spend baseline")
        tenure = X[TXN_TENURE_DAYS].fillna(0).clip(lower=self.min_tenure_days).to_numpy(float)
        per_day = X[TXN_SPEND_TOTAL].fillna(0).clip(lower=0).to_numpy(float) / tenure
        return per_day * self.horizon_days * self.retention_


def pnbd_predictions(frame: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """Expected spend and P(no purchase) over the horizon from Pareto/NBD + Gamma-Gamma,
    fitted per cutoff (or per as-of) on the customers' summaries, like `btyd_predictions`."""
    _require(frame, BTYD_SUMMARY, "the BTYD models")
    from models.btyd import add_btyd_features

    column = _time_column(frame)
    if column is None:
        raise ValueError(f"the BTYD models need a {CUTOFF!r} or {AS_OF!r} column to fit per date")
    out = add_btyd_features(frame[[column, *BTYD_SUMMARY]], horizon_days, cutoff_col=column,
                            process="pnbd")
    return pd.DataFrame(
        {
            "expected_spend": out[BTYD_EXPECTED_SPEND].to_numpy(float),
            "prob_no_purchase": out[BTYD_PROB_NO_PURCHASE].to_numpy(float),
        },
        index=frame.index,
    )


class _BTYD(_Baseline):
    """BG/NBD + Gamma-Gamma fitted per cutoff at prediction time on the frame's own BTYD
    summaries (data up to each cutoff only); `fit` learns nothing from the labels."""

    _predictions = staticmethod(btyd_predictions)

    def __init__(self, horizon_days: int = 365):
        self.horizon_days = horizon_days

    def inputs(self, columns) -> list[str]:
        return [c for c in BTYD_SUMMARY if c in columns]


class BTYDValue(RegressorMixin, _BTYD):
    """Spend = BG/NBD expected orders x Gamma-Gamma spend per order over the horizon."""

    def fit(self, X, y):
        self._fit_frame(X, y, binary=False)
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = self._frame(X, reset=False)
        return self._predictions(X, self.horizon_days)["expected_spend"].to_numpy(float)


class BTYDChurn(_Churn, _BTYD):
    """P(churn) = BG/NBD's P(no purchase over the horizon)."""

    def fit(self, X, y):
        self._fit_frame(X, y, binary=True)
        return self

    def _churn_score(self, X: pd.DataFrame) -> np.ndarray:
        return self._predictions(X, self.horizon_days)["prob_no_purchase"].to_numpy(float)


class PNBDValue(BTYDValue):
    """Spend = Pareto/NBD expected orders x Gamma-Gamma spend per order over the horizon."""

    _predictions = staticmethod(pnbd_predictions)


class PNBDChurn(BTYDChurn):
    """P(churn) = Pareto/NBD's P(no purchase over the horizon)."""

    _predictions = staticmethod(pnbd_predictions)


# rule name -> (value regressor, churn classifier or None)
BASELINES = {
    "last_period": (LastPeriodValue, LastPeriodChurn),
    "rfm": (RFMValue, RFMChurn),
    "avg_spend_retention": (AvgSpendRetentionValue, None),
    "btyd": (BTYDValue, BTYDChurn),
    "pnbd": (PNBDValue, PNBDChurn),
}
_KINDS = ("value", "churn")
BTYD_MODELS = ("btyd", "pnbd")  # the label-free candidates of a short history, always
# the (rule, target) views that learn nothing from the labels (see the module docstring)
LABEL_FREE = frozenset({("last_period", "value"), ("btyd", "value"), ("btyd", "churn"),
                        ("pnbd", "value"), ("pnbd", "churn")})


def make_baseline(name: str, horizon_days: int, kind: str = "value",
                  window_days: int | None = None) -> _Baseline | None:
    """A fresh baseline by its configured name, for target `kind` ("value" or "churn");
    None when the rule has no churn view (avg_spend_retention). `window_days`: the spend
    window last_period reads (default: the horizon's)."""
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    cls = BASELINES[name][_KINDS.index(kind)]
    if cls is None:
        return None
    params = cls().get_params()
    kwargs = {"horizon_days": horizon_days} if "horizon_days" in params else {}
    if window_days is not None and "window_days" in params:
        kwargs["window_days"] = window_days
    return cls(**kwargs)


def fit_label_free(name: str, kind: str, horizon_days: int, X: pd.DataFrame) -> _Baseline:
    """The `LABEL_FREE` view (`name`, `kind`) ready to predict, with no labels: these rules'
    `fit` only checks its frame and that y has one value per row (they learn nothing from it),
    so they are fitted on X with a placeholder y of zeros. Raises ValueError for a rule that
    learns from the labels."""
    if (name, kind) not in LABEL_FREE:
        raise ValueError(f"the {kind} view of {name!r} learns from the labels: it needs a "
                         "labelled training set")
    return make_baseline(name, horizon_days, kind).fit(X, np.zeros(len(X), dtype=int))


def fit_baseline(name: str, kind: str, horizon_days: int, X: pd.DataFrame, spend,
                 churned, window_days: int | None = None) -> _Baseline | None:
    """`make_baseline(name, horizon_days, kind, window_days)` fitted on X with the labels its
    rule learns from: the spend (value) or churned (churn) labels as y, and for
    avg_spend_retention's value the churn labels too. None when the rule has no view of
    `kind`."""
    model = make_baseline(name, horizon_days, kind, window_days)
    if model is None:
        return None
    if kind == "churn":
        return model.fit(X, churned)
    if isinstance(model, AvgSpendRetentionValue):
        return model.fit(X, spend, churned=churned)
    return model.fit(X, spend)

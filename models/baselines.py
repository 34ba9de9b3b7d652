"""Baselines the models must beat: what a user would otherwise pick.

Every baseline is fitted on a training frame (features + labels over many cutoffs) and
predicts, for a features frame, a value (spend over the horizon) and, where sensible, a
churn score. `predict` returns a DataFrame with columns "value" and "churn" (NaN when the
baseline has no churn view) on the frame's index; `churn_is_probability` says whether
the churn score is a probability (Brier and calibration error need one).

- last_period: spend over the last H days (the longest feature window <= H, scaled to H);
  churn = churn rate of the training rows with the same number of orders in that window.
- rfm: recency, frequency and monetary quintile scores (1-5, per cutoff); value and churn
  are the mean future spend and churn rate of the training rows in the same R-F-M cell.
- avg_spend_retention: average spend per day over the customer's tenure x H x the
  training-set retention rate (1 - churn rate); no churn view (one rate for everyone).
- btyd: BG/NBD + Gamma-Gamma (models.btyd), fitted per cutoff on the customers' own
  summaries (frequency, recency, T, monetary; no labels): expected spend over H, and
  P(no purchase over H) as churn.

The BTYD predictions are also features of the LightGBM models. `add_btyd` fits them per cutoff
(the training rows and the backtest: each cutoff's population at that cutoff);
`BTYDTransformer` is the same step fitted once and then applied with its stored parameters,
which is what the final models carry (models.training.FittedModels, the registered serving
models): a row's BTYD columns then depend on that row alone, not on the batch it comes in.

Frames with several cutoffs (a `cutoff` or `as_of` column) are scored cutoff by cutoff
where a baseline ranks within a cutoff (rfm quintiles) or fits per cutoff (btyd).
"""

import re

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from features.contract import AS_OF, CUTOFF, LABEL_CHURNED, LABEL_SPEND

__all__ = [
    "BASELINES",
    "AvgSpendRetentionBaseline",
    "BTYDBaseline",
    "BTYDTransformer",
    "BTYD_OUTPUTS",
    "LastPeriodBaseline",
    "RFMBaseline",
    "add_btyd",
    "btyd_predictions",
    "make_baseline",
    "spend_window",
]

RECENCY = "txn_days_since_last_order"
ORDERS = "txn_orders"
SPEND_TOTAL = "txn_spend_total"
TENURE = "txn_tenure_days"
_WINDOW = re.compile(r"^txn_(spend|orders)_(\d+)d$")


def _require(frame: pd.DataFrame, columns, who: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{who} needs the feature column(s) {missing}; switch on the transactions family"
        )


def spend_window(columns, horizon_days: int) -> int:
    """The longest txn_spend_{w}d window <= horizon_days (else the shortest one available)."""
    windows = sorted(
        int(m.group(2)) for c in columns if (m := _WINDOW.match(str(c))) and m.group(1) == "spend"
    )
    if not windows:
        raise ValueError("no txn_spend_{w}d column: switch on the transactions family")
    fitting = [w for w in windows if w <= horizon_days]
    return fitting[-1] if fitting else windows[0]


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


BTYD_SUMMARY = ("btyd_frequency", "btyd_recency", "btyd_T", "btyd_monetary")
# columns models.btyd.add_btyd_features adds (expected spend over H, P(no purchase over H))
BTYD_EXPECTED_SPEND = "btyd_expected_spend"
BTYD_PROB_NO_PURCHASE = "btyd_prob_no_purchase"
# every column the BTYD step adds (models.btyd.OUTPUT_COLUMNS)
BTYD_OUTPUTS = ("btyd_prob_alive", "btyd_expected_orders", BTYD_EXPECTED_SPEND,
                BTYD_PROB_NO_PURCHASE)


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
        _require(frame, BTYD_SUMMARY, "the BTYD models")
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
        _require(frame, BTYD_SUMMARY, "the BTYD models")
        out = self.features_.transform(frame)
        return frame.assign(**{c: out[c].to_numpy() for c in BTYD_OUTPUTS})

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array(BTYD_OUTPUTS, dtype=object)


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


class _Baseline(BaseEstimator):
    churn_is_probability = True

    def inputs(self, columns) -> list[str]:
        """The feature columns the rule reads (what its reasons can name)."""
        return []

    def _output(self, frame, value, churn) -> pd.DataFrame:
        return pd.DataFrame(
            {"value": np.asarray(value, dtype=float), "churn": np.asarray(churn, dtype=float)},
            index=frame.index,
        )


class LastPeriodBaseline(_Baseline):
    """Next horizon's spend = last horizon's spend; churn by orders in the last horizon."""

    def __init__(self, horizon_days: int = 365, max_orders: int = 5):
        self.horizon_days = horizon_days
        self.max_orders = max_orders

    def last_horizon(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(spend over the last horizon, orders in it capped at max_orders) per row: the
        status quo's ranking (models.backtest) and this baseline's inputs."""
        w = spend_window(frame.columns, self.horizon_days)
        spend = frame[f"txn_spend_{w}d"].fillna(0.0).to_numpy(float) * self.horizon_days / w
        orders_col = f"txn_orders_{w}d"
        orders = (
            frame[orders_col].fillna(0.0).to_numpy(float) if orders_col in frame else (spend > 0)
        )
        return spend, np.minimum(np.asarray(orders, dtype=float), self.max_orders).astype(int)

    def inputs(self, columns) -> list[str]:
        w = spend_window(columns, self.horizon_days)
        return [c for c in (f"txn_spend_{w}d", f"txn_orders_{w}d") if c in columns]

    def fit(self, frame: pd.DataFrame, y=None):
        _, cells = self.last_horizon(frame)
        churned = frame[LABEL_CHURNED].to_numpy(float)
        self.overall_ = float(churned.mean())
        rates = pd.Series(churned).groupby(cells).mean()
        self.rates_ = rates.reindex(range(self.max_orders + 1)).fillna(self.overall_)
        return self

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self)
        spend, cells = self.last_horizon(frame)
        return self._output(frame, spend, self.rates_.to_numpy()[cells])


class RFMBaseline(_Baseline):
    """Recency, frequency, monetary quintile cells; cell means of the training labels."""

    def __init__(self, bins: int = 5, min_cell_rows: int = 20):
        self.bins = bins
        self.min_cell_rows = min_cell_rows

    def inputs(self, columns) -> list[str]:
        return [RECENCY, ORDERS, SPEND_TOTAL]

    def scores(self, frame: pd.DataFrame) -> pd.DataFrame:
        """R, F, M scores 1..bins per cutoff (higher = better: recent, frequent, big)."""
        _require(frame, [RECENCY, ORDERS, SPEND_TOTAL], "the RFM baseline")
        parts = []
        for part in _groups(frame):

            def score(values: pd.Series) -> pd.Series:
                pct = values.rank(pct=True, method="average")
                return np.ceil(pct * self.bins).clip(1, self.bins).fillna(1).astype(int)

            parts.append(
                pd.DataFrame(
                    {
                        "R": score(-part[RECENCY].fillna(np.inf).replace(np.inf, 1e9)),
                        "F": score(part[ORDERS].fillna(0)),
                        "M": score(part[SPEND_TOTAL].fillna(0)),
                    },
                    index=part.index,
                )
            )
        return pd.concat(parts).loc[frame.index]

    def _cells(self, frame: pd.DataFrame) -> np.ndarray:
        s = self.scores(frame)
        return ((s["R"] * 10 + s["F"]) * 10 + s["M"]).to_numpy()

    def fit(self, frame: pd.DataFrame, y=None):
        cells = self._cells(frame)
        labels = pd.DataFrame(
            {
                "value": frame[LABEL_SPEND].to_numpy(float),
                "churn": frame[LABEL_CHURNED].to_numpy(float),
            }
        )
        grouped = labels.groupby(cells)
        stats = grouped.mean()
        stats["n"] = grouped.size()
        self.overall_ = labels.mean()
        self.table_ = stats[stats["n"] >= self.min_cell_rows][["value", "churn"]]
        return self

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self)
        table = self.table_.reindex(self._cells(frame))
        return self._output(
            frame,
            table["value"].fillna(self.overall_["value"]),
            table["churn"].fillna(self.overall_["churn"]),
        )


class AvgSpendRetentionBaseline(_Baseline):
    """Average spend per day so far x horizon x retention rate (classic simple CLV)."""

    churn_is_probability = False

    def __init__(self, horizon_days: int = 365, min_tenure_days: int = 30):
        self.horizon_days = horizon_days
        self.min_tenure_days = min_tenure_days

    def inputs(self, columns) -> list[str]:
        return [SPEND_TOTAL, TENURE]

    def fit(self, frame: pd.DataFrame, y=None):
        self.retention_ = float(1.0 - frame[LABEL_CHURNED].astype(float).mean())
        return self

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self)
        _require(frame, [SPEND_TOTAL, TENURE], "the average-spend baseline")
        tenure = frame[TENURE].fillna(0).clip(lower=self.min_tenure_days).to_numpy(float)
        per_day = frame[SPEND_TOTAL].fillna(0).clip(lower=0).to_numpy(float) / tenure
        return self._output(frame, per_day * self.horizon_days * self.retention_, np.nan)


class BTYDBaseline(_Baseline):
    """BG/NBD + Gamma-Gamma fitted per cutoff on the frame's own BTYD summaries."""

    def __init__(self, horizon_days: int = 365):
        self.horizon_days = horizon_days

    def inputs(self, columns) -> list[str]:
        return [c for c in BTYD_SUMMARY if c in columns]

    def fit(self, frame: pd.DataFrame, y=None):
        # unsupervised: the BTYD models are fitted at prediction time on each cutoff's
        # summaries (data up to that cutoff only); nothing is learnt from the labels
        self.fitted_ = True
        return self

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self)
        out = btyd_predictions(frame, self.horizon_days)
        return self._output(frame, out["expected_spend"], out["prob_no_purchase"])


BASELINES = {
    "last_period": LastPeriodBaseline,
    "rfm": RFMBaseline,
    "avg_spend_retention": AvgSpendRetentionBaseline,
    "btyd": BTYDBaseline,
}


def make_baseline(name: str, horizon_days: int) -> _Baseline:
    """A fresh baseline by its configured name."""
    cls = BASELINES[name]
    return cls(horizon_days=horizon_days) if "horizon_days" in cls().get_params() else cls()

"""Backtest metrics of the value model (spend over the horizon) and the churn model.

Value metrics compare predicted and actual future spend of the same customers: ranking
quality (normalized Gini, Spearman), how much of the actual spend the top 1% / 10% of
predicted customers hold (what a manager list captures), decile-level MAPE (are the totals
of each predicted decile right) and MAE. Churn metrics compare a score in [0, 1] with the
0/1 outcome; Brier and calibration error need probabilities, so `churn_metrics` skips them
when `probabilities=False` (ranking scores of some baselines).
"""

import math

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

__all__ = [
    "ACTIVE_CHURN_METRICS",
    "CHURN_METRICS",
    "DIAGNOSTIC_METRICS",
    "GATE_CHURN_METRICS",
    "HIGHER_IS_BETTER",
    "VALUE_METRICS",
    "churn_metrics",
    "decile_mape",
    "expected_calibration_error",
    "lift_share",
    "metric_value",
    "normalized_gini",
    "top_decile_lift",
    "top_k_share",
    "top_share",
    "value_metrics",
]

VALUE_METRICS = (
    "normalized_gini",
    "spearman",
    "top1_capture",
    "top10_capture",
    "decile_mape",
    "mae",
)
CHURN_METRICS = ("roc_auc", "pr_auc", "brier", "ece", "top_decile_lift")
# reported, never gated on: total predicted over total actual spend (calibration in level,
# 1 = right), the capture at the managers' total capacity, the share of attainable lift
# (`lift_share`) on top-10% capture and at capacity, churn on the active base (customers with
# an order in the last horizon: long-dead customers make churn look easy)
ACTIVE_CHURN_METRICS = ("roc_auc_active", "pr_auc_active")
DIAGNOSTIC_METRICS = ("spend_ratio", "capacity_capture", "lift_share_top10",
                      "lift_share_capacity", *ACTIVE_CHURN_METRICS)
# what the champion gate and the selection may judge churn on: the churn metrics, on everyone
# or on the active base
GATE_CHURN_METRICS = (*CHURN_METRICS, *ACTIVE_CHURN_METRICS)
HIGHER_IS_BETTER = {
    "normalized_gini": True,
    "spearman": True,
    "top1_capture": True,
    "top10_capture": True,
    "decile_mape": False,
    "mae": False,
    "roc_auc": True,
    "pr_auc": True,
    "brier": False,
    "ece": False,
    "top_decile_lift": True,
    "capacity_capture": True,
    "lift_share_top10": True,
    "lift_share_capacity": True,
    "roc_auc_active": True,
    "pr_auc_active": True,
}


def _arrays(actual, predicted) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    if a.shape != p.shape or a.ndim != 1:
        raise ValueError(
            f"actual and predicted must be 1-d of the same length, got {a.shape} and {p.shape}"
        )
    return a, p


def _order(predicted: np.ndarray) -> np.ndarray:
    """Indices by predicted value, highest first; ties keep their input order."""
    return np.argsort(-predicted, kind="stable")


def _gini(actual: np.ndarray, predicted: np.ndarray) -> float:
    a = actual[_order(predicted)]
    n = len(a)
    total = a.sum()
    if n == 0 or total == 0:
        return math.nan
    # area between the cumulative share of actual (sorted by prediction) and the diagonal
    return float(np.cumsum(a).sum() / total - (n + 1) / 2) / n


def normalized_gini(actual, predicted) -> float:
    """Gini of `predicted` as a ranking of `actual`, divided by the Gini of the perfect ranking.

    1 = ranks as well as knowing the actual values, 0 = random, negative = worse than random.
    """
    a, p = _arrays(actual, predicted)
    best = _gini(a, a)
    return _gini(a, p) / best if best not in (0.0,) and not math.isnan(best) else math.nan


def top_share(actual, predicted, fraction: float) -> float:
    """Share of the total actual value held by the top `fraction` of customers by prediction
    (at least one customer)."""
    a, p = _arrays(actual, predicted)
    total = a.sum()
    if len(a) == 0 or total == 0:
        return math.nan
    k = max(1, math.ceil(fraction * len(a)))
    return float(a[_order(p)[:k]].sum() / total)


def top_k_share(actual, predicted, k: int) -> float:
    """Share of the total actual value held by the top `k` customers by prediction (k is
    clipped to 1..n)."""
    a, p = _arrays(actual, predicted)
    total = a.sum()
    if len(a) == 0 or total == 0:
        return math.nan
    k = min(max(1, int(k)), len(a))
    return float(a[_order(p)[:k]].sum() / total)


def lift_share(model: float, status_quo: float, best: float) -> float:
    """The share of the attainable lift a model reaches: (model - status quo) / (best -
    status quo), for a capture metric where the status quo is what a firm without the
    pipeline ranks by (last horizon's revenue) and best the ground truth's (or hindsight's)
    capture. 1 = as good as the truth, 0 = no better than the status quo, negative = worse;
    NaN when the best does not beat the status quo (nothing to attain) or a value is NaN."""
    if any(v is None or not math.isfinite(v) for v in (model, status_quo, best)):
        return math.nan
    room = best - status_quo
    return (model - status_quo) / room if room > 0 else math.nan


def decile_mape(actual, predicted, bins: int = 10) -> float:
    """Mean over predicted deciles of |sum predicted - sum actual| / |sum actual|.

    Customers are split into `bins` groups of (nearly) equal size by prediction; deciles
    whose actual total is 0 are skipped.
    """
    a, p = _arrays(actual, predicted)
    errors = []
    for group in np.array_split(_order(p), bins):
        total = a[group].sum()
        if len(group) and total != 0:
            errors.append(abs(p[group].sum() - total) / abs(total))
    return float(np.mean(errors)) if errors else math.nan


def expected_calibration_error(outcome, probability, bins: int = 10) -> float:
    """Weighted mean |mean probability - outcome rate| over `bins` equal-width probability
    bins (the last bin includes 1.0)."""
    y, p = _arrays(outcome, probability)
    which = np.clip((p * bins).astype(int), 0, bins - 1)
    ece = 0.0
    for b in np.unique(which):
        mask = which == b
        ece += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return float(ece)


def top_decile_lift(outcome, score) -> float:
    """Outcome rate among the top 10% by score divided by the overall rate."""
    y, s = _arrays(outcome, score)
    rate = y.mean() if len(y) else 0.0
    if rate == 0:
        return math.nan
    k = max(1, math.ceil(0.1 * len(y)))
    return float(y[_order(s)[:k]].mean() / rate)


def value_metrics(actual, predicted, capacity: int | None = None) -> dict[str, float]:
    """Every value metric of VALUE_METRICS, the spend ratio (total predicted over total
    actual) and, given the managers' total `capacity` (accounts), the capture at capacity."""
    a, p = _arrays(actual, predicted)
    rho = spearmanr(a, p).statistic if len(a) > 1 and np.ptp(p) > 0 and np.ptp(a) > 0 else math.nan
    return {
        "normalized_gini": normalized_gini(a, p),
        "spearman": float(rho),
        "top1_capture": top_share(a, p, 0.01),
        "top10_capture": top_share(a, p, 0.10),
        "decile_mape": decile_mape(a, p),
        "mae": float(np.mean(np.abs(a - p))) if len(a) else math.nan,
        "spend_ratio": float(p.sum() / a.sum()) if a.sum() > 0 else math.nan,
        **({"capacity_capture": top_k_share(a, p, capacity)} if capacity else {}),
    }


def churn_metrics(outcome, score, probabilities: bool = True) -> dict[str, float]:
    """Every churn metric of CHURN_METRICS; brier and ece are NaN unless `probabilities`."""
    y, s = _arrays(outcome, score)
    both = 0 < y.sum() < len(y)
    return {
        "roc_auc": float(roc_auc_score(y, s)) if both else math.nan,
        "pr_auc": float(average_precision_score(y, s)) if both else math.nan,
        "brier": float(brier_score_loss(y, s)) if probabilities else math.nan,
        "ece": expected_calibration_error(y, s) if probabilities else math.nan,
        "top_decile_lift": top_decile_lift(y, s),
    }


def metric_value(metric: str, actual, predicted, active=None) -> float:
    """One metric of VALUE_METRICS, CHURN_METRICS (churn scores as probabilities) or
    ACTIVE_CHURN_METRICS (on the rows where `active` is true), computing only that one:
    what a bootstrap of the selection's decision (models.selection) recomputes many times."""
    if metric in ACTIVE_CHURN_METRICS:
        if active is None:
            raise ValueError(f"{metric} needs the active mask")
        on = np.asarray(active, dtype=bool)
        return metric_value(metric.removesuffix("_active"), np.asarray(actual)[on],
                            np.asarray(predicted)[on])
    a, p = _arrays(actual, predicted)
    single = {"normalized_gini": normalized_gini, "top10_capture": lambda a, p: top_share(a, p, 0.1),
              "top1_capture": lambda a, p: top_share(a, p, 0.01), "top_decile_lift": top_decile_lift}
    if metric in single:
        return single[metric](a, p)
    if metric in ("roc_auc", "pr_auc"):
        if not 0 < a.sum() < len(a):
            return math.nan
        return float((roc_auc_score if metric == "roc_auc" else average_precision_score)(a, p))
    if metric in CHURN_METRICS:
        return churn_metrics(a, p)[metric]
    if metric in VALUE_METRICS:
        return value_metrics(a, p)[metric]
    raise ValueError(f"unknown metric {metric!r}")

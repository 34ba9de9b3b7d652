"""Rolling-origin backtest of the value and churn models against baselines and the truth.

Fold k evaluates cutoff T_k (the latest cutoff of the training set, then every
`fold_step_months` earlier, `n_folds` in all). It trains only on cutoffs c whose label
window (c, c + H] ends on or before T_k, i.e. on labels fully observed at T_k (the latest
`train_window_cutoffs` of them), and evaluates on the customers known at T_k against what
they did in (T_k, T_k + H]. So a fold needs about H + train_window_cutoffs months of
cutoffs before it: the training set passed in must reach that far back.

Every fold scores both value formulations (LightGBM tweedie and hurdle), the churn model,
the configured baselines (models.baselines) and, given the generator's ground truth
(customer_id, as_of, true_expected_spend, true_prob_no_purchase), the truth itself as
"oracle": the best possible prediction, so the report shows how much of the attainable
top-10% capture the model reaches.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.contract import AS_OF, CUSTOMER_ID, CUTOFF, HORIZON_DAYS, LABEL_CHURNED, LABEL_SPEND
from models.baselines import make_baseline
from models.config import ModelConfig
from models.metrics import (
    CHURN_METRICS,
    HIGHER_IS_BETTER,
    VALUE_METRICS,
    churn_metrics,
    value_metrics,
)
from models.training import (
    labelled_cutoffs,
    make_churn_model,
    make_value_model,
    model_features,
    prepare_frame,
    sample_rows,
)

__all__ = [
    "CHURN_MODEL",
    "ORACLE",
    "BacktestResult",
    "backtest",
    "fold_cutoffs",
    "fold_train_cutoffs",
    "value_model_name",
]

ORACLE = "oracle"
CHURN_MODEL = "lgbm_churn"
TRUE_SPEND = "true_expected_spend"
TRUE_NO_PURCHASE = "true_prob_no_purchase"


def value_model_name(objective: str) -> str:
    """Name of a value formulation in the backtest tables, e.g. "lgbm_tweedie"."""
    return f"lgbm_{objective}"


@dataclass
class BacktestResult:
    """What the backtest measured.

    metrics: tidy per-fold table (fold, cutoff, model, metric, value).
    summary: mean over folds, one row per model, one column per metric.
    grades: per LightGBM model and metric vs the best baseline on that metric (model, metric,
        model_value, best_baseline, baseline_value, margin, beats, text); margin > 0 = better
        (sign already follows the metric's direction).
    best_objective: the value formulation with the higher mean of `gate.value_metric`.
    oracle_share: per value model, its mean top-10% capture / the oracle's (NaN w/o truth).
    predictions: per-row predictions of the latest fold (customer_id, cutoff, actual
        future_spend and churned, then "<model>_value" and "<model>_churn" columns).
    messages: skipped folds, truth coverage, and other notes.
    """

    metrics: pd.DataFrame
    summary: pd.DataFrame
    grades: pd.DataFrame
    best_objective: str | None
    oracle_share: dict[str, float]
    predictions: pd.DataFrame
    messages: list[str] = field(default_factory=list)

    def table(
        self,
        metrics: tuple[str, ...] = (
            "normalized_gini",
            "top10_capture",
            "top1_capture",
            "spearman",
            "pr_auc",
            "roc_auc",
            "brier",
        ),
    ) -> str:
        """The summary as a Markdown table (models as rows)."""
        cols = [m for m in metrics if m in self.summary.columns]
        lines = ["| model | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
        for model, row in self.summary[cols].iterrows():
            cells = ["" if pd.isna(v) else f"{v:.3f}" for v in row]
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def fold_cutoffs(cutoffs, n_folds: int, step_months: int) -> list[pd.Timestamp]:
    """The evaluated cutoffs, oldest first: the latest and every `step_months` before it."""
    available = sorted({pd.Timestamp(c) for c in cutoffs})
    if not available:
        return []
    latest = available[-1]
    wanted = [
        latest - pd.offsets.MonthEnd(k * step_months) if k else latest for k in range(n_folds)
    ]
    return sorted(c for c in wanted if c in set(available))


def fold_train_cutoffs(cutoffs, fold_cutoff, horizon_days: int, window: int) -> list[pd.Timestamp]:
    """The cutoffs a fold at `fold_cutoff` may train on: those whose label window (c, c + H]
    ends on or before `fold_cutoff`, the latest `window` of them, oldest first."""
    limit = pd.Timestamp(fold_cutoff) - pd.Timedelta(days=horizon_days)
    usable = sorted(pd.Timestamp(c) for c in set(cutoffs) if pd.Timestamp(c) <= limit)
    return usable[-window:]


def _truth_at(truth: pd.DataFrame, cutoff: pd.Timestamp, horizon_days: int) -> pd.DataFrame:
    rows = truth[pd.to_datetime(truth[AS_OF]) == cutoff]
    if HORIZON_DAYS in rows.columns:
        rows = rows[rows[HORIZON_DAYS] == horizon_days]
    return rows[[CUSTOMER_ID, TRUE_SPEND, TRUE_NO_PURCHASE]].drop_duplicates(CUSTOMER_ID)


def backtest(
    training_set: pd.DataFrame,
    config: ModelConfig,
    horizon_days: int,
    truth: pd.DataFrame | None = None,
    progress: Callable[[str], None] | None = None,
) -> BacktestResult:
    """Rolling-origin backtest (see the module docstring). `progress(message)` is called
    at each step when given."""
    say = progress or (lambda message: None)
    bt = config.backtest
    messages: list[str] = []
    labelled = labelled_cutoffs(training_set, horizon_days)
    frame = training_set[training_set[CUTOFF].isin(labelled)]
    if config.btyd_features or "btyd" in bt.baselines:
        say("BTYD models per cutoff")
        frame = prepare_frame(
            frame, config.model_copy(update={"btyd_features": True}), horizon_days
        )
    features = model_features(frame)
    if not config.btyd_features:
        features = [f for f in features if f in model_features(training_set)]
    rows, last_predictions = [], pd.DataFrame()
    folds = fold_cutoffs(labelled, bt.n_folds, bt.fold_step_months)
    for fold, cutoff in enumerate(folds):
        used = fold_train_cutoffs(labelled, cutoff, horizon_days, config.train_window_cutoffs)
        if len(used) < config.min_train_cutoffs:
            messages.append(
                f"fold at {cutoff:%Y-%m-%d} skipped: {len(used)} cutoff(s) with labels observed "
                f"by then, need {config.min_train_cutoffs}; the training set must start about "
                f"{horizon_days} days + {config.train_window_cutoffs} months before the fold"
            )
            continue
        train = sample_rows(
            frame[frame[CUTOFF].isin(used)], config.max_train_rows, config.random_state
        )
        test = frame[frame[CUTOFF] == cutoff]
        y_spend = test[LABEL_SPEND].to_numpy(float)
        y_churn = test[LABEL_CHURNED].astype(int).to_numpy()
        out = pd.DataFrame(
            {
                CUSTOMER_ID: test[CUSTOMER_ID].to_numpy(),
                CUTOFF: cutoff,
                LABEL_SPEND: y_spend,
                LABEL_CHURNED: y_churn,
            },
            index=test.index,
        )
        scores: dict[str, tuple[np.ndarray | None, np.ndarray | None, bool]] = {}
        for objective in bt.objectives:
            say(
                f"fold {fold + 1}/{len(folds)} {cutoff:%Y-%m-%d}: "
                f"value model ({objective}) on {len(train):,} rows"
            )
            model = make_value_model(config, objective).fit(
                train[features], train[LABEL_SPEND].to_numpy(float)
            )
            scores[value_model_name(objective)] = (model.predict(test[features]), None, True)
        say(f"fold {fold + 1}/{len(folds)} {cutoff:%Y-%m-%d}: churn model")
        churn = make_churn_model(config).fit(
            train[features],
            train[LABEL_CHURNED].astype(int).to_numpy(),
            cutoffs=train[CUTOFF].to_numpy(),
        )
        scores[CHURN_MODEL] = (None, churn.predict_proba(test[features])[:, 1], True)
        for name in bt.baselines:
            say(f"fold {fold + 1}/{len(folds)} {cutoff:%Y-%m-%d}: baseline {name}")
            baseline = make_baseline(name, horizon_days).fit(train)
            pred = baseline.predict(test)
            churn_score = pred["churn"].to_numpy()
            scores[name] = (
                pred["value"].to_numpy(),
                None if np.isnan(churn_score).all() else churn_score,
                baseline.churn_is_probability,
            )
        if truth is not None:
            known = test[[CUSTOMER_ID]].merge(
                _truth_at(truth, cutoff, horizon_days), on=CUSTOMER_ID, how="left"
            )
            coverage = known[TRUE_SPEND].notna().mean()
            if coverage < 1:
                messages.append(
                    f"fold at {cutoff:%Y-%m-%d}: ground truth covers {coverage:.1%} of "
                    "customers; the oracle is scored on those"
                )
            if coverage > 0:
                scores[ORACLE] = (
                    known[TRUE_SPEND].to_numpy(float),
                    known[TRUE_NO_PURCHASE].to_numpy(float),
                    True,
                )
        for model, (value, churn_score, is_prob) in scores.items():
            for kind, pred in (("value", value), ("churn", churn_score)):
                if pred is None:
                    continue
                ok = ~np.isnan(pred)
                actual = y_spend if kind == "value" else y_churn
                found = (
                    value_metrics(actual[ok], pred[ok])
                    if kind == "value"
                    else churn_metrics(actual[ok], pred[ok], probabilities=is_prob)
                )
                rows += [(fold, cutoff, model, metric, v) for metric, v in found.items()]
                out[f"{model}_{kind}"] = pred
        last_predictions = out
    metrics = pd.DataFrame(rows, columns=["fold", CUTOFF, "model", "metric", "value"])
    if metrics.empty:
        messages.append("no fold could be evaluated: the history is too short for the backtest")
        return BacktestResult(
            metrics, pd.DataFrame(), pd.DataFrame(), None, {}, last_predictions, messages
        )
    summary = metrics.pivot_table(index="model", columns="metric", values="value", aggfunc="mean")
    summary = summary[[m for m in (*VALUE_METRICS, *CHURN_METRICS) if m in summary.columns]]
    grades = _grades(summary, config, bt.baselines)
    value_names = [value_model_name(o) for o in bt.objectives]
    gate_metric = config.gate.value_metric
    scored = {
        o: _direction(gate_metric) * summary.loc[value_model_name(o), gate_metric]
        for o in bt.objectives
        if value_model_name(o) in summary.index
        and pd.notna(summary.loc[value_model_name(o), gate_metric])
    }  # NaN never wins (max over NaN keys depends on the order)
    best = max(scored, key=scored.get) if scored else None
    oracle_share = {
        name: float(summary.loc[name, "top10_capture"] / summary.loc[ORACLE, "top10_capture"])
        if ORACLE in summary.index
        else float("nan")
        for name in value_names
    }
    return BacktestResult(metrics, summary, grades, best, oracle_share, last_predictions, messages)


def _direction(metric: str) -> float:
    return 1.0 if HIGHER_IS_BETTER.get(metric, True) else -1.0


def _grades(summary: pd.DataFrame, config: ModelConfig, baselines) -> pd.DataFrame:
    """Each LightGBM model against the best baseline, metric by metric."""
    rows = []
    models = [m for m in summary.index if m.startswith("lgbm_")]
    for model in models:
        kind_metrics = CHURN_METRICS if model == CHURN_MODEL else VALUE_METRICS
        for metric in kind_metrics:
            if metric not in summary.columns or pd.isna(summary.loc[model, metric]):
                continue
            candidates = summary.loc[[b for b in baselines if b in summary.index], metric].dropna()
            if candidates.empty:
                continue
            sign = _direction(metric)
            best = (candidates * sign).idxmax()
            margin = sign * (summary.loc[model, metric] - candidates[best])
            beats = bool(margin > config.gate.min_margin)
            verb = "beats" if beats else "does not beat"
            rows.append(
                {
                    "model": model,
                    "metric": metric,
                    "model_value": summary.loc[model, metric],
                    "best_baseline": best,
                    "baseline_value": candidates[best],
                    "margin": margin,
                    "beats": beats,
                    "gate": metric in (config.gate.value_metric, config.gate.churn_metric),
                    "text": f"{model} {verb} best baseline ({best}) on {metric} by {margin:+.3f}",
                }
            )
    return pd.DataFrame(rows)

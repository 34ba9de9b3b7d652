"""Rolling-origin backtest of the value and churn models against baselines and the truth.

Fold k evaluates cutoff T_k (the latest cutoff of the training set, then the latest cutoff
on or before every `fold_step` earlier, `n_folds` in all). It trains only on cutoffs c whose label
window (c, c + H] ends on or before T_k, i.e. on labels fully observed at T_k (the latest
`train_window_cutoffs` of them), and evaluates on the customers known at T_k against what
they did in (T_k, T_k + H]. So a fold needs about H + train_window_cutoffs months of
cutoffs before it: the training set passed in must reach that far back.

Every fold scores both value formulations (LightGBM tweedie and hurdle), the churn model,
the configured baselines (models.baselines) and, given the generator's ground truth
(customer_id, as_of, true_expected_spend, true_prob_no_purchase), the truth itself as
"oracle": the best possible prediction, so the report shows how much of the attainable
top-10% capture the model reaches.

Then each target picks what publishes (models.selection): the candidates are the LightGBM
formulations, the baselines and a blend of them, the blend's weights for fold k fitted on the
out-of-fold predictions of the earlier folds only; `BacktestResult.selection` holds the
winner per target and `blend_weights` the final blend's weights (fitted on every fold).

A history shorter than the horizon has no labels at the horizon: the final models cannot be
trained, and only the rules that learn nothing from labels can publish (models.baselines
LABEL_FREE: last_period's value, BG/NBD, Pareto/NBD). `backtest(label_free=True)` then
judges only those and their blend, at the shorter horizon the history allows (the best mean
publishes: the one-standard-error rule is off, see `_select`), and
`target_horizon_days` (the horizon the scores are for) makes last_period read the spend
window of that horizon, scaled to the backtest's: the rule that would publish, not a rule of
the shorter horizon.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.contract import AS_OF, CUSTOMER_ID, CUTOFF, HORIZON_DAYS, LABEL_CHURNED, LABEL_SPEND
from features.cutoffs import Step
from models.baselines import BTYD_MODELS, LABEL_FREE, fit_baseline, last_horizon, make_baseline
from models.config import ModelConfig
from models.metrics import (
    ACTIVE_CHURN_METRICS,
    CHURN_METRICS,
    DIAGNOSTIC_METRICS,
    HIGHER_IS_BETTER,
    VALUE_METRICS,
    churn_metrics,
    lift_share,
    top_k_share,
    top_share,
    value_metrics,
)
from models.selection import (
    BLEND,
    CHURN_MODEL,
    PairedFold,
    Selection,
    beats,
    blend_weights,
    compare,
    paired_standard_error,
    value_model_name,
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
    "best_baseline",
    "candidates",
    "AUTO_FOLD_STEPS",
    "fold_cutoffs",
    "plan_folds",
    "fold_train_cutoffs",
    "value_model_name",
]

ORACLE = "oracle"
TRUE_SPEND = "true_expected_spend"
TRUE_NO_PURCHASE = "true_prob_no_purchase"


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
    selection: per target ("value", "churn") the models.selection.Selection of what publishes.
    blend_weights: per target the final blend's weights by member (fitted on every fold).
    """

    metrics: pd.DataFrame
    summary: pd.DataFrame
    grades: pd.DataFrame
    best_objective: str | None
    oracle_share: dict[str, float]
    predictions: pd.DataFrame
    messages: list[str] = field(default_factory=list)
    selection: dict[str, Selection] = field(default_factory=dict)
    blend_weights: dict[str, dict[str, float]] = field(default_factory=dict)

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


def fold_cutoffs(cutoffs, n_folds: int, step: str | int) -> list[pd.Timestamp]:
    """The evaluated cutoffs, oldest first: the latest, then for k = 1 .. n_folds - 1 the
    latest cutoff on or before k steps before it, each cutoff once.

    `step` is a duration, "<n>d", "<n>w" or "<n>m" (BacktestConfig.fold_step; an int is read
    as months, the old fold_step_months). Cutoffs need not be month ends: with weekly cutoffs
    and "3m" the folds are the week ends nearest to, and not after, 3 and 6 months back."""
    available = sorted({pd.Timestamp(c) for c in cutoffs})
    if not available:
        return []
    duration = Step.parse(f"{step}m" if isinstance(step, int) else step)
    latest, chosen = available[-1], []
    for k in range(n_folds):
        wanted = duration.before(latest, k) if k else latest
        earlier = [c for c in available if c <= wanted]
        if earlier and earlier[-1] not in chosen:
            chosen.append(earlier[-1])
    return sorted(chosen)


# the steps `fold_step: auto` tries, longest first: folds far apart are less alike
AUTO_FOLD_STEPS = ("3m", "1m", "2w", "1w")


def plan_folds(cutoffs, n_folds: int, step: str, horizon_days: int,
               min_train_cutoffs: int) -> tuple[list[pd.Timestamp], str]:
    """(the fold cutoffs, the step): `fold_cutoffs` at `step`, or for "auto" at the longest
    of AUTO_FOLD_STEPS that gives `n_folds` folds each with `min_train_cutoffs` cutoffs to
    train on (else the one giving the most such folds): a short history gets folds closer
    together rather than a single fold to judge the candidates on."""
    steps = AUTO_FOLD_STEPS if step == "auto" else (step,)
    best: tuple[int, list[pd.Timestamp], str] | None = None
    for candidate in steps:
        folds = fold_cutoffs(cutoffs, n_folds, candidate)
        usable = sum(len(fold_train_cutoffs(cutoffs, c, horizon_days, len(cutoffs) + 1))
                     >= min_train_cutoffs for c in folds)
        if best is None or usable > best[0]:
            best = (usable, folds, candidate)
        if usable >= n_folds:
            break
    return best[1], best[2]


def fold_train_cutoffs(cutoffs, fold_cutoff, horizon_days: int, window: int) -> list[pd.Timestamp]:
    """The cutoffs a fold at `fold_cutoff` may train on: those whose label window (c, c + H]
    ends on or before `fold_cutoff`, the latest `window` of them, oldest first."""
    limit = pd.Timestamp(fold_cutoff) - pd.Timedelta(days=horizon_days)
    usable = sorted(pd.Timestamp(c) for c in set(cutoffs) if pd.Timestamp(c) <= limit)
    return usable[-window:]


def candidates(config: ModelConfig, kind: str,
               label_free: bool = False) -> tuple[list[str], list[str]]:
    """(the blend's members, the baselines among them) of target `kind` in preference order
    for ties: the configured LightGBM formulation first, then the other, then the baselines
    (those with a churn probability for "churn"). `label_free`: only the baselines whose
    view of `kind` learns nothing from labels (models.baselines.LABEL_FREE), no LightGBM."""
    if kind == "value":
        objectives = sorted(config.backtest.objectives, key=lambda o: o != config.value_objective)
        lgbm = [value_model_name(o) for o in objectives]
        base = list(config.backtest.baselines)
    else:
        lgbm = [CHURN_MODEL]
        base = [b for b in config.backtest.baselines
                if make_baseline(b, 1, "churn") is not None]
    if label_free:
        rules = [b for b in dict.fromkeys([*base, *BTYD_MODELS]) if (b, kind) in LABEL_FREE]
        return rules, rules
    return lgbm + base, base


def _blend(folds: list[pd.DataFrame], members: list[str], kind: str, rows: list,
           power: float = 1.5, active_only: bool = False, scale_free: bool = False) -> dict:
    """Score the blend of `members` on every fold but the first with weights fitted on the
    folds before it (appending to the tidy `rows`, adding a "blend_<kind>" column to each
    fold's frame), and return the final weights, fitted on every fold; {} without at least
    two members scored on every fold. `power`: the value loss's Tweedie variance power
    (models.selection.blend_weights). `active_only`: the weights are fitted on the active
    rows of each fold (`attrs["active"]`: an order in the last horizon), the population a
    churn gate metric of the active base judges the blend on; it is scored on every row.
    `scale_free`: each member's predictions are divided by their mean over the fold's rows
    before the weights are fitted, the weights are normalised to sum to 1 (the mix), and a
    fold's blend is the mix of the scaled members times the mix of their means: exactly what
    models.selection.Blend(scale_free=True) publishes at another horizon (the label-free value
    blend of a short history)."""
    columns = [f"{m}_{kind}" for m in members]
    present = [m for m, c in zip(members, columns) if all(c in f.columns for f in folds)]
    if len(present) < 2 or not folds:
        return {}
    columns = [f"{m}_{kind}" for m in present]
    label = LABEL_SPEND if kind == "value" else LABEL_CHURNED

    def means(f: pd.DataFrame) -> pd.Series:  # a member's mean over the fold (1 when <= 0)
        return f[columns].mean().where(lambda m: m > 0, 1.0)

    def scaled(f: pd.DataFrame) -> pd.DataFrame:
        if not scale_free:
            return f[columns + [label]]
        return f[columns].div(means(f)).assign(**{label: f[label]})

    def fitted_on(frames: list[pd.DataFrame]) -> np.ndarray:
        parts = [scaled(f).loc[f.attrs["active"]]
                 if active_only and f.attrs.get("active") is not None else scaled(f)
                 for f in frames]
        rows_ = pd.concat(parts, ignore_index=True)
        weights = blend_weights(rows_[columns].to_numpy(), rows_[label].to_numpy(), kind, power)
        return weights / weights.sum() if scale_free and weights.sum() > 0 else weights

    for k in range(1, len(folds)):
        weights = fitted_on(folds[:k])
        fold = folds[k]
        if scale_free:
            level = float(weights @ means(fold).to_numpy(float))
            pred = scaled(fold)[columns].to_numpy(dtype=float) @ weights * level
        else:
            pred = fold[columns].to_numpy(dtype=float) @ weights
        fold[f"{BLEND}_{kind}"] = pred
        found = _fold_metrics(fold, kind, pred, True)
        number, cutoff = fold.attrs["fold"], fold[CUTOFF].iloc[0]
        rows += [(number, cutoff, BLEND, metric, v) for metric, v in found.items()]
    weights = fitted_on(folds)
    return {m: float(w) for m, w in zip(present, weights)}


def _fold_metrics(fold: pd.DataFrame, kind: str, pred: np.ndarray, is_prob: bool,
                  lift: bool = True) -> dict[str, float]:
    """The metrics of one prediction on one fold: VALUE_METRICS (with the spend ratio and the
    capture at capacity) or CHURN_METRICS, and the diagnostics that need the fold's context
    (`fold.attrs`: capacity, status quo = last horizon's spend, active = an order in the
    last horizon, best = the truth's or hindsight's value): the share of attainable lift
    (value, unless `lift` is False: the truth itself) and churn on the active base."""
    ok = ~np.isnan(pred)
    context = fold.attrs
    if kind == "value":
        actual = fold[LABEL_SPEND].to_numpy(float)
        found = value_metrics(actual[ok], pred[ok], context.get("capacity"))
        if lift and "status_quo" in context:
            a, quo, best = actual[ok], context["status_quo"][ok], context["best"][ok]
            found["lift_share_top10"] = lift_share(
                found["top10_capture"], top_share(a, quo, 0.1), top_share(a, best, 0.1))
            if context.get("capacity"):
                k = context["capacity"]
                found["lift_share_capacity"] = lift_share(
                    found["capacity_capture"], top_k_share(a, quo, k), top_k_share(a, best, k))
        return found
    actual = fold[LABEL_CHURNED].to_numpy(float).astype(int)
    found = churn_metrics(actual[ok], pred[ok], probabilities=is_prob)
    if "active" in context:
        on = ok & context["active"]
        active = churn_metrics(actual[on], pred[on], probabilities=False)
        found["roc_auc_active"], found["pr_auc_active"] = active["roc_auc"], active["pr_auc"]
    return found


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
    capacity: int | None = None,
    target_horizon_days: int | None = None,
    label_free: bool = False,
) -> BacktestResult:
    """Rolling-origin backtest (see the module docstring). `progress(message)` is called
    at each step when given; `capacity` (the managers' total, in accounts) adds the capture
    at capacity and its share of attainable lift. `target_horizon_days`: the horizon the
    published scores are for, when the backtest runs at a shorter `horizon_days`;
    `label_free`: judge only the rules that need no labels (no LightGBM), for a history
    too short to train at the target horizon."""
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
    window = (target_horizon_days if target_horizon_days not in (None, horizon_days)
              else None)  # last_period reads the target horizon's spend window
    rules = bt.baselines  # the rules every fold scores
    if label_free:
        free = {kind: candidates(config, kind, True)[0] for kind in ("value", "churn")}
        rules = tuple(dict.fromkeys([*free["value"], *free["churn"]]))
        messages.append("label-free candidates only (no labels at the target horizon): "
                        + ", ".join(free["value"]) + " for value, "
                        + (", ".join(free["churn"]) or "none") + " for churn")
    features = model_features(frame)
    if not config.btyd_features:
        features = [f for f in features if f in model_features(training_set)]
    rows, last_predictions, evaluated = [], pd.DataFrame(), []
    folds, step = plan_folds(labelled, bt.n_folds, bt.fold_step, horizon_days,
                             config.min_train_cutoffs)
    if bt.fold_step == "auto" and step != AUTO_FOLD_STEPS[0]:
        messages.append(f"folds {step} apart (fold_step: auto): the history is too short for "
                        f"{bt.n_folds} folds {AUTO_FOLD_STEPS[0]} apart")
    for fold, cutoff in enumerate(folds):
        used = fold_train_cutoffs(labelled, cutoff, horizon_days, config.train_window_cutoffs)
        if len(used) < config.min_train_cutoffs:
            messages.append(
                f"fold at {cutoff:%Y-%m-%d} skipped: {len(used)} cutoff(s) with labels observed "
                f"by then, need {config.min_train_cutoffs}; the training set must start about "
                f"{horizon_days} days + {config.min_train_cutoffs} cutoff steps before the fold"
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
        for objective in () if label_free else bt.objectives:
            say(
                f"fold {fold + 1}/{len(folds)} {cutoff:%Y-%m-%d}: "
                f"value model ({objective}) on {len(train):,} rows"
            )
            model = make_value_model(config, objective).fit(
                train[features], train[LABEL_SPEND].to_numpy(float),
                cutoffs=train[CUTOFF].to_numpy(), groups=train[CUSTOMER_ID].to_numpy(),
            )
            scores[value_model_name(objective)] = (model.predict(test[features]), None, True)
        if not label_free:
            say(f"fold {fold + 1}/{len(folds)} {cutoff:%Y-%m-%d}: churn model")
            churn = make_churn_model(config).fit(
                train[features],
                train[LABEL_CHURNED].astype(int).to_numpy(),
                cutoffs=train[CUTOFF].to_numpy(),
                groups=train[CUSTOMER_ID].to_numpy(),
            )
            scores[CHURN_MODEL] = (None, churn.predict_proba(test[features])[:, 1], True)
        for name in rules:
            views = [k for k in ("value", "churn") if not label_free or (name, k) in LABEL_FREE]
            if not views:
                continue
            say(f"fold {fold + 1}/{len(folds)} {cutoff:%Y-%m-%d}: baseline {name}")
            labels = (train[LABEL_SPEND], train[LABEL_CHURNED])
            value_rule = (fit_baseline(name, "value", horizon_days, train, *labels, window)
                          if "value" in views else None)
            churn_rule = (fit_baseline(name, "churn", horizon_days, train, *labels, window)
                          if "churn" in views else None)
            churn_score = None if churn_rule is None else churn_rule.predict_proba(test)[:, 1]
            scores[name] = (
                None if value_rule is None else value_rule.predict(test),
                None if churn_score is None or np.isnan(churn_score).all() else churn_score,
                True,  # a baseline's churn view is a probability
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
        spend, orders = last_horizon(test, horizon_days)
        out.attrs.update(fold=fold, capacity=capacity, status_quo=spend, active=orders > 0,
                         best=scores[ORACLE][0] if ORACLE in scores else y_spend)
        for model, (value, churn_score, is_prob) in scores.items():
            for kind, pred in (("value", value), ("churn", churn_score)):
                if pred is None:
                    continue
                found = _fold_metrics(out, kind, pred, is_prob and kind == "churn",
                                      lift=model != ORACLE)
                rows += [(fold, cutoff, model, metric, v) for metric, v in found.items()]
                out[f"{model}_{kind}"] = pred
        evaluated.append(out)
    active_gate = config.gate.churn_metric in ACTIVE_CHURN_METRICS
    weights = {kind: _blend(evaluated, candidates(config, kind, label_free)[0], kind, rows,
                            config.value.tweedie_variance_power, kind == "churn" and active_gate,
                            scale_free=label_free and kind == "value")
               if config.selection.blend else {} for kind in ("value", "churn")}
    metrics = pd.DataFrame(rows, columns=["fold", CUTOFF, "model", "metric", "value"])
    selection = _select(metrics, evaluated, config, weights, say, label_free)
    for fold_frame in evaluated:  # the context is spent (and Parquet cannot store arrays)
        fold_frame.attrs.clear()
    last_predictions = evaluated[-1] if evaluated else last_predictions
    if metrics.empty:
        messages.append("no fold could be evaluated: the history is too short for the backtest")
        return BacktestResult(
            metrics, pd.DataFrame(), pd.DataFrame(), None, {}, last_predictions, messages
        )
    summary = metrics.pivot_table(index="model", columns="metric", values="value", aggfunc="mean")
    order = (*VALUE_METRICS, *CHURN_METRICS, *DIAGNOSTIC_METRICS)
    summary = summary[[m for m in order if m in summary.columns]]
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
        if ORACLE in summary.index and name in summary.index
        else float("nan")
        for name in value_names
    }
    messages += [chosen.text for chosen in selection.values()]
    return BacktestResult(metrics, summary, grades, best, oracle_share, last_predictions,
                          messages, selection, weights)


def _select(metrics: pd.DataFrame, evaluated: list[pd.DataFrame], config: ModelConfig,
            weights: dict, say: Callable[[str], None],
            label_free: bool = False) -> dict[str, Selection]:
    """Per target the Selection (models.selection.compare) on the gate metric, with the
    one-standard-error rule's bootstrap over the evaluated folds (their frames still carry
    the active mask in `attrs`). `label_free`: among the label-free candidates only;
    `selection.publish: lgbm` cannot hold (there is no LightGBM model), and the best mean
    publishes. The one-standard-error rule guards against a complex model's variance at the
    horizon it was judged on; here every candidate is a rule with no labels at the target
    horizon and the backtest judges them at a shorter one, so which rule extrapolates best
    is the uncertain part, and combining forecasts (the blend) is the established hedge
    against relative accuracy that shifts with the horizon (Timmermann 2006, "Forecast
    combinations"); picking the simplest would discard that hedge on noise."""
    if metrics.empty:
        return {}
    codes = pd.factorize(pd.concat([f[CUSTOMER_ID] for f in evaluated], ignore_index=True))[0]
    starts = np.cumsum([0, *(len(f) for f in evaluated)])
    by_number = {f.attrs["fold"]: (codes[a:b], f) for f, a, b in zip(evaluated, starts, starts[1:])}
    sel = config.selection
    selection = {}
    for kind, metric, forced in (("value", config.gate.value_metric,
                                  value_model_name(config.value_objective)),
                                 ("churn", config.gate.churn_metric, CHURN_MODEL)):
        members, base = candidates(config, kind, label_free)
        lgbm = members[:len(members) - len(base)]
        label = LABEL_SPEND if kind == "value" else LABEL_CHURNED

        def spread(a, b, folds, kind=kind, metric=metric, label=label):
            say(f"{kind}: bootstrap of {a} - {b} ({metric}, {sel.bootstrap} resamples)")
            parts = [PairedFold(codes, fold[label].to_numpy(float),
                                fold[f"{a}_{kind}"].to_numpy(float),
                                fold[f"{b}_{kind}"].to_numpy(float),
                                fold.attrs["active"] if metric in ACTIVE_CHURN_METRICS else None)
                     for codes, fold in (by_number[k] for k in folds if k in by_number)]
            return paired_standard_error(parts, metric, sel.bootstrap, seed=config.random_state)

        order = [*base, BLEND] if label_free else [*lgbm, BLEND, *base]  # ties: the rule
        chosen = compare(metrics, kind, metric, order, base,
                         forced if sel.publish == "lgbm" and not label_free else None,
                         weights[kind],
                         simplest_first=[*base, *lgbm, BLEND], spread=spread,
                         within_se=0.0 if label_free else sel.within_se)
        if chosen is not None:
            selection[kind] = chosen
    return selection


def _direction(metric: str) -> float:
    return 1.0 if HIGHER_IS_BETTER.get(metric, True) else -1.0


def best_baseline(summary: pd.DataFrame, metric: str,
                  baselines) -> tuple[str | None, float | None]:
    """The baseline with the best backtest mean of `metric` in `summary` (one row per model),
    and that mean: the one "best baseline" of the grades and of the champion gate. "Best"
    follows the metric's direction (models.metrics.HIGHER_IS_BETTER), ties go to the first
    listed; (None, None) when the summary lacks the metric or every listed baseline."""
    if summary.empty or metric not in summary.columns:
        return None, None
    values = summary.loc[[b for b in baselines if b in summary.index], metric].dropna()
    if values.empty:
        return None, None
    name = (values * _direction(metric)).idxmax()
    return str(name), float(values[name])


def _grades(summary: pd.DataFrame, config: ModelConfig, baselines) -> pd.DataFrame:
    """Each LightGBM model against the best baseline, metric by metric."""
    rows = []
    models = [m for m in summary.index if m.startswith("lgbm_")]
    for model in models:
        kind_metrics = CHURN_METRICS if model == CHURN_MODEL else VALUE_METRICS
        for metric in kind_metrics:
            if metric not in summary.columns or pd.isna(summary.loc[model, metric]):
                continue
            best, best_value = best_baseline(summary, metric, baselines)
            if best is None:
                continue
            margin = _direction(metric) * (summary.loc[model, metric] - best_value)
            won = beats(summary.loc[model, metric], best_value, metric, config.gate.min_margin)
            verb = "beats" if won else "does not beat"
            rows.append(
                {
                    "model": model,
                    "metric": metric,
                    "model_value": summary.loc[model, metric],
                    "best_baseline": best,
                    "baseline_value": best_value,
                    "margin": margin,
                    "beats": won,
                    "gate": metric in (config.gate.value_metric, config.gate.churn_metric),
                    "text": f"{model} {verb} best baseline ({best}) on {metric} by {margin:+.3f}",
                }
            )
    return pd.DataFrame(rows)

"""The champion gate: whether a new version takes the champion alias, as pure decisions.

The alias moves to a new version only when its backtest value of the gate metric beats the
best baseline and the current champion's (recorded as a tag of the champion's model version)
by more than `min_margin`; "beats" is models.selection.beats, the one decision the backtest's
selection and grades and the score stage's warnings use too.

Two backtest means are comparable only when they come from the same backtest: every
registered version is tagged with its gate metric and value, its horizon and the cutoffs its
backtest evaluated (pipeline.tracking.names). The champion's value enters the gate only when
its tags show this run's metric, horizon and fold cutoffs (`champion_comparison`); otherwise
the new model is judged on the best baseline only and the reason says why the champion was
not compared. No MLflow here: tags in, decisions out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.tracking.names import FOLDS_TAG, GATE_METRIC_TAG, GATE_VALUE_TAG, HORIZON_TAG

if TYPE_CHECKING:
    from models.backtest import BacktestResult

__all__ = ["GateDecision", "backtest_folds", "champion_comparison", "gate"]


@dataclass(frozen=True)
class GateDecision:
    """Whether the alias moves, and why in one sentence."""

    promote: bool
    reason: str


def gate(
    metric: str,
    new: float | None,
    best_baseline: float | None,
    baseline_name: str | None,
    champion: float | None,
    min_margin: float = 0.0,
    not_compared: str | None = None,
) -> GateDecision:
    """Promote only if `new` beats the best baseline and the current champion (if any) on
    `metric` by more than `min_margin` (in the metric's better direction).

    `not_compared` is why a current champion is left out (its backtest is not comparable,
    see `champion_comparison`; pass `champion=None` then): the decision rests on the best
    baseline only and the reason ends with it."""
    from models.selection import beats

    note = f"; {not_compared}" if not_compared else ""
    if new is None or not math.isfinite(new):
        return GateDecision(False, f"no backtest value of {metric} for the new model")
    has_baseline = best_baseline is not None and math.isfinite(best_baseline)
    if has_baseline:
        if not beats(new, best_baseline, metric, min_margin):
            return GateDecision(
                False,
                f"{metric} {new:.4f} does not beat the best baseline {baseline_name} "
                f"({best_baseline:.4f}) by more than {min_margin}{note}",
            )
    if champion is not None and math.isfinite(champion):
        if not beats(new, champion, metric, min_margin):
            return GateDecision(
                False,
                f"{metric} {new:.4f} does not beat the current champion ({champion:.4f}) "
                f"by more than {min_margin}",
            )
        return GateDecision(
            True, f"{metric} {new:.4f} beats the champion ({champion:.4f}) and the baselines"
        )
    if not_compared:
        against = (f"the best baseline {baseline_name} ({best_baseline:.4f})" if has_baseline
                   else "no baseline (none was scored)")
        return GateDecision(True, f"{metric} {new:.4f} beats {against}{note}")
    return GateDecision(True, f"{metric} {new:.4f} beats the baselines; no champion yet")


def backtest_folds(result: BacktestResult) -> list[str]:
    """The cutoffs the backtest evaluated (skipped folds left out), oldest first, as
    YYYY-MM-DD: with the horizon, what makes two backtest means comparable."""
    from features.contract import CUTOFF

    if result.metrics.empty or CUTOFF not in result.metrics.columns:
        return []
    return [f"{c:%Y-%m-%d}" for c in sorted(pd.to_datetime(result.metrics[CUTOFF].unique()))]


def _folds_text(folds: list[str], full: bool = False) -> str:
    if not folds:
        return "no fold"
    if len(folds) == 1:
        return f"fold {folds[0]}"
    if full or len(folds) == 2:
        return "folds " + ", ".join(folds)
    return f"{len(folds)} folds {folds[0]}..{folds[-1]}"


def champion_comparison(version: str, tags: Mapping[str, str], metric: str, horizon: int,
                        folds: list[str]) -> tuple[float | None, str | None]:
    """(the champion's gate value, None) when its version tags show the same backtest as
    this run's: the same gate `metric`, `horizon` and evaluated fold cutoffs `folds` (see
    `backtest_folds`). Otherwise (None, why it is not compared), the reason ending with
    "compared with the best baseline only". Pure: `tags` are the version's tags."""
    who = f"champion v{version}"
    if tags.get(GATE_METRIC_TAG) != metric or GATE_VALUE_TAG not in tags:
        other = tags.get(GATE_METRIC_TAG)
        why = f"{who} has no backtest value of {metric}" + (
            f" (it was gated on {other})" if other else "")
    elif HORIZON_TAG not in tags or FOLDS_TAG not in tags:
        why = (f"{who}'s backtest is not comparable: its version does not record the "
               f"horizon and fold cutoffs of its backtest (registered before they were "
               f"tagged)")
    else:
        theirs = [f for f in tags[FOLDS_TAG].split(",") if f]
        their_horizon = tags[HORIZON_TAG]
        if their_horizon == str(int(horizon)) and theirs == list(folds):
            return float(tags[GATE_VALUE_TAG]), None
        full = _folds_text(theirs) == _folds_text(list(folds))  # same ends, other folds
        why = (f"{who}'s backtest is not comparable: it was backtested on "
               f"{_folds_text(theirs, full)} with horizon {their_horizon} days, this run on "
               f"{_folds_text(list(folds), full)} with horizon {int(horizon)} days")
    return None, why + "; compared with the best baseline only"

"""The decisions on their edges: the backtest grades exactly at the margin and in the metric's
direction, blend weights with exactly as many usable rows as members, and beats() with a
NaN on both sides."""

import math

import numpy as np
import pandas as pd
import pytest

from models.backtest import _grades
from models.config import ModelConfig
from models.selection import beats, blend_weights

BASELINES = ["last_period", "rfm"]


def grades(summary: dict, min_margin: float) -> pd.DataFrame:
    config = ModelConfig.model_validate({"gate": {"min_margin": min_margin}})
    frame = pd.DataFrame(summary).T  # rows: models, columns: metrics
    return _grades(frame, config, BASELINES).set_index(["model", "metric"])


def test_a_grade_exactly_at_the_margin_does_not_beat():
    # binary fractions: 0.75 - 0.625 is exactly the margin 0.125
    summary = {"lgbm_tweedie": {"normalized_gini": 0.75},
               "last_period": {"normalized_gini": 0.5}, "rfm": {"normalized_gini": 0.625}}
    row = grades(summary, 0.125).loc[("lgbm_tweedie", "normalized_gini")]
    assert row["best_baseline"] == "rfm" and row["margin"] == 0.125
    assert not row["beats"] and "does not beat" in row["text"] and row["gate"]
    assert grades(summary, 0.0).loc[("lgbm_tweedie", "normalized_gini"), "beats"]


def test_the_grades_best_baseline_follows_the_metric_direction():
    # brier: lower is better, so rfm (0.125) is the best baseline, not last_period (0.5)
    summary = {"lgbm_churn": {"brier": 0.25}, "last_period": {"brier": 0.5},
               "rfm": {"brier": 0.125}}
    row = grades(summary, 0.0).loc[("lgbm_churn", "brier")]
    assert row["best_baseline"] == "rfm" and row["margin"] == -0.125 and not row["beats"]


def test_blend_weights_with_exactly_one_row_per_member_are_fitted():
    weights = blend_weights(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([2.0, 3.0]), "value")
    assert weights == pytest.approx([2.0, 3.0])
    one_short = blend_weights(np.array([[1.0, 0.0], [np.nan, 1.0]]), np.array([2.0, 3.0]),
                              "value")
    assert one_short == pytest.approx([0.5, 0.5])  # fewer rows than members: equal weights


def test_a_nan_score_never_beats_even_a_missing_one():
    assert not beats(math.nan, math.nan, "normalized_gini")
    assert not beats(math.nan, None, "brier")
    assert beats(0.0, math.nan, "brier")

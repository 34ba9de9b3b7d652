import math

import numpy as np
import pytest

from models.metrics import (
    churn_metrics,
    decile_mape,
    expected_calibration_error,
    lift_share,
    normalized_gini,
    top_decile_lift,
    top_k_share,
    top_share,
    value_metrics,
)


def test_normalized_gini_perfect_reversed_and_hand_computed():
    assert normalized_gini([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert normalized_gini([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # by prediction: 1, 3, 0 -> cumulative shares .25, 1, 1 -> (2.25 - 2) / 3;
    # perfect: 3, 1, 0 -> .75, 1, 1 -> (2.75 - 2) / 3; ratio 1/3
    assert normalized_gini([1, 0, 3], [0.3, 0.1, 0.2]) == pytest.approx(1 / 3)


def test_normalized_gini_is_nan_without_any_actual_value():
    assert math.isnan(normalized_gini([0, 0], [1, 2]))


def test_top_share_takes_at_least_one_customer():
    actual, predicted = [10, 0, 5, 85], [1, 2, 3, 4]
    assert top_share(actual, predicted, 0.25) == pytest.approx(0.85)
    assert top_share(actual, predicted, 0.5) == pytest.approx(0.90)
    assert top_share(actual, predicted, 0.01) == pytest.approx(0.85)


def test_decile_mape_by_predicted_groups():
    # groups by prediction: {85, 5} predicted 4 + 3 = 7; {0, 10} predicted 2 + 1 = 3
    expected = (abs(7 - 90) / 90 + abs(3 - 10) / 10) / 2
    assert decile_mape([10, 0, 5, 85], [1, 2, 3, 4], bins=2) == pytest.approx(expected)


def test_expected_calibration_error_hand_computed():
    # one row per bin: |.1 - 0|, |.2 - 0|, |.7 - 1|, |.9 - 1| averaged
    assert expected_calibration_error([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9]) == pytest.approx(0.175)
    assert expected_calibration_error([0, 1], [0.5, 0.5]) == pytest.approx(0.0)


def test_top_decile_lift():
    y = [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    score = [0.9, 0.1, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3]
    assert top_decile_lift(y, score) == pytest.approx(1 / 0.2)


def test_value_metrics_mae_and_keys():
    m = value_metrics([1.0, 2.0, 4.0], [2.0, 2.0, 1.0])
    assert m["mae"] == pytest.approx((1 + 0 + 3) / 3)
    assert set(m) == {
        "normalized_gini",
        "spearman",
        "top1_capture",
        "top10_capture",
        "decile_mape",
        "mae",
        "spend_ratio",
    }
    assert m["spend_ratio"] == pytest.approx(5 / 7)
    # with the managers' capacity: the capture of the top `capacity` accounts
    m = value_metrics([1.0, 2.0, 4.0], [2.0, 3.0, 1.0], capacity=2)
    assert m["capacity_capture"] == pytest.approx(3 / 7)


def test_lift_share_on_a_hand_computed_example():
    # ten customers; the truth's top 10% is customer 0 (50 of 100)
    actual = np.array([50.0, 20, 10, 5, 5, 4, 3, 2, 1, 0])
    status_quo = np.array([0.0, 9, 8, 7, 6, 5, 4, 3, 2, 1])  # last year: ranks customer 1 first
    model = np.array([8.0, 9, 1, 1, 1, 1, 1, 1, 1, 1])  # customer 1 first, customer 0 second
    sq, best = top_k_share(actual, status_quo, 2), top_k_share(actual, actual, 2)
    mine = top_k_share(actual, model, 2)
    assert (sq, mine, best) == pytest.approx((0.30, 0.70, 0.70))
    assert lift_share(mine, sq, best) == pytest.approx(1.0)
    # top-1: the model is no better than the status quo (both pick customer 1)
    one = [top_k_share(actual, x, 1) for x in (model, status_quo, actual)]
    assert lift_share(*one) == pytest.approx(0.0)
    assert lift_share(0.25, 0.30, 0.70) == pytest.approx(-0.125)
    assert math.isnan(lift_share(0.5, 0.7, 0.7))  # nothing to attain
    assert math.isnan(lift_share(math.nan, 0.3, 0.7))


def test_churn_metrics_perfect_ranking_and_ranking_only_scores():
    y = np.array([0, 0, 1, 1])
    m = churn_metrics(y, [0.1, 0.2, 0.8, 0.9])
    assert m["roc_auc"] == pytest.approx(1.0) and m["pr_auc"] == pytest.approx(1.0)
    assert m["brier"] == pytest.approx((0.01 + 0.04 + 0.04 + 0.01) / 4)
    ranking = churn_metrics(y, [1, 2, 30, 40], probabilities=False)
    assert ranking["roc_auc"] == pytest.approx(1.0)
    assert math.isnan(ranking["brier"]) and math.isnan(ranking["ece"])


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="same length"):
        value_metrics([1, 2], [1])

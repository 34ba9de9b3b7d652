import numpy as np
import pandas as pd
import pytest

from features.contract import AS_OF, CUSTOMER_ID, CUTOFF, LABEL_CHURNED, LABEL_SPEND
from models.backtest import ORACLE, backtest, fold_cutoffs, fold_train_cutoffs
from models.config import ModelConfig

SMALL = {"n_estimators": 20, "num_leaves": 7, "min_child_samples": 10, "n_jobs": 1}


def _config(**backtest) -> ModelConfig:
    return ModelConfig.model_validate(
        {
            "btyd_features": False,
            "train_window_cutoffs": 4,
            "backtest": {"baselines": ["last_period", "rfm", "avg_spend_retention"], **backtest},
            "value": {"params": SMALL},
            "churn": {"params": SMALL},
        }
    )


def test_fold_cutoffs_step_back_from_the_latest():
    cutoffs = pd.date_range("2024-01-31", "2024-12-31", freq="ME")
    assert fold_cutoffs(cutoffs, 3, 3) == [
        pd.Timestamp(d) for d in ("2024-06-30", "2024-09-30", "2024-12-31")
    ]
    assert fold_cutoffs(cutoffs, 20, 6) == [pd.Timestamp("2024-06-30"), pd.Timestamp("2024-12-31")]


def test_fold_cutoffs_a_duration_apart_on_weekly_and_daily_cutoffs():
    weekly = pd.date_range("2024-01-07", "2024-12-29", freq="W-SUN")  # Sundays
    # 3 months back from 2024-12-29 is 2024-09-29, a Sunday; 6 months back 2024-06-29, a
    # Saturday: the Sunday before it
    assert fold_cutoffs(weekly, 3, "3m") == [
        pd.Timestamp(d) for d in ("2024-06-23", "2024-09-29", "2024-12-29")
    ]
    assert fold_cutoffs(weekly, 3, "2w") == [
        pd.Timestamp(d) for d in ("2024-12-01", "2024-12-15", "2024-12-29")
    ]
    daily = pd.date_range("2024-11-01", "2024-12-31", freq="D")
    assert fold_cutoffs(daily, 2, "30d") == [pd.Timestamp("2024-12-01"), pd.Timestamp("2024-12-31")]
    # a step shorter than the cutoffs' spacing never evaluates one cutoff twice
    assert fold_cutoffs(weekly, 4, "1d") == [
        pd.Timestamp(d) for d in ("2024-12-22", "2024-12-29")
    ]
    # month ends and whole months: as before, also given the old number of months
    monthly = pd.date_range("2024-01-31", "2024-12-31", freq="ME")
    assert fold_cutoffs(monthly, 3, "3m") == fold_cutoffs(monthly, 3, 3)
    assert fold_cutoffs([], 3, "3m") == []


def test_fold_trains_only_on_labels_observed_by_its_cutoff():
    cutoffs = pd.date_range("2023-01-31", "2024-12-31", freq="ME")
    used = fold_train_cutoffs(cutoffs, pd.Timestamp("2024-12-31"), 365, window=3)
    # (c, c + 365] must end by 2024-12-31: the latest such month end is 2023-12-31
    assert used == [pd.Timestamp(d) for d in ("2023-10-31", "2023-11-30", "2023-12-31")]
    assert all(c + pd.Timedelta(days=365) <= pd.Timestamp("2024-12-31") for c in used)


@pytest.fixture(scope="module")
def result(training_set):
    last = training_set[training_set[CUTOFF] >= training_set[CUTOFF].max() - pd.Timedelta(days=100)]
    truth = pd.DataFrame(
        {
            CUSTOMER_ID: last[CUSTOMER_ID],
            AS_OF: last[CUTOFF],
            "horizon_days": 365,
            # a perfect oracle: the realised labels themselves
            "true_expected_spend": last[LABEL_SPEND],
            "true_prob_no_purchase": last[LABEL_CHURNED].astype(float),
        }
    )
    return backtest(training_set, _config(n_folds=2, fold_step="2m"), 365, truth=truth)


def test_backtest_scores_models_baselines_and_oracle(result, training_set):
    m = result.metrics
    assert list(m.columns) == ["fold", CUTOFF, "model", "metric", "value"]
    latest = training_set[CUTOFF].max()
    assert sorted(m[CUTOFF].unique()) == [latest - pd.offsets.MonthEnd(2), latest]
    models = set(m["model"])
    assert {
        "lgbm_tweedie",
        "lgbm_hurdle",
        "lgbm_churn",
        "last_period",
        "rfm",
        "avg_spend_retention",
        ORACLE,
    } <= models
    assert not m[(m["model"] == "lgbm_churn") & (m["metric"] == "normalized_gini")].shape[0]
    assert result.summary.loc[ORACLE, "normalized_gini"] == pytest.approx(1.0)
    assert result.summary.loc[ORACLE, "pr_auc"] == pytest.approx(1.0)
    assert 0 < result.oracle_share["lgbm_tweedie"] <= 1
    assert result.best_objective in ("tweedie", "hurdle")


def test_grades_compare_with_the_best_baseline(result):
    g = result.grades.set_index(["model", "metric"])
    row = g.loc[("lgbm_tweedie", "normalized_gini")]
    baselines = result.summary.loc[["last_period", "rfm", "avg_spend_retention"], "normalized_gini"]
    assert row["best_baseline"] == baselines.idxmax()
    assert row["margin"] == pytest.approx(
        result.summary.loc["lgbm_tweedie", "normalized_gini"] - baselines.max()
    )
    assert row["text"].startswith("lgbm_tweedie ")
    # lower is better for brier: the margin's sign follows the metric's direction
    brier = g.loc[("lgbm_churn", "brier")]
    assert brier["margin"] == pytest.approx(brier["baseline_value"] - brier["model_value"])


def test_last_fold_predictions_per_row(result, training_set):
    p = result.predictions
    latest = training_set[training_set[CUTOFF] == training_set[CUTOFF].max()]
    assert len(p) == len(latest) and (p[CUTOFF] == latest[CUTOFF].iloc[0]).all()
    assert {"lgbm_tweedie_value", "lgbm_churn_churn", "rfm_value", "oracle_value"} <= set(p.columns)
    np.testing.assert_allclose(p[LABEL_SPEND], latest[LABEL_SPEND])


def test_short_history_skips_folds_with_a_reason(training_set):
    short = training_set[
        training_set[CUTOFF] >= training_set[CUTOFF].max() - pd.DateOffset(months=13)
    ]
    result = backtest(short, _config(n_folds=1), 365)
    assert result.metrics.empty and result.best_objective is None
    assert any("skipped" in m for m in result.messages)


def test_auto_fold_step_moves_folds_closer_only_when_the_history_is_short():
    from models.backtest import plan_folds

    long = pd.date_range("2022-01-31", "2024-12-31", freq="ME")
    folds, step = plan_folds(long, 3, "auto", 91, 3)
    assert step == "3m" and folds == [pd.Timestamp(d) for d in
                                      ("2024-06-30", "2024-09-30", "2024-12-31")]
    # 40 weekly cutoffs, horizon 91 days, 3 training cutoffs: 3 months apart leaves the
    # oldest fold without enough labelled cutoffs before it; 1 month apart fits all three
    weekly = pd.date_range("2024-01-07", periods=40, freq="W-SUN")
    folds, step = plan_folds(weekly, 3, "auto", 91, 3)
    assert step == "1m" and len(folds) == 3
    assert plan_folds(weekly, 3, "3m", 91, 3)[1] == "3m"  # an explicit step is kept
    # room for one usable fold whatever the step: the most usable folds, ties to the longer
    tiny = weekly[:16]
    assert plan_folds(tiny, 3, "auto", 91, 3)[1] == "3m"
    # two usable folds only when they are a week apart
    assert plan_folds(weekly[:17], 3, "auto", 91, 3)[1] == "1w"


def test_best_baseline_follows_the_metric_direction_and_ties_go_to_the_first_listed():
    from models.backtest import best_baseline

    summary = pd.DataFrame(
        {"normalized_gini": [0.60, 0.40, 0.50, 0.50, float("nan")],
         "brier": [0.10, 0.20, 0.15, 0.15, 0.12]},
        index=["lgbm_tweedie", "rfm", "last_period", "btyd", "lgbm_churn"])
    assert best_baseline(summary, "normalized_gini", ["rfm", "last_period", "btyd"]) == (
        "last_period", 0.50)  # higher is better; the tie with btyd goes to the first listed
    assert best_baseline(summary, "normalized_gini", ["rfm", "btyd", "last_period"]) == (
        "btyd", 0.50)
    assert best_baseline(summary, "brier", ["rfm", "last_period"]) == ("last_period", 0.15)
    assert best_baseline(summary, "brier", ["avg_spend_retention"]) == (None, None)
    assert best_baseline(summary, "roc_auc", ["rfm"]) == (None, None)  # no such metric
    assert best_baseline(pd.DataFrame(), "brier", ["rfm"]) == (None, None)


def test_label_free_backtest_judges_only_the_rules_that_need_no_labels(training_set):
    # a history shorter than the horizon: no LightGBM, no label means (rfm, retention); the
    # BTYD models join whether configured or not, and the best mean publishes
    config = _config(n_folds=3, fold_step="2m").model_copy(
        update={"selection": ModelConfig().selection.model_copy(update={"publish": "lgbm"})})
    result = backtest(training_set, config, 365, label_free=True)
    by_metric = result.metrics.groupby("metric")["model"].agg(set)
    assert by_metric["normalized_gini"] == {"last_period", "btyd", "pnbd", "blend"}
    assert by_metric["pr_auc"] == {"btyd", "pnbd", "blend"}
    assert result.grades.empty  # no LightGBM model to grade
    for kind in ("value", "churn"):
        chosen = result.selection[kind]
        assert chosen.within_se == 0.0 and not chosen.forced  # publish: lgbm cannot hold
        assert chosen.published == chosen.winner == max(chosen.scores, key=chosen.scores.get)
    assert any(m.startswith("label-free candidates only") for m in result.messages)


def test_a_shorter_backtest_horizon_judges_last_period_on_the_target_horizon_window(
        training_set):
    # the scores are for 365 days, the backtest runs at 90: last_period must be the rule a
    # 365-day horizon publishes (the 365-day window), scaled to 90 days
    short = backtest(training_set, _config(n_folds=1), 90, target_horizon_days=365,
                     label_free=True)
    rows = training_set.loc[short.predictions.index]
    np.testing.assert_allclose(short.predictions["last_period_value"],
                               rows["txn_spend_365d"].clip(lower=0) * 90 / 365)
    same = backtest(training_set, _config(n_folds=1), 90, label_free=True)
    np.testing.assert_allclose(same.predictions["last_period_value"],
                               rows["txn_spend_90d"].clip(lower=0))

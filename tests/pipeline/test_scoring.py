"""The score stage's pure pieces on a three-customer frame and a stub model: stamps, the
scores table, who gets reasons, the final shape."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pipeline import scoring
from pipeline.errors import DataError

AS_OF = pd.Timestamp("2026-10-31")
FRAME = pd.DataFrame({"customer_id": ["C001", "C002", "C003"], "as_of": AS_OF,
                      "txn_days_since_last_order": [1.0, 10.0, float("nan")]},
                     index=[5, 6, 7])
STAMP = scoring.make_stamp("3", "r1", "4", "r2")


def _fitted(fallback=False):
    def predict(frame, augmented=None):
        return pd.DataFrame({"expected_value": [100.0, 50.0, 10.0],
                             "churn_probability": [0.1, 0.8, 0.5],
                             "value_at_risk": [30.0, 40.0, 0.0]}, index=frame.index)
    return SimpleNamespace(fallback=fallback, btyd_features=False, predict=predict,
                           augment=lambda frame: frame, churn_input=None,
                           features=["txn_days_since_last_order"], value=None, churn=None)


def test_a_stamp_holds_each_models_version_and_run():
    assert STAMP == {"value": "3", "value_run_id": "r1", "churn": "4", "churn_run_id": "r2"}
    assert list(scoring.STAMP_COLUMNS) == list(STAMP)
    assert set(scoring.STAMP_COLUMNS.values()) <= set(scoring.COLUMNS)
    assert "run_id" not in scoring.COLUMNS


def test_artifact_stamp_reads_registered_versions():
    info = {"run_id": "r9", "models": {"value": {"version": "7"}}}
    assert scoring.artifact_stamp(info) == {"value": "7", "value_run_id": "r9",
                                            "churn": "unregistered", "churn_run_id": "r9"}


def test_effective_stamp_marks_the_short_history_fallback_by_what_published():
    assert scoring.effective_stamp(_fitted(), STAMP) is STAMP
    assert scoring.effective_stamp(_fitted(fallback=True), STAMP) == {
        "value": "btyd-fallback", "value_run_id": "r1", "churn": "btyd-fallback",
        "churn_run_id": "r2"}
    chosen = SimpleNamespace(fallback=True, value_candidate="blend", churn_candidate="pnbd")
    assert scoring.effective_stamp(chosen, STAMP) == {
        "value": "blend-fallback", "value_run_id": "r1", "churn": "pnbd-fallback",
        "churn_run_id": "r2"}


def test_score_table_takes_the_model_scores_and_computes_dates():
    out, prepared = scoring.score_table(FRAME, _fitted(), 180, STAMP)
    assert prepared is FRAME  # no BTYD features: the frame as is
    assert out.index.tolist() == [5, 6, 7]
    assert out["value_at_risk"].tolist() == pytest.approx([30.0, 40.0, 0.0])
    assert out["last_order_date"].iloc[0] == pd.Timestamp("2026-10-30")
    assert out["last_order_date"].iloc[1] == pd.Timestamp("2026-10-21")
    assert pd.isna(out["last_order_date"].iloc[2]) and out["last_contact_date"].isna().all()
    assert (out["horizon_days"] == 180).all() and (out["as_of"] == AS_OF).all()
    assert (out["value_model_version"] == "3").all() and (out["reasons"] == "").all()
    assert (out["value_run_id"] == "r1").all() and (out["churn_model_version"] == "4").all()
    assert (out["churn_run_id"] == "r2").all()


def test_reason_rows_are_every_row_unless_capped():
    out, _ = scoring.score_table(FRAME, _fitted(), 180, STAMP)
    assert scoring.reason_rows(out, None, None).tolist() == [5, 6, 7]  # the default
    assert scoring.reason_rows(out, None, 0).tolist() == [5, 6, 7]
    assert scoring.reason_rows(out, 1, 1).tolist() == [5, 6]  # top value 5, top risk 6
    assert scoring.reason_rows(out, 0, 0).tolist() == []


class _Churn:
    """A churn model: +1 log-odds from the days since the last order for every customer,
    and a probability of 0.9 that the scores contradict."""

    def contributions(self, X):
        return pd.DataFrame({"txn_days_since_last_order": 1.0, "bias": 0.0}, index=X.index)

    def predict_proba(self, X):
        return np.column_stack([np.full(len(X), 0.1), np.full(len(X), 0.9)])


def test_add_reasons_takes_the_churn_probability_of_the_scores():
    out, prepared = scoring.score_table(FRAME, _fitted(), 180, STAMP)
    out["churn_probability"] = [0.9, 0.8, 0.05]
    fitted = SimpleNamespace(fallback=False, features=["txn_days_since_last_order"],
                             value=None, churn=_Churn(), churn_input=None)
    done = scoring.add_reasons(out, prepared, fitted, out.index, 3)
    # 5: 1 day is on the good side of typical (1 and 10 days): no churn reason;
    # 6: 10 days is on the bad side; 7: never ordered, but a 5% churn probability
    assert done["reasons"].tolist() == ["", "Churn risk up: last order 10 days ago.", ""]
    assert out["reasons"].tolist() == ["", "", ""]  # a copy


def test_add_reasons_leaves_the_fallback_alone():
    out, prepared = scoring.score_table(FRAME, _fitted(True), 180, STAMP)
    assert scoring.add_reasons(out, prepared, _fitted(True), out.index, 3) is out


def test_finish_orders_columns_and_refuses_duplicates():
    out, _ = scoring.score_table(FRAME, _fitted(), 180, STAMP)
    done = scoring.finish(out)
    assert list(done.columns) == scoring.COLUMNS and done.index.tolist() == [0, 1, 2]
    with pytest.raises(DataError, match="customer twice"):
        scoring.finish(pd.concat([out, out]))


def test_in_sample_warning_when_the_models_saw_labels_past_the_as_of():
    fitted = SimpleNamespace(fallback=False, train_cutoffs=[pd.Timestamp("2025-06-30"),
                                                            pd.Timestamp("2025-09-30")])
    # the latest training labels end 2025-09-30 + 180 days = 2026-03-29
    assert scoring.in_sample_warning(fitted, pd.Timestamp("2026-03-29"), 180) is None
    warning = scoring.in_sample_warning(fitted, pd.Timestamp("2026-01-31"), 180)
    assert "up to 2026-03-29, after the as-of date 2026-01-31" in warning
    assert "in-sample" in warning and "as_of in configs/features.yaml" in warning
    assert scoring.in_sample_warning(SimpleNamespace(fallback=True, train_cutoffs=[]),
                                     pd.Timestamp("2020-01-01"), 180) is None


def test_baseline_warnings_name_models_that_lose_to_a_baseline():
    info = {"models": {
        "value": {"version": "4", "metric": "normalized_gini", "backtest_value": 0.90,
                  "best_baseline": "btyd", "baseline_value": 0.91},
        "churn": {"version": "5", "metric": "brier", "backtest_value": 0.08,
                  "best_baseline": "rfm", "baseline_value": 0.10},  # lower is better: fine
    }}
    assert scoring.baseline_warnings(info) == [
        "the value model v4 does not beat the best baseline btyd on the backtest "
        "(normalized_gini 0.9000 vs 0.9100); its scores are published because "
        "configs/model.yaml selection.publish forces it: see reports/backtest/report.md, or set "
        "it back to best"]
    info["models"]["churn"]["backtest_value"] = 0.12
    assert "churn model v5" in scoring.baseline_warnings(info)[1]
    info["models"]["churn"]["backtest_value"] = 0.10  # a tie does not lose
    assert len(scoring.baseline_warnings(info)) == 1
    info["models"]["value"]["baseline_value"] = None  # the published model is the baseline
    assert scoring.baseline_warnings(info) == []
    assert scoring.baseline_warnings({"models": {}}) == []
    assert scoring.baseline_warnings({"models": {"value": {"backtest_value": None}}}) == []

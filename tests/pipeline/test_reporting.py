"""The backtest report builders on hand-made summaries: best baseline, metrics file, plot
tables, model info and the Markdown report."""

import pandas as pd

from models.backtest import BacktestResult
from pipeline import reporting

SUMMARY = pd.DataFrame(
    {"normalized_gini": [0.60, 0.40, 0.50, float("nan")], "brier": [0.10, 0.20, 0.15, 0.12],
     "lift_share_top10": [0.25, float("nan"), float("nan"), float("nan")]},
    index=pd.Index(["lgbm_tweedie", "rfm", "last_period", "lgbm_churn"], name="model"),
)
GRADES = pd.DataFrame({"beats": [True, False], "text": ["gini beats rfm", "brier loses"]})
INFO = {"run_id": "r1", "horizon_days": 180, "objective": "tweedie", "best_objective": "hurdle",
        "oracle_share": {"lgbm_tweedie": 0.8, "lgbm_hurdle": float("nan")},
        "models": {"value": {"name": "customer-value", "version": "3", "promoted": True,
                             "backtest_value": 0.6, "reason": "beats the baselines"}},
        "backtest_messages": ["fold 1 skipped"], "message": "ok",
        "selection": {"value": {"text": "value: blend publishes (normalized_gini 0.6100 on 2 "
                                        "fold(s), +0.0100 over lgbm_tweedie)"}}}


def _result(summary=SUMMARY, predictions=None) -> BacktestResult:
    empty = pd.DataFrame()
    return BacktestResult(empty, summary, empty, "tweedie", {"lgbm_tweedie": 0.8},
                          empty if predictions is None else predictions, ["note"])


def test_backtest_tables_put_the_model_first():
    tables = reporting.backtest_tables(_result())
    assert list(tables) == ["metrics", "summary", "grades", "predictions"]
    assert tables["summary"].columns[0] == "model"
    assert tables["summary"]["model"].tolist() == list(SUMMARY.index)


def test_model_info_records_run_models_and_backtest_notes():
    from models.training import FittedModels

    fitted = FittedModels(None, None, ["f"], "tweedie", 180, False, fallback=True, message="short")
    info = reporting.model_info(run_id="r", tracking_uri="sqlite:///x.db", trained_at="t",
                                horizon=180, fitted=fitted, result=_result(), registered={},
                                versions={"numpy": "2"})
    assert info["run_id"] == "r" and info["fallback"] is True and info["message"] == "short"
    assert info["oracle_share"] == {"lgbm_tweedie": 0.8} and info["backtest_messages"] == ["note"]
    assert info["models"] == {} and info["versions"] == {"numpy": "2"}


def test_metrics_json_drops_missing_metrics_and_adds_gate():
    data = reporting.metrics_json(SUMMARY, INFO)
    assert data["lgbm_churn"] == {"brier": 0.12}
    assert data["rfm"] == {"normalized_gini": 0.40, "brier": 0.20}
    assert data["gate"] == {"value": {"promoted": 1, "backtest_value": 0.6}}
    assert data["oracle_share_top10"] is INFO["oracle_share"]


def test_plot_frames_have_every_dvc_column_even_without_predictions():
    frames = reporting.plot_frames(pd.DataFrame())
    assert list(frames) == ["gain", "calibration", "deciles"]
    for name, frame in frames.items():
        assert frame.empty
        x = reporting.PLOT_AXES[name][0]
        assert set(reporting.PLOT_COLUMNS[name]) | {x} <= set(frame.columns)
    assert list(frames["calibration"].columns[:2]) == ["bin", "predicted"]


def test_plot_frames_pivot_one_column_per_model():
    predictions = pd.DataFrame({"future_spend": [10.0, 0.0], "churned": [0, 1],
                                "rfm_value": [2.0, 1.0], "rfm_churn": [0.05, 0.95]})
    frames = reporting.plot_frames(predictions)
    gain = frames["gain"]
    assert gain["rfm"].iloc[-1] == 1.0 and gain["oracle"].isna().all()
    calibration = frames["calibration"]
    assert calibration["bin"].tolist() == [0, 9]
    assert calibration["predicted"].tolist() == [0.05, 0.95]  # the bins' centres
    assert calibration["rfm"].tolist() == [0.0, 1.0]


def test_report_markdown_has_tables_grades_gate_and_notes():
    text = reporting.report_markdown(SUMMARY, GRADES, INFO)
    assert "| lgbm_tweedie | 0.600 |" in text
    assert "| lgbm_churn | 0.120 |" in text  # churn table: brier only
    assert "- PASS: gini beats rfm" in text and "- FAIL: brier loses" in text
    # what publishes, in the selection's own words
    assert "## What publishes\n\n- value: blend publishes (normalized_gini 0.6100" in text
    # the lift share against the status quo, not the old share of the oracle's capture
    assert "| lgbm_tweedie | 0.250 |" in text and "80.0%" not in text
    assert "- customer-value v3: promoted: beats the baselines" in text
    assert text.endswith("- fold 1 skipped\n")
    unregistered = reporting.report_markdown(SUMMARY, pd.DataFrame(), {"message": "short"})
    assert "- not registered: short" in unregistered and "## Notes" not in unregistered
    assert "- no selection: short" in unregistered

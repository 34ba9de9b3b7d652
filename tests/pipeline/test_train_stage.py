"""The train and evaluate stages on a tiny project (tests/pipeline/conftest.py): artifacts,
the MLflow run, registration, the champion gate, metrics, plot data and the report."""

import json

import joblib
import pandas as pd
import pytest

from pipeline import reporting
from pipeline.config import load_settings
from pipeline.files import CALIBRATION_CURVE, FEATURE_CATALOGUE, GAIN_CURVE, importance_plot
from pipeline.stages import evaluate
from pipeline.tracking.names import PLOTS_ARTIFACT_DIR, gate_tag


def _paths(root):
    settings = load_settings(root / "configs")
    return settings, settings.pipeline.paths


def test_train_writes_the_artifacts(trained_project):
    settings, paths = _paths(trained_project)
    artifacts = settings.path(paths.artifacts_dir)
    info = json.loads((artifacts / reporting.MODEL_INFO).read_text())
    assert info["run_id"] and info["horizon_days"] == 180 and not info["fallback"]
    fitted = joblib.load(artifacts / reporting.FITTED_MODELS)
    assert fitted.features == json.loads((artifacts / "features.json").read_text())
    metrics = pd.read_parquet(artifacts / "backtest_metrics.parquet")
    assert {"fold", "cutoff", "model", "metric", "value"} <= set(metrics.columns)
    assert {"lgbm_tweedie", "lgbm_churn", "last_period"} <= set(metrics["model"])
    assert len(pd.read_parquet(artifacts / "backtest_predictions.parquet")) > 0


def test_second_identical_run_registers_but_does_not_move_the_champion(trained_project):
    import mlflow

    from pipeline import tracking

    settings, paths = _paths(trained_project)
    info = json.loads((settings.path(paths.artifacts_dir) / reporting.MODEL_INFO).read_text())
    tracking.configure(settings.pipeline.tracking, settings.root)
    client = mlflow.MlflowClient()
    for kind, name in (("value", "customer-value"), ("churn", "churn-risk")):
        model = info["models"][kind]
        assert model["name"] == name and model["version"] == "2"
        assert not model["promoted"] and "champion" in model["reason"]
        assert str(client.get_model_version_by_alias(name, "champion").version) == "1"
    run = client.get_run(info["run_id"])
    assert run.data.tags[gate_tag("value")].startswith("not promoted")
    assert run.data.params["model.value.params.n_estimators"] == "20"
    history = client.get_metric_history(info["run_id"], "lgbm_tweedie.normalized_gini")
    steps = [m.step for m in history]
    assert sorted(steps) == [0, 1]
    logged = {a.path for a in client.list_artifacts(info["run_id"], PLOTS_ARTIFACT_DIR)}
    assert {f"{PLOTS_ARTIFACT_DIR}/{png}" for png in (
        GAIN_CURVE, CALIBRATION_CURVE, importance_plot("value"))} <= logged
    assert FEATURE_CATALOGUE in {a.path for a in client.list_artifacts(info["run_id"])}


def test_evaluate_writes_metrics_plot_data_and_report(trained_project):
    settings, paths = _paths(trained_project)
    metrics = json.loads((settings.path(paths.metrics_dir) / "backtest.json").read_text())
    assert 0 < metrics["lgbm_tweedie"]["normalized_gini"] <= 1
    assert "pr_auc" in metrics["lgbm_churn"]
    gain = pd.read_csv(settings.path(paths.plots_dir) / "gain.csv")
    assert list(gain.columns[:1]) == ["share_customers"]
    assert set(reporting.PLOT_COLUMNS["gain"]) <= set(gain.columns)  # dvc.yaml names them all
    assert gain["lgbm_tweedie"].iloc[-1] == pytest.approx(1.0) and gain["oracle"].isna().all()
    calibration = pd.read_csv(settings.path(paths.plots_dir) / "calibration.csv")
    assert calibration["predicted"].between(0, 1).all()
    report = (settings.path(paths.reports_dir) / "backtest" / "report.md").read_text()
    assert "| lgbm_tweedie |" in report and "| last_period |" in report
    assert "Grades against the best baseline" in report and "Champion gate" in report



def test_evaluate_without_any_backtest_fold_still_writes_every_output(tmp_path):
    """A history too short for the backtest: empty tables, yet dvc's outputs all exist."""
    import shutil
    from pathlib import Path

    from pipeline.storage import write_json, write_table

    shutil.copytree(Path(__file__).resolve().parents[2] / "configs", tmp_path / "configs")
    settings, paths = _paths(tmp_path)
    artifacts = settings.path(paths.artifacts_dir)
    write_table(pd.DataFrame({"model": pd.Series([], dtype="str")}),
                artifacts / "backtest_summary.parquet")
    for name in ("grades", "predictions"):
        write_table(pd.DataFrame(), artifacts / f"backtest_{name}.parquet")
    write_json({"run_id": "r", "models": {}, "message": "short history",
                "backtest_messages": ["no fold could be evaluated"]}, artifacts / reporting.MODEL_INFO)
    evaluate.main(settings)
    gain = pd.read_csv(settings.path(paths.plots_dir) / "gain.csv")
    assert gain.empty and set(reporting.PLOT_COLUMNS["gain"]) <= set(gain.columns)
    assert (settings.path(paths.plots_dir) / "calibration.csv").exists()
    assert json.loads((settings.path(paths.metrics_dir) / "backtest.json").read_text())["gate"] == {}
    report = (settings.path(paths.reports_dir) / "backtest" / "report.md").read_text()
    assert "not registered: short history" in report and "no fold could be evaluated" in report

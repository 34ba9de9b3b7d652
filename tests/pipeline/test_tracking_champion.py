"""The champion tags and checks on the tiny trained project (tests/pipeline/conftest.py):
what the train stage records on every registered version, and the score stage's champion
refused at another horizon."""

import json

import pandas as pd
import pytest

from pipeline import reporting, tracking
from pipeline.config import load_settings
from pipeline.errors import DataError


def test_registered_versions_record_their_backtest(trained_project):
    import mlflow

    settings = load_settings(trained_project / "configs")
    artifacts = settings.path(settings.pipeline.paths.artifacts_dir)
    info = json.loads((artifacts / reporting.MODEL_INFO).read_text())
    cutoffs = pd.read_parquet(artifacts / "backtest_metrics.parquet")["cutoff"]
    folds = ",".join(f"{c:%Y-%m-%d}" for c in sorted(pd.to_datetime(cutoffs.unique())))
    assert folds.count(",") == 1  # 2 folds
    tracking.configure(settings.pipeline.tracking, settings.root)
    client = mlflow.MlflowClient()
    for model in info["models"].values():
        for version in ("1", "2"):  # the second run met the first's backtest: compared
            tags = client.get_model_version(model["name"], version).tags
            assert tags["horizon_days"] == "180" and tags["backtest_folds"] == folds
            assert tags["last_train_cutoff"] == info["train_cutoffs"][-1][:10]
        assert "not comparable" not in model["reason"] and "champion" in model["reason"]


def test_load_champion_refuses_a_changed_horizon(trained_project):
    from pipeline.stages import score

    settings = load_settings(trained_project / "configs")
    with pytest.raises(DataError, match="trained at horizon 180 days but features.horizon_days "
                                        "is 365: set features.horizon_days back to 180"):
        score.load_champion(settings, 365)
    fitted, stamp = score.load_champion(settings, 180)
    assert fitted.horizon_days == 180 and str(stamp["value"]) == "1"

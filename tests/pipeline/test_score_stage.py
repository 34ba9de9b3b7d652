"""The score stage: one row per customer known at the as-of date, ids kept exactly, model
versions stamped, reasons only for the accounts that need them; past as-of dates; champion."""

import pandas as pd
import pytest

from pipeline import scoring
from pipeline.config import load_settings
from pipeline.stages import score


def _run(root, **kwargs) -> pd.DataFrame:
    settings = load_settings(root / "configs")
    score.main(settings, **kwargs)
    return pd.read_parquet(settings.path(settings.pipeline.paths.scores_dir) / "scores.parquet")


def _known(root, as_of) -> set[str]:
    tx = pd.read_parquet(root / "data" / "validated" / "transactions.parquet")
    return set(tx.loc[tx["order_date"] <= as_of, "customer_id"])


def test_one_row_per_customer_known_at_the_latest_as_of(trained_project, caplog):
    import json

    with caplog.at_level("INFO", logger="keyaccounts"):
        scores = _run(trained_project)
    assert list(scores.columns) == scoring.COLUMNS
    as_of = scores["as_of"].iloc[0]
    assert scores["customer_id"].is_unique
    assert set(scores["customer_id"]) == _known(trained_project, as_of)
    assert scores["customer_id"].str.match(r"^C\d{5}$").all()  # leading zeros kept
    assert (scores["horizon_days"] == 180).all()
    assert scores["expected_value"].ge(0).all()
    assert scores["churn_probability"].between(0, 1).all()
    assert scores["value_at_risk"].ge(0).all()
    assert scores["value_at_risk"].gt(0).any()  # current spend x churn risk (models.training)
    assert (scores["last_order_date"] <= as_of).all()
    run = json.loads((trained_project / "artifacts" / "model_info.json").read_text())["run_id"]
    assert (scores["value_model_version"] == "2").all() and (scores["value_run_id"] == run).all()
    assert (scores["churn_model_version"] == "2").all() and (scores["churn_run_id"] == run).all()
    assert f"value model 2 (run {run}), churn model 2 (run {run})" in caplog.text
    csv_path = trained_project / "data" / "scores" / "scores.csv"
    csv = pd.read_csv(csv_path, dtype={"customer_id": str})
    assert csv["customer_id"].tolist() == scores["customer_id"].tolist()


def test_capped_reasons_only_for_top_value_and_top_risk_accounts(trained_project):
    # tests/pipeline/conftest.py caps reasons at 10 + 10 accounts
    scores = _run(trained_project)
    explained = scores["reasons"] != ""
    wanted = set(scores.nlargest(10, "expected_value").index) | set(
        scores.nlargest(10, "value_at_risk").index)
    assert set(scores.index[explained]) == wanted
    assert scores.loc[explained, "reasons"].str.contains("Value (?:up|down):").all()


def test_by_default_every_account_of_the_lists_has_reasons(trained_project, tmp_path):
    import shutil

    import yaml

    from pipeline.stages import tier

    root = tmp_path / "p"
    shutil.copytree(trained_project, root)
    config = root / "configs" / "pipeline.yaml"
    content = yaml.safe_load(config.read_text())
    content["score"].pop("reasons_top_value")
    content["score"].pop("reasons_top_risk")  # the defaults: no cap
    config.write_text(yaml.safe_dump(content))
    scores = _run(root)
    assert (scores["reasons"] != "").all()
    assert not scores["reasons"].str.contains("unknown|{|_", regex=True).any()
    churn = scores["reasons"].str.contains("Churn risk up:")
    assert not (churn & (scores["churn_probability"] < 0.1)).any()
    tier.main(load_settings(root / "configs"))
    tiers = pd.read_parquet(root / "data" / "tiers" / "tiers.parquet")
    assert (tiers["tier"] == "strategic").any()
    assert (tiers["reasons"].fillna("") != "").all()  # strategic, key, growth and the rest


def test_a_past_as_of_rebuilds_features_at_that_date(trained_project, caplog):
    as_of = pd.Timestamp("2024-06-30")
    with caplog.at_level("WARNING", logger="keyaccounts"):
        scores = _run(trained_project, as_of=as_of.date())
    assert "these scores are in-sample" in caplog.text  # 2024-06-30 is a training cutoff
    assert (scores["as_of"] == as_of).all()
    assert set(scores["customer_id"]) == _known(trained_project, as_of)
    assert (scores["last_order_date"] <= as_of).all()


@pytest.mark.integration
def test_champion_source_scores_with_the_registry_models(trained_project, tmp_path):
    import shutil

    import mlflow
    import yaml

    from pipeline import tracking

    root = tmp_path / "p"
    shutil.copytree(trained_project, root)
    config = root / "configs" / "pipeline.yaml"
    content = yaml.safe_load(config.read_text())
    content["score"]["model_source"] = "champion"
    config.write_text(yaml.safe_dump(content))
    scores = _run(root)
    assert (scores["value_model_version"] == "1").all()
    settings = load_settings(root / "configs")
    tracking.configure(settings.pipeline.tracking, settings.root)
    client = mlflow.MlflowClient()
    for kind, name in (("value", "customer-value"), ("churn", "churn-risk")):
        champion = client.get_model_version_by_alias(name, "champion")
        assert (scores[f"{kind}_model_version"] == str(champion.version)).all()
        assert (scores[f"{kind}_run_id"] == champion.run_id).all()
    artifacts = _run(trained_project)  # same data, same models: champion v1 == this run's v2
    pd.testing.assert_series_equal(scores["expected_value"], artifacts["expected_value"])


@pytest.mark.integration
def test_champion_loads_and_predicts_in_a_fresh_process(trained_project):
    import subprocess
    import sys

    code = """
import os, sys
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
import mlflow, pandas as pd
mlflow.set_tracking_uri(sys.argv[1])
model = mlflow.pyfunc.load_model("models:/customer-value@champion")
frame = pd.read_parquet(sys.argv[2])
X = frame[model.metadata.get_input_schema().input_names()]
X = X.astype({c: "str" for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)})
print(len(model.predict(X)))
"""
    uri = f"sqlite:///{trained_project / 'mlflow.db'}"
    frame = trained_project / "data" / "features" / "scoring_frame.parquet"
    done = subprocess.run([sys.executable, "-c", code, uri, str(frame)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip().splitlines()[-1]) == len(pd.read_parquet(frame))

"""The champion tags and checks on the tiny trained project (tests/pipeline/conftest.py):
what the train stage records on every registered version, and the score stage's champion
refused at another horizon (pipeline.models_io). Then, with BTYD features on: the registered
models score a frame's rows alone exactly as the pipeline does, load_champion scores as the
artifacts, and champions of two runs each keep their own BTYD parameters and run id."""

import json

import numpy as np
import pandas as pd
import pytest

from pipeline import models_io, reporting, tracking
from pipeline.config import load_settings
from pipeline.errors import ConfigError
from pipeline.tracking.names import CANDIDATE_TAG, FOLDS_TAG, HORIZON_TAG, LAST_CUTOFF_TAG


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
    for kind, model in info["models"].items():
        # the folds of the selection's means: those every candidate was scored on (the blend
        # has none on the first fold)
        chosen = ",".join(info["selection"][kind]["cutoffs"])
        assert chosen and set(chosen.split(",")) <= set(folds.split(","))
        for version in ("1", "2"):  # the second run met the first's backtest: compared
            tags = client.get_model_version(model["name"], version).tags
            assert tags[HORIZON_TAG] == "180" and tags[FOLDS_TAG] == chosen
            assert tags[CANDIDATE_TAG] == info["published"][kind] == model["candidate"]
            assert tags[LAST_CUTOFF_TAG] == info["train_cutoffs"][-1][:10]
        assert "not comparable" not in model["reason"] and "champion" in model["reason"]


def test_load_champion_refuses_a_changed_horizon(trained_project):
    settings = load_settings(trained_project / "configs")
    with pytest.raises(ConfigError, match="trained at horizon 180 days but features.horizon_days "
                                        "is 365: set features.horizon_days back to 180"):
        models_io.load_champion(settings, 365)
    fitted, stamp = models_io.load_champion(settings, 180)
    assert fitted.horizon_days == 180 and str(stamp["value"]) == "1"


# --- self-contained registered models (BTYD features on) ---------------------------------

def _result(gini: float, pr_auc: float):
    """A backtest result of two folds in which the models beat the baseline last_period."""
    from models.backtest import BacktestResult

    folds = pd.to_datetime(["2024-05-31", "2024-06-30"])
    metrics = pd.DataFrame({"fold": [0, 1], "cutoff": folds, "model": "lgbm_tweedie",
                            "metric": "normalized_gini", "value": gini})
    summary = pd.DataFrame({"normalized_gini": {"lgbm_tweedie": gini, "last_period": 0.1},
                            "pr_auc": {"lgbm_churn": pr_auc, "last_period": 0.1},
                            "pr_auc_active": {"lgbm_churn": pr_auc, "last_period": 0.1}})
    return BacktestResult(metrics, summary, pd.DataFrame(), "tweedie", {}, pd.DataFrame())


@pytest.fixture(scope="module")
def btyd_registry(tmp_path_factory):
    """A tiny project (tests/pipeline/conftest.py) with BTYD features: the features stage, then
    the final models fitted as the train stage fits them (BTYD step on the scoring frame) and
    registered as champions in a store of its own. Returns (settings, scoring frame, fitted,
    training set, model config)."""
    import mlflow

    from models.config import GateConfig
    from models.training import fit_models
    from pipeline.stages import features
    from tests.pipeline.conftest import make_project

    root = make_project(tmp_path_factory.mktemp("btyd"))
    settings = load_settings(root / "configs")
    features.main(settings)
    folder = settings.path(settings.pipeline.paths.features_dir)
    training = pd.read_parquet(folder / "training_set.parquet")
    scoring_frame = pd.read_parquet(folder / "scoring_frame.parquet")
    config = settings.model.model_copy(update={"btyd_features": True})
    fitted = fit_models(training, config, 180, population=scoring_frame)
    tracking.configure(settings.pipeline.tracking, settings.root)
    with mlflow.start_run():
        registered = tracking.register_models(fitted, training, config, 180, _result(0.5, 0.5),
                                              settings.pipeline.tracking, GateConfig(),
                                              ["last_period"])
    assert all(m["promoted"] for m in registered.values())
    return settings, scoring_frame, fitted, training, config


def test_the_registered_champion_scores_rows_alone_as_the_pipeline_does(btyd_registry):
    import mlflow

    from pipeline import scoring

    settings, frame, fitted, _, _ = btyd_registry
    tracking.configure(settings.pipeline.tracking, settings.root)
    scores, _ = scoring.score_table(frame, fitted, 180, scoring.make_stamp("1", "r", "1", "r"))
    rows = frame.index[[0, 13, 77, 150, 299]]
    for name, column in (("customer-value", "expected_value"),
                         ("churn-risk", "churn_probability")):
        model = mlflow.pyfunc.load_model(f"models:/{name}@champion")
        assert model.metadata.get_input_schema().input_names() == tracking.serving_input(
            frame).columns.tolist()  # the raw feature columns, no BTYD output
        alone = model.predict(tracking.serving_input(frame.loc[rows]))
        inside = model.predict(tracking.serving_input(frame))[frame.index.get_indexer(rows)]
        np.testing.assert_array_equal(alone, inside)
        np.testing.assert_allclose(alone, scores.loc[rows, column].to_numpy(), rtol=1e-12)


def test_load_champion_scores_exactly_as_the_artifacts(btyd_registry):
    from pipeline import scoring

    settings, frame, fitted, _, _ = btyd_registry
    tracking.configure(settings.pipeline.tracking, settings.root)
    champion, stamp = tracking.load_champion(settings.pipeline.tracking, 180)
    assert champion.churn_input is None and champion.btyd.params_ == fitted.btyd.params_
    assert stamp["value"] == stamp["churn"] == "1"
    assert stamp["value_run_id"] == stamp["churn_run_id"] != ""
    ours, _ = scoring.score_table(frame, champion, 180, stamp)
    theirs, _ = scoring.score_table(frame, fitted, 180, stamp)
    pd.testing.assert_frame_equal(ours, theirs)
    assert (ours["value_run_id"] == stamp["value_run_id"]).all()


def test_champions_of_two_runs_each_keep_their_own_btyd_parameters(btyd_registry, tmp_path):
    import shutil

    import mlflow

    from models.config import GateConfig
    from models.training import fit_models
    from pipeline import scoring

    settings, frame, fitted, training, config = btyd_registry
    store = tmp_path / "mlflow.db"  # a copy: the other tests keep one champion run
    shutil.copy(settings.root / "mlflow.db", store)
    track = settings.pipeline.tracking.model_copy(update={"tracking_uri": f"sqlite:///{store}"})
    tracking.configure(track, settings.root)
    later = fit_models(training, config, 180)  # BTYD step on the latest cutoff: other params
    assert later.btyd.params_ != fitted.btyd.params_
    with mlflow.start_run():  # a better churn model only: the value champion stays v1
        churn = tracking.register_gated("churn", later, training.head(50)[
            tracking.serving_input(training).columns], _result(0.5, 0.9), track, GateConfig(),
            ["last_period"], 180)
    assert churn["promoted"] and churn["version"] == "2"
    champion, stamp = tracking.load_champion(track, 180)
    assert (stamp["value"], stamp["churn"]) == ("1", "2")
    assert stamp["value_run_id"] != stamp["churn_run_id"]
    assert champion.churn_input is not None
    assert champion.churn_input.btyd.params_ == later.btyd.params_
    scores, prepared = scoring.score_table(frame, champion, 180, stamp)
    np.testing.assert_array_equal(scores["expected_value"], fitted.predict(frame)["expected_value"])
    np.testing.assert_array_equal(scores["churn_probability"],
                                  later.predict(frame)["churn_probability"])
    pyfunc = mlflow.pyfunc.load_model("models:/churn-risk@champion")
    np.testing.assert_allclose(pyfunc.predict(tracking.serving_input(frame.head(5))),
                               scores["churn_probability"].head(5), rtol=1e-12)
    assert (scores["churn_run_id"] == stamp["churn_run_id"]).all()
    done = scoring.add_reasons(scores, prepared, champion, scores.index[:20], 3)
    assert done["reasons"].head(20).str.contains("Value (?:up|down):").any()

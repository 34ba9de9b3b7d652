"""MLflow helpers: URI resolution, params flattening, the champion gate, the serving wrapper,
and logging + registering + aliasing a tiny model in a temporary SQLite store; the champion
is compared only on the same backtest, and loaded only at its own horizon."""

import logging

import numpy as np
import pandas as pd
import pytest

from models.backtest import BacktestResult
from models.config import GateConfig
from models.training import FittedModels
from models.value import ValueModel
from pipeline import tracking
from pipeline.config.paths import TrackingConfig
from pipeline.errors import ConfigError, DataError, NoChampion
from pipeline.progress import logger
from pipeline.tracking.names import (
    ARTIFACT_ROOT_DIR,
    FOLDS_TAG,
    GATE_METRIC_TAG,
    GATE_VALUE_TAG,
    GIT_COMMIT_TAG,
    HORIZON_TAG,
    LAST_CUTOFF_TAG,
    RUN_NAME_TAG,
)

FOLDS_A = ["2024-06-30", "2024-07-31"]
FOLDS_B = ["2024-07-31", "2024-08-31"]  # one month later: new data, another backtest


def test_relative_sqlite_uri_is_resolved_against_the_root(tmp_path):
    resolved = tracking.resolve_uri("sqlite:///mlflow.db", tmp_path)
    assert resolved == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    assert tracking.resolve_uri("sqlite:////abs/m.db", tmp_path) == "sqlite:////abs/m.db"
    assert tracking.resolve_uri("http://127.0.0.1:5000", tmp_path) == "http://127.0.0.1:5000"


def test_flatten_nests_with_dots_and_joins_lists():
    nested = {"value": {"params": {"num_leaves": 7}}, "objectives": ("a", "b")}
    params = tracking.flatten(nested, "model")
    assert params == {"model.value.params.num_leaves": "7", "model.objectives": "a,b"}


@pytest.mark.parametrize(
    "new, baseline, champion, metric, promote, says",
    [
        (0.60, 0.50, None, "pr_auc", True, "no champion yet"),
        (0.60, 0.50, 0.55, "pr_auc", True, "beats the champion"),
        (0.60, 0.50, 0.60, "pr_auc", False, "current champion"),  # a tie does not move the alias
        (0.45, 0.50, None, "pr_auc", False, "best baseline last_period"),
        (0.10, 0.12, 0.11, "brier", True, "beats the champion"),  # lower is better
        (0.12, 0.10, None, "brier", False, "best baseline last_period"),
        (float("nan"), 0.5, None, "pr_auc", False, "no backtest value"),
    ],
)
def test_gate(new, baseline, champion, metric, promote, says):
    decision = tracking.gate(metric, new, baseline, "last_period", champion)
    assert decision.promote is promote
    assert says in decision.reason


def test_gate_margin_must_be_exceeded():
    assert not tracking.gate("m", 0.52, 0.50, "b", None, min_margin=0.05).promote
    assert tracking.gate("m", 0.56, 0.50, "b", None, min_margin=0.05).promote


NOT_COMPARED = "champion v3's backtest is not comparable: ...; compared with the best baseline only"


@pytest.mark.parametrize(
    "new, promote, says",
    [
        (0.60, True, "m 0.6000 beats the best baseline b (0.5000); " + NOT_COMPARED),
        (0.45, False, "m 0.4500 does not beat the best baseline b (0.5000) by more than 0.0; "
                      + NOT_COMPARED),
    ],
)
def test_gate_without_a_comparable_champion_decides_on_the_baseline(new, promote, says):
    decision = tracking.gate("m", new, 0.50, "b", None, not_compared=NOT_COMPARED)
    assert decision.promote is promote
    assert decision.reason == says


def test_gate_without_a_comparable_champion_still_needs_the_margin():
    assert not tracking.gate("m", 0.52, 0.50, "b", None, min_margin=0.05,
                             not_compared=NOT_COMPARED).promote
    assert tracking.gate("m", 0.56, 0.50, "b", None, min_margin=0.05,
                         not_compared=NOT_COMPARED).promote


def _tags(metric="gini", value=0.9, horizon=180, folds=FOLDS_A):
    return {GATE_METRIC_TAG: metric, GATE_VALUE_TAG: repr(value), HORIZON_TAG: str(horizon),
            FOLDS_TAG: ",".join(folds)}


def test_champion_on_the_same_backtest_is_compared():
    assert tracking.champion_comparison("3", _tags(), "gini", 180, FOLDS_A) == (0.9, None)


@pytest.mark.parametrize(
    "tags, horizon, folds, says",
    [
        (_tags(horizon=365), 180, FOLDS_A,
         "champion v3's backtest is not comparable: it was backtested on folds 2024-06-30, "
         "2024-07-31 with horizon 365 days, this run on folds 2024-06-30, 2024-07-31 with "
         "horizon 180 days; compared with the best baseline only"),
        (_tags(), 180, FOLDS_B,
         "champion v3's backtest is not comparable: it was backtested on folds 2024-06-30, "
         "2024-07-31 with horizon 180 days, this run on folds 2024-07-31, 2024-08-31 with "
         "horizon 180 days; compared with the best baseline only"),
        (_tags(folds=["2024-01-31", "2024-03-31", "2024-05-31", "2024-07-31"]), 180,
         ["2024-05-31", "2024-06-30", "2024-07-31"],
         "on 4 folds 2024-01-31..2024-07-31 with horizon 180 days, this run on 3 folds "
         "2024-05-31..2024-07-31 with"),
        (_tags(folds=["2024-01-31", "2024-03-31", "2024-07-31"]), 180,
         ["2024-01-31", "2024-04-30", "2024-07-31"],  # same ends and count: listed in full
         "on folds 2024-01-31, 2024-03-31, 2024-07-31 with horizon 180 days, this run on "
         "folds 2024-01-31, 2024-04-30, 2024-07-31"),
        ({GATE_METRIC_TAG: "gini", GATE_VALUE_TAG: "0.9"}, 180, FOLDS_A,  # registered before
         "champion v3's backtest is not comparable: its version does not record the horizon"),
        (_tags(metric="pr_auc"), 180, FOLDS_A,
         "champion v3 has no backtest value of gini (it was gated on pr_auc); compared with "
         "the best baseline only"),
    ],
)
def test_champion_on_another_backtest_is_not_compared(tags, horizon, folds, says):
    value, why = tracking.champion_comparison("3", tags, "gini", horizon, folds)
    assert value is None
    assert says in why and why.endswith("compared with the best baseline only")


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame({
        "spend": rng.gamma(2.0, 100.0, n),
        "region": pd.Categorical(rng.choice(["north", "south", "east"], n)),
    })
    y = X["spend"] * (rng.random(n) > 0.3) * np.where(X["region"] == "north", 2.0, 1.0)
    model = ValueModel(n_estimators=10, num_leaves=4, min_child_samples=5, n_jobs=1).fit(X, y)
    return model, X


def test_serving_model_turns_strings_back_into_the_training_categories(tiny):
    model, X = tiny
    serving = tracking.ServingModel(model).fit(X)
    as_strings = tracking.serving_example(X, rows=50)
    assert as_strings["region"].dtype == "str"
    np.testing.assert_allclose(serving.predict(as_strings), model.predict(X.head(50)))
    assert serving.categories_ == {"region": list(X["region"].cat.categories)}


def test_log_register_and_alias_gate_in_a_sqlite_store(tiny, tmp_path):
    import mlflow

    model, X = tiny
    config = TrackingConfig(tracking_uri="sqlite:///store.db", experiment="t")
    tracking.configure(config, tmp_path)
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path.resolve()}/store.db"
    folds = ["2024-06-30", "2024-07-31"]
    assert tracking.champion_score("tv", "champion", "gini", 180, folds) == (None, None, None)
    with mlflow.start_run():
        info = tracking.log_model(model, X, "value_model", "predict", "tv")
        tracking.log_fold_metrics(pd.DataFrame(
            {"fold": [0, 1], "model": "m", "metric": "gini", "value": [0.4, 0.6]}))
    version = str(info.registered_model_version)
    assert version == "1"
    tracking.tag_version("tv", version, "gini", 0.5, 180, folds)
    tags = mlflow.MlflowClient().get_model_version("tv", version).tags
    assert tags[HORIZON_TAG] == "180" and tags[FOLDS_TAG] == "2024-06-30,2024-07-31"
    tracking.set_alias("tv", version, "champion")
    assert tracking.champion_score("tv", "champion", "gini", 180, folds) == ("1", 0.5, None)
    _, value, why = tracking.champion_score("tv", "champion", "pr_auc", 180, folds)
    assert value is None and "no backtest value of pr_auc (it was gated on gini)" in why
    _, value, why = tracking.champion_score("tv", "champion", "gini", 365, folds)
    assert value is None and "not comparable" in why
    history = mlflow.MlflowClient().get_metric_history(info.run_id, "m.gini")
    assert [(m.step, m.value) for m in history] == [(0, 0.4), (1, 0.6)]
    loaded = mlflow.pyfunc.load_model("models:/tv@champion")
    example = tracking.serving_example(X, rows=20)
    np.testing.assert_allclose(loaded.predict(example), model.predict(X.head(20)))
    requirements = (tmp_path / ARTIFACT_ROOT_DIR).rglob("requirements.txt")
    assert any("lightgbm==" in p.read_text() for p in requirements)


TRACK = TrackingConfig(tracking_uri="sqlite:///store.db", experiment="t",
                       value_model_name="tv", churn_model_name="tc")


def _register(tiny, new: float, folds: list[str], horizon: int, baseline: float = 0.5) -> dict:
    """register_gated of the tiny value model, its backtest mean of normalized_gini `new`
    over `folds` (best baseline last_period at `baseline`), in a run of its own."""
    import mlflow

    model, X = tiny
    metrics = pd.DataFrame({"fold": range(len(folds)), "cutoff": pd.to_datetime(folds),
                            "model": "lgbm_tweedie", "metric": "normalized_gini", "value": new})
    summary = pd.DataFrame({"normalized_gini": {"lgbm_tweedie": new, "last_period": baseline,
                                                "rfm": baseline - 0.1}})
    result = BacktestResult(metrics, summary, pd.DataFrame(), "tweedie", {}, pd.DataFrame())
    fitted = FittedModels(model, None, list(X.columns), "tweedie", horizon, False,
                          train_cutoffs=[pd.Timestamp("2024-05-31")])
    with mlflow.start_run():
        return tracking.register_gated("value", fitted, X, result, TRACK, GateConfig(),
                                       ["last_period", "rfm"], horizon)


def _champion() -> str:
    import mlflow

    return str(mlflow.MlflowClient().get_model_version_by_alias("tv", "champion").version)


@pytest.mark.parametrize(
    "horizon, folds, promote, says",
    [
        # same backtest: compared with the champion as before, 0.58 < 0.60 keeps v1
        (180, FOLDS_A, False, "normalized_gini 0.5800 does not beat the current champion "
                              "(0.6000) by more than 0.0"),
        # another horizon / later folds: 0.60 was not measured on this backtest
        (365, FOLDS_A, True, "normalized_gini 0.5800 beats the best baseline last_period "
                             "(0.5000); champion v1's backtest is not comparable: it was "
                             "backtested on folds 2024-06-30, 2024-07-31 with horizon 180 days, "
                             "this run on folds 2024-06-30, 2024-07-31 with horizon 365 days; "
                             "compared with the best baseline only"),
        (180, FOLDS_B, True, "champion v1's backtest is not comparable: it was backtested on "
                             "folds 2024-06-30, 2024-07-31 with horizon 180 days, this run on "
                             "folds 2024-07-31, 2024-08-31 with horizon 180 days; compared "
                             "with the best baseline only"),
    ],
)
def test_register_gated_compares_the_champion_only_on_the_same_backtest(
        tiny, tmp_path, horizon, folds, promote, says):
    import mlflow

    tracking.configure(TRACK, tmp_path)
    first = _register(tiny, 0.60, FOLDS_A, 180)
    assert first["promoted"] and first["reason"].endswith("no champion yet")
    second = _register(tiny, 0.58, folds, horizon)
    assert second["promoted"] is promote
    assert says in second["reason"]
    assert second["previous_champion"] == "1"
    assert second["champion_value"] == (None if promote else 0.60)
    assert _champion() == ("2" if promote else "1")
    tags = mlflow.MlflowClient().get_model_version("tv", "2").tags
    assert tags[HORIZON_TAG] == str(horizon) and tags[FOLDS_TAG] == ",".join(folds)
    assert tags[GATE_METRIC_TAG] == "normalized_gini" and float(tags[GATE_VALUE_TAG]) == 0.58


def test_a_champion_on_another_backtest_does_not_let_a_model_below_the_baseline_through(
        tiny, tmp_path):
    tracking.configure(TRACK, tmp_path)
    assert _register(tiny, 0.60, FOLDS_A, 180)["promoted"]
    later = _register(tiny, 0.45, FOLDS_B, 180)
    assert not later["promoted"] and _champion() == "1"
    assert "does not beat the best baseline last_period (0.5000)" in later["reason"]
    assert "champion v1's backtest is not comparable" in later["reason"]
    # the same backtest again: the new champion's value is what counts
    again = _register(tiny, 0.65, FOLDS_A, 180)
    assert again["promoted"] and "beats the champion (0.6000)" in again["reason"]


@pytest.fixture
def champions(tiny, tmp_path):
    """The tiny model registered as champion of both "tv" and "tc" at horizon 180."""
    import mlflow

    model, X = tiny
    tracking.configure(TRACK, tmp_path)
    for name in ("tv", "tc"):
        with mlflow.start_run():
            info = tracking.log_model(model, X, "model", "predict", name)
        tracking.tag_version(name, str(info.registered_model_version), "gini", 0.6, 180, FOLDS_A)
        tracking.set_alias(name, str(info.registered_model_version), "champion")
    return mlflow.MlflowClient()


def test_load_champion_refuses_another_horizon(champions):
    with pytest.raises(ConfigError) as error:
        tracking.load_champion(TRACK, 365)
    message = str(error.value)
    assert "\n" not in message
    assert message == ("champion tv v1 was trained at horizon 180 days but "
                       "features.horizon_days is 365: set features.horizon_days back to 180 "
                       "in configs/features.yaml, or train and promote a champion at horizon "
                       "365 days")
    fitted, stamp = tracking.load_champion(TRACK, 180)
    assert fitted.horizon_days == 180 and str(stamp["value"]) == str(stamp["churn"]) == "1"


def test_load_champion_checks_the_churn_champion_too(champions):
    champions.set_model_version_tag("tc", "1", HORIZON_TAG, "90")
    with pytest.raises(ConfigError, match="champion tc v1 was trained at horizon 90 days"):
        tracking.load_champion(TRACK, 180)


def test_load_champion_without_the_horizon_tag_warns_and_loads(champions, caplog,
                                                               monkeypatch):
    monkeypatch.setattr(logger, "propagate", True)  # the CLI may have turned it off
    for name in ("tv", "tc"):
        champions.delete_model_version_tag(name, "1", HORIZON_TAG)
    with caplog.at_level(logging.WARNING, logger="keyaccounts"):
        fitted, stamp = tracking.load_champion(TRACK, 365)
    assert fitted.horizon_days == 365 and str(stamp["value"]) == "1"
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("champion tv v1 has no horizon_days tag" in w for w in warned)
    assert any("champion tc v1 has no horizon_days tag" in w for w in warned)


def test_load_champion_without_a_champion_is_one_clear_error(tmp_path):
    tracking.configure(TRACK, tmp_path)
    with pytest.raises(NoChampion, match=r"no version of tv holds the alias @champion at .*"
                                         r"set score.model_source: artifacts"):
        tracking.load_champion(TRACK, 180)


def test_load_champion_knows_when_its_labels_end(champions):
    # the version records its latest training cutoff; a score at an earlier date is in-sample
    from pipeline import scoring

    fitted, _ = tracking.load_champion(TRACK, 180)
    assert fitted.train_cutoffs == []  # not recorded: nothing to warn about
    for name in ("tv", "tc"):
        champions.set_model_version_tag(name, "1", LAST_CUTOFF_TAG, "2025-06-30")
    fitted, _ = tracking.load_champion(TRACK, 180)
    assert fitted.train_cutoffs == [pd.Timestamp("2025-06-30")]
    assert "in-sample" in scoring.in_sample_warning(fitted, pd.Timestamp("2025-09-30"), 180)
    assert scoring.in_sample_warning(fitted, pd.Timestamp("2025-12-27"), 180) is None


def test_a_serving_model_registered_before_the_btyd_step_travelled_is_refused(tiny):
    model, X = tiny
    serving = tracking.ServingModel(model, features=["spend", "btyd_expected_spend"]).fit(X)
    with pytest.raises(DataError, match="champion tv v3 uses BTYD features but was registered "
                                        "before its fitted BTYD parameters"):
        tracking.serving_model_input(serving, "tv v3")
    plain = tracking.serving_model_input(tracking.ServingModel(model).fit(X), "tv v3")
    assert plain.features == ["spend", "region"] and plain.btyd is None


def test_the_tags_mlflow_itself_reads_are_spelt_as_mlflow_spells_them():
    from mlflow.utils import mlflow_tags

    assert GIT_COMMIT_TAG == mlflow_tags.MLFLOW_GIT_COMMIT  # its UI shows the commit
    assert RUN_NAME_TAG == mlflow_tags.MLFLOW_RUN_NAME

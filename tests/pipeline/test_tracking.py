"""MLflow helpers: URI resolution, params flattening, the champion gate, the serving wrapper,
and logging + registering + aliasing a tiny model in a temporary SQLite store."""

import numpy as np
import pandas as pd
import pytest

from models.value import ValueModel
from pipeline import tracking
from pipeline.config.paths import TrackingConfig


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
    "new, baseline, champion, higher, promote, says",
    [
        (0.60, 0.50, None, True, True, "no champion yet"),
        (0.60, 0.50, 0.55, True, True, "beats the champion"),
        (0.60, 0.50, 0.60, True, False, "current champion"),  # a tie does not move the alias
        (0.45, 0.50, None, True, False, "best baseline last_period"),
        (0.10, 0.12, 0.11, False, True, "beats the champion"),  # lower is better (e.g. brier)
        (float("nan"), 0.5, None, True, False, "no backtest value"),
    ],
)
def test_gate(new, baseline, champion, higher, promote, says):
    decision = tracking.gate("m", new, baseline, "last_period", champion, higher)
    assert decision.promote is promote
    assert says in decision.reason


def test_gate_margin_must_be_exceeded():
    assert not tracking.gate("m", 0.52, 0.50, "b", None, min_margin=0.05).promote
    assert tracking.gate("m", 0.56, 0.50, "b", None, min_margin=0.05).promote


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
    assert tracking.champion_score("tv", "champion", "gini") == (None, None)
    with mlflow.start_run():
        info = tracking.log_model(model, X, "value_model", "predict", "tv")
        tracking.log_fold_metrics(pd.DataFrame(
            {"fold": [0, 1], "model": "m", "metric": "gini", "value": [0.4, 0.6]}))
    version = str(info.registered_model_version)
    assert version == "1"
    tracking.tag_version("tv", version, "gini", 0.5)
    tracking.set_alias("tv", version, "champion")
    assert tracking.champion_score("tv", "champion", "gini") == ("1", 0.5)
    assert tracking.champion_score("tv", "champion", "pr_auc") == ("1", None)  # other metric
    history = mlflow.MlflowClient().get_metric_history(info.run_id, "m.gini")
    assert [(m.step, m.value) for m in history] == [(0, 0.4), (1, 0.6)]
    loaded = mlflow.pyfunc.load_model("models:/tv@champion")
    example = tracking.serving_example(X, rows=20)
    np.testing.assert_allclose(loaded.predict(example), model.predict(X.head(20)))
    requirements = (tmp_path / "mlruns").rglob("requirements.txt")
    assert any("lightgbm==" in p.read_text() for p in requirements)

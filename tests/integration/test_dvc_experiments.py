"""The data scientist's DVC loop on a small generated project, as the README tells it:
`dvc repro`, commit dvc.lock with the metrics and plots, `dvc exp run -S` one parameter,
compare with `dvc exp show`, `dvc metrics diff`, `dvc exp diff` and `dvc plots diff`; then
bring your own export by editing configs/data.yaml.

To stay near a minute, `dvc repro` and `dvc exp run` stop at the evaluate stage (what the
metrics and plots come from); score to publish run under DVC in `make demo`. Each stage is a
process that imports the stack (about 3 s), which is most of the time here."""

import json
import shutil
import subprocess
from pathlib import Path

import joblib
import lightgbm
import mlflow
import pandas as pd
import pytest
import yaml

from pipeline.tracking.names import (
    DVC_BASELINE_TAG,
    DVC_EXPERIMENT_TAG,
    GIT_COMMIT_TAG,
    GIT_DIRTY_TAG,
    RUN_NAME_TAG,
)
from tests.integration.small_project import make_project, run

pytestmark = pytest.mark.integration
EXPERIMENT = "leaves15"
METRICS = "reports/metrics/backtest.json"
TARGET = "evaluate"  # and the stages before it


def _git(root: Path, *args: str) -> str:
    return run(["git", "-c", "user.name=Data Scientist", "-c", "user.email=ds@example.org",
                *args], root)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):
    """A git + DVC project after `dvc repro` (committed with dvc.lock, metrics and plots) and
    `dvc exp run -S configs/model.yaml:value.params.num_leaves=15` with a LightGBM parameter
    the file does not write out (`+value.params.max_depth=4`); yields (root, outputs)."""
    if shutil.which("git") is None:
        pytest.fail("git is required for the DVC experiment test")
    root = make_project(tmp_path_factory.mktemp("dvcproject"), n_customers=300, dvc=True)
    # 300 customers leave the selection's one-standard-error rule choosing a baseline for
    # churn; this test is about parameters reaching the LightGBM models, so they publish
    model_yaml = root / "configs" / "model.yaml"
    model = yaml.safe_load(model_yaml.read_text())
    model.setdefault("selection", {})["publish"] = "lgbm"
    model_yaml.write_text(yaml.safe_dump(model, sort_keys=False))
    _git(root, "init", "-q")
    run(["dvc", "init", "-q"], root)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "project")
    outputs = {"project": _git(root, "rev-parse", "HEAD").strip(),
               "repro": run(["dvc", "repro", TARGET], root)}
    _git(root, "add", "-A")  # dvc.lock, demo/dvc.lock, reports/metrics, reports/plots
    _git(root, "commit", "-q", "-m", "baseline")
    outputs["exp"] = run(["dvc", "exp", "run", TARGET, "-n", EXPERIMENT,
                          "-S", "configs/model.yaml:value.params.num_leaves=15",
                          "-S", "configs/model.yaml:+value.params.max_depth=4"], root)
    yield root, outputs


def _lightgbm_models(model, seen: set[int] | None = None) -> list[lightgbm.LGBMModel]:
    """The LightGBM estimators inside a fitted model (a blend holds its members)."""
    seen = set() if seen is None else seen
    if id(model) in seen:
        return []
    seen.add(id(model))
    if isinstance(model, lightgbm.LGBMModel):
        return [model]
    items = (model.values() if isinstance(model, dict) else model
             if isinstance(model, (list, tuple)) else vars(model).values()
             if hasattr(model, "__dict__") else [])
    return [found for item in items for found in _lightgbm_models(item, seen)]


def test_the_baseline_commit_holds_what_dvc_compares(project) -> None:
    root, outputs = project
    assert "Running stage 'demo/dvc.yaml:generate'" in outputs["repro"]
    tracked = _git(root, "ls-files").split()
    for path in ("dvc.lock", "demo/dvc.lock", METRICS, "reports/plots/gain.png"):
        assert path in tracked, f"{path} is not committed (.gitignore / dvc.yaml cache: false)"


def test_a_value_parameter_reaches_the_value_model_only(project) -> None:
    root, outputs = project
    assert "Running stage 'train'" in outputs["exp"]
    assert "Running stage 'demo/dvc.yaml:generate'" not in outputs["exp"]
    assert "Running stage 'features'" not in outputs["exp"]
    # the sources stage always runs; the same files give the same fingerprint
    assert "Running stage 'sources'" in outputs["exp"]
    assert "Stage 'validate' didn't change" in outputs["exp"]
    fitted = joblib.load(root / "artifacts" / "fitted_models.joblib")
    value, churn = _lightgbm_models(fitted.value), _lightgbm_models(fitted.churn)
    assert value and churn, "the published models hold no LightGBM model to check"
    assert {m.booster_.params["num_leaves"] for m in value} == {15}
    assert {m.booster_.params["num_leaves"] for m in churn} == {31}
    assert {m.booster_.params["max_depth"] for m in value} == {4}  # any LightGBM parameter
    assert {m.get_params()["max_depth"] for m in churn} == {-1}  # LightGBM's default


def test_the_mlflow_runs_are_named_and_tagged_with_commit_and_experiment(project) -> None:
    root, outputs = project
    head = _git(root, "rev-parse", "HEAD").strip()
    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    try:
        runs = mlflow.search_runs(experiment_names=["keyaccounts"], order_by=["start_time"])
    finally:
        mlflow.set_tracking_uri(None)
    assert len(runs) == 2
    baseline, experiment = runs.iloc[0], runs.iloc[1]
    assert baseline[f"tags.{RUN_NAME_TAG}"] == f"train@{outputs['project'][:7]}"
    assert baseline[f"tags.{GIT_DIRTY_TAG}"] == "false"
    assert experiment[f"tags.{RUN_NAME_TAG}"] == f"{EXPERIMENT}@{head[:7]}"
    assert experiment[f"tags.{DVC_EXPERIMENT_TAG}"] == EXPERIMENT
    assert experiment[f"tags.{DVC_BASELINE_TAG}"] == head
    assert experiment[f"tags.{GIT_COMMIT_TAG}"] == head
    assert experiment["params.model.value.params.num_leaves"] == "15"
    assert experiment["params.model.churn.params.num_leaves"] == "31"
    assert baseline["params.model.value.params.num_leaves"] == "31"
    assert experiment["params.model.value.params.max_depth"] == "4"


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def test_exp_show_has_the_metrics_of_main_and_the_experiment(project) -> None:
    root, _ = project
    shown = json.loads(run(["dvc", "exp", "show", "--json"], root))
    rows = {}
    for commit in shown:  # workspace, then the baseline commit with its experiments
        for row in [commit, *(e for x in commit.get("experiments") or []
                               for e in x.get("revs", []))]:
            name = row.get("name") or row["rev"]
            rows[name] = row["data"]["metrics"][METRICS]["data"]
    assert EXPERIMENT in rows and "workspace" in rows
    baseline = next(v for k, v in rows.items() if k not in (EXPERIMENT, "workspace"))
    for metrics in (baseline, rows[EXPERIMENT]):
        assert _number(metrics["lgbm_tweedie"]["normalized_gini"])
        assert _number(metrics["lgbm_churn"]["pr_auc"])


def test_metrics_diff_and_exp_diff_print_numbers(project) -> None:
    root, _ = project
    diff = json.loads(run(["dvc", "metrics", "diff", "--all", "--json"], root))[METRICS]
    gini = diff["lgbm_tweedie.normalized_gini"]
    assert _number(gini["old"]) and _number(gini["new"])
    text = run(["dvc", "exp", "diff", "HEAD", EXPERIMENT], root)
    assert "lgbm_tweedie.normalized_gini" in text and "num_leaves" in text


def test_plots_render_offline(project) -> None:
    root, _ = project
    run(["dvc", "plots", "diff", "HEAD", "-o", "dvc_plots"], root)
    page = (root / "dvc_plots" / "index.html").read_text()
    assert "<img" in page and "<script" not in page and "http" not in page.replace(
        "http-equiv", "")


def test_own_export_is_validated_without_the_demo_generator(project) -> None:
    root, _ = project
    exports = root / "exports"
    shutil.copytree(root / "data" / "raw", exports,
                    ignore=shutil.ignore_patterns("generated_by_*"))
    data_yaml = root / "configs" / "data.yaml"
    data_yaml.write_text(data_yaml.read_text().replace("data/raw/", "exports/"))
    first = run(["dvc", "repro", "validate"], root)
    assert "Running stage 'validate'" in first and "generate" not in first
    contacts = pd.read_parquet(exports / "contacts.parquet")
    contacts.iloc[1:].to_parquet(exports / "contacts.parquet")  # a new export of one table
    edited = run(["dvc", "repro", "validate"], root)
    assert "Running stage 'validate'" in edited and "generate" not in edited
    summary = json.loads((root / "reports" / "validation" / "validation_summary.json").read_text())
    assert summary["tables"]["contacts"]["rows_in"] == len(contacts) - 1
    status = subprocess.run(["git", "status", "--porcelain", "data"], cwd=root,
                            capture_output=True, text=True).stdout
    assert status == ""  # data/ stays out of git

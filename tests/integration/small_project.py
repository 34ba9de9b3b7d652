"""A small generated project in a temporary folder, for the tests that run the pipeline as a
user would (the DVC experiment loop, the notebooks): the configs/ of the repository with a
few hundred customers, a history just long enough for three backtest folds, one LightGBM
thread, and its own MLflow store."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
CODE = ("pipeline", "features", "models")  # dvc.yaml's code dependencies
ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DVC_NO_ANALYTICS": "1"}

__all__ = ["CODE", "REPO", "edit_yaml", "make_project", "project_env", "run"]


def edit_yaml(path: Path, changes: dict[str, object]) -> None:
    """Set dotted keys ("value.params.num_leaves") of a YAML file, keeping the others."""
    content = yaml.safe_load(path.read_text()) or {}
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        node = content
        for parent in parents:
            node = node.setdefault(parent, {})
        node[key] = value
    path.write_text(yaml.safe_dump(content, sort_keys=False))


def make_project(root: Path, n_customers: int = 400, dvc: bool = False) -> Path:
    """Copy configs/ (and, for `dvc`, dvc.yaml, demo/, .gitignore and the code that dvc.yaml
    depends on) into `root`, made small; return `root`."""
    shutil.copytree(REPO / "configs", root / "configs")
    edit_yaml(root / "configs" / "generate.yaml", {
        "n_customers": n_customers, "start_date": "2023-08-01", "truth_months": 12,
        "truth_n_sims": 4, "defect_rate": 0.002})
    edit_yaml(root / "configs" / "model.yaml", {
        "value.params.n_jobs": 1, "churn.params.n_jobs": 1,
        "value.params.n_estimators": 60, "churn.params.n_estimators": 60})
    if dvc:
        for name in ("dvc.yaml", ".gitignore", ".dvcignore"):
            shutil.copy2(REPO / name, root / name)
        # the repository's lock is the 20,000-customer demo's: a new project starts without one
        shutil.copytree(REPO / "demo", root / "demo", ignore=shutil.ignore_patterns("dvc.lock"))
        for package in CODE:
            shutil.copytree(REPO / package, root / package,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root


def project_env() -> dict[str, str]:
    """The environment of a user's shell: the venv's programs (keyaccounts, dvc) first on the
    PATH, no telemetry, and no CRM URL of the caller's."""
    env = {**os.environ, **ENV}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for name in ("KEYACCOUNTS_CRM_URL", "KEYACCOUNTS_TRACKING_URI", "DVC_EXP_NAME",
                 "DVC_EXP_BASELINE_REV", "DVC_ROOT", "MLFLOW_TRACKING_URI"):
        env.pop(name, None)
    return env


def run(args: list[str], cwd: Path, timeout: int = 600) -> str:
    """Run a command in the project; its stdout + stderr, or a failure showing their end."""
    done = subprocess.run(args, cwd=cwd, env=project_env(), capture_output=True, text=True,
                          timeout=timeout)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{output[-4000:]}"
    return output

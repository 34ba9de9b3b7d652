"""The name and tags of a training's MLflow run: the git commit and the DVC experiment.

`dvc exp run` starts each stage with DVC_EXP_NAME (the experiment's name, e.g. "sunny-mole")
and DVC_EXP_BASELINE_REV (the commit the experiment starts from) in the environment; outside
an experiment neither is set. With them on the run, `mlflow ui` lists the runs by experiment
and commit, and `dvc exp show` and MLflow name the same experiment the same way.

`run_name_and_tags` is pure (commit, dirty flag and environment in; name and tags out);
`git_state` asks git, and is the only function here that runs a program.
"""

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from pipeline.tracking.names import (
    DVC_BASELINE_TAG,
    DVC_EXPERIMENT_TAG,
    GIT_COMMIT_TAG,
    GIT_DIRTY_TAG,
)

__all__ = [
    "DVC_EXP_BASELINE_REV",
    "DVC_EXP_NAME",
    "git_state",
    "run_name_and_tags",
    "start_run_kwargs",
]

DVC_EXP_NAME = "DVC_EXP_NAME"  # set by `dvc exp run` for every stage it runs
DVC_EXP_BASELINE_REV = "DVC_EXP_BASELINE_REV"


def git_state(root: Path) -> tuple[str | None, bool | None]:
    """(HEAD's commit, whether the tree has uncommitted changes) of the git repository holding
    `root`; (None, None) outside a repository or without git."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                  timeout=30, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "--verify", "HEAD")
    if not commit:
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit.strip(), (None if status is None else bool(status.strip()))


def run_name_and_tags(commit: str | None, dirty: bool | None,
                      environ: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The run's name and tags: "<experiment>@<commit[:7]>" inside `dvc exp run`, else
    "train@<commit[:7]>" ("+dirty" when the tree had uncommitted changes), "train" without git.

    Tags: the commit (MLflow's mlflow.source.git.commit), git_dirty, and inside an experiment
    dvc_experiment and dvc_baseline_rev. An unknown value is left out, never guessed.
    """
    experiment = environ.get(DVC_EXP_NAME) or None
    baseline = environ.get(DVC_EXP_BASELINE_REV) or None
    tags: dict[str, str] = {}
    if commit:
        tags[GIT_COMMIT_TAG] = commit
    if dirty is not None:
        tags[GIT_DIRTY_TAG] = str(dirty).lower()
    if experiment:
        tags[DVC_EXPERIMENT_TAG] = experiment
    if baseline:
        tags[DVC_BASELINE_TAG] = baseline
    name = experiment or "train"
    if commit:
        # inside an experiment the tree differs from the commit by design (the -S params)
        name += f"@{commit[:7]}" + ("+dirty" if dirty and not experiment else "")
    return name, tags


def start_run_kwargs(root: Path, environ: Mapping[str, str] | None = None) -> dict:
    """`mlflow.start_run(**start_run_kwargs(root))`: run_name and tags of a training in `root`."""
    name, tags = run_name_and_tags(*git_state(root),
                                   os.environ if environ is None else environ)
    return {"run_name": name, "tags": tags}

"""The MLflow run's name and tags: git commit and DVC experiment (pipeline.run_context)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.run_context import git_state, run_name_and_tags, start_run_kwargs
from pipeline.tracking.names import (
    DVC_BASELINE_TAG,
    DVC_EXPERIMENT_TAG,
    GIT_COMMIT_TAG,
    GIT_DIRTY_TAG,
)

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_inside_a_dvc_experiment_the_run_is_named_after_it() -> None:
    name, tags = run_name_and_tags(COMMIT, True, {"DVC_EXP_NAME": "sunny-mole",
                                                  "DVC_EXP_BASELINE_REV": "f" * 40})
    assert name == "sunny-mole@0123456"  # an experiment's tree is dirty by design: no "+dirty"
    assert tags == {GIT_COMMIT_TAG: COMMIT, GIT_DIRTY_TAG: "true",
                    DVC_EXPERIMENT_TAG: "sunny-mole", DVC_BASELINE_TAG: "f" * 40}


def test_outside_an_experiment_the_name_says_commit_and_uncommitted_changes() -> None:
    assert run_name_and_tags(COMMIT, False, {}) == (
        "train@0123456", {GIT_COMMIT_TAG: COMMIT, GIT_DIRTY_TAG: "false"})
    assert run_name_and_tags(COMMIT, True, {"DVC_EXP_NAME": ""})[0] == "train@0123456+dirty"


def test_without_git_nothing_is_guessed() -> None:
    assert run_name_and_tags(None, None, {}) == ("train", {})


def test_git_state_outside_a_repository(tmp_path: Path) -> None:
    assert git_state(tmp_path) == (None, None)
    assert start_run_kwargs(tmp_path, environ={}) == {"run_name": "train", "tags": {}}


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_state_reads_head_and_uncommitted_changes(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org",
                               *args], cwd=tmp_path, check=True, capture_output=True,
                              text=True).stdout.strip()

    git("init", "-q")
    (tmp_path / "a.txt").write_text("1")
    git("add", "a.txt")
    git("commit", "-q", "-m", "first")
    head = git("rev-parse", "HEAD")
    assert git_state(tmp_path) == (head, False)
    (tmp_path / "a.txt").write_text("2")
    assert git_state(tmp_path) == (head, True)
    kwargs = start_run_kwargs(tmp_path, environ={"DVC_EXP_NAME": "exp-1"})
    assert kwargs["run_name"] == f"exp-1@{head[:7]}"
    assert kwargs["tags"][DVC_EXPERIMENT_TAG] == "exp-1"

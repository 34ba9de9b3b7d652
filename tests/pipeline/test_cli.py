"""The `keyaccounts` command: help for every stage, one-line errors, exit codes."""

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import STAGES

REPO = Path(__file__).resolve().parents[2]


def _keyaccounts(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from pipeline.cli import main; main()", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("stage", [*STAGES, "run"])
def test_every_stage_has_help(stage: str) -> None:
    result = _keyaccounts(stage, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: keyaccounts" in result.stdout
    assert len(result.stdout.strip().splitlines()) > 3


def test_config_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    result = _keyaccounts("--config-dir", str(tmp_path / "missing"), "validate")
    assert result.returncode == 3  # ConfigError.exit_code
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'missing'}: configuration folder not found; pass --config-dir"
    ]


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(tmp_path: Path, where: str) -> None:
    args = ["--config-dir", str(tmp_path / "missing"), "validate"]
    result = _keyaccounts(*(["--debug", *args] if where == "before" else [*args, "--debug"]))
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_a_bad_as_of_is_a_usage_error_naming_the_format() -> None:
    result = _keyaccounts("score", "--as-of", "30.06.2026")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "'30.06.2026' is not a date: write it as YYYY-MM-DD" in result.stderr


def test_unknown_option_is_a_usage_error() -> None:
    result = _keyaccounts("generate", "--bogus")
    assert result.returncode == 2
    assert "No such option" in result.stderr


def test_the_job_without_a_champion_exits_6_naming_the_fix(tmp_path: Path) -> None:
    import shutil

    import yaml

    shutil.copytree(REPO / "configs", tmp_path / "configs")
    path = tmp_path / "configs" / "pipeline.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["tracking"]["tracking_uri"] = f"sqlite:///{tmp_path / 'empty.db'}"
    path.write_text(yaml.safe_dump(raw))
    result = _keyaccounts("--config-dir", str(tmp_path / "configs"), "job", "--skip-validate",
                          "--dry-run", cwd=tmp_path)
    assert result.returncode == 6, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "no version of customer-value holds the alias @champion" in result.stderr
    assert "keyaccounts train" in result.stderr

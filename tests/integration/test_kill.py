"""The kill test of issue 10 at a size a test run affords: `benchmarks/bench_kill.py` sets up a
tiny project, kills `keyaccounts score` and `keyaccounts publish` (two of each) with SIGKILL at
random moments and checks after each kill that every output (scores, scored frame, workbook,
HTML, Parquet/CSV lists, CRM database) is whole, the old one or the new one, and after the
re-run that everything is new. Slow (several minutes): `pytest -m slow`; `make test` skips it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TRIALS = 4

# integration too, so that `make test-fast` (-m "not integration") leaves it out as well
pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_killed_score_and_publish_leave_every_output_whole(tmp_path: Path) -> None:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DVC_NO_ANALYTICS": "1"}
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_kill.py"), "--trials", str(TRIALS),
         "--customers", "1000", "--seed", "1", "--project", str(tmp_path / "project")],
        cwd=REPO, capture_output=True, text=True, timeout=1800, env=env)
    report = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, report
    assert f"{TRIALS} of {TRIALS} trials: every output whole" in result.stdout, report
    assert "BROKEN" not in result.stdout, report

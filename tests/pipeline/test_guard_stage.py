"""The guard stage: the train stage's drift reference (file and MLflow artifact), both reports
always written, a shifted input refused (exit code 5) unless forced, an unshifted one accepted."""

import json
import shutil
import sys

import pandas as pd
import pytest

from pipeline import drift_io
from pipeline.config import load_settings
from pipeline.errors import DriftRefused
from pipeline.stages import features, guard, score


@pytest.fixture
def scored(trained_project, tmp_path):
    """A copy of the tiny trained project, scored at its latest as-of; returns its settings."""
    root = tmp_path / "p"
    shutil.copytree(trained_project, root)
    settings = load_settings(root / "configs")
    score.main(settings)
    return settings


def _report(settings) -> dict:
    folder = settings.path(settings.pipeline.guard.report_dir)
    assert (folder / "drift.html").read_text(encoding="utf-8").startswith("<!doctype html>")
    return json.loads((folder / "drift.json").read_text(encoding="utf-8"))


def test_train_writes_the_reference_and_logs_it_to_its_mlflow_run(trained_project):
    settings = load_settings(trained_project / "configs")
    reference = drift_io.load_reference(settings, "artifacts")
    info = json.loads((trained_project / "artifacts" / "model_info.json").read_text())
    assert reference["run_id"] == info["run_id"]
    assert reference["importance"] and not reference["fallback"]
    kinds = {c["column"]: c["kind"] for c in reference["columns"]}
    assert kinds["expected_value"] == kinds["churn_probability"] == "score"
    assert kinds["txn_spend_180d"] == kinds["cust_region"] == "feature"
    assert drift_io.load_reference(settings, info["run_id"]) == reference


def test_the_scored_frame_is_the_reference_population_and_is_accepted(scored):
    guard.main(scored)
    report = _report(scored)
    assert report["decision"] == {"status": "accepted", "refuse": False, "forced": False,
                                  "reasons": []}
    psi = {c["column"]: c["psi"] for c in report["columns"]}
    assert psi["expected_value"] == pytest.approx(0, abs=1e-9)
    assert max(psi.values()) == pytest.approx(0, abs=1e-9)
    assert report["limits"]["score_psi_limit"] == 0.25


def test_champion_scores_are_compared_with_their_runs_reference(scored):
    import dataclasses

    pipeline = scored.pipeline.model_copy(
        update={"score": scored.pipeline.score.model_copy(update={"model_source": "champion"})})
    champion = dataclasses.replace(scored, pipeline=pipeline)
    scores = pd.read_parquet(scored.path(scored.pipeline.paths.scores_dir) / "scores.parquet")
    run_id = drift_io.reference_source(champion, scores)
    assert run_id == scores["value_run_id"].iloc[0] != "artifacts"
    (scored.path(scored.pipeline.paths.artifacts_dir) / drift_io.DRIFT_REFERENCE).unlink()
    guard.main(champion)  # the reference comes from the MLflow run, not the artifacts
    assert _report(champion)["reference"]["run_id"] == run_id


def test_amounts_times_100_are_refused_then_forced(scored):
    validated = scored.path(scored.pipeline.paths.validated_dir) / "transactions.parquet"
    tx = pd.read_parquet(validated)
    tx.assign(amount=tx["amount"] * 100).to_parquet(validated, index=False)
    features.main(scored)  # the features, and so the scores, of amounts in cents
    score.main(scored)
    with pytest.raises(DriftRefused, match=r"score PSI above 0\.25: expected_value .*--force"):
        guard.main(scored)
    report = _report(scored)  # written although refused
    assert report["decision"]["status"] == "refused" and report["decision"]["refuse"]
    top = report["columns"][0]
    assert top["band"] == "major" and top["psi"] > 1
    html = (scored.path(scored.pipeline.guard.report_dir) / "drift.html").read_text()
    assert "Decision: refused" in html and 'class="major"' in html

    guard.main(scored, force=True)
    assert _report(scored)["decision"]["status"] == "forced"


def test_a_partial_export_is_refused(scored):
    scores_dir = scored.path(scored.pipeline.paths.scores_dir)
    for name in ("scores.parquet", drift_io.SCORED_FRAME):  # every other customer
        pd.read_parquet(scores_dir / name).iloc[::2].to_parquet(scores_dir / name, index=False)
    with pytest.raises(DriftRefused, match=r"50% of the reference's .* \(a partial export\?\)"):
        guard.main(scored)
    assert max(c["psi"] for c in _report(scored)["columns"]) < 0.25  # no PSI sees it


def test_the_cli_exits_with_code_5_when_refused(scored, monkeypatch, capsys):
    from pipeline import cli

    frame_path = scored.path(scored.pipeline.paths.scores_dir) / drift_io.SCORED_FRAME
    frame = pd.read_parquet(frame_path)
    spend = [c for c in frame.columns if c.startswith("txn_spend") or c.startswith("txn_order_")]
    frame.assign(**{c: frame[c] * 100 for c in spend}).to_parquet(frame_path, index=False)
    monkeypatch.setattr(sys, "argv", ["keyaccounts", "--config-dir",
                                      str(scored.root / "configs"), "guard"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == DriftRefused.exit_code == 5
    assert "drifted from the training reference" in capsys.readouterr().err
    monkeypatch.setattr(sys, "argv", [*sys.argv, "--force"])
    cli.main()  # no SystemExit: forced
    assert _report(scored)["decision"]["status"] == "forced"

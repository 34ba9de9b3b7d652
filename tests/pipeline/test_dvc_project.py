"""What `dvc exp run -S`, `dvc metrics diff` and the own-data path rely on, checked on the
repository's files: params files without YAML anchors, metrics and plots that git keeps,
the validate stage fed by the fingerprint of configs/data.yaml's files (pipeline.stages.sources)
and the demo's generate stage apart. tests/integration/test_dvc_experiments.py runs the loop."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline.errors import DataError
from pipeline.stages.sources import fingerprint

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_params_files_have_no_anchors_or_aliases(path: Path) -> None:
    """`dvc exp run -S file:key=value` edits one key; through an alias it would edit every
    key sharing the anchor (or DVC would not see the change at all)."""
    shared = [f"line {event.start_mark.line + 1}" for event in yaml.parse(path.read_text())
              if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None)]
    assert not shared, f"{path.name}: YAML anchor or alias at {', '.join(shared)}; write the keys out"


def test_each_model_has_its_own_lightgbm_params() -> None:
    model = yaml.safe_load((REPO / "configs" / "model.yaml").read_text())
    value, churn = model["value"]["params"], model["churn"]["params"]
    assert value is not churn and set(value) == set(churn)  # same keys, set one at a time


def _dvc_yaml(name: str = "dvc.yaml") -> tuple[dict, dict]:
    paths = yaml.safe_load((REPO / "configs" / "pipeline.yaml").read_text())["paths"]
    return yaml.safe_load((REPO / name).read_text()), paths


def _resolve(entry: str, paths: dict) -> str:
    for key, value in paths.items():
        entry = entry.replace("${paths.%s}" % key, str(value))
    assert "${" not in entry, entry
    return entry


def test_validate_depends_on_the_fingerprint_and_generate_is_the_demos() -> None:
    pipeline, paths = _dvc_yaml()
    stages = pipeline["stages"]
    assert "generate" not in stages  # else `dvc repro` writes the demo over anyone's data
    sources = stages["sources"]
    assert sources["always_changed"] is True and "${transactions.path}" in sources["deps"]
    assert "${paths.sources_file}" in stages["validate"]["deps"]
    assert not any("raw_dir" in str(dep) for dep in stages["validate"]["deps"])
    demo, _ = _dvc_yaml("demo/dvc.yaml")
    outs = [_resolve(out, paths) for out in demo["stages"]["generate"]["outs"]]
    data = yaml.safe_load((REPO / "configs" / "data.yaml").read_text())
    # the demo's data.yaml names generate's files: that is what links the two stages
    assert any(data["transactions"]["path"].startswith(out + "/") for out in outs)


def test_metrics_and_plots_are_kept_by_git_and_plots_are_images() -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.fail("git and a git checkout are needed: .gitignore decides what dvc can diff")
    pipeline, paths = _dvc_yaml()
    evaluate = pipeline["stages"]["evaluate"]
    declared = {section: [(_resolve(name, paths), options) for item in evaluate[section]
                          for name, options in item.items()] for section in ("metrics", "plots")}
    assert declared["metrics"] and declared["plots"]
    assert "plots" not in pipeline  # a vega plot's page loads its scripts from the internet
    for path, _ in declared["plots"]:
        assert path.endswith(".png"), f"{path}: `dvc plots show` draws images offline only"
    for path, options in declared["metrics"] + declared["plots"]:
        assert options == {"cache": False}, path  # in git, not in the DVC cache
        ignored = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=REPO)
        assert ignored.returncode == 1, (f"{path} is git-ignored: dvc metrics/plots diff and "
                                         "dvc exp show could not read it from a commit")


def test_the_fingerprint_follows_the_content(tmp_path: Path) -> None:
    export = tmp_path / "sales.csv"
    export.write_text("customer_id,order_date,amount\nC1,2024-01-31,10\n")
    files = {"transactions": ("exports/sales.csv", export)}
    first = fingerprint(files)
    assert first == {"tables": {"transactions": {
        "path": "exports/sales.csv", "bytes": export.stat().st_size,
        "sha256": first["tables"]["transactions"]["sha256"]}}}
    export.touch()
    assert fingerprint(files) == first  # a new modification time alone changes nothing
    export.write_text("customer_id,order_date,amount\nC1,2024-01-31,11\n")
    assert fingerprint(files) != first


def test_a_missing_configured_file_names_the_key_to_fix(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"contacts file not found; fix contacts.path in "
                                        r"configs/data.yaml, or set contacts: null"):
        fingerprint({"contacts": ("exports/contacts.csv", tmp_path / "contacts.csv")})


@pytest.mark.parametrize("rows", [0, 20])
def test_evaluate_draws_the_plot_images_with_or_without_a_fold(tmp_path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    from pipeline.stages.evaluate import _write_images

    rng = np.random.default_rng(0)
    predictions = pd.DataFrame() if not rows else pd.DataFrame({
        "future_spend": rng.gamma(1.0, 100.0, rows), "churned": rng.integers(0, 2, rows),
        "lgbm_tweedie_value": rng.gamma(1.0, 100.0, rows),
        "lgbm_churn_churn": rng.uniform(0, 1, rows)})
    written = _write_images(predictions, {"published": {"value": "lgbm_tweedie"}}, tmp_path)
    assert sorted(p.name for p in written) == ["calibration.png", "deciles.png", "gain.png"]
    for path in written:
        assert path.read_bytes().startswith(b"\x89PNG")

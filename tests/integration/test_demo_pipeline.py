"""The whole pipeline, every stage in order, on a small generated data set.

This is the demo (`make demo`) at a size a test can afford: it checks that the stages fit
together and that the outputs keep the promises of the data contract.
"""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import make_url

from models.reasons import MIN_CHURN_PROBABILITY
from pipeline.config import load_settings
from pipeline.publishing.excel import GUIDE_SHEET, SUMMARY_SHEET, UNASSIGNED_SHEET
from tests.models import reason_checks

REPO = Path(__file__).resolve().parents[2]
N_CUSTOMERS = 3000

pytestmark = pytest.mark.integration


def _edit_yaml(path: Path, **changes: object) -> None:
    content = yaml.safe_load(path.read_text()) or {}
    content.update(changes)
    path.write_text(yaml.safe_dump(content, sort_keys=False))


def _crm_url() -> tuple[str, str]:
    """(CRM URL with a password, the password): the CI PostgreSQL (KEYACCOUNTS_TEST_PG_URL,
    required in CI), else a SQLite file and a password given through KEYACCOUNTS_CRM_PASSWORD
    that a correct pipeline ignores (SQLite has none) and must never write anywhere."""
    url = os.environ.get("KEYACCOUNTS_TEST_PG_URL")
    if url:
        return url, make_url(url).password
    if os.environ.get("CI"):
        pytest.fail("KEYACCOUNTS_TEST_PG_URL is not set: CI must start PostgreSQL (.ci/run)")
    return "", "not-a-real-password-0451"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory):
    """Run `keyaccounts run`, then the scheduled `keyaccounts job` with the champions, once in
    a temporary project folder whose CRM needs a password; yield (root, password, output)."""
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(REPO / "configs", root / "configs")
    _edit_yaml(root / "configs" / "generate.yaml", n_customers=N_CUSTOMERS, defect_rate=0.002)
    tracking = yaml.safe_load((root / "configs" / "pipeline.yaml").read_text())["tracking"]
    tracking["tracking_uri"] = f"sqlite:///{root / 'mlflow.db'}"
    _edit_yaml(root / "configs" / "pipeline.yaml", tracking=tracking)
    model = yaml.safe_load((root / "configs" / "model.yaml").read_text())
    gate, effect = model["gate"], model["manager_effect"]
    gate["min_margin"] = -1.0  # always promote: the job below scores with @champion
    effect["enabled"] = True  # off by default (README); its path end to end at the demo's size
    _edit_yaml(root / "configs" / "model.yaml", gate=gate, manager_effect=effect)
    suffix = uuid.uuid4().hex[:8]
    tables = {"scores": f"scores_{suffix}", "current": f"current_{suffix}",
              "runs": f"runs_{suffix}"}
    publish = yaml.safe_load((root / "configs" / "tiers.yaml").read_text())["publish"]
    publish["crm"]["tables"] = tables
    _edit_yaml(root / "configs" / "tiers.yaml", publish=publish)
    url, password = _crm_url()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DVC_NO_ANALYTICS": "1",
           "KEYACCOUNTS_CRM_PASSWORD": password}
    env.pop("KEYACCOUNTS_CRM_URL", None)
    if url:
        env["KEYACCOUNTS_CRM_URL"] = url
    output = ""
    for args in (["run"], ["job", "--as-of", "2026-10-31", "--skip-validate"]):
        result = subprocess.run(
            [sys.executable, "-c", "from pipeline.cli import main; main()", *args],
            cwd=root, capture_output=True, text=True, timeout=900, env=env)
        output += result.stdout + result.stderr
        assert result.returncode == 0, result.stderr[-3000:]
    yield root, password, output, url or f"sqlite:///{root / 'data' / 'crm' / 'crm.db'}", tables
    if url:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            for name in tables.values():
                connection.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))
        engine.dispose()


def test_validation_counts_add_up_and_defects_are_quarantined(demo_run) -> None:
    demo_run = demo_run[0]
    settings = load_settings(demo_run / "configs")
    report = settings.path(settings.pipeline.paths.reports_dir) / "validation"
    summary = json.loads((report / "validation_summary.json").read_text())
    assert set(summary["tables"]) == {"transactions", "contacts", "customers", "managers"}
    for name, table in summary["tables"].items():
        assert table["rows_in"] == table["rows_accepted"] + table["rows_quarantined"], name
    quarantined = summary["tables"]["transactions"]["reasons"]
    assert {"duplicate_row", "null_id", "bad_date", "bad_amount", "future_date"} <= set(quarantined)
    assert (report / "index.html").is_file()


def test_backtest_scores_models_baselines_and_truth(demo_run) -> None:
    demo_run = demo_run[0]
    settings = load_settings(demo_run / "configs")
    metrics = json.loads(
        (settings.path(settings.pipeline.paths.metrics_dir) / "backtest.json").read_text()
    )
    for model in ("lgbm_tweedie", "lgbm_churn", "btyd", "last_period", "rfm", "oracle"):
        assert model in metrics, f"{model} missing from the backtest"
    # the ground truth is the best attainable ranking: no model may beat it by much
    assert metrics["oracle"]["normalized_gini"] > metrics["lgbm_tweedie"]["normalized_gini"] - 0.02
    assert metrics["lgbm_tweedie"]["normalized_gini"] > metrics["rfm"]["normalized_gini"]
    assert metrics["lgbm_churn"]["pr_auc"] > metrics["last_period"]["pr_auc"]


def test_scores_have_one_row_per_customer_known_at_as_of(demo_run) -> None:
    demo_run = demo_run[0]
    settings = load_settings(demo_run / "configs")
    scores = pd.read_parquet(settings.path(settings.pipeline.paths.scores_dir) / "scores.parquet")
    assert scores["customer_id"].is_unique
    as_of = pd.Timestamp(scores["as_of"].iloc[0])
    validated = settings.path(settings.pipeline.paths.validated_dir)
    transactions = pd.read_parquet(validated / "transactions.parquet")
    customers = pd.read_parquet(validated / "customers.parquet")
    known = set(transactions.loc[transactions["order_date"] <= as_of, "customer_id"]) | set(
        customers.loc[customers["created_date"] <= as_of, "customer_id"]
    )
    assert set(scores["customer_id"]) == known
    assert scores["expected_value"].ge(0).all()
    assert scores["churn_probability"].between(0, 1).all()


def test_no_reason_contradicts_its_row_or_quotes_a_model(demo_run) -> None:
    settings = load_settings(demo_run[0] / "configs")
    scores = pd.read_parquet(settings.path(settings.pipeline.paths.scores_dir) / "scores.parquet")
    explained = scores[scores["reasons"] != ""]
    top = settings.pipeline.score.reasons_top_value  # None: every customer is explained
    assert len(explained) >= 0.9 * (len(scores) if top is None else min(len(scores), top))
    wrong = {row.customer_id: found for row in explained.itertuples()
             if (found := reason_checks.problems(row.reasons, row.churn_probability,
                                                 MIN_CHURN_PROBABILITY))}
    assert not wrong, f"{len(wrong)} of {len(explained)} rows: {list(wrong.items())[:5]}"


def test_publish_writes_workbook_and_report(demo_run) -> None:
    demo_run = demo_run[0]
    settings = load_settings(demo_run / "configs")
    publish_dir = settings.path(settings.pipeline.paths.publish_dir)
    from openpyxl import load_workbook

    scores = pd.read_parquet(settings.path(settings.pipeline.paths.scores_dir) / "scores.parquet")
    book = load_workbook(publish_dir / "key_accounts.xlsx", read_only=True)
    assert book.sheetnames[0] == "Summary"
    regions = [s for s in book.sheetnames if s not in (SUMMARY_SHEET, GUIDE_SHEET,
                                                           UNASSIGNED_SHEET)]
    listed = [
        row[1]
        for sheet in regions
        for row in book[sheet].iter_rows(min_row=2, values_only=True)
        if row and row[1] is not None
    ]
    assert sorted(listed) == sorted(scores["customer_id"])  # each region sheet: its accounts
    assert "<svg" in (publish_dir / "key_accounts.html").read_text()


def test_the_password_never_reaches_a_file_the_log_or_mlflow(demo_run) -> None:
    root, password, output, _, _ = demo_run
    assert password and password not in output
    secret = password.encode()
    leaks = [str(path.relative_to(root)) for path in root.rglob("*")
             if path.is_file() and secret in path.read_bytes()]
    assert leaks == []  # every written file: data, reports, artifacts, mlflow.db, mlruns/


def test_the_job_scores_with_the_champions_and_fills_the_crm_tables(demo_run) -> None:
    root, _, output, url, tables = demo_run
    settings = load_settings(root / "configs")
    scores = pd.read_parquet(settings.path(settings.pipeline.paths.scores_dir) / "scores.parquet")
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        runs = pd.read_sql(sa.text(f'SELECT * FROM "{tables["runs"]}" ORDER BY started_at'),
                           connection)
        current = pd.read_sql(sa.text(f'SELECT * FROM "{tables["current"]}"'), connection)
    engine.dispose()
    assert list(runs["status"]) == ["succeeded", "succeeded"]  # the run's publish, the job's
    assert runs["rows_written"].tolist() == [len(scores)] * 2
    assert len(current) == len(scores) and current["active"].astype(bool).all()
    assert set(current["value_model_version"]) == set(scores["value_model_version"])
    for step in ("validate", "score", "guard", "tier", "publish"):
        assert f"{step} done in" in output or step == "validate"
    assert "job " in output and "published in" in output


def test_the_manager_effect_reaches_the_scores_the_lists_and_the_crm(demo_run) -> None:
    root, _, output, url, tables = demo_run
    settings = load_settings(root / "configs")
    info = json.loads((settings.path(settings.pipeline.paths.artifacts_dir)
                       / "model_info.json").read_text())
    effect = info["manager_effect"]
    assert effect["ate_lower"] <= effect["ate"] <= effect["ate_upper"], effect
    assert 0 < effect["overlap_share"] < 1
    assert "train: manager effect: average" in output
    scores = pd.read_parquet(settings.path(settings.pipeline.paths.scores_dir) / "scores.parquet")
    inside = scores["in_overlap"].astype(bool)
    assert inside.any() and scores.loc[inside, "manager_gain"].notna().all()
    assert scores.loc[~inside, "manager_gain"].isna().all()
    rows = pd.read_parquet(settings.path(settings.pipeline.paths.publish_dir)
                           / "key_accounts.parquet")
    assert rows["manager_gain"].notna().sum() == inside.sum()
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        gains = pd.read_sql(sa.text(f'SELECT manager_gain FROM "{tables["current"]}"'),
                            connection)
    engine.dispose()
    assert gains["manager_gain"].notna().sum() == inside.sum()

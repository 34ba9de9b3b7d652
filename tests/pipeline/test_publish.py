"""The `publish` stage after the `tier` stage, on hand-made scores, customers and managers."""

import sqlite3
from collections import Counter

import pandas as pd
import pytest
from openpyxl import load_workbook

from pipeline.errors import ConfigError
from pipeline.stages import publish, tier
from tests.pipeline.test_tier_stage import IDS, make_settings, scores, write_inputs

HEADERS = ["Rank", "Customer", "Region", "Tier", "Change since last run", "Previous tier",
           "Expected value", "Churn probability", "Value at risk", "Last order", "Last contact",
           "Manager", "Retention", "Why", "Why this tier"]


@pytest.fixture
def published(tmp_path):
    settings = make_settings(tmp_path, {"strategic": {"min_bar": 0.75, "keep_bar": 0.5}})
    write_inputs(settings, scores())
    tier.main(settings)
    publish.main(settings)
    return settings, settings.path(settings.pipeline.paths.publish_dir)


def test_workbook_sheets_columns_order_and_counts(published):
    _, out = published
    book = load_workbook(out / "key_accounts.xlsx")
    assert book.sheetnames == ["Summary", "N", "S"]
    seen = Counter()
    for name in ("N", "S"):
        sheet = book[name]
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == HEADERS
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
        ranks = [r[0] for r in rows[1:]]
        assert ranks == sorted(ranks)                      # ranked within the region
        assert {r[2] for r in rows[1:]} == {name}
        seen.update((r[1], r[3]) for r in rows[1:])
        assert sheet["G2"].number_format == "#,##0" and sheet["J2"].number_format == "yyyy-mm-dd"
    customers = [c for c, _ in seen]
    assert sorted(customers) == IDS                         # every scored customer exactly once
    strategic = [c for c, t in seen if t == "strategic"]
    assert sorted(strategic) == ["C001", "C002", "C003"] and len(set(strategic)) == 3
    first = list(book["N"].iter_rows(min_row=2, max_row=2, values_only=True))[0]
    assert first[1] == "C001" and first[11] == "M02" and "orders every month" in first[13]
    summary = [r[0] for r in book["Summary"].iter_rows(values_only=True) if r and r[0]]
    assert "Accounts and expected value per tier" in summary
    assert "Movement since the last run" in summary


def test_sheets_per_manager(tmp_path):
    settings = make_settings(tmp_path, {"strategic": {"min_bar": 0.75, "keep_bar": 0.5}})
    write_inputs(settings, scores())
    tier.main(settings)
    publish.main(settings, publish=settings.tiers.publish.model_copy(
        update={"sheets_by": "manager"}))
    book = load_workbook(settings.path(settings.pipeline.paths.publish_dir) / "key_accounts.xlsx")
    assert book.sheetnames == ["Summary", "M01", "M02", "M03", "No manager"]
    assert sum(book[s].max_row - 1 for s in book.sheetnames[1:]) == len(IDS)


def test_report_rows_and_crm_upsert_is_idempotent(published):
    settings, out = published
    html = (out / "key_accounts.html").read_text()
    assert "<svg" in html and "Strategic accounts most at risk" in html and "C002" in html
    assert "<script" not in html
    rows = pd.read_parquet(out / "key_accounts.parquet")
    assert len(rows) == len(IDS) and list(rows["rank"]) == list(range(1, 13))
    assert len(pd.read_csv(out / "key_accounts.csv", dtype={"customer_id": str})) == len(IDS)

    database = settings.root / "data" / "crm" / "crm.db"  # configs/tiers.yaml publish.crm.url
    assert publish.crm_target(settings) == f"sqlite:///{database}"

    def crm(table="current_scores", order="customer_id"):
        with sqlite3.connect(database) as db:
            return pd.read_sql(f"select * from {table} order by {order}", db)

    first = crm().drop(columns=["scoring_run_id", "written_at"])
    assert len(first) == 12 and set(first["value_run_id"]) == {"run-1"}
    assert set(first["value_model_version"]) == {"3"} and first["active"].all()
    publish.main(settings)                                   # same run again: same table
    pd.testing.assert_frame_equal(crm().drop(columns=["scoring_run_id", "written_at"]), first)
    write_inputs(settings, scores("run-2", as_of="2024-07-31").iloc[:6])  # fewer customers
    tier.main(settings)
    publish.main(settings)
    table = crm()
    assert len(table) == 12                        # the 6 absent ones kept, marked inactive
    assert list(table["value_run_id"]) == ["run-2"] * 6 + ["run-1"] * 6
    assert list(table["active"]) == [1] * 6 + [0] * 6
    assert len(crm("customer_scores")) == 18
    runs = crm("scoring_runs", "started_at")
    assert list(runs["status"]) == ["succeeded"] * 3


def test_a_crm_failure_leaves_the_old_files_and_the_old_crm(published, monkeypatch):
    from pipeline.publishing import crm

    settings, out = published
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    write_inputs(settings, scores("run-2", as_of="2024-07-31"))
    tier.main(settings)

    def down(*args, **kwargs):
        raise crm.CrmUnavailable("CRM database x unavailable")

    monkeypatch.setattr(crm, "write_run", down)
    with pytest.raises(crm.CrmUnavailable):
        publish.main(settings)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temporaries left


def test_cli_runs_tier_and_publish(tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    settings = make_settings(tmp_path)
    write_inputs(settings, scores())
    runner = CliRunner()
    for command in ("tier", "publish"):
        result = runner.invoke(app, ["--config-dir", str(tmp_path / "configs"), command])
        assert result.exit_code == 0, result.output
    assert (settings.path(settings.pipeline.paths.publish_dir) / "key_accounts.xlsx").exists()


@pytest.mark.parametrize(
    ("crm_url", "shown"),
    [("not a url", "KEYACCOUNTS_CRM_URL is not a database URL"),
     ("postgresql+psycopg://user:secret@127.0.0.1:1/crm", r"\*\*\*.*unavailable")],
)
def test_bad_crm_url_from_the_environment_is_a_clear_error(tmp_path, monkeypatch, crm_url,
                                                         shown):
    from pipeline.errors import CrmUnavailable

    settings = make_settings(tmp_path, {"strategic": {"min_bar": 0.75, "keep_bar": 0.5}})
    write_inputs(settings, scores())
    tier.main(settings)
    monkeypatch.setenv("KEYACCOUNTS_CRM_URL", crm_url)
    fast = settings.tiers.publish.crm.model_copy(update={"retries": 0,
                                                         "lock_timeout_seconds": 1})
    with pytest.raises((ConfigError, CrmUnavailable), match=shown) as error:
        publish.main(settings, publish=settings.tiers.publish.model_copy(update={"crm": fast}))
    assert "secret" not in str(error.value) and "\n" not in str(error.value)


def test_a_password_in_the_config_is_refused_on_load(tmp_path):
    import yaml

    from pipeline.config import load_settings

    settings = make_settings(tmp_path)
    path = settings.root / "configs" / "tiers.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["publish"]["crm"]["url"] = "postgresql+psycopg://crm:hunter2@db/crm"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="tiers.yaml.*crm.url.*password.*KEYACCOUNTS_CRM_URL"):
        load_settings(settings.root / "configs")


def test_summary_tables_total_per_tier_in_policy_order():
    from pipeline.publishing import summary_tables, workbook_notes

    tiers = pd.DataFrame({"customer_id": ["A", "B", "C", "D"],
                          "tier": ["key", "strategic", "key", "key"],
                          "region": ["S", "N", "N", "S"],
                          "expected_value": [1.0, 10.0, 2.0, 4.0],
                          "value_at_risk": [0.5, 1.0, 0.0, 1.0],
                          "retention_flag": [True, False, False, True]})
    empty = pd.DataFrame()
    tables = summary_tables(tiers, empty, empty, empty, empty, ("strategic", "key", "growth"))
    totals = tables["Accounts and expected value per tier"]
    assert totals["tier"].tolist() == ["strategic", "key"]
    assert totals["accounts"].tolist() == [1, 3]
    assert totals["expected_value"].tolist() == [10.0, 7.0]
    assert totals["retention"].tolist() == [0, 2]
    by = tables["Per tier and region"]
    assert list(zip(by["tier"], by["region"], by["accounts"])) == [
        ("strategic", "N", 1), ("key", "N", 1), ("key", "S", 2)]
    assert len(tables) == 6
    assert workbook_notes({"movement_basis": "run x", "notes": ["n"]}) == [
        "Movement compared with run x.", "n"]


def test_every_customer_keeps_its_own_reasons_in_every_output(tmp_path):
    settings = make_settings(tmp_path, {"strategic": {"min_bar": 0.75, "keep_bar": 0.5}})
    frame = scores()
    frame["reasons"] = [f"Value up: reason of {c}." for c in frame["customer_id"]]
    write_inputs(settings, frame)
    tier.main(settings)
    publish.main(settings)
    out = settings.path(settings.pipeline.paths.publish_dir)
    book = load_workbook(out / "key_accounts.xlsx")
    why = HEADERS.index("Why")
    seen = {}
    for name in book.sheetnames[1:]:
        for row in list(book[name].iter_rows(values_only=True))[1:]:
            seen[row[1]] = row[why]
    assert seen == {c: f"Value up: reason of {c}." for c in IDS}
    rows = pd.read_parquet(out / "key_accounts.parquet")
    assert (rows["reasons"] == "Value up: reason of " + rows["customer_id"] + ".").all()
    html = (out / "key_accounts.html").read_text()
    strategic = rows.loc[rows["tier"] == "strategic", "customer_id"]
    assert len(strategic) and all(f"reason of {c}." in html for c in strategic)

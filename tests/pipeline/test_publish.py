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
           "Expected value", "Churn probability", "Value at risk", "Manager gain",
           "Manager gain from", "Manager gain to", "Manager gain note", "Last order", "Last contact",
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
    assert book.sheetnames == ["Summary", "How to read this", "N", "S", "Unassigned"]
    seen = Counter()
    for name in ("N", "S"):
        sheet = book[name]
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == HEADERS
        assert sheet.freeze_panes == "C2" and sheet.auto_filter.ref == f"A1:S{len(rows)}"
        ranks = [r[0] for r in rows[1:]]
        assert ranks == sorted(ranks)                      # ranked within the region
        assert {r[2] for r in rows[1:]} == {name}
        seen.update((r[1], r[3]) for r in rows[1:])
        assert sheet["G2"].number_format == "#,##0" and sheet["N2"].number_format == "yyyy-mm-dd"
        assert sheet["J2"].number_format == "#,##0"  # the manager gain
    customers = [c for c, _ in seen]
    assert sorted(customers) == IDS                         # every scored customer exactly once
    strategic = [c for c, t in seen if t == "strategic"]
    assert sorted(strategic) == ["C001", "C002", "C003"] and len(set(strategic)) == 3
    first = list(book["N"].iter_rows(min_row=2, max_row=2, values_only=True))[0]
    assert first[1] == "C001" and first[15] == "M02" and "orders every month" in first[17]
    summary = [r[0] for r in book["Summary"].iter_rows(values_only=True) if r and r[0]]
    assert "Accounts and expected value per tier" in summary
    assert "Movement since the last run" in summary


@pytest.mark.parametrize("books", ["per_manager", "single"])
def test_sheets_per_manager(tmp_path, books):
    settings = make_settings(tmp_path, {"strategic": {"min_bar": 0.75, "keep_bar": 0.5}})
    write_inputs(settings, scores())
    tier.main(settings)
    publish.main(settings, publish=settings.tiers.publish.model_copy(
        update={"sheets_by": "manager", "books": books}))
    out = settings.path(settings.pipeline.paths.publish_dir)
    book = load_workbook(out / "key_accounts.xlsx")
    assert book.sheetnames == ["Summary", "How to read this", "M01", "M02", "M03", "Unassigned"]
    assert sum(book[s].max_row - 1 for s in book.sheetnames[2:]) == len(IDS)
    assert (out / "books").is_dir() == (books == "per_manager")


def test_workbook_is_formatted_for_people(tmp_path):
    settings = make_settings(tmp_path, {"strategic": {"min_bar": 0.75, "keep_bar": 0.5}})
    frame = scores()
    frame.loc[0, "reasons"] = "Value up: " + "ordered every month this year; " * 8
    write_inputs(settings, frame)
    tier.main(settings)
    publish.main(settings)
    out = settings.path(settings.pipeline.paths.publish_dir)
    book = load_workbook(out / "key_accounts.xlsx")
    sheet = book["N"]
    why, reason = HEADERS.index("Why") + 1, HEADERS.index("Why this tier") + 1
    assert sheet.cell(2, 2).value == "C001"
    assert sheet.cell(2, why).alignment.wrap_text and sheet.cell(2, reason).alignment.wrap_text
    assert sheet.column_dimensions["R"].width == 60 and sheet.column_dimensions["S"].width == 40
    long_lines = -(-len(frame.loc[0, "reasons"]) // 58)                # 58 characters a line
    assert sheet.row_dimensions[2].height == 15 * long_lines
    assert sheet.row_dimensions[3].height is None                      # one line: as Excel has it
    rules = {str(r.sqref): [x.type for x in r.rules] for r in sheet.conditional_formatting}
    assert rules == {f"H2:H{sheet.max_row}": ["colorScale"], f"Q2:Q{sheet.max_row}": ["cellIs"]}
    summary = book["Summary"]
    assert summary.freeze_panes == "B1" and len(summary.tables) >= 5
    first = summary.tables["Summary1"]
    assert first.ref == "A2:E5" and first.autoFilter.ref == "A2:E5"
    assert [c.name for c in first.tableColumns] == [
        summary.cell(2, i).value for i in range(1, 6)]
    guide = dict(r for r in book["How to read this"].iter_rows(min_row=2, values_only=True)
                 if r[0])
    assert guide["As of"].startswith("2024-06-30") and "365 days" in guide["Horizon"]
    assert guide["Value model"] == "version 3 (run run-1)"
    assert guide["Churn model"] == "version 4 (run run-1)"
    assert "top 25%" in guide["strategic"] and "top 50%" in guide["strategic"]
    assert "capacity" in guide["strategic"] and "top 25%" in guide["Retention"]
    assert "50%" in guide["Retention"] and "Value at risk" in guide
    manager = load_workbook(out / "books" / "manager-M02.xlsx")
    assert manager.sheetnames == ["Summary", "How to read this", "Accounts"]
    assert manager["Accounts"].freeze_panes == "C2"
    assert "manager M02" in dict(manager["How to read this"].iter_rows(
        min_row=2, values_only=True))["This book"]


def test_report_explains_itself(published):
    _, out = published
    html = (out / "key_accounts.html").read_text()
    for heading in ("What each tier means", "Per region", "Per manager",
                    "Why an incumbent kept its slot", "Strategic accounts most at risk"):
        assert f"<h2>{heading}</h2>" in html
    gain = html[html.index('aria-label="gain chart'):]
    gain = gain[:gain.index("</svg>")]
    assert all(f">{t}%</text>" in gain for t in (0, 20, 40, 60, 80, 100))  # ticks on both axes
    assert "share of accounts, best first" in gain and "share of expected value" in gain
    bars = html[html.index('aria-label="expected value over'):]
    bars = bars[:bars.index("</svg>")]
    assert ">0</text>" in bars and "expected value over the next 365 days</text>" in bars
    assert 'href="books/manager-M01.html"' in html and 'href="books/region-N.html"' in html
    assert "in the top 25%" in html and "top 50%" in html           # the bars, in words


def test_nice_ticks():
    from pipeline.publishing.html import nice_ticks

    assert nice_ticks(21_580_064) == [0, 5e6, 1e7, 1.5e7, 2e7, 2.5e7]
    assert nice_ticks(1.0) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(0) == [0.0, 1.0]


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
    before = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert any(name.startswith("books/manager-") for name in before)
    write_inputs(settings, scores("run-2", as_of="2024-07-31"))
    tier.main(settings)

    def down(*args, **kwargs):
        raise crm.CrmUnavailable("CRM database x unavailable")

    monkeypatch.setattr(crm, "write_run", down)
    with pytest.raises(crm.CrmUnavailable):
        publish.main(settings)
    after = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # no temporaries left


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
    for name in book.sheetnames[2:]:                       # after Summary and How to read this
        for row in list(book[name].iter_rows(values_only=True))[1:]:
            assert seen.setdefault(row[1], row[why]) == row[why]
    assert seen == {c: f"Value up: reason of {c}." for c in IDS}
    rows = pd.read_parquet(out / "key_accounts.parquet")
    assert (rows["reasons"] == "Value up: reason of " + rows["customer_id"] + ".").all()
    html = (out / "key_accounts.html").read_text()
    strategic = rows.loc[rows["tier"] == "strategic", "customer_id"]
    assert len(strategic) and all(f"reason of {c}." in html for c in strategic)

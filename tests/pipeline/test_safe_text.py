"""Nothing from the data is executable in an output: formula-like text is a text cell in the
workbook and quoted in every CSV, HTML escapes every value, Parquet keeps the ids as they are."""

import csv
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from pipeline.publishing.excel import GUIDE_SHEET, SUMMARY_SHEET, sheet_title, write_workbook
from pipeline.publishing.html import write_report
from pipeline.stages import publish, tier
from pipeline.storage import csv_safe, is_formula_like, write_table
from pipeline.validation.report import render_html
from tests.pipeline.test_tier_stage import make_settings, scores

FORMULAS = ['=HYPERLINK("http://x")', "=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]
PLAIN = ["C1", "a=b", " =1", "", "1-2"]  # not formula-like: written as they are
SCRIPT = "<script>alert(1)</script>"


def as_read(value: str) -> str:
    """`value` as an XML reader returns it from a workbook: XML turns a carriage return into a
    line feed (end-of-line normalisation), in Excel as in openpyxl."""
    return value.replace("\r", "\n")


def read_csv_cells(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def formula_elements(path: Path) -> list[str]:
    """The worksheet parts of the xlsx at `path` that hold a formula element."""
    with zipfile.ZipFile(path) as book:
        return [name for name in book.namelist() if name.startswith("xl/worksheets/")
                and (b"<f>" in book.read(name) or b"<f " in book.read(name))]


def test_the_rule():
    assert all(is_formula_like(v) for v in FORMULAS)
    assert not any(is_formula_like(v) for v in [*PLAIN, None, -1, -1.5, float("nan")])


def test_csv_safe_quotes_formula_like_text_and_leaves_numbers_and_the_input_alone():
    frame = pd.DataFrame({
        "customer_id": FORMULAS + PLAIN,
        "mixed": pd.Series([-1, "-1", None, 2.5, "=x", "ok", 0, "@", 1, 2, 3, 4], dtype=object),
        "region": pd.Categorical(["-N", "S"] * 6),
        "amount": [-1.0] * 12,
        "count": range(-6, 6),
    })
    before = frame.copy()
    out = csv_safe(frame)
    pd.testing.assert_frame_equal(frame, before)                  # the input is unchanged
    assert out["customer_id"].tolist() == ["'" + v for v in FORMULAS] + PLAIN
    assert out["mixed"].tolist()[:8] == [-1, "'-1", None, 2.5, "'=x", "ok", 0, "'@"]
    assert out["region"].tolist()[:2] == ["'-N", "S"]
    assert out["amount"].tolist() == [-1.0] * 12 and out["amount"].dtype == float
    assert out["count"].tolist() == list(range(-6, 6))


def test_write_table_quotes_the_csv_and_keeps_parquet_as_it_is(tmp_path):
    frame = pd.DataFrame({"customer_id": FORMULAS, "expected_value": [-5.0] * len(FORMULAS)})
    write_table(frame, tmp_path / "scores.csv")
    write_table(frame, tmp_path / "scores.parquet")
    cells = read_csv_cells(tmp_path / "scores.csv")
    assert [c["customer_id"] for c in cells] == ["'" + v for v in FORMULAS]
    assert {c["expected_value"] for c in cells} == {"-5.0"}       # a number is not quoted
    assert pd.read_parquet(tmp_path / "scores.parquet")["customer_id"].tolist() == FORMULAS


def _rows(ids: list[str], region: str) -> pd.DataFrame:
    return pd.DataFrame({
        "rank": range(1, len(ids) + 1), "customer_id": ids, "region": region,
        "expected_value": [-5.0] + [100.0] * (len(ids) - 1), "manager_id": "@M01",
        "reasons": "=1+1", "last_order_date": pd.Timestamp("2024-01-02"),
    })


def test_workbook_writes_formula_like_text_as_text_cells(tmp_path):
    region = "=cmd|' /C calc'!A0"
    ids = [*FORMULAS, "#N/A", "a\x01b", "C1"]
    rows = pd.concat([_rows(ids, region), _rows(["C2"], "'quoted'")], ignore_index=True)
    summary = {"=SUM(A1:A9)": pd.DataFrame({"region": ["+N", region], "value": [-3.0, 4.0]})}
    path = tmp_path / "key_accounts.xlsx"
    titles = write_workbook(path, rows, summary, "region", ["-note from the data", "plain"])
    assert titles == ["Summary", "quoted", "=cmd|' _C calc'!A0"]   # valid titles, no '…'
    assert formula_elements(path) == []
    book = load_workbook(path)
    assert book.sheetnames == titles
    sheet = book[titles[2]]
    cells = {c.row: c for c in sheet["B"]}
    for row, value in enumerate([*FORMULAS, "#N/A"], start=2):
        assert cells[row].data_type == "s" and cells[row].value == as_read(value)
        assert cells[row].quotePrefix                      # stays text when edited in Excel
    assert cells[len(ids)].value == "a\ufffdb"               # no crash on a control character
    assert cells[len(ids) + 1].value == "C1" and not cells[len(ids) + 1].quotePrefix
    negative = sheet["D2"]
    assert negative.data_type == "n" and negative.value == -5.0
    for ref in ("C2", "E2", "F2"):                            # region, manager, reasons
        assert sheet[ref].data_type == "s" and is_formula_like(sheet[ref].value)
    assert sheet["G2"].is_date
    front = {c.coordinate: c for row in book["Summary"].iter_rows() for c in row}
    assert front["A1"].value == "=SUM(A1:A9)" and front["A1"].data_type == "s"
    assert front["A3"].value == "+N" and front["A3"].data_type == "s"
    assert front["B3"].value == -3.0 and front["B3"].data_type == "n"
    assert front["A6"].value == "-note from the data" and front["A6"].data_type == "s"


def test_sheet_titles_are_valid_whatever_the_name():
    taken: set[str] = set()
    assert sheet_title("'a'", taken) == "a"
    assert sheet_title("x\ty\r[z]", taken) == "x_y__z_"
    assert sheet_title("''", taken) == "sheet"
    assert sheet_title("A", taken) == "A (2)"


def _tiers(ids: list[str]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({
        "customer_id": ids, "region": SCRIPT, "manager_id": "<b>M1</b>", "tier": "strategic",
        "rank": range(1, n + 1), "expected_value": [100.0] * n, "churn_probability": 0.5,
        "value_at_risk": [50.0] * n, "retention_flag": True, "reasons": "<i>why</i>",
        "as_of": pd.Timestamp("2024-06-30"), "run_id": SCRIPT,
    })


def test_html_report_escapes_every_value(tmp_path):
    matrix = pd.DataFrame([[1, 0], [0, 1]], index=["strategic", "other"],
                          columns=["strategic", "other"])
    shortfall = pd.DataFrame({"pool": [SCRIPT], "candidates": [1], "capacity": [1],
                              "strategic": [1], "overflow": [0]})
    path = tmp_path / "report.html"
    write_report(path, _tiers([SCRIPT, "C1"]), matrix, shortfall, ("strategic", "other"),
                 {"notes": [SCRIPT], "moved": {SCRIPT: 1}, "movement_basis": SCRIPT}, 5)
    html = path.read_text()
    assert "<script" not in html and "<b>M1" not in html and "<i>why" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 6
    assert "<svg" in html                                     # our own charts stay markup


def test_validation_report_escapes_the_data():
    summary = {
        "success": False, "reference_date": "2024-06-30", "seconds": 1.0,
        "error": SCRIPT, "reason_meanings": {"bad_id": SCRIPT}, "id_collisions": {},
        "tables": {"transactions": {
            "source": SCRIPT, "rows_in": 1, "rows_accepted": 0, "rows_quarantined": 1,
            "reasons": {"bad_id": 1}, "warnings": [{"message": f"id {SCRIPT} twice"}],
            "gx_rows_checked": 0,
            "expectations": [{"suite": "s", "expectation": "e", "column": "customer_id",
                              "success": False, "blocking": True, "observed": SCRIPT}],
        }},
    }
    html = render_html(summary)
    assert "<script" not in html and html.count("&lt;script&gt;") >= 4


@pytest.fixture
def published_formulas(tmp_path, monkeypatch):
    """The tier and publish stages on customers, regions and managers named like formulas;
    the CRM is the configured SQLite file under tmp_path."""
    monkeypatch.delenv("KEYACCOUNTS_CRM_URL", raising=False)
    monkeypatch.delenv("KEYACCOUNTS_CRM_PASSWORD", raising=False)
    ids = [*FORMULAS, "C8", "C9", "C10", "C11", "C12"]
    settings = make_settings(tmp_path, {"strategic": {"min_bar": 0.75, "keep_bar": 0.5}})
    paths = settings.pipeline.paths
    frame = scores().assign(customer_id=ids)
    (scores_dir := settings.path(paths.scores_dir)).mkdir(parents=True)
    frame.to_parquet(scores_dir / "scores.parquet", index=False)
    (validated := settings.path(paths.validated_dir)).mkdir(parents=True)
    regions = ["=cmd|' /C calc'!A0", "-S"]
    pd.DataFrame({"customer_id": ids, "region": regions * 6,
                  "current_manager_id": ["@M1", "+M2"] + [None] * 10,
                  "current_tier": ["strategic", "strategic"] + [None] * 10}).to_parquet(
        validated / "customers.parquet", index=False)
    pd.DataFrame({"manager_id": ["@M1", "+M2"], "region": regions, "capacity": [3, 3],
                  "active": [True, True]}).to_parquet(validated / "managers.parquet", index=False)
    pd.DataFrame({"customer_id": ids[:1], "order_date": pd.to_datetime(["2024-05-02"]),
                  "amount": [10.0]}).to_parquet(validated / "transactions.parquet", index=False)
    tier.main(settings)
    publish.main(settings)
    return ids, settings.path(paths.publish_dir), tmp_path


def test_published_outputs_keep_formula_like_ids_inert(published_formulas):
    ids, out, root = published_formulas
    workbook = out / "key_accounts.xlsx"
    assert formula_elements(workbook) == []
    book = load_workbook(workbook)
    rows = [n for n in book.sheetnames if n not in (SUMMARY_SHEET, GUIDE_SHEET)]
    cells = [row for name in rows for row in book[name].iter_rows(min_row=2)]
    by_id = {row[1].value: row for row in cells}
    assert sorted(by_id) == sorted(map(as_read, ids))
    for value in map(as_read, FORMULAS):
        assert by_id[value][1].data_type == "s" and by_id[value][2].data_type == "s"
        assert by_id[value][1].quotePrefix
    assert by_id["C12"][0].data_type == "n" and by_id["C12"][6].data_type == "n"
    assert by_id[FORMULAS[0]][15].value == "@M1" and by_id[FORMULAS[0]][15].data_type == "s"
    assert "<script" not in (out / "key_accounts.html").read_text()
    rows = read_csv_cells(out / "key_accounts.csv")
    quoted = {r["customer_id"] for r in rows}
    assert quoted == {"'" + v for v in FORMULAS} | set(ids[len(FORMULAS):]), (
        "a value starting with a carriage return splits its row unless the CSV has CRLF line "
        "ends: write it with storage.write_table")
    assert {r["region"] for r in rows} == {"'=cmd|' /C calc'!A0", "'-S"}
    assert [r["expected_value"] for r in rows if r["customer_id"] == "C12"] == ["100.0"]
    assert sorted(pd.read_parquet(out / "key_accounts.parquet")["customer_id"]) == sorted(ids)
    (database,) = root.rglob("*.db")
    with sqlite3.connect(database) as crm:
        tables = [t for (t,) in crm.execute("select name from sqlite_master where type='table'")]
        found = {i for t in tables
                 if "customer_id" in [c[1] for c in crm.execute(f'pragma table_info("{t}")')]
                 for (i,) in crm.execute(f'select customer_id from "{t}"')}
    assert found == set(ids)                                   # the CRM keeps the ids

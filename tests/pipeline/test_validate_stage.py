"""`keyaccounts validate` end to end on small files: outputs, counts, report, config-only
onboarding of a foreign export, and the stops."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.config import load_settings
from pipeline.errors import DataError
from pipeline.stages import validate

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


def _project(tmp_path: Path, data: dict) -> Path:
    """A project root in tmp_path: the repo's configs with `data` as data.yaml."""
    config_dir = tmp_path / "configs"
    shutil.copytree(REPO / "configs", config_dir)
    (config_dir / "data.yaml").write_text(yaml.safe_dump(data))
    return config_dir


def _demo_like_raw(raw_dir: Path) -> None:
    """Four Parquet tables shaped like the generator's defect output: dates and amounts as
    strings, a duplicate row, a null id, a bad date, text in an amount, a future date and
    a contact for an unknown customer."""
    raw_dir.mkdir(parents=True)
    pd.DataFrame(
        {
            "manager_id": ["M001", "M002"],
            "region": ["north", "south"],
            "capacity": [20, 25],
            "active": [True, False],
        }
    ).to_parquet(raw_dir / "managers.parquet")
    pd.DataFrame(
        {
            "customer_id": ["C0000001", "C0000002", "C0000003"],
            "region": ["north", "south", "north"],
            "industry": ["metal", "food", "chem"],
            "size": [12, 250, 3],
            "created_date": pd.to_datetime(["2022-11-01", "2023-05-01", "2024-01-01"]),
            "current_manager_id": ["M001", None, "M009"],
            "current_tier": ["strategic", None, "key"],
        }
    ).to_parquet(raw_dir / "customers.parquet")
    pd.DataFrame(
        {
            "customer_id": [
                "C0000001",
                "C0000001",
                "C0000002",
                None,
                "C0000003",
                "C0000003",
                "C0000002",
            ],
            "order_id": ["O1", "O1", "O2", "O3", "O4", "O5", "O6"],
            "order_date": [
                "2024-01-05",
                "2024-01-05",
                "2024-02-01",
                "2024-02-02",
                "2024-13-45",
                "2024-03-01",
                "2031-01-01",
            ],
            "amount": ["100.0", "100.0", "-20.5", "5.0", "7.0", "abc", "9.0"],
            "category": ["a", "a", "b", "b", "c", "c", "a"],
            "quantity": [1, 1, -1, 2, 1, 1, 1],
            "channel": ["web", "web", "phone", "web", "edi", "field", "web"],
        }
    ).to_parquet(raw_dir / "transactions.parquet")
    pd.DataFrame(
        {
            "customer_id": ["C0000001", "C0000009", "C0000002"],
            "contact_date": ["2024-01-10", "2024-01-11", "2024-01-12"],
            "channel": ["visit", "call", "email"],
            "manager_id": ["M001", "M001", None],
            "outcome": ["order", "none", "complaint"],
        }
    ).to_parquet(raw_dir / "contacts.parquet")


DEMO_DATA = {
    **{
        t: {"path": f"data/raw/{t}.parquet"}
        for t in ("transactions", "contacts", "customers", "managers")
    },
    "reference_date": "2026-10-31",
}


def test_demo_like_sources_are_split_typed_and_reported(tmp_path: Path) -> None:
    config_dir = _project(tmp_path, DEMO_DATA)
    _demo_like_raw(tmp_path / "data" / "raw")
    validate.main(load_settings(config_dir))

    summary = json.loads((tmp_path / "reports/validation/validation_summary.json").read_text())
    assert summary["success"] is True
    tables = summary["tables"]
    for name, t in tables.items():
        accepted = pd.read_parquet(tmp_path / f"data/validated/{name}.parquet")
        quarantine = pd.read_parquet(tmp_path / f"data/quarantine/{name}.parquet")
        assert (
            t["rows_in"]
            == len(accepted) + len(quarantine)
            == t["rows_accepted"] + t["rows_quarantined"]
        )
        assert (tmp_path / f"data/quarantine/{name}.csv").exists()
        assert all(
            e["success"] for e in t["expectations"] if e["suite"] == "accepted" and e["blocking"]
        )
    assert tables["transactions"]["reasons"] == {
        "null_id": 1,
        "bad_date": 1,
        "bad_amount": 1,
        "future_date": 1,
        "duplicate_row": 1,
    }
    assert tables["contacts"]["reasons"] == {"unknown_customer": 1}
    assert tables["customers"]["warnings"][0]["code"] == "unknown_manager"  # M009 kept, warned
    informative = [e for e in tables["customers"]["expectations"] if not e["success"]]
    assert [(e["suite"], e["column"], e["blocking"]) for e in informative] == [
        ("references managers", "managers.manager_id", False)
    ]
    references = [
        e for e in tables["transactions"]["expectations"] if e["suite"] == "references customers"
    ]
    assert [(e["column"], e["success"], e["blocking"]) for e in references] == [
        ("customers.customer_id", True, True)
    ]
    rows = {  # the rows suite found what the quarantine refused, for the same reasons
        e["reason"]: (e["column"], e["observed"])
        for e in tables["transactions"]["expectations"]
        if e["suite"] == "rows" and not e["success"]
    }
    assert rows == {
        "null_id": ("customer_id", "1 unexpected (14.29%)"),
        "bad_date": ("order_date", "1 unexpected (14.29%)"),
        "bad_amount": ("amount", "1 unexpected (14.29%)"),
        "future_date": ("order_date", "1 unexpected (16.67%)"),  # of the 6 dates read
    }
    assert not any(e["blocking"] for e in tables["transactions"]["expectations"]
                   if e["suite"] == "rows")

    tx = pd.read_parquet(tmp_path / "data/validated/transactions.parquet")
    assert list(tx.columns) == [
        "customer_id",
        "order_id",
        "order_date",
        "amount",
        "category",
        "quantity",
        "channel",
    ]
    assert tx["customer_id"].tolist() == ["C0000001", "C0000002"]
    assert str(tx["order_date"].dtype).startswith("datetime64") and tx["amount"].dtype == "float64"
    quarantine = pd.read_parquet(tmp_path / "data/quarantine/transactions.parquet")
    assert quarantine.set_index("source_row")["reason"].to_dict() == {
        2: "duplicate_row",
        4: "null_id",
        5: "bad_date",
        6: "bad_amount",
        7: "future_date",
    }
    assert quarantine.loc[quarantine["reason"] == "bad_amount", "amount"].tolist() == ["abc"]
    html = (tmp_path / "reports/validation/index.html").read_text()
    assert "Validation report" in html and "future_date" in html and "references customers" in html
    assert summary["data_docs"] == "data_docs/index.html" and "href='data_docs/index.html'" in html
    docs = tmp_path / "reports/validation/data_docs"
    pages = [p.relative_to(docs).as_posix() for p in docs.rglob("*.html")]
    assert "index.html" in pages and "expectations/transactions/rows.html" in pages
    assert sum(p.startswith("validations/transactions/rows/") for p in pages) == 1
    assert not [p for p in (tmp_path / "reports/validation").iterdir() if p.name.startswith(".")]


def _erp_project(tmp_path: Path) -> Path:
    """The repo's configs with only data.yaml replaced by the ERP fixture's data.yaml."""
    (tmp_path / "tests" / "fixtures").mkdir(parents=True)
    shutil.copy(FIXTURES / "erp_transactions.csv", tmp_path / "tests" / "fixtures")
    config_dir = _project(tmp_path, {})
    shutil.copy(FIXTURES / "data_erp.yaml", config_dir / "data.yaml")
    return config_dir


def _check_erp_outputs(root: Path) -> None:
    tx = pd.read_parquet(root / "data/validated/transactions.parquet")
    assert tx["customer_id"].tolist() == ["0000123", "0000123", "0004711", "0004711", "0000042"]
    assert tx["order_date"].dt.strftime("%Y-%m-%d").tolist()[:2] == ["2024-01-15", "2024-02-20"]
    assert tx["amount"].tolist() == [1234.5, -50.0, 99.9, 15.0, 500.0]
    assert sorted(p.name for p in (root / "data/validated").iterdir()) == ["transactions.parquet"]
    reasons = json.loads((root / "reports/validation/validation_summary.json").read_text())[
        "tables"
    ]
    assert reasons["transactions"]["reasons"] == {
        "null_id": 1,
        "bad_date": 1,
        "bad_amount": 1,
        "future_date": 1,
        "duplicate_row": 1,
    }


def test_foreign_export_validates_by_editing_data_yaml_alone(tmp_path: Path) -> None:
    validate.main(load_settings(_erp_project(tmp_path)))
    _check_erp_outputs(tmp_path)


def test_foreign_export_parquet_with_integer_dates(tmp_path: Path) -> None:
    config_dir = _erp_project(tmp_path)
    frame = pd.read_csv(FIXTURES / "erp_transactions.csv", sep=";", dtype={"KUNDENNR": str})
    frame = frame[frame["BELEGDATUM"].str.fullmatch(r"\d{8}")].copy()
    frame["BELEGDATUM"] = frame["BELEGDATUM"].astype("int64")
    frame.to_parquet(tmp_path / "tests/fixtures/erp.parquet", index=False)
    data = yaml.safe_load((config_dir / "data.yaml").read_text())
    data["transactions"]["path"] = "tests/fixtures/erp.parquet"
    (config_dir / "data.yaml").write_text(yaml.safe_dump(data))
    validate.main(load_settings(config_dir))
    tx = pd.read_parquet(tmp_path / "data/validated/transactions.parquet")
    assert tx["order_date"].min() == pd.Timestamp("2024-01-15")
    assert tx["customer_id"].iloc[0] == "0000123"


@pytest.mark.integration
def test_foreign_export_through_the_cli(tmp_path: Path) -> None:
    config_dir = _erp_project(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pipeline.cli import main; main()",
            "--config-dir",
            str(config_dir),
            "validate",
        ],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    _check_erp_outputs(tmp_path)


def test_configured_optional_file_missing_stops(tmp_path: Path) -> None:
    config_dir = _erp_project(tmp_path)
    data = yaml.safe_load((config_dir / "data.yaml").read_text())
    data["contacts"] = {"path": "data/raw/contacts.csv"}
    (config_dir / "data.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(DataError, match=r"contacts\.csv: contacts file not found"):
        validate.main(load_settings(config_dir))


def test_missing_column_through_the_stage_names_file_and_column(tmp_path: Path) -> None:
    config_dir = _erp_project(tmp_path)
    data = yaml.safe_load((config_dir / "data.yaml").read_text())
    del data["transactions"]["columns"]["order_date"]
    (config_dir / "data.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(DataError) as error:
        validate.main(load_settings(config_dir))
    assert "erp_transactions.csv: required column 'order_date' not found" in str(error.value)
    assert "BELEGDATUM" in str(error.value)  # the columns present are listed


def test_failed_expectation_writes_the_report_but_no_validated_data(
    tmp_path: Path, monkeypatch
) -> None:
    from pipeline.validation import run as validation_run  # the stage's row checks

    config_dir = _erp_project(tmp_path)
    real = validation_run.check_tables

    def broken(raws, options, **kwargs):  # a parser bug: the dates come out as text
        results = real(raws, options, **kwargs)
        accepted = results["transactions"].accepted
        accepted["order_date"] = accepted["order_date"].dt.strftime("%Y-%m-%d")
        return results

    monkeypatch.setattr(validation_run, "check_tables", broken)
    with pytest.raises(
        DataError, match=r"fails 1 expectation.*expect_column_values_to_be_of_type\(order_date\)"
    ):
        validate.main(load_settings(config_dir))
    assert not (tmp_path / "data/validated/transactions.parquet").exists()
    assert (tmp_path / "reports/validation/index.html").exists()
    assert (tmp_path / "data/quarantine/transactions.parquet").exists()


def test_unknown_contract_column_in_data_yaml_is_a_config_error(tmp_path: Path) -> None:
    from pipeline.errors import ConfigError

    config_dir = _project(tmp_path, {"transactions": {"path": "x.csv", "columns": {"kunde": "K"}}})
    with pytest.raises(ConfigError, match="unknown contract column"):
        load_settings(config_dir)


def test_validation_makes_no_network_connection(tmp_path: Path, monkeypatch) -> None:
    import socket

    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    validate.main(load_settings(_erp_project(tmp_path)))
    assert attempts == []


@pytest.mark.integration
def test_generated_defects_are_quarantined_with_their_reasons(tmp_path: Path) -> None:
    """The generator's --defects output: every injected fault kind lands in quarantine."""
    from pipeline.stages import generate

    data = {**DEMO_DATA, "reference_date": "2026-10-31"}
    settings = load_settings(_project(tmp_path, data))
    generate.main(settings, n_customers=300, defect_rate=0.02)
    validate.main(settings)

    summary = json.loads((tmp_path / "reports/validation/validation_summary.json").read_text())
    assert summary["success"] is True
    for t in summary["tables"].values():
        assert t["rows_in"] == t["rows_accepted"] + t["rows_quarantined"]
    tx = summary["tables"]["transactions"]["reasons"]
    contacts = summary["tables"]["contacts"]["reasons"]
    for reason in ("null_id", "bad_date", "bad_amount", "future_date", "duplicate_row"):
        assert tx.get(reason, 0) > 0, reason
    assert contacts.get("unknown_customer", 0) > 0
    accepted = pd.read_parquet(tmp_path / "data/validated/transactions.parquet")
    assert accepted["order_date"].max() <= pd.Timestamp("2026-10-31")
    assert accepted["customer_id"].str.match(r"^C\d{7}$").all()


# --- a wrong format stops with the fix; an empty transactions table stops with its reasons --


def _edit_data(config_dir: Path, edit) -> None:
    data = yaml.safe_load((config_dir / "data.yaml").read_text())
    edit(data)
    (config_dir / "data.yaml").write_text(yaml.safe_dump(data))


def test_wrong_date_format_stops_naming_file_columns_count_examples_and_fix(
    tmp_path: Path,
) -> None:
    """The new-user case: day-first dates read with "%Y-%m-%d"."""
    exports = tmp_path / "exports"
    exports.mkdir()
    dates = [f"{1 + i % 28:02d}/{1 + i % 12:02d}/2024" for i in range(40)]
    dates[0], dates[1] = "27/01/2024", "04/11/2022"
    pd.DataFrame(
        {
            "Client No": [f"{i:09d}" for i in range(40)],
            "Invoice Date": dates,
            "Net Value": ["355.5"] * 40,
        }
    ).to_csv(exports / "my_tx.csv", index=False)
    columns = {"customer_id": "Client No", "order_date": "Invoice Date", "amount": "Net Value"}
    source = {"path": "exports/my_tx.csv", "columns": columns, "date_format": "%Y-%m-%d"}
    config_dir = _project(tmp_path, {"transactions": source})
    with pytest.raises(DataError) as error:
        validate.main(load_settings(config_dir))
    assert str(error.value) == (
        f"{tmp_path}/exports/my_tx.csv: column order_date (source column 'Invoice Date'): 40 of "
        "40 values do not match date_format '%Y-%m-%d' (e.g. '27/01/2024', '04/11/2022'); they "
        'read as "%d/%m/%Y": set transactions.date_format: "%d/%m/%Y" in configs/data.yaml'
    )
    assert not (tmp_path / "data/validated/transactions.parquet").exists()  # nothing accepted
    _edit_data(config_dir, lambda d: d["transactions"].update(date_format="%d/%m/%Y"))
    validate.main(load_settings(config_dir))  # the suggested fix works
    assert len(pd.read_parquet(tmp_path / "data/validated/transactions.parquet")) == 40


def test_integer_dates_read_with_a_text_format_stop_with_the_integer_format(
    tmp_path: Path,
) -> None:
    config_dir = _erp_project(tmp_path)
    _edit_data(config_dir, lambda d: d["transactions"].update(date_format="%d.%m.%Y"))
    with pytest.raises(DataError) as error:
        validate.main(load_settings(config_dir))
    message = str(error.value)
    assert "erp_transactions.csv: column order_date (source column 'BELEGDATUM'): 10 of 10 " in (
        message
    )
    assert 'most of them read as "%Y%m%d": set transactions.date_format: "%Y%m%d"' in message


def test_decimal_commas_without_csv_decimal_stop_with_the_csv_decimal_hint(
    tmp_path: Path,
) -> None:
    """The ERP fixture without its decimal option: not 8 bad_amount rows but one clear stop."""
    config_dir = _erp_project(tmp_path)
    _edit_data(config_dir, lambda d: d["transactions"]["csv"].pop("decimal"))
    with pytest.raises(DataError) as error:
        validate.main(load_settings(config_dir))
    message = str(error.value)
    assert message.startswith(
        f"{tmp_path}/tests/fixtures/erp_transactions.csv: column amount (source column "
        "'UMSATZ'): 10 of 10 values are not numbers written with decimal '.' (e.g. '1234,50', "
        "'-50,00'); "
    )
    assert message.endswith('decimal-comma numbers: set transactions.csv.decimal: "," in '
                            "configs/data.yaml")
    assert "fail_on_expectations" not in message
    assert not (tmp_path / "data/validated").exists()


@pytest.mark.parametrize("fail_on_expectations", [True, False])
def test_a_wrong_format_after_a_good_run_leaves_no_stale_validated_data(
    tmp_path: Path, fail_on_expectations: bool
) -> None:
    """The next stage must not read the previous run's data: the stop removes it and the
    summary and the report record the failure."""
    config_dir = _erp_project(tmp_path)
    validate.main(load_settings(config_dir))
    validated = tmp_path / "data/validated"
    assert (validated / "transactions.parquet").exists()
    summary_file = tmp_path / "reports/validation/validation_summary.json"
    assert json.loads(summary_file.read_text())["success"] is True

    def wrong_decimal(data: dict) -> None:
        data["transactions"]["csv"].pop("decimal")
        data["fail_on_expectations"] = fail_on_expectations

    _edit_data(config_dir, wrong_decimal)
    with pytest.raises(DataError, match="csv.decimal") as error:
        validate.main(load_settings(config_dir))
    assert list(validated.glob("*.parquet")) == []
    summary = json.loads(summary_file.read_text())
    assert summary["success"] is False and summary["error"] == str(error.value)
    assert summary["tables"]["transactions"]["rows_accepted"] == 0
    html = (tmp_path / "reports/validation/index.html").read_text()
    assert "FAILED" in html and "csv.decimal" in html
    quarantine = pd.read_parquet(tmp_path / "data/quarantine/transactions.parquet")
    assert len(quarantine) == 10 and set(quarantine["reason"]) >= {"bad_amount"}


@pytest.mark.parametrize("fail_on_expectations", [True, False])
def test_all_transactions_quarantined_stops_with_the_main_reasons(
    tmp_path: Path, fail_on_expectations: bool
) -> None:
    config_dir = _erp_project(tmp_path)
    validate.main(load_settings(config_dir))  # a good run first: its outputs must not survive
    assert (tmp_path / "data/validated/transactions.parquet").exists()

    def every_date_in_the_future(data: dict) -> None:
        data["reference_date"] = "2000-01-01"
        data["fail_on_expectations"] = fail_on_expectations

    _edit_data(config_dir, every_date_in_the_future)
    with pytest.raises(DataError) as error:
        validate.main(load_settings(config_dir))
    quarantine = tmp_path / "data/quarantine/transactions.csv"
    assert str(error.value) == (
        f"{tmp_path}/tests/fixtures/erp_transactions.csv: all 10 transactions rows were "
        "quarantined, none accepted (7 future_date in order_date, 1 null_id in customer_id, "
        "1 bad_date in order_date, 1 more in other reasons); future_date: a date lies after the reference date "
        f"(data.yaml reference_date, default today); see {quarantine} and fix "
        "configs/data.yaml or the export"
    )
    assert not (tmp_path / "data/validated/transactions.parquet").exists()
    assert len(pd.read_csv(quarantine)) == 10  # every row kept, with its reason
    summary = json.loads((tmp_path / "reports/validation/validation_summary.json").read_text())
    assert summary["success"] is False and summary["error"] == str(error.value)
    assert "all 10 transactions rows were quarantined" in (
        tmp_path / "reports/validation/index.html"
    ).read_text()


# --- look-alike ids are reported, huge amounts quarantined, an all-returns table stops -------


def _csv_project(tmp_path: Path, tables: dict[str, str], **rules) -> Path:
    """A project whose data.yaml reads `tables` (table: CSV text) from exports/."""
    exports = tmp_path / "exports"
    exports.mkdir()
    data = {"reference_date": "2026-10-31", **rules}
    for table, text in tables.items():
        (exports / f"{table}.csv").write_text(text, encoding="utf-8")
        data[table] = {"path": f"exports/{table}.csv"}
    return _project(tmp_path, data)


def test_look_alike_ids_are_kept_logged_and_reported(tmp_path: Path, caplog) -> None:
    config_dir = _csv_project(
        tmp_path,
        {
            "transactions": "customer_id,order_date,amount\n"
            " C001 ,2024-01-02,10\nC001,2024-01-03,20\nc001,2024-01-04,30\n"
            "C002\u200b,2024-01-05,40\nC002,2024-01-06,50\n",
            "contacts": "customer_id,contact_date,channel\n"
            "C001,2024-01-02,call\nC001,2024-01-02,call\n",
        },
    )
    with caplog.at_level("WARNING", logger="keyaccounts"):
        validate.main(load_settings(config_dir))
    tx = pd.read_parquet(tmp_path / "data/validated/transactions.parquet")
    # " C001 " is C001; c001 and C002<zero-width space> stay customers of their own
    assert tx["customer_id"].tolist() == ["C001", "C001", "c001", "C002\u200b", "C002"]
    contacts = pd.read_parquet(tmp_path / "data/validated/contacts.parquet")
    assert len(contacts) == 2  # two calls on one day are two contacts
    summary = json.loads((tmp_path / "reports/validation/validation_summary.json").read_text())
    found = summary["id_collisions"]["customer_id"]
    assert (found["groups"], found["ids"], found["rows"]) == (2, 4, 7)
    assert found["examples"][0] == {
        "kinds": ["case"],
        "rows": 5,
        "ids": [
            {"id": "C001", "shown": "C001",
             "rows": {"transactions.customer_id": 2, "contacts.customer_id": 2}},
            {"id": "c001", "shown": "c001", "rows": {"transactions.customer_id": 1}},
        ],
    }
    assert [m["shown"] for m in found["examples"][1]["ids"]] == ["C002", "C002\\u200b"]
    assert summary["success"] is True  # a warning, not a stop
    assert "customer_id: 2 group(s) of ids differ only by case or invisible" in caplog.text
    html = (tmp_path / "reports/validation/index.html").read_text()
    assert "Ids that differ only by case or invisible characters" in html
    assert "&#x27;C002\\u200b&#x27;" in html


def test_huge_and_infinite_amounts_are_quarantined_and_the_counts_add_up(tmp_path: Path) -> None:
    config_dir = _csv_project(
        tmp_path,
        {
            "transactions": "customer_id,order_date,amount\n"
            "C1,2024-01-02,10\nC1,2024-01-03,1e308\nC2,2024-01-04,inf\n"
            "C2,2024-01-05,-5e12\nC3,2024-01-06,20\n"
        },
        max_abs_amount=1.0e12,
    )
    validate.main(load_settings(config_dir))
    summary = json.loads((tmp_path / "reports/validation/validation_summary.json").read_text())
    t = summary["tables"]["transactions"]
    assert t["reasons"] == {"amount_out_of_range": 3}
    assert (t["rows_in"], t["rows_accepted"], t["rows_quarantined"]) == (5, 2, 3)
    quarantine = pd.read_parquet(tmp_path / "data/quarantine/transactions.parquet")
    assert quarantine["amount"].tolist() == ["1e308", "inf", "-5e12"]
    assert quarantine["source_row"].tolist() == [2, 3, 4]
    accepted = pd.read_parquet(tmp_path / "data/validated/transactions.parquet")
    assert accepted["amount"].tolist() == [10.0, 20.0]


def test_a_transactions_table_of_returns_only_stops_saying_purchases_are_missing(
    tmp_path: Path,
) -> None:
    config_dir = _csv_project(
        tmp_path,
        {
            "transactions": "KD,DATUM,BETRAG\n"
            "C1,2024-01-02,-10\nC2,2024-01-03,-20\nC2,2024-01-04,0\nC3,bad,5\n"
        },
    )
    _edit_data(config_dir, lambda d: d["transactions"].update(
        columns={"customer_id": "KD", "order_date": "DATUM", "amount": "BETRAG"}))
    with pytest.raises(DataError) as error:
        validate.main(load_settings(config_dir))
    assert str(error.value) == (
        f"{tmp_path}/exports/transactions.csv: no accepted transactions row has a positive "
        "amount (2 returns, 1 zero of 3 rows in column amount (source column 'BETRAG')): the "
        "purchases are missing; export the sales as well as the returns (a negative amount is "
        "a return), or check that transactions.columns.amount in configs/data.yaml names the "
        "sales amount"
    )
    assert not (tmp_path / "data/validated").exists()
    assert len(pd.read_parquet(tmp_path / "data/quarantine/transactions.parquet")) == 1
    summary = json.loads((tmp_path / "reports/validation/validation_summary.json").read_text())
    assert summary["success"] is False and summary["error"] == str(error.value)

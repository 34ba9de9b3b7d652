"""Reading sources: column maps, CSV options, and the clear errors for missing or empty data."""

from pathlib import Path

import pandas as pd
import pytest

from pipeline.config.data import SourceConfig
from pipeline.errors import DataError
from pipeline.validation import SPECS, read_source, source_format

TX = SPECS["transactions"]


def _csv(tmp_path: Path, text: str, name: str = "tx.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_is_read_as_text_with_leading_zeros_and_renamed(tmp_path: Path) -> None:
    path = _csv(tmp_path, "KD;DATUM;BETRAG;EXTRA\n000123;20240101;1,5;x\nNA;20240102;2;y\n")
    source = SourceConfig(
        path=path,
        columns={"customer_id": "KD", "order_date": "DATUM", "amount": "BETRAG"},
        csv={"delimiter": ";"},
    )
    frame = read_source(path, "transactions", TX, source)
    assert list(frame.columns) == ["customer_id", "order_date", "amount"]  # extra column dropped
    assert frame["customer_id"].tolist() == ["000123", "NA"]  # "NA" is an id, not a null
    assert frame["order_date"].tolist() == ["20240101", "20240102"]


def test_parquet_keeps_stored_types(tmp_path: Path) -> None:
    path = tmp_path / "tx.parquet"
    pd.DataFrame(
        {"customer_id": ["007"], "order_date": pd.to_datetime(["2024-01-01"]), "amount": [1.5]}
    ).to_parquet(path)
    frame = read_source(path, "transactions", TX, SourceConfig(path=path))
    assert frame["customer_id"].tolist() == ["007"] and frame["amount"].dtype == "float64"


def test_missing_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    with pytest.raises(DataError) as error:
        read_source(path, "contacts", SPECS["contacts"], SourceConfig(path=path))
    message = str(error.value)
    assert str(path) in message and "not found" in message
    assert "contacts.path" in message and "contacts: null" in message


def test_missing_required_column_names_file_column_and_fix(tmp_path: Path) -> None:
    path = _csv(tmp_path, "customer_id,datum,amount\nC1,2024-01-01,3\n")
    with pytest.raises(DataError) as error:
        read_source(path, "transactions", TX, SourceConfig(path=path))
    message = str(error.value)
    assert str(path) in message
    assert "required column 'order_date' not found" in message
    assert "columns present: customer_id, datum, amount" in message
    assert "transactions.columns, e.g. order_date: <your column name>" in message


def test_mapped_column_missing_names_the_mapped_name(tmp_path: Path) -> None:
    path = _csv(tmp_path, "customer_id,order_date,amount\nC1,2024-01-01,3\n")
    source = SourceConfig(path=path, columns={"amount": "UMSATZ"})
    with pytest.raises(
        DataError, match=r"required column 'UMSATZ' \(mapped from 'amount'\) not found"
    ):
        read_source(path, "transactions", TX, source)
    optional = SourceConfig(path=path, columns={"category": "WG"})
    with pytest.raises(DataError, match=r"column 'WG' mapped to 'category' not found"):
        read_source(path, "transactions", TX, optional)


@pytest.mark.parametrize("content", ["customer_id,order_date,amount\n", ""])
def test_empty_csv_stops_with_the_file_name(tmp_path: Path, content: str) -> None:
    path = _csv(tmp_path, content)
    with pytest.raises(DataError) as error:
        read_source(path, "transactions", TX, SourceConfig(path=path))
    assert str(path) in str(error.value)
    assert "no rows" in str(error.value) or "empty" in str(error.value)


def test_empty_parquet_stops_with_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "tx.parquet"
    pd.DataFrame(
        {
            "customer_id": pd.Series([], dtype="str"),
            "order_date": pd.Series([], dtype="str"),
            "amount": pd.Series([], dtype="float64"),
        }
    ).to_parquet(path)
    with pytest.raises(DataError, match="no rows"):
        read_source(path, "transactions", TX, SourceConfig(path=path))


def test_format_by_suffix_or_config(tmp_path: Path) -> None:
    assert source_format(Path("a/b.CSV"), "auto") == "csv"
    assert source_format(Path("a/b.parquet"), "auto") == "parquet"
    assert source_format(Path("a/b.dat"), "csv") == "csv"
    with pytest.raises(DataError, match="set format: csv or format: parquet"):
        source_format(Path("a/b.dat"), "auto")


def test_a_column_twice_in_the_header_stops_naming_the_file_and_the_column(
    tmp_path: Path,
) -> None:
    # pandas would read the first "amount" and rename the second "amount.1"
    path = _csv(tmp_path, "customer_id,order_date,amount,amount\nC1,2024-01-01,10,-10\n")
    with pytest.raises(DataError) as error:
        read_source(path, "transactions", TX, SourceConfig(path=path))
    assert str(error.value) == (
        f"{path}: column 'amount' appears 2 times in the header (columns 3, 4); which one "
        "holds the transactions values cannot be told: rename or remove the extra column in "
        "the export, or map transactions.columns.amount in configs/data.yaml to a column "
        "that appears once"
    )


def test_a_mapped_column_twice_names_the_mapping_and_an_unused_repeat_is_harmless(
    tmp_path: Path,
) -> None:
    text = "KD;DATUM;BETRAG;NOTIZ;BETRAG;NOTIZ\nC1;20240101;1;a;2;b\n"
    path = _csv(tmp_path, text)
    mapped = {"customer_id": "KD", "order_date": "DATUM", "amount": "BETRAG"}
    source = SourceConfig(path=path, columns=mapped, csv={"delimiter": ";"})
    with pytest.raises(DataError, match=r"column 'BETRAG' \(read as amount\) appears 2 times"):
        read_source(path, "transactions", TX, source)
    once = _csv(tmp_path, "\ufeffKD;DATUM;BETRAG;NOTIZ;NOTIZ\nC1;20240101;1;a;b\n", "once.csv")
    frame = read_source(once, "transactions", TX, source.model_copy(update={"path": once}))
    assert frame.to_dict("list") == {
        "customer_id": ["C1"], "order_date": ["20240101"], "amount": ["1"]
    }  # the BOM before "KD" is no part of its name

"""The CDNOW sample (shipped in the lifetimes wheel, a dev dependency) as a user's CSV export:
benchmarks/cdnow.py writes it in its own column names and date format, and
benchmarks/cdnow_data.yaml maps it through validation like any export."""

import importlib.util
import shutil
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import yaml

from pipeline.config import load_settings
from pipeline.stages import validate

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks import cdnow  # noqa: E402


def test_the_sample_is_found_without_importing_lifetimes() -> None:
    sample = cdnow.read_sample()
    assert "lifetimes" not in sys.modules
    assert importlib.util.find_spec("lifetimes") is not None
    assert len(sample) == 6919 and sample["CustomerID"].nunique() == 2357
    assert sample["CustomerID"].iloc[0] == "00004"  # leading zeros kept
    assert sample["Date"].min() == 19970101 and sample["Date"].max() == 19980630


def test_the_truncated_export_validates_through_its_data_yaml(tmp_path: Path) -> None:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    shutil.copy(cdnow.DATA_CONFIG, tmp_path / "configs" / "data.yaml")
    export = cdnow.write_export(tmp_path / "exports" / "cdnow_transactions.csv",
                                until=date(1997, 9, 30))
    header = export.read_text().splitlines()[0]
    assert header == "CustomerID,CustomerIndex,Date,CDs,Dollars"
    rows = len(pd.read_csv(export))
    validate.main(load_settings(tmp_path / "configs"))
    tx = pd.read_parquet(tmp_path / "data" / "validated" / "transactions.parquet")
    assert len(tx) == rows  # every line accepted: none is a duplicate without an order id
    assert tx["order_date"].max() <= pd.Timestamp("1997-09-30")
    assert tx["customer_id"].nunique() == 2357  # all arrived in Q1 1997
    assert tx["customer_id"].str.fullmatch(r"\d{5}").all()
    assert set(tx.columns) >= {"customer_id", "order_date", "amount", "quantity"}
    mapping = yaml.safe_load(cdnow.DATA_CONFIG.read_text())
    assert mapping["contacts"] is None and mapping["customers"] is None

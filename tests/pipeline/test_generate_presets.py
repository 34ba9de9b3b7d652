"""`keyaccounts generate --preset NAME` on a few hundred customers: each preset generates, is
deterministic, and differs from the demo in the way pipeline/synthetic/presets.py says."""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import load_settings
from pipeline.errors import ConfigError
from pipeline.stages import generate
from pipeline.synthetic.marker import MARKER
from pipeline.synthetic.presets import PRESETS, apply_preset, settings_note
from pipeline.synthetic.process import season

REPO = Path(__file__).resolve().parents[2]
SMALL = {"n_customers": 300, "seed": 5, "truth_months": 10, "truth_n_sims": 2}


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(REPO / "configs", root / "configs")
    return load_settings(root / "configs")


@pytest.fixture(scope="module")
def generated(settings, tmp_path_factory) -> dict[str, Path]:
    """Each preset (and the plain demo as "demo") generated once into its own folder."""
    out = {}
    for name in ["demo", *PRESETS]:
        folder = tmp_path_factory.mktemp(name)
        generate.main(settings, out_dir=folder, preset=None if name == "demo" else name,
                      **SMALL)
        out[name] = folder
    return out


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.parquet"))}


def _tx(folder: Path) -> pd.DataFrame:
    tx = pd.read_parquet(folder / "raw" / "transactions.parquet")
    return tx.assign(order_date=pd.to_datetime(tx["order_date"]))


def test_b2b_is_the_demo_byte_for_byte(generated) -> None:
    assert _digest(generated["b2b"]) == _digest(generated["demo"])


@pytest.mark.parametrize("name", [p for p in PRESETS if p != "b2b"])
def test_a_preset_is_deterministic(settings, generated, tmp_path: Path, name: str) -> None:
    generate.main(settings, out_dir=tmp_path, preset=name, **SMALL)
    assert _digest(tmp_path) == _digest(generated[name])


def test_consumer_writes_transactions_only_with_small_orders_and_a_91_day_truth(
        generated) -> None:
    consumer, demo = generated["consumer"], generated["demo"]
    assert sorted(p.name for p in (consumer / "raw").glob("*.parquet")) == [
        "transactions.parquet"]
    marker = json.loads((consumer / "raw" / MARKER).read_text())
    assert list(marker["files"]) == ["transactions.parquet"]
    tx, base = _tx(consumer), _tx(demo)
    orders, base_orders = tx[tx["amount"] > 0], base[base["amount"] > 0]
    assert orders["amount"].median() < 0.3 * base_orders["amount"].median()
    days = (tx["order_date"].max() - tx["order_date"].min()).days
    assert 330 <= days <= 366
    # more orders per customer and week of history than the demo
    per_week = len(orders) / tx["customer_id"].nunique() / (days / 7)
    base_days = (base["order_date"].max() - base["order_date"].min()).days
    base_per_week = len(base_orders) / base["customer_id"].nunique() / (base_days / 7)
    assert per_week > 1.3 * base_per_week
    truth = pd.read_parquet(consumer / "truth" / "ground_truth.parquet")
    assert (truth["horizon_days"] == 91).all()
    # higher dropout: of the customers alive 10 months before the end, many more are gone
    assert _dropout(truth) > _dropout(pd.read_parquet(demo / "truth" / "ground_truth.parquet")) + 0.2


def _dropout(truth: pd.DataFrame) -> float:
    """Share of the customers alive at the first as-of date that are dead at the last."""
    alive = truth.pivot_table(index="customer_id", columns="as_of", values="true_alive")
    first, last = alive.columns.min(), alive.columns.max()
    was = alive[alive[first] == 1]
    return float((was[last] == 0).mean())


def test_short_history_covers_about_one_horizon(generated) -> None:
    tx = _tx(generated["short_history"])
    days = (tx["order_date"].max() - tx["order_date"].min()).days
    assert 365 <= days <= 400
    assert PRESETS["short_history"].features["horizon_days"] == 365


def _quarter_shares(tx: pd.DataFrame) -> np.ndarray:
    spend = tx[tx["amount"] > 0].groupby(tx["order_date"].dt.quarter)["amount"].sum()
    return (spend / spend.sum()).reindex([1, 2, 3, 4]).to_numpy()


def test_seasonal_puts_most_spend_in_q4(generated) -> None:
    shares, base = _quarter_shares(_tx(generated["seasonal"])), _quarter_shares(
        _tx(generated["demo"]))
    assert shares[3] > 0.35 and shares[3] == shares.max() and shares[1] < 0.12
    assert base.max() < 0.32  # the demo's quarters are about even


def test_new_customers_arrive_during_the_window(generated) -> None:
    start = pd.Timestamp("2022-11-01")

    def arrived_share(folder: Path) -> float:
        created = pd.read_parquet(folder / "raw" / "customers.parquet")["created_date"]
        return float((pd.to_datetime(created) > start).mean())

    assert arrived_share(generated["new_customers"]) > 0.7
    assert arrived_share(generated["demo"]) < 0.55


def test_the_season_shapes() -> None:
    weeks = np.arange(52 * 4)
    start = pd.Timestamp("2023-01-01").date()
    day0 = np.datetime64(start, "D") + 7 * weeks
    doy = (day0 - day0.astype("datetime64[Y]")).astype(int) + 3
    # the defaults are the demo's curve exactly (two waves, highs in March and September)
    before = (1 + 0.25 * np.cos(2 * np.pi * (doy - 75) / 182.625)) * np.where(doy >= 354, 0.5, 1)
    assert (season(start, weeks, 0.25) == before).all()
    yearly = season(start, weeks, 0.8, cycles=1, peak_day=320)
    assert 300 <= doy[np.argmax(yearly)] <= 340 and 120 <= doy[np.argmin(yearly)] <= 180


def test_a_preset_then_the_options_override_the_file(settings) -> None:
    config = apply_preset(settings.generate, "consumer", n_customers=123)
    assert config.n_customers == 123 and config.tables == ("transactions",)
    assert config.behaviour.base_order_value == 40.0
    assert config.behaviour.complaint_effect == settings.generate.behaviour.complaint_effect
    assert apply_preset(settings.generate, "b2b") == settings.generate


def test_unknown_preset_and_bad_tables_are_config_errors(settings) -> None:
    with pytest.raises(ConfigError, match="unknown generate preset 'retail'.*consumer"):
        generate.main(settings, preset="retail")
    with pytest.raises(ConfigError, match="tables"):
        generate.main(settings, tables=("contacts",))


def test_settings_note_names_the_horizon_and_the_null_tables() -> None:
    note = settings_note("consumer")
    assert "horizon_days: 91" in note and "contacts: null, customers: null, managers: null" in note
    assert settings_note("b2b") is None and settings_note("seasonal") is None


def test_a_transactions_only_preset_removes_the_demos_other_tables(tmp_path: Path) -> None:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    settings = load_settings(tmp_path / "configs")
    generate.main(settings, **SMALL)
    raw = tmp_path / "data" / "raw"
    assert (raw / "contacts.parquet").exists()
    generate.main(settings, preset="consumer", **SMALL)
    assert sorted(p.name for p in raw.glob("*.parquet")) == ["transactions.parquet"]


def test_the_cli_takes_a_preset(tmp_path: Path) -> None:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    result = subprocess.run(
        [sys.executable, "-c", "from pipeline.cli import main; main()", "--config-dir",
         str(tmp_path / "configs"), "generate", "--preset", "consumer", "--customers", "200"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "horizon_days: 91" in result.stderr
    assert [p.name for p in (tmp_path / "data" / "raw").glob("*.parquet")] == [
        "transactions.parquet"]

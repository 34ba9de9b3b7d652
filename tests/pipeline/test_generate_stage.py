"""`keyaccounts generate` end to end on a few hundred customers: files, types, determinism,
defect list, truth file and the folder overrides."""

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.config import load_settings
from pipeline.errors import DataError
from pipeline.stages import generate
from pipeline.synthetic import DEFECT_KINDS

REPO = Path(__file__).resolve().parents[2]
TABLES = ("transactions", "contacts", "customers", "managers")
COLUMNS = {
    "transactions": ["customer_id", "order_id", "order_date", "amount", "category", "quantity", "channel"],
    "contacts": ["customer_id", "contact_date", "channel", "manager_id", "outcome"],
    "customers": ["customer_id", "region", "industry", "size", "created_date", "current_manager_id", "current_tier"],
    "managers": ["manager_id", "region", "capacity", "active"],
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(REPO / "configs", root / "configs")
    return load_settings(root / "configs")


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.parquet"))}


@pytest.fixture(scope="module")
def clean(settings) -> Path:
    generate.main(settings, n_customers=600, seed=3)
    return settings.root / "data"


def test_default_folders_and_contract_columns(clean: Path) -> None:
    for table in TABLES:
        schema = pq.read_schema(clean / "raw" / f"{table}.parquet")
        assert schema.names == COLUMNS[table]
    tx = pd.read_parquet(clean / "raw" / "transactions.parquet")
    assert str(pq.read_schema(clean / "raw" / "transactions.parquet").field("order_date").type) == "date32[day]"
    assert tx["amount"].dtype == "float64" and tx["quantity"].dtype == "int64"
    assert tx["customer_id"].dtype == "str" and tx["customer_id"].str.startswith("C0000").all()
    managers = pd.read_parquet(clean / "raw" / "managers.parquet")
    customers = pd.read_parquet(clean / "raw" / "customers.parquet")
    load = customers["current_manager_id"].value_counts()
    assert (load <= managers.set_index("manager_id")["capacity"].reindex(load.index)).all()
    assert managers.set_index("manager_id").loc[load.index, "active"].all()
    assert set(tx["customer_id"]) <= set(customers["customer_id"])


def test_truth_file_covers_known_customers_at_each_as_of(clean: Path) -> None:
    truth = pd.read_parquet(clean / "truth" / "ground_truth.parquet")
    customers = pd.read_parquet(clean / "raw" / "customers.parquet")
    assert truth["as_of"].nunique() == 25 and (truth["horizon_days"] == 365).all()
    last = truth[truth["as_of"] == truth["as_of"].max()]
    assert len(last) == len(customers)  # everyone is known at end_date
    first = truth[truth["as_of"] == truth["as_of"].min()]
    created = customers.set_index("customer_id")["created_date"]
    assert (pd.to_datetime(created.loc[first["customer_id"]]) <= pd.Timestamp(first["as_of"].iloc[0])).all()
    dead = ~truth["true_alive"]
    assert (truth.loc[dead, "true_expected_spend"] == 0).all() and (truth.loc[dead, "true_prob_no_purchase"] == 1).all()
    assert truth["true_prob_no_purchase"].between(0, 1).all()
    summary = json.loads((clean / "truth" / "generate_summary.json").read_text())
    assert summary["truth_relative_se_of_total_max"] < 0.01
    assert summary["rows"]["transactions"] == pq.read_metadata(clean / "raw" / "transactions.parquet").num_rows


def test_same_seed_gives_byte_identical_files(settings, clean: Path, tmp_path: Path) -> None:
    generate.main(settings, n_customers=600, seed=3, out_dir=tmp_path / "again")
    assert _digest(tmp_path / "again") == _digest(clean)
    generate.main(settings, n_customers=600, seed=4, out_dir=tmp_path / "other")
    assert _digest(tmp_path / "other")["transactions.parquet"] != _digest(clean)["transactions.parquet"]


def test_defects_are_written_as_text_and_listed(settings, tmp_path: Path) -> None:
    generate.main(settings, n_customers=800, seed=5, defect_rate=0.01, out_dir=tmp_path)
    tx = pd.read_parquet(tmp_path / "raw" / "transactions.parquet")
    contacts = pd.read_parquet(tmp_path / "raw" / "contacts.parquet")
    defects = pd.read_parquet(tmp_path / "truth" / "defects.parquet")
    assert tx["order_date"].dtype == "str" and tx["amount"].dtype == "str"
    for table, frame in (("transactions", tx), ("contacts", contacts)):
        listed = defects[defects["table"] == table]
        assert set(listed["kind"]) == set(DEFECT_KINDS[table])
        counts = listed["kind"].value_counts()
        assert ((counts / len(frame)).between(0.004, 0.02)).all(), counts
        assert frame["customer_id"].isna().sum() == counts["null_id"]
        assert frame.duplicated().sum() == counts["duplicate_row"]
    customers = set(pd.read_parquet(tmp_path / "raw" / "customers.parquet")["customer_id"])
    unknown = contacts["customer_id"].notna() & ~contacts["customer_id"].isin(customers)
    assert unknown.sum() == (defects["kind"] == "unknown_customer").sum()


def test_a_bad_option_is_a_config_error(settings, tmp_path: Path) -> None:
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="defect_rate"):
        generate.main(settings, defect_rate=0.9, out_dir=tmp_path)


def test_several_chunks_keep_ids_unique_and_defect_rows_exact(tmp_path: Path) -> None:
    from pipeline.config.generate import GenerateConfig
    from pipeline.synthetic import write_dataset

    config = GenerateConfig(n_customers=650, chunk_size=200, defect_rate=0.01, truth_months=2)
    summary = write_dataset(config, tmp_path / "raw", tmp_path / "truth")
    customers = pd.read_parquet(tmp_path / "raw" / "customers.parquet")
    assert customers["customer_id"].is_unique and customers["customer_id"].iloc[-1] == "C0000649"
    tx = pd.read_parquet(tmp_path / "raw" / "transactions.parquet")
    defects = pd.read_parquet(tmp_path / "truth" / "defects.parquet")
    listed = defects[defects["table"] == "transactions"]
    null_rows = listed.loc[listed["kind"] == "null_id", "row"]
    assert tx["customer_id"].iloc[null_rows].isna().all()
    assert sorted(null_rows) == sorted(tx.index[tx["customer_id"].isna()])
    duplicated = listed.loc[listed["kind"] == "duplicate_row", "row"]
    assert sorted(duplicated) == sorted(tx.index[tx.duplicated()])
    clean = tx.drop(index=listed["row"])
    assert clean["order_id"].is_unique
    assert summary["truth_as_of"] == ["2026-08-31", "2026-09-30", "2026-10-31"]


def test_never_overwrites_files_it_did_not_write(tmp_path: Path) -> None:
    settings = load_settings(REPO / "configs")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "transactions.csv").write_text("customer_id,order_date,amount\nA,2024-01-01,1\n")
    with pytest.raises(DataError, match=r"did not write or that changed since \(transactions.csv\)"
                                         r".*--skip-generate"):
        generate.main(settings, out_dir=tmp_path, n_customers=50, seed=1)
    assert (raw / "transactions.csv").read_text().startswith("customer_id,order_date")
    assert sorted(p.name for p in raw.iterdir()) == ["transactions.csv"]


def test_regenerates_over_its_own_output_but_not_over_a_copied_export(tmp_path: Path) -> None:
    settings = load_settings(REPO / "configs")
    generate.main(settings, out_dir=tmp_path, n_customers=50, seed=1)
    marker = json.loads((tmp_path / "raw" / generate.MARKER).read_text())
    assert marker["seed"] == 1 and sorted(marker["files"]) == sorted(generate.RAW_FILES)
    assert all(len(digest) == 64 for digest in marker["files"].values())
    generate.main(settings, out_dir=tmp_path, n_customers=60, seed=2)  # no error: its own files
    assert json.loads((tmp_path / "raw" / generate.MARKER).read_text())["n_customers"] == 60
    # a user's export copied over a generated table, or next to them, is never overwritten
    own = pd.DataFrame({"customer_id": ["A"], "order_date": ["2024-01-01"], "amount": [1.0]})
    own.to_parquet(tmp_path / "raw" / "transactions.parquet")
    with pytest.raises(DataError, match=r"\(transactions.parquet\)"):
        generate.main(settings, out_dir=tmp_path, n_customers=50, seed=1)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "raw" / "transactions.parquet"), own)


def test_an_interrupted_or_pre_marker_run_still_counts_as_its_own(tmp_path: Path) -> None:
    settings = load_settings(REPO / "configs")
    generate.main(settings, out_dir=tmp_path, n_customers=50, seed=1)
    marker = tmp_path / "raw" / generate.MARKER
    marker.write_text(json.dumps({"files": dict.fromkeys(generate.RAW_FILES)}))  # interrupted
    generate.main(settings, out_dir=tmp_path, n_customers=50, seed=1)
    marker.unlink()  # a folder generated before the marker existed: the truth summary vouches
    generate.main(settings, out_dir=tmp_path, n_customers=50, seed=1)
    marker.unlink()
    (tmp_path / "truth" / "generate_summary.json").unlink()
    with pytest.raises(DataError, match="did not write"):
        generate.main(settings, out_dir=tmp_path, n_customers=50, seed=1)

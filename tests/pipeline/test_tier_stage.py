"""The `tier` stage end to end on a hand-made scores file, customers and managers."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.config import load_settings
from pipeline.errors import DataError
from pipeline.stages import tier as stage

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
IDS = [f"C{i:03d}" for i in range(1, 13)]  # C001 (best) .. C012


def make_settings(tmp_path: Path, policy: dict | None = None):
    """load_settings on a copy of configs/ whose paths point into tmp_path."""
    config_dir = tmp_path / "configs"
    shutil.copytree(CONFIGS, config_dir)
    pipeline_yaml = config_dir / "pipeline.yaml"
    raw = yaml.safe_load(pipeline_yaml.read_text())
    raw["paths"] = {k: str(tmp_path / v) for k, v in raw["paths"].items()}
    pipeline_yaml.write_text(yaml.safe_dump(raw))
    if policy:
        tiers_yaml = config_dir / "tiers.yaml"
        tiers = yaml.safe_load(tiers_yaml.read_text())
        tiers["policy"].update(policy)
        tiers_yaml.write_text(yaml.safe_dump(tiers))
    return load_settings(config_dir)


def scores(run_id: str = "run-1", values: list[float] | None = None,
           as_of: str = "2024-06-30") -> pd.DataFrame:
    values = values or [1200.0, 1100, 1000, 900, 800, 700, 600, 500, 400, 300, 200, 100]
    churn = [0.1, 0.7, 0.2, 0.1, 0.6, 0.1, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1]
    frame = pd.DataFrame({
        "customer_id": IDS, "as_of": pd.Timestamp(as_of), "horizon_days": 365,
        "expected_value": values, "churn_probability": churn,
        "reasons": ["orders every month; spend up 20% on last year"] + [""] * 11,
        "value_model_version": "3", "churn_model_version": "4", "value_run_id": run_id,
        "churn_run_id": run_id,
    })
    frame["value_at_risk"] = frame["expected_value"] * frame["churn_probability"]
    return frame


def customers() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": IDS,
        "region": ["N", "S"] * 6,                 # C001 N, C002 S, C003 N, ...
        "current_manager_id": ["M02", "M03", "M01"] + [None] * 9,
        "current_tier": ["strategic", "strategic", "strategic"] + [None] * 9,
    }).astype({"customer_id": "str", "region": "str"})


def managers() -> pd.DataFrame:
    return pd.DataFrame({"manager_id": ["M01", "M02", "M03", "M04"],
                         "region": ["N", "N", "S", "S"], "capacity": [1, 1, 1, 5],
                         "active": [True, True, True, False]})


def write_inputs(settings, score_frame: pd.DataFrame, with_tables: bool = True) -> None:
    paths = settings.pipeline.paths
    scores_dir, validated = settings.path(paths.scores_dir), settings.path(paths.validated_dir)
    scores_dir.mkdir(parents=True, exist_ok=True)
    validated.mkdir(parents=True, exist_ok=True)
    score_frame.to_parquet(scores_dir / "scores.parquet", index=False)
    transactions = pd.DataFrame({"customer_id": ["C001", "C001", "C002"],
                                 "order_date": pd.to_datetime(["2024-05-02", "2024-07-09",
                                                               "2024-03-01"]),
                                 "amount": [10.0, 20.0, 5.0]})
    transactions.to_parquet(validated / "transactions.parquet", index=False)
    if with_tables:
        customers().to_parquet(validated / "customers.parquet", index=False)
        managers().to_parquet(validated / "managers.parquet", index=False)


def read_tiers(settings) -> tuple[pd.DataFrame, dict]:
    folder = settings.path(settings.pipeline.paths.tiers_dir)
    summary = json.loads((folder / "tier_summary.json").read_text())
    return pd.read_parquet(folder / "tiers.parquet").set_index("customer_id"), summary


@pytest.fixture
def tiered(tmp_path):
    """Strategic bar: top 25% (3 of 12) entry, top 50% keep; capacity N = 2, S = 1."""
    settings = make_settings(tmp_path, {"strategic": {"min_bar": 0.75, "keep_bar": 0.5}})
    write_inputs(settings, scores())
    stage.main(settings)
    return settings


def test_capacity_region_continuity_and_shortfall(tiered):
    tiers, summary = read_tiers(tiered)
    strategic = tiers[tiers["tier"] == "strategic"]
    # candidates: C001..C003 by the bar (top 25%); incumbents C001, C002, C003 anyway.
    # N has 2 slots (C001, C003), S has 1 (C002); M04 is inactive and does not count.
    assert sorted(strategic.index) == ["C001", "C002", "C003"]
    assert strategic["manager_id"].to_dict() == {"C001": "M02", "C002": "M03", "C003": "M01"}
    assert strategic["kept_manager"].all()
    assert summary["shortfall"] == {"N": 0, "S": 0}
    assert tiers.loc["C001", "last_order_date"] == pd.Timestamp("2024-05-02")  # not after as_of


def test_shortfall_moves_overflow_to_next_tier(tmp_path):
    settings = make_settings(tmp_path, {"strategic": {"min_bar": 0.5, "keep_bar": 0.5},
                                        "tiers": [{"name": "key", "min_bar": 0.25,
                                                   "keep_bar": 0.2}]})
    write_inputs(settings, scores())
    stage.main(settings)
    tiers, summary = read_tiers(settings)
    # top half = C001..C006: N candidates C001 C003 C005 (2 slots), S: C002 C004 C006 (1 slot)
    assert summary["shortfall"] == {"N": 1, "S": 2}
    assert list(tiers.loc[["C005", "C004", "C006"], "tier"]) == ["key"] * 3
    assert "capacity" in tiers.loc["C005", "tier_reason"]
    assert len(tiers) == 12 and tiers["tier"].notna().all()
    assert "region S: 3 strategic candidates for 1 manager slots; 2 moved to key (shortfall)" \
        in summary["notes"]


def test_hysteresis_and_movement_between_runs(tiered):
    # second run: C003 falls to rank 5 (percentile 8/12 = 0.67 >= keep 0.5): stays strategic;
    # C004 (S) rises to rank 3, above the entry bar, but S's one slot stays with incumbent
    # C002: C004 goes to key (from growth: upgraded), reported as S's shortfall.
    values = [1200.0, 1100, 850, 1000, 800, 700, 600, 500, 400, 300, 200, 100]
    write_inputs(tiered, scores("run-2", values, as_of="2024-09-30"))
    stage.main(tiered)
    tiers, summary = read_tiers(tiered)
    assert tiers.loc["C003", "tier"] == "strategic"
    assert tiers.loc["C003", "tier_reason"].startswith("kept strategic")
    assert summary["movement_basis"] == "the previous run (as of 2024-06-30)"
    assert tiers.loc["C003", "change"] == "kept"
    assert tiers.loc["C004", "tier"] == "key" and tiers.loc["C004", "change"] == "upgraded"
    assert summary["shortfall"] == {"N": 0, "S": 1}
    # re-running the same as-of compares with the earlier as-of again, not with itself:
    # same movement, idempotent
    again = dict(summary)
    stage.main(tiered)
    assert read_tiers(tiered)[1] == again
    assert read_tiers(tiered)[0].loc["C004", "change"] == "upgraded"


def test_rerunning_the_first_as_of_compares_with_the_customers_table(tiered):
    first = read_tiers(tiered)[1]
    stage.main(tiered)  # same as-of again: still measured against current_tier, not "kept"
    assert read_tiers(tiered)[1]["movement_basis"] == first["movement_basis"]
    assert read_tiers(tiered)[1]["moved"] == first["moved"]


def test_an_older_as_of_compares_with_what_came_before_it(tiered):
    write_inputs(tiered, scores("run-2", as_of="2024-09-30"))
    stage.main(tiered)
    write_inputs(tiered, scores("run-0", as_of="2024-03-31"))
    stage.main(tiered)  # nothing on record before 2024-03-31
    assert read_tiers(tiered)[1]["movement_basis"].startswith("the customers' current_tier")


def test_transactions_only_user(tmp_path):
    settings = make_settings(tmp_path, {"strategic": {"min_bar": 0.5, "keep_bar": 0.5,
                                                      "capacity_without_managers": 2},
                                        "tiers": [{"name": "key", "min_bar": 0.25,
                                                   "keep_bar": 0.2}]})
    write_inputs(settings, scores(), with_tables=False)
    stage.main(settings)
    tiers, summary = read_tiers(settings)
    assert list(tiers.index[tiers["tier"] == "strategic"]) == ["C001", "C002"]
    assert tiers["manager_id"].isna().all() and set(tiers["region"]) == {"all"}
    assert any("no managers table" in note for note in summary["notes"])
    assert summary["moved"]["new"] == 12


def test_missing_scores_is_a_clear_error(tmp_path):
    settings = make_settings(tmp_path)
    with pytest.raises(DataError, match="keyaccounts score"):
        stage.main(settings)


def test_history_keeps_every_run(tiered):
    write_inputs(tiered, scores("run-2"))       # the same as-of again replaces its file
    stage.main(tiered)
    write_inputs(tiered, scores("run-3", as_of="2024-09-30"))
    stage.main(tiered)
    history = sorted(p.name for p in (
        tiered.path(tiered.pipeline.paths.tiers_dir) / "history").iterdir())
    assert history == ["tiers_2024-06-30.parquet", "tiers_2024-09-30.parquet"]


def test_managers_without_customers_are_pooled(tmp_path):
    settings = make_settings(tmp_path, {"strategic": {"min_bar": 0.75, "keep_bar": 0.5}})
    write_inputs(settings, scores(), with_tables=False)
    managers().to_parquet(settings.path(settings.pipeline.paths.validated_dir)
                          / "managers.parquet", index=False)
    stage.main(settings)
    tiers, summary = read_tiers(settings)
    # 3 active slots (M04 inactive) for the top 3 of the single pool "all"
    assert sorted(tiers.index[tiers["tier"] == "strategic"]) == ["C001", "C002", "C003"]
    assert set(tiers.loc[["C001", "C002", "C003"], "manager_id"]) == {"M01", "M02", "M03"}
    assert any("pooled" in note for note in summary["notes"])


def test_wrong_policy_is_a_config_error_naming_the_file(tmp_path):
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="tiers.yaml.*keep_bar"):
        make_settings(tmp_path, {"strategic": {"min_bar": 0.5, "keep_bar": 0.7}})


def test_history_stamp_is_a_safe_file_name():
    from pipeline.tiering_io import history_stamp

    tiers = pd.DataFrame({"as_of": [pd.Timestamp("2026-10-31 13:45")], "run_id": ["a/b c"]})
    assert history_stamp(tiers) == "2026-10-31"
    assert history_stamp(pd.DataFrame({"x": [1]})) == "run"

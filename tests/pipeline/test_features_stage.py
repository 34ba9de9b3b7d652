"""The `features` stage end to end on tiny validated Parquet files in a temporary project."""

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import load_settings
from pipeline.errors import DataError
from pipeline.stages import features as stage
from tests.features.conftest import contacts, customers, transactions

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def settings_in(tmp_path: Path):
    settings = load_settings(CONFIGS)
    features = settings.features.model_copy(
        update={"horizon_days": 30, "n_cutoffs": 3, "min_customers": 1}
    )
    return dataclasses.replace(settings, root=tmp_path, features=features)


def write(settings, tables: dict) -> None:
    folder = settings.path(settings.pipeline.paths.validated_dir)
    folder.mkdir(parents=True)
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)


def outputs(settings):
    folder = settings.path(settings.pipeline.paths.features_dir)
    summary = json.loads((folder / "features_summary.json").read_text())
    return folder, summary


def test_stage_runs_with_transactions_only(tmp_path):
    settings = settings_in(tmp_path)
    write(settings, {"transactions": transactions()})
    stage.main(settings)
    folder, summary = outputs(settings)
    training = pd.read_parquet(folder / "training_set.parquet")
    scoring = pd.read_parquet(folder / "scoring_frame.parquet")
    # data ends 2024-08-01; last month end with 30 days after it: 2024-06-30
    assert summary["cutoffs"] == ["2024-04-30", "2024-05-31", "2024-06-30"]
    assert summary["as_of"] == "2024-08-01"
    assert (
        summary["training_rows"] == len(training) and summary["scoring_rows"] == len(scoring) == 3
    )
    assert not any(c.startswith(("ctc_", "cust_")) for c in scoring.columns)
    assert scoring["customer_id"].tolist() == ["007", "C001", "C003"]
    assert "# Feature catalogue" in (folder / "feature_catalogue.md").read_text()


def test_stage_uses_every_table_present(tmp_path):
    settings = settings_in(tmp_path)
    write(
        settings, {"transactions": transactions(), "contacts": contacts(), "customers": customers()}
    )
    stage.main(settings)
    folder, summary = outputs(settings)
    scoring = pd.read_parquet(folder / "scoring_frame.parquet")
    assert summary["n_features"] == len(summary["features"]) > 40
    assert {"ctc_has_manager", "cust_region"} <= set(scoring.columns)
    assert isinstance(scoring["cust_region"].dtype, pd.CategoricalDtype)  # survives Parquet


def test_missing_transactions_is_a_data_error(tmp_path):
    settings = settings_in(tmp_path)
    with pytest.raises(DataError, match="keyaccounts validate"):
        stage.main(settings)


def test_configured_as_of_bounds_the_training_labels(tmp_path):
    settings = settings_in(tmp_path)
    pinned = settings.features.model_copy(update={"as_of": pd.Timestamp("2024-07-15").date()})
    settings = dataclasses.replace(settings, features=pinned)
    write(settings, {"transactions": transactions()})
    stage.main(settings)
    _, summary = outputs(settings)
    assert summary["as_of"] == "2024-07-15"
    assert summary["cutoffs"][-1] == "2024-05-31"  # 05-31 + 30 days <= 07-15 < 06-30 + 30


def test_features_summary_lists_counts_cutoffs_and_feature_names():
    from pipeline.features_io import features_summary

    training = pd.DataFrame({"customer_id": ["A", "B"], "cutoff": [0, 0], "f1": [1, 2]})
    scoring = pd.DataFrame({"customer_id": ["A"], "as_of": [0], "f1": [1], "f2": [0.5]})
    cutoffs = [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-29")]
    assert features_summary(training, scoring, cutoffs, pd.Timestamp("2024-03-31")) == {
        "training_rows": 2, "scoring_rows": 1, "cutoffs": ["2024-01-31", "2024-02-29"],
        "as_of": "2024-03-31", "n_features": 2, "features": ["f1", "f2"],
    }


def test_contacts_running_past_the_transactions_do_not_cut_the_labels(tmp_path, caplog):
    # a CRM export fresher than the transactions: the labels and the as-of must follow the
    # transactions (ending 2024-08-01), or the latest label windows would hold no orders
    settings = settings_in(tmp_path)
    late = contacts()
    late.loc[len(late)] = late.iloc[0]
    late.loc[len(late) - 1, "contact_date"] = pd.Timestamp("2024-12-31")
    write(settings, {"transactions": transactions(), "contacts": late})
    with caplog.at_level("WARNING", logger="keyaccounts"):
        stage.main(settings)
    _, summary = outputs(settings)
    assert summary["as_of"] == "2024-08-01"
    assert summary["cutoffs"] == ["2024-04-30", "2024-05-31", "2024-06-30"]
    assert "contacts run to 2024-12-31, 152 days past the last order (2024-08-01)" in caplog.text


def test_an_as_of_after_the_last_order_ends_the_labels_at_the_last_order(tmp_path, caplog):
    settings = settings_in(tmp_path)
    pinned = settings.features.model_copy(update={"as_of": pd.Timestamp("2024-12-31").date()})
    settings = dataclasses.replace(settings, features=pinned)
    write(settings, {"transactions": transactions()})
    with caplog.at_level("WARNING", logger="keyaccounts"):
        stage.main(settings)
    _, summary = outputs(settings)
    assert summary["as_of"] == "2024-12-31"
    assert summary["cutoffs"][-1] == "2024-06-30"  # + 30 days <= 2024-08-01, the last order
    assert "as_of 2024-12-31 is 152 days after the last order (2024-08-01)" in caplog.text


def test_too_few_customers_to_train_stops_naming_the_count_and_the_minimum(tmp_path):
    settings = settings_in(tmp_path)
    write(settings, {"transactions": transactions()})
    settings = dataclasses.replace(
        settings, features=settings.features.model_copy(update={"min_customers": 3})
    )
    with pytest.raises(DataError) as error:
        stage.main(settings)
    # three customers, but "C003" orders only after the last cutoff (2024-06-30)
    assert str(error.value) == (
        "only 2 customers have an order (a positive amount) on or before the last training "
        "cutoff 2024-06-30, fewer than min_customers 3: too few to train the models on; export "
        "more customers or a longer history, or lower min_customers in configs/features.yaml "
        "(models fitted on so few customers are unreliable)"
    )
    assert not settings.path(settings.pipeline.paths.features_dir).exists()
    settings = dataclasses.replace(
        settings, features=settings.features.model_copy(update={"min_customers": 2})
    )
    stage.main(settings)  # two are enough when two are asked for
    assert load_settings(CONFIGS).features.min_customers == 50


def test_a_history_shorter_than_the_label_window_still_writes_the_scoring_frame(tmp_path, caplog):
    # 2023-07-15 .. 2024-08-01 is 383 days: no cutoff has a full 400-day window
    from pipeline.features_io import BACKTEST_SET, backtest_inputs

    settings = settings_in(tmp_path)
    long = settings.features.model_copy(update={"horizon_days": 400, "n_cutoffs": "auto"})
    settings = dataclasses.replace(settings, features=long)
    write(settings, {"transactions": transactions()})
    with caplog.at_level("WARNING", logger="keyaccounts"):
        stage.main(settings)
    folder, summary = outputs(settings)
    training = pd.read_parquet(folder / "training_set.parquet")
    scoring = pd.read_parquet(folder / "scoring_frame.parquet")
    backtest = pd.read_parquet(folder / BACKTEST_SET)
    assert training.empty and summary["cutoffs"] == [] and len(scoring) == 3
    assert list(training.columns) == list(backtest.columns)
    assert summary["backtest_horizon_days"] == 91 and summary["backtest_set"] == BACKTEST_SET
    assert summary["backtest_cutoffs"][-1] == "2024-04-30"  # + 91 days <= 2024-08-01
    assert sorted(backtest["cutoff"].dt.strftime("%Y-%m-%d").unique()) == summary[
        "backtest_cutoffs"]
    warnings = [r.getMessage() for r in caplog.records if "short history" in r.getMessage()]
    assert len(warnings) == 1 and "91-day horizon instead of 400 days" in warnings[0]
    frame, horizon, message = backtest_inputs(folder, training, 400)
    assert horizon == 91 and len(frame) == len(backtest) and "91-day horizon" in message

    # a later run with enough history for its horizon removes the stale backtest set
    settings = dataclasses.replace(
        settings, features=settings.features.model_copy(update={"horizon_days": 30}))
    stage.main(settings)
    folder, summary = outputs(settings)
    assert not (folder / BACKTEST_SET).exists() and summary["backtest_set"] is None
    training = pd.read_parquet(folder / "training_set.parquet")
    assert backtest_inputs(folder, training, 30) == (training, 30, "")


def test_too_few_customers_at_the_scoring_date_stops_when_no_cutoff_has_labels(tmp_path):
    settings = settings_in(tmp_path)
    settings = dataclasses.replace(settings, features=settings.features.model_copy(
        update={"horizon_days": 400, "min_customers": 4}))
    write(settings, {"transactions": transactions()})
    with pytest.raises(DataError, match="only 3 customers have an order .* on or before the "
                                        "scoring date 2024-08-01, fewer than min_customers 4"):
        stage.main(settings)

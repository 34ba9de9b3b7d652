"""Inputs and outputs of the features stage: the validated tables in, the datasets, the
catalogue and the summary out. The features themselves are built by the pure `features`
package."""

import json
from pathlib import Path

import pandas as pd

import features
from features.config import FeaturesConfig
from features.contract import CONTACTS, CUSTOMERS, MANAGERS, ORDER_DATE, TRANSACTIONS, Tables
from pipeline.errors import DataError
from pipeline.progress import logger

__all__ = ["load_tables", "plan_cutoffs", "features_summary", "write_outputs"]


def load_tables(validated_dir: Path) -> Tables:
    """The validated tables; a missing optional table is None."""

    def read(name: str, required: bool = False) -> pd.DataFrame | None:
        path = validated_dir / f"{name}.parquet"
        if not path.exists():
            if required:
                raise DataError(
                    f"{path} not found: run `keyaccounts validate` first "
                    f"(the {name} table is required)"
                )
            return None
        return pd.read_parquet(path)

    transactions = read(TRANSACTIONS, required=True)
    if transactions.empty:
        raise DataError(f"{validated_dir / (TRANSACTIONS + '.parquet')} has no rows")
    return Tables(transactions, read(CONTACTS), read(CUSTOMERS), read(MANAGERS))


def plan_cutoffs(tables: Tables, config: FeaturesConfig) -> tuple[pd.Timestamp, list]:
    """The scoring date ("now") and the training cutoffs, whose label windows end on or before
    both the scoring date and the last order; `DataError` when the data is too short for one
    full label window. Tables that end on different dates are logged as warnings."""
    as_of = features.scoring_as_of(tables, config)
    for warning in features.coverage_warnings(tables, as_of):
        logger.warning("features: %s", warning)
    first = tables.transactions[ORDER_DATE].min()
    labels_end = min(as_of, features.end_of_data(tables))
    cutoffs = features.training_cutoffs(labels_end, config, min_date=first)
    if not cutoffs:
        raise DataError(
            f"data from {first.date()} to {labels_end.date()} is too short for a "
            f"{config.horizon_days}-day label window; lower horizon_days in configs/features.yaml"
        )
    return as_of, cutoffs


def features_summary(training: pd.DataFrame, scoring: pd.DataFrame, cutoffs,
                     as_of: pd.Timestamp) -> dict:
    """The JSON-ready features_summary.json: row counts, cutoffs, as-of and feature names."""
    names = features.feature_columns(scoring)
    return {
        "training_rows": len(training),
        "scoring_rows": len(scoring),
        "cutoffs": [str(c.date()) for c in cutoffs],
        "as_of": str(as_of.date()),
        "n_features": len(names),
        "features": names,
    }


def write_outputs(out_dir: Path, training: pd.DataFrame, scoring: pd.DataFrame,
                  catalogue: str, summary: dict) -> None:
    """Write training_set.parquet, scoring_frame.parquet, feature_catalogue.md and
    features_summary.json to `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    training.to_parquet(out_dir / "training_set.parquet", index=False)
    scoring.to_parquet(out_dir / "scoring_frame.parquet", index=False)
    (out_dir / "feature_catalogue.md").write_text(catalogue)
    (out_dir / "features_summary.json").write_text(json.dumps(summary, indent=2))

"""Inputs and outputs of the features stage: the validated tables in, the datasets, the
catalogue and the summary out. The features themselves are built by the pure `features`
package."""

from pathlib import Path

import pandas as pd

import features
from features.config import FeaturesConfig
from features.contract import (
    AMOUNT,
    CONTACTS,
    CUSTOMER_ID,
    CUSTOMERS,
    MANAGERS,
    ORDER_DATE,
    TRANSACTIONS,
    Tables,
)
from pipeline.errors import DataError
from pipeline.progress import logger
from pipeline.storage import StagedFiles, write_json, write_table, write_text

__all__ = ["load_tables", "plan_cutoffs", "require_customers", "features_summary",
           "write_outputs"]


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


def require_customers(tables: Tables, cutoffs: list, config: FeaturesConfig) -> int:
    """The number of customers with an order (a positive amount) on or before the last
    training cutoff, the customers the models can learn from; `DataError` naming the count
    and the minimum when it is below config.min_customers."""
    tx = tables.transactions
    last = cutoffs[-1]
    bought = (tx[ORDER_DATE] <= last) & (tx[AMOUNT] > 0)
    count = int(tx.loc[bought, CUSTOMER_ID].nunique())
    if count < config.min_customers:
        raise DataError(
            f"only {count} customers have an order (a positive amount) on or before the last "
            f"training cutoff {last.date()}, fewer than min_customers {config.min_customers}: "
            "too few to train the models on; export more customers or a longer history, or "
            "lower min_customers in configs/features.yaml (models fitted on so few customers "
            "are unreliable)"
        )
    return count


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
    features_summary.json to `out_dir`: to temporaries first, then renamed into place
    together (`storage.StagedFiles`)."""
    with StagedFiles() as staged:
        write_table(training, staged.path(out_dir / "training_set.parquet"))
        write_table(scoring, staged.path(out_dir / "scoring_frame.parquet"))
        write_text(catalogue, staged.path(out_dir / "feature_catalogue.md"))
        write_json(summary, staged.path(out_dir / "features_summary.json"))
        staged.commit()

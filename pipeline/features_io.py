"""Inputs and outputs of the features stage: the validated tables in, the datasets, the
catalogue and the summary out. The features themselves are built by the pure `features`
package."""

from pathlib import Path

import pandas as pd

import features
from features.config import FeaturesConfig
from features.contract import (
    AMOUNT,
    AS_OF,
    CONTACTS,
    CUSTOMER_ID,
    CUSTOMERS,
    HORIZON_DAYS,
    MANAGERS,
    ORDER_DATE,
    TRANSACTIONS,
    Tables,
)
from pipeline.errors import DataError
from pipeline.files import (
    BACKTEST_SET,
    FEATURE_CATALOGUE,
    FEATURES_SUMMARY,
    SCORING_FRAME,
    TRAINING_SET,
    table_file,
)
from pipeline.progress import logger
from pipeline.storage import StagedFiles, read_json, read_table, write_json, write_table, write_text

__all__ = ["BACKTEST_SET", "backtest_inputs", "features_summary", "load_tables", "plan_cutoffs",
           "require_customers", "write_outputs"]



def load_tables(validated_dir: Path) -> Tables:
    """The validated tables; a missing optional table is None."""

    def read(name: str, required: bool = False) -> pd.DataFrame | None:
        path = validated_dir / table_file(name)
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


def plan_cutoffs(tables: Tables, config: FeaturesConfig,
                 min_train_cutoffs: int) -> features.CutoffPlan:
    """The scoring date ("now"), the training cutoffs (whose label windows end on or before
    both the scoring date and the last order) and the backtest's horizon and cutoffs
    (`features.plan_cutoffs`). Tables that end on different dates are logged as warnings, a
    history too short for the label window or the backtest as one warning line; neither stops
    the stage: the train stage falls back to the BTYD models and the backtest to a shorter
    horizon."""
    plan = features.plan_cutoffs(tables, config, min_train_cutoffs)
    for warning in features.coverage_warnings(tables, plan.as_of):
        logger.warning("features: %s", warning)
    if plan.short_history:
        logger.warning("features: %s", plan.short_history)
    return plan


def require_customers(tables: Tables, cutoffs: list, config: FeaturesConfig,
                      as_of: pd.Timestamp | None = None) -> int:
    """The number of customers with an order (a positive amount) on or before the last
    training cutoff (the scoring date `as_of` when there is none: a short history, scored by
    the BTYD models), the customers the models can learn from; `DataError` naming the count
    and the minimum when it is below config.min_customers."""
    tx = tables.transactions
    last = cutoffs[-1] if cutoffs else pd.Timestamp(as_of)
    where = "the last training cutoff" if cutoffs else "the scoring date"
    bought = (tx[ORDER_DATE] <= last) & (tx[AMOUNT] > 0)
    count = int(tx.loc[bought, CUSTOMER_ID].nunique())
    if count < config.min_customers:
        raise DataError(
            f"only {count} customers have an order (a positive amount) on or before {where} "
            f"{last.date()}, fewer than min_customers {config.min_customers}: "
            "too few to train the models on; export more customers or a longer history, or "
            "lower min_customers in configs/features.yaml (models fitted on so few customers "
            "are unreliable)"
        )
    return count


def features_summary(training: pd.DataFrame, scoring: pd.DataFrame, cutoffs,
                     as_of: pd.Timestamp, plan: features.CutoffPlan | None = None,
                     horizon_days: int | None = None) -> dict:
    """The JSON-ready features_summary.json: row counts, cutoffs, as-of and feature names;
    with `plan`, also the cutoff step, the backtest's horizon and (when shorter than
    `horizon_days`) the cutoffs of its training set (BACKTEST_SET)."""
    names = features.feature_columns(scoring)
    summary = {
        "training_rows": len(training),
        "scoring_rows": len(scoring),
        "cutoffs": [str(c.date()) for c in cutoffs],
        AS_OF: str(as_of.date()),
        "n_features": len(names),
        "features": names,
    }
    if plan is not None:
        summary |= {
            "cutoff_step": str(plan.step),
            HORIZON_DAYS: horizon_days,
            "backtest_horizon_days": plan.backtest_horizon_days,
            "backtest_set": BACKTEST_SET if plan.backtest_cutoffs else None,
            "backtest_cutoffs": [str(c.date()) for c in plan.backtest_cutoffs],
            "short_history": plan.short_history,
        }
    return summary


def write_outputs(out_dir: Path, training: pd.DataFrame, scoring: pd.DataFrame,
                  catalogue: str, summary: dict, backtest: pd.DataFrame | None = None) -> None:
    """Write training_set.parquet, scoring_frame.parquet, feature_catalogue.md,
    features_summary.json and, when given, the backtest's own training set (BACKTEST_SET) to
    `out_dir`: to temporaries first, then renamed into place together
    (`storage.StagedFiles`). A BACKTEST_SET left by an earlier run is removed when there is
    none now, so that no reader takes it for this run's."""
    with StagedFiles() as staged:
        write_table(training, staged.path(out_dir / TRAINING_SET))
        write_table(scoring, staged.path(out_dir / SCORING_FRAME))
        if backtest is not None:
            write_table(backtest, staged.path(out_dir / BACKTEST_SET))
        write_text(catalogue, staged.path(out_dir / FEATURE_CATALOGUE))
        write_json(summary, staged.path(out_dir / FEATURES_SUMMARY))
        staged.commit()
    if backtest is None:
        (out_dir / BACKTEST_SET).unlink(missing_ok=True)


def backtest_inputs(features_dir: Path, training: pd.DataFrame,
                    horizon_days: int) -> tuple[pd.DataFrame, int, str]:
    """What the backtest of the train stage scores: `training` at `horizon_days`, or, when
    the features stage found the history too short for a backtest fold at horizon_days
    (features_summary.json backtest_horizon_days), its training set at the shorter horizon
    (BACKTEST_SET). Returns (frame, horizon, message); the message says which horizon is
    scored and why, "" when it is horizon_days."""
    summary_path = features_dir / FEATURES_SUMMARY
    summary = read_json(summary_path) if summary_path.exists() else {}
    shorter = summary.get("backtest_horizon_days")
    if not summary.get("backtest_set") or shorter in (None, horizon_days):
        return training, horizon_days, ""
    frame = read_table(features_dir / summary["backtest_set"], "features")
    message = (
        f"the backtest scores a {shorter}-day horizon, not the {horizon_days}-day one: the "
        f"history leaves no backtest fold at {horizon_days} days, and {shorter} days is the "
        "longest of features.backtest_horizons_days that has one; its metrics say how the "
        f"models rank at {shorter} days, the published scores are for {horizon_days} days"
    )
    return frame, int(shorter), message

"""`keyaccounts features`: validated Parquet in; training set, scoring frame and catalogue out.

Reads paths.validated_dir/<table>.parquet (transactions required, the other tables used when
present), stacks features and labels over the training cutoffs, builds the scoring frame at
the latest as-of (configs/features.yaml as_of, else the end of the data) and writes
training_set.parquet, scoring_frame.parquet, feature_catalogue.md and features_summary.json
to paths.features_dir.
"""

import json
from pathlib import Path

import pandas as pd

import features
from features.contract import CONTACTS, CUSTOMERS, MANAGERS, ORDER_DATE, TRANSACTIONS, Tables
from pipeline.config import Settings
from pipeline.errors import DataError
from pipeline.progress import logger, step, track

__all__ = ["load_tables", "main"]


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


def main(settings: Settings, **overrides) -> None:
    """Build and write the features of the training cutoffs and of the scoring date."""
    config = settings.features.model_copy(update=overrides) if overrides else settings.features
    paths = settings.pipeline.paths
    out_dir = settings.path(paths.features_dir)
    with step("features: reading validated tables"):
        tables = load_tables(settings.path(paths.validated_dir))
    # the scoring date is "now": training labels must end on or before it
    as_of = features.scoring_as_of(tables, config)
    first = tables.transactions[ORDER_DATE].min()
    cutoffs = features.training_cutoffs(as_of, config, min_date=first)
    if not cutoffs:
        raise DataError(
            f"data from {first.date()} to {as_of.date()} is too short for a "
            f"{config.horizon_days}-day label window; lower horizon_days in configs/features.yaml"
        )
    try:
        with step(
            f"features: {len(cutoffs)} training cutoffs and the scoring frame at {as_of.date()}"
        ):
            training, scoring = features.build_datasets(
                tables,
                cutoffs,
                as_of,
                config,
                progress=lambda c: track(c, "features: cutoff", len(c)),
            )
    except ValueError as error:
        raise DataError(str(error)) from error
    out_dir.mkdir(parents=True, exist_ok=True)
    training.to_parquet(out_dir / "training_set.parquet", index=False)
    scoring.to_parquet(out_dir / "scoring_frame.parquet", index=False)
    (out_dir / "feature_catalogue.md").write_text(features.catalogue_markdown(config))
    summary = {
        "training_rows": len(training),
        "scoring_rows": len(scoring),
        "cutoffs": [str(c.date()) for c in cutoffs],
        "as_of": str(as_of.date()),
        "n_features": len(features.feature_columns(scoring)),
        "features": features.feature_columns(scoring),
    }
    (out_dir / "features_summary.json").write_text(json.dumps(summary, indent=2))
    logger.info(
        "features: %d training rows, %d scoring rows, %d features -> %s",
        len(training),
        len(scoring),
        summary["n_features"],
        out_dir,
    )

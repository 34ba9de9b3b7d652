"""Read what the tier stage wrote to paths.tiers_dir, for publishing."""

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.errors import DataError

__all__ = ["TierOutputs", "read_tier_outputs"]


@dataclass(frozen=True)
class TierOutputs:
    """The tier stage's files: `matrix` is indexed by "previous tier", `summary` is
    tier_summary.json."""

    tiers: pd.DataFrame
    movement: pd.DataFrame
    matrix: pd.DataFrame
    shortfall: pd.DataFrame
    books: pd.DataFrame
    summary: dict


def read_tier_outputs(source: Path) -> TierOutputs:
    """The tier outputs in `source`; `DataError` when tiers.parquet is missing."""
    if not (source / "tiers.parquet").exists():
        raise DataError(f"{source / 'tiers.parquet'} not found: run `keyaccounts tier` first")
    return TierOutputs(
        tiers=pd.read_parquet(source / "tiers.parquet"),
        movement=pd.read_parquet(source / "movement.parquet"),
        matrix=pd.read_parquet(source / "movement_matrix.parquet").set_index("previous tier"),
        shortfall=pd.read_parquet(source / "shortfall.parquet"),
        books=pd.read_parquet(source / "books.parquet"),
        summary=json.loads((source / "tier_summary.json").read_text()),
    )

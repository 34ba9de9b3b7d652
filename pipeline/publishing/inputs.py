"""Read what the tier stage wrote to paths.tiers_dir, for publishing."""

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.errors import DataError
from pipeline.files import BOOKS, MOVEMENT, MOVEMENT_MATRIX, SHORTFALL, TIER_SUMMARY, TIERS

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
    if not (source / TIERS).exists():
        raise DataError(f"{source / TIERS} not found: run `keyaccounts tier` first")
    return TierOutputs(
        tiers=pd.read_parquet(source / TIERS),
        movement=pd.read_parquet(source / MOVEMENT),
        matrix=pd.read_parquet(source / MOVEMENT_MATRIX).set_index("previous tier"),
        shortfall=pd.read_parquet(source / SHORTFALL),
        books=pd.read_parquet(source / BOOKS),
        summary=json.loads((source / TIER_SUMMARY).read_text()),
    )

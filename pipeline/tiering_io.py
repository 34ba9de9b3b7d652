"""File I/O of the tier stage: read the scores, the last order/contact dates and the
previous run's tiers; write the tier outputs to paths.tiers_dir.

The decisions themselves are pure (`models.tiering`); this module only knows file names.
"""

import re
from pathlib import Path

import pandas as pd

from features.contract import (
    AS_OF,
    CONTACT_DATE,
    CONTACTS,
    CUSTOMER_ID,
    MANAGER_ID,
    ORDER_DATE,
    REGION,
    TRANSACTIONS,
)
from models import tiering
from models.columns import (
    CHURN_PROBABILITY,
    EXPECTED_VALUE,
    LAST_CONTACT_DATE,
    LAST_ORDER_DATE,
    TIER,
    VALUE_AT_RISK,
)
from pipeline.errors import DataError
from pipeline.files import (
    BOOKS,
    HISTORY,
    MOVEMENT,
    MOVEMENT_MATRIX,
    PREVIOUS_TIERS,
    SHORTFALL,
    TIER_SUMMARY,
    TIERS,
    history_file,
    table_file,
)
from pipeline.storage import StagedFiles, write_json, write_table

__all__ = [
    "REQUIRED",
    "read_optional", "read_scores", "add_last_dates", "previous_tiers", "history_stamp",
    "write_outputs",
]

REQUIRED = (CUSTOMER_ID, EXPECTED_VALUE, CHURN_PROBABILITY, VALUE_AT_RISK)


def read_optional(path: Path) -> pd.DataFrame | None:
    """The Parquet file at `path`, or None when there is none."""
    return pd.read_parquet(path) if path.exists() else None


def read_scores(path: Path) -> pd.DataFrame:
    """The score stage's scores.parquet, checked (file, required columns, rows, one row per
    customer)."""
    scores = read_optional(path)
    if scores is None:
        raise DataError(f"{path} not found: run `keyaccounts score` first")
    missing = [c for c in REQUIRED if c not in scores.columns]
    if missing:
        raise DataError(f"{path} lacks column(s) {', '.join(missing)}: re-run `keyaccounts score`")
    if scores.empty:
        raise DataError(f"{path} has no rows: nothing to tier")
    if scores[CUSTOMER_ID].duplicated().any():
        raise DataError(f"{path}: customer_id must be unique (one row per customer)")
    return scores


def add_last_dates(scores: pd.DataFrame, validated: Path) -> pd.DataFrame:
    """Add the last order and contact dates (up to as_of) when the scores lack them, from the
    validated transactions and contacts; NaT when the table is absent."""
    as_of = pd.Timestamp(scores[AS_OF].max()) if AS_OF in scores else None
    for column, table, date in ((LAST_ORDER_DATE, TRANSACTIONS, ORDER_DATE),
                                (LAST_CONTACT_DATE, CONTACTS, CONTACT_DATE)):
        if column in scores.columns:
            continue
        path = validated / table_file(table)
        if not path.exists():
            scores = scores.assign(**{column: pd.NaT})
            continue
        events = pd.read_parquet(path, columns=[CUSTOMER_ID, date])
        scores = scores.assign(**{column: tiering.last_event_dates(
            scores[CUSTOMER_ID], events, date, as_of)})
    return scores


def _as_of_of(path: Path) -> pd.Timestamp | None:
    """The as-of date in a history file name (tiers_<YYYY-MM-DD>[_<run>].parquet)."""
    match = re.match(r"tiers_(\d{4}-\d{2}-\d{2})", path.name)
    return pd.Timestamp(match.group(1)) if match else None


def previous_tiers(tiers_dir: Path, scores: pd.DataFrame) -> pd.DataFrame | None:
    """The tiers of the latest earlier as-of: the history file (history/tiers_<as_of>.parquet)
    whose as-of is the latest one strictly before the scores' as-of, so re-running an as-of
    compares with the run before it, not with itself. None when there is none (the first run,
    or only later as-ofs on record)."""
    now = pd.Timestamp(pd.to_datetime(scores[AS_OF]).max()) if AS_OF in scores else None
    candidates = [(when, path) for path in (tiers_dir / HISTORY).glob(history_file("*"))
                  if (when := _as_of_of(path)) is not None and (now is None or when < now)]
    if not candidates:
        return None
    latest = max(when for when, _ in candidates)
    path = max((p for when, p in candidates if when == latest), key=lambda p: p.stat().st_mtime)
    previous = pd.read_parquet(path)
    return previous if AS_OF in previous else previous.assign(**{AS_OF: latest})


def history_stamp(tiers: pd.DataFrame) -> str:
    """The as-of day of `tiers` (YYYY-MM-DD), the key of its history file; 'run' without one."""
    if AS_OF not in tiers or tiers.empty:
        return "run"
    return f"{pd.Timestamp(tiers[AS_OF].iloc[0]):%Y-%m-%d}"


def write_outputs(tiers_dir: Path, decision: tiering.TierDecision,
                  previous: pd.DataFrame | None, summary: dict) -> None:
    """Write tiers, previous tiers, history, movement, matrix, shortfall, books and the summary
    JSON to `tiers_dir` (see pipeline/stages/tier.py for the list): each to a temporary
    first, then all renamed into place together (`storage.StagedFiles`), the summary last."""
    tiers = decision.tiers
    kept = [c for c in (CUSTOMER_ID, REGION, TIER, MANAGER_ID, AS_OF) if c in tiers]
    with StagedFiles() as staged:
        if previous is not None:
            write_table(previous, staged.path(tiers_dir / PREVIOUS_TIERS))
        write_table(tiers, staged.path(tiers_dir / TIERS))
        write_table(tiers[kept], staged.path(
            tiers_dir / HISTORY / history_file(history_stamp(tiers))))
        write_table(decision.movement, staged.path(tiers_dir / MOVEMENT))
        write_table(decision.matrix.reset_index(),
                    staged.path(tiers_dir / MOVEMENT_MATRIX))
        write_table(decision.shortfall, staged.path(tiers_dir / SHORTFALL))
        write_table(decision.books, staged.path(tiers_dir / BOOKS))
        write_json(summary, staged.path(tiers_dir / TIER_SUMMARY))
        staged.commit()

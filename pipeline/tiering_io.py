"""File I/O of the tier stage: read the scores, the last order/contact dates and the
previous run's tiers; write the tier outputs to paths.tiers_dir.

The decisions themselves are pure (`models.tiering`); this module only knows file names.
"""

import json
import re
from pathlib import Path

import pandas as pd

from features.contract import AS_OF, CONTACT_DATE, CUSTOMER_ID, MANAGER_ID, ORDER_DATE, REGION
from models import tiering
from pipeline.errors import DataError

__all__ = [
    "LAST_ORDER", "LAST_CONTACT", "RUN_ID", "AS_OF", "REQUIRED",
    "read_optional", "read_scores", "add_last_dates", "previous_tiers", "history_stamp",
    "write_outputs",
]

LAST_ORDER, LAST_CONTACT, RUN_ID = "last_order_date", "last_contact_date", "run_id"
REQUIRED = (CUSTOMER_ID, tiering.EXPECTED_VALUE, tiering.CHURN_PROBABILITY, tiering.VALUE_AT_RISK)


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
    for column, table, date in ((LAST_ORDER, "transactions", ORDER_DATE),
                                (LAST_CONTACT, "contacts", CONTACT_DATE)):
        if column in scores.columns:
            continue
        path = validated / f"{table}.parquet"
        if not path.exists():
            scores = scores.assign(**{column: pd.NaT})
            continue
        events = pd.read_parquet(path, columns=[CUSTOMER_ID, date])
        scores = scores.assign(**{column: tiering.last_event_dates(
            scores[CUSTOMER_ID], events, date, as_of)})
    return scores


def previous_tiers(tiers_dir: Path, scores: pd.DataFrame) -> pd.DataFrame | None:
    """The last run's tiers; re-tiering the same scores (same run_id and as_of) compares with
    the run before it (previous_tiers.parquet). None on the first run."""
    last = read_optional(tiers_dir / "tiers.parquet")
    if last is None:
        return None
    same = all(c in last and c in scores for c in (RUN_ID, AS_OF)) and (
        set(last[RUN_ID].astype(str)) == set(scores[RUN_ID].astype(str))
        and set(pd.to_datetime(last[AS_OF])) == set(pd.to_datetime(scores[AS_OF])))
    return read_optional(tiers_dir / "previous_tiers.parquet") if same else last


def history_stamp(tiers: pd.DataFrame) -> str:
    """`<as_of day>_<run_id>` of `tiers` (the parts present), safe as a file name; 'run' when
    neither column is there."""
    stamp = re.sub(r"[^\w.-]", "-", "_".join(
        str(tiers[c].iloc[0])[:10 if c == AS_OF else 40] for c in (AS_OF, RUN_ID) if c in tiers))
    return stamp or "run"


def write_outputs(tiers_dir: Path, decision: tiering.TierDecision,
                  previous: pd.DataFrame | None, summary: dict) -> None:
    """Write tiers, previous tiers, history, movement, matrix, shortfall, books and the summary
    JSON to `tiers_dir` (see pipeline/stages/tier.py for the list)."""
    tiers = decision.tiers
    tiers_dir.mkdir(parents=True, exist_ok=True)
    if previous is not None:
        previous.to_parquet(tiers_dir / "previous_tiers.parquet", index=False)
    tiers.to_parquet(tiers_dir / "tiers.parquet", index=False)
    history = tiers_dir / "history"
    history.mkdir(exist_ok=True)
    tiers[[CUSTOMER_ID, REGION, tiering.TIER, MANAGER_ID]].to_parquet(
        history / f"tiers_{history_stamp(tiers)}.parquet", index=False)
    decision.movement.to_parquet(tiers_dir / "movement.parquet", index=False)
    decision.matrix.reset_index().to_parquet(tiers_dir / "movement_matrix.parquet", index=False)
    decision.shortfall.to_parquet(tiers_dir / "shortfall.parquet", index=False)
    decision.books.to_parquet(tiers_dir / "books.parquet", index=False)
    (tiers_dir / "tier_summary.json").write_text(json.dumps(summary, indent=2))

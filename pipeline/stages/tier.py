"""`keyaccounts tier`: scores in; tiers, manager assignment and movement out.

Reads paths.scores_dir/scores.parquet and, when present, the validated customers (region,
current manager, current tier), managers (region, capacity, active), transactions and contacts
(last order and contact dates, if the scores lack them). The tiers of the previous run are the
previous tiers.parquet of paths.tiers_dir (kept by dvc: `persist: true`); without one, the
customers' current_tier is the reference. Writes to paths.tiers_dir: tiers.parquet (one row per
scored customer), previous_tiers.parquet, movement.parquet, movement_matrix.parquet,
shortfall.parquet, books.parquet, tier_summary.json (counts and notes) and
history/tiers_<as_of>_<run_id>.parquet (customer, region, tier, manager of every run).
"""

import json
import re
from pathlib import Path

import pandas as pd

from features.contract import CONTACT_DATE, CUSTOMER_ID, MANAGER_ID, ORDER_DATE, REGION
from models import assignment, tiering
from pipeline.config import Settings
from pipeline.errors import DataError
from pipeline.progress import logger, step

__all__ = ["main", "LAST_ORDER", "LAST_CONTACT", "RUN_ID", "AS_OF"]

LAST_ORDER, LAST_CONTACT, RUN_ID, AS_OF = "last_order_date", "last_contact_date", "run_id", "as_of"
REQUIRED = (CUSTOMER_ID, tiering.EXPECTED_VALUE, tiering.CHURN_PROBABILITY)


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path.exists() else None


def _read_scores(path: Path) -> pd.DataFrame:
    scores = _read(path)
    if scores is None:
        raise DataError(f"{path} not found: run `keyaccounts score` first")
    missing = [c for c in REQUIRED if c not in scores.columns]
    if missing:
        raise DataError(f"{path} lacks column(s) {', '.join(missing)}: re-run `keyaccounts score`")
    if scores.empty:
        raise DataError(f"{path} has no rows: nothing to tier")
    if scores[CUSTOMER_ID].duplicated().any():
        raise DataError(f"{path}: customer_id must be unique (one row per customer)")
    if tiering.VALUE_AT_RISK not in scores.columns:
        scores = scores.assign(**{tiering.VALUE_AT_RISK: scores[tiering.EXPECTED_VALUE]
                                  * scores[tiering.CHURN_PROBABILITY]})
    return scores


def _last_dates(scores: pd.DataFrame, validated: Path) -> pd.DataFrame:
    """Add the last order and contact dates (up to as_of) when the scores lack them."""
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
        if as_of is not None:
            events = events[events[date] <= as_of]
        scores = scores.assign(**{column: scores[CUSTOMER_ID].map(
            events.groupby(CUSTOMER_ID)[date].max())})
    return scores


def _previous(tiers_dir: Path, scores: pd.DataFrame) -> pd.DataFrame | None:
    """The last run's tiers; re-tiering the same scores compares with the run before it."""
    last = _read(tiers_dir / "tiers.parquet")
    if last is None:
        return None
    same = all(c in last and c in scores for c in (RUN_ID, AS_OF)) and (
        set(last[RUN_ID].astype(str)) == set(scores[RUN_ID].astype(str))
        and set(pd.to_datetime(last[AS_OF])) == set(pd.to_datetime(scores[AS_OF])))
    return _read(tiers_dir / "previous_tiers.parquet") if same else last


def main(settings: Settings, **overrides) -> None:
    """Tier every scored customer, assign strategic accounts to managers, measure movement."""
    config = settings.tiers.model_copy(update=overrides) if overrides else settings.tiers
    policy, paths = config.policy, settings.pipeline.paths
    validated, tiers_dir = settings.path(paths.validated_dir), settings.path(paths.tiers_dir)
    with step("tier: reading scores and validated tables"):
        scores = _read_scores(settings.path(paths.scores_dir) / "scores.parquet")
        customers, managers = (_read(validated / "customers.parquet"),
                               _read(validated / "managers.parquet"))
        scores = _last_dates(scores, validated)
        previous = _previous(tiers_dir, scores)

    with step(f"tier: tiering {len(scores):,} customers and assigning managers"):
        result = tiering.decide(scores, customers, managers, previous, policy)
    tiers, shortfall = result.tiers, result.shortfall
    moves, matrix, notes = result.movement, result.matrix, list(result.notes)
    tiers_dir.mkdir(parents=True, exist_ok=True)
    if previous is not None:
        previous.to_parquet(tiers_dir / "previous_tiers.parquet", index=False)
    tiers.to_parquet(tiers_dir / "tiers.parquet", index=False)
    history = tiers_dir / "history"
    history.mkdir(exist_ok=True)
    stamp = re.sub(r"[^\w.-]", "-", "_".join(
        str(tiers[c].iloc[0])[:10 if c == AS_OF else 40] for c in (AS_OF, RUN_ID) if c in tiers))
    tiers[[CUSTOMER_ID, REGION, tiering.TIER, MANAGER_ID]].to_parquet(
        history / f"tiers_{stamp or 'run'}.parquet", index=False)
    moves.to_parquet(tiers_dir / "movement.parquet", index=False)
    matrix.reset_index().to_parquet(tiers_dir / "movement_matrix.parquet", index=False)
    shortfall.to_parquet(tiers_dir / "shortfall.parquet", index=False)
    result.books.to_parquet(tiers_dir / "books.parquet", index=False)
    counts = tiers[tiering.TIER].value_counts()
    summary = {
        "customers": len(tiers), "movement_basis": result.basis, "notes": notes,
        "tiers": {name: int(counts.get(name, 0)) for name in policy.tier_names},
        "moved": {move: int(moves[move].sum()) for move in tiering.MOVES},
        "retention_flagged": int(tiers[tiering.RETENTION].sum()),
        "kept_manager": int(tiers[assignment.KEPT_MANAGER].sum()),
        "shortfall": {str(r.pool): int(r.overflow) for r in shortfall.itertuples()},
    }
    (tiers_dir / "tier_summary.json").write_text(json.dumps(summary, indent=2))
    for note in notes:
        logger.info("tier: %s", note)
    logger.info("tier: %s; moved since %s: %s -> %s", summary["tiers"], result.basis,
                summary["moved"], tiers_dir)

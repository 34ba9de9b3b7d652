"""Capacity-aware tiers with hysteresis, retention flags and the movement between two runs.

Pure functions on DataFrames; the policy is a `models.tier_policy.TierPolicy`.

How a tier is decided
---------------------
1. Every account gets a ranking score (`rank_by`: expected value, value at risk, the mix
   `(1 - mix_weight) * expected_value + mix_weight * value_at_risk`, the manager's estimated
   gain (`uplift`) or `value_uplift` = `(1 - uplift_weight) * percentile(expected_value) +
   uplift_weight * percentile(manager_gain)`) and its percentile: the share of scored accounts
   ranked strictly below it (>= 0.9 means in the top 10%). Bars compare the percentile
   (`thresholds_by: percentile`) or the score itself (`thresholds_by: value`). With `uplift`
   an account outside overlap has no gain (no ranking score): it ranks below every account
   with one, never above it on an extrapolated number; ties of the gain (and the accounts
   without one) are ranked by expected value, then customer id (`rank_order`). Without any
   gain (the manager's effect was not estimated) `decide` ranks by expected value and says so.
2. Strategic: candidates are accounts above `strategic.min_bar`, and accounts already strategic
   that are still above `strategic.keep_bar` (hysteresis). Per capacity pool (a region when there
   are managers, one pool "all" otherwise) the incumbents are taken first, then newcomers, each by
   score, up to the pool's capacity. Candidates beyond it are the shortfall: they go to the next
   tier with the reason, never dropped.
3. Other tiers: the best tier whose `min_bar` the account passes; an account already in a tier
   (or above it) keeps that tier while it stays above the tier's `keep_bar`. The last tier
   (`fallback_tier`) takes the rest.
4. Retention: an account in the top value share with a high churn probability is flagged,
   whatever its tier.
5. `decide` puts it together: joins region, current manager and tier, sets the capacity per
   region from the active managers, assigns strategic accounts (models.assignment), moves the
   ones without a manager to the next tier, and measures the movement since the last run.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.contract import (
    ACTIVE,
    AS_OF,
    CAPACITY,
    CURRENT_MANAGER_ID,
    CURRENT_TIER,
    CUSTOMER_ID,
    MANAGER_ID,
    REGION,
)
from models.assignment import assign_managers
from models.columns import (
    ACCOUNTS,
    CANDIDATES,
    CHANGE,
    CHURN_PROBABILITY,
    EXPECTED_VALUE,
    GAIN_NOTE,
    IN_OVERLAP,
    KEPT_MANAGER,
    MANAGER_GAIN,
    OVERFLOW,
    PERCENTILE,
    POOL,
    PREVIOUS_TIER,
    RANK,
    RANK_SCORE,
    REGION_RANK,
    RETENTION,
    STRATEGIC,
    TIER,
    TIER_REASON,
    UNASSIGNED,
    UPLIFT,
    VALUE_AT_RISK,
    VALUE_UPLIFT,
)
from models.tier_policy import TierPolicy

__all__ = [
    "POOL_ALL", "MOVES",
    "TierDecision", "rank_score", "rank_order", "has_gains", "assign_tiers", "demote",
    "movement", "decide",
    "summarize", "last_event_dates", "active_managers", "total_capacity",
]

POOL_ALL = "all"
MOVES = ("new", "kept", "upgraded", "downgraded", "lost")


def _estimated_gain(scores: pd.DataFrame) -> pd.Series:
    """The manager's estimated gain where the account is in overlap, else NaN (no estimate)."""
    gain = scores[MANAGER_GAIN].astype(float)
    if IN_OVERLAP in scores:
        gain = gain.where(scores[IN_OVERLAP].fillna(False).astype(bool))
    return gain


def has_gains(scores: pd.DataFrame) -> bool:
    """Whether any account of `scores` has an estimated manager gain (in overlap)."""
    return MANAGER_GAIN in scores and bool(_estimated_gain(scores).notna().any())


def rank_score(scores: pd.DataFrame, policy: TierPolicy) -> pd.Series:
    """The score accounts are ranked by, as set by `policy.rank_by` (see the module
    docstring); with `uplift`, NaN for an account without an estimated gain."""
    value = scores[EXPECTED_VALUE].astype(float)
    if policy.rank_by == EXPECTED_VALUE:
        return value.rename(RANK_SCORE)
    if policy.rank_by in (UPLIFT, VALUE_UPLIFT):
        gain = _estimated_gain(scores)
        if policy.rank_by == UPLIFT:
            return gain.rename(RANK_SCORE)
        gain_share = _share_below(gain.fillna(-np.inf))  # no estimate: the lowest, 0
        w = policy.uplift_weight
        return ((1 - w) * _share_below(value) + w * gain_share).rename(RANK_SCORE)
    at_risk = scores[VALUE_AT_RISK].astype(float)
    if policy.rank_by == VALUE_AT_RISK:
        return at_risk.rename(RANK_SCORE)
    return ((1 - policy.mix_weight) * value + policy.mix_weight * at_risk).rename(RANK_SCORE)


def rank_order(scores: pd.DataFrame, score: pd.Series, policy: TierPolicy) -> pd.Series:
    """Higher is better, equal for accounts that tie: the ranking score `score` itself, but
    with `uplift` the order (has a gain, gain, expected value): no account without an
    estimate ranks above one with it, and ties of the gain go to the larger expected value."""
    if policy.rank_by != UPLIFT:
        return score.astype(float)
    keys = (score.notna().to_numpy(), score.fillna(-np.inf).to_numpy(float),
            scores[EXPECTED_VALUE].astype(float).fillna(-np.inf).to_numpy())
    order = np.lexsort(keys[::-1])  # lexsort: the last key is the primary one
    change = np.zeros(len(order), dtype=bool)
    change[:1] = True
    for key in keys:
        ranked = key[order]
        change[1:] |= ranked[1:] != ranked[:-1]
    dense = np.empty(len(order), dtype=float)
    dense[order] = np.cumsum(change)
    return pd.Series(dense, index=score.index)


def _share_below(values: pd.Series) -> pd.Series:
    """Share of accounts with a strictly lower value: >= 0.9 means "in the top 10%"."""
    return 1.0 - values.rank(method="max", ascending=False) / len(values)


def _tier_index(tiers: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    """Position of each tier in `names` (0 = best); -1 for none or an unknown name."""
    lookup = {name: i for i, name in enumerate(names)}
    return np.array([lookup.get(t, -1) if isinstance(t, str) else -1 for t in tiers],
                    dtype=np.int64)


def assign_tiers(
    scores: pd.DataFrame, policy: TierPolicy, capacity: Mapping[str, int] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tier every account of `scores`.

    `scores`: customer_id, expected_value, churn_probability, value_at_risk, and optionally
    region and previous_tier (the tier held so far). `capacity`: strategic slots per region
    (the active managers' capacity); None means no managers: one pool "all" with
    `policy.strategic.capacity_without_managers` slots.

    Returns (tiers, shortfall). `tiers` is a copy of `scores` with rank_score,
    score_percentile, rank, region_rank, tier, tier_reason and retention_flag, sorted by rank.
    `shortfall` has per pool: candidates, capacity, strategic, overflow.
    """
    names = policy.tier_names
    frame = scores.copy()
    if REGION not in frame.columns:
        frame[REGION] = POOL_ALL
    previous = (_tier_index(frame[PREVIOUS_TIER], names) if PREVIOUS_TIER in frame.columns
                else np.full(len(frame), -1))
    frame[RANK_SCORE] = rank_score(frame, policy)
    ordering = rank_order(frame, frame[RANK_SCORE], policy)
    frame[PERCENTILE] = _share_below(ordering)
    measure = (frame[PERCENTILE] if policy.thresholds_by == "percentile"
               else frame[RANK_SCORE]).to_numpy()

    # lower tiers: entry bars, then hysteresis (a former strategic account counts as the next tier)
    n_lower = len(policy.tiers)
    lower = np.full(len(frame), n_lower + 1)
    reason = np.full(len(frame), "below every bar", dtype=object)
    for i, bar in reversed(list(enumerate(policy.tiers, start=1))):
        passes = measure >= bar.min_bar
        lower[passes] = i
        reason[passes] = f"above the {bar.name} bar"
    held = np.where(previous == 0, 1, previous)
    for i, bar in enumerate(policy.tiers, start=1):
        keeps = (held == i) & (lower > i) & (measure >= bar.keep_bar)
        lower[keeps] = i
        reason[keeps] = f"kept {bar.name}: above its lower bar"

    # strategic: bar or hysteresis, then the capacity of the pool
    strategic = policy.strategic
    incumbent = (previous == 0) & (measure >= strategic.keep_bar)
    candidate = incumbent | (measure >= strategic.min_bar)
    pool = (frame[REGION].fillna("(no region)").astype(str) if capacity is not None
            else pd.Series(POOL_ALL, index=frame.index))
    order = pd.DataFrame({POOL: pool.to_numpy(), "incumbent": incumbent,
                          "score": ordering.to_numpy(),
                          "id": frame[CUSTOMER_ID].to_numpy(), "candidate": candidate})
    order = order[order["candidate"]].sort_values(
        [POOL, "incumbent", "score", "id"], ascending=[True, False, False, True], kind="stable")
    order["slot"] = order.groupby(POOL).cumcount()
    pools = sorted(set(pool))
    slots = {p: (capacity or {}).get(p, 0) if capacity is not None
             else strategic.capacity_without_managers for p in pools}
    order[CAPACITY] = order[POOL].map(slots).fillna(0).astype(int)
    # `order` has a positional index: rows of `frame` by position
    chosen = order.index[order["slot"] < order[CAPACITY]].to_numpy()
    over = order.index[order["slot"] >= order[CAPACITY]].to_numpy()
    tier = np.array([names[i] for i in lower], dtype=object)
    tier[chosen] = strategic.name
    reason[chosen] = np.where(incumbent[chosen],
                                         f"kept {strategic.name}: above its lower bar",
                                         f"above the {strategic.name} bar, within capacity")
    tier[over] = names[1]  # the next tier; lower[over] >= 1 always, so never a downgrade past it
    reason[over] = f"{strategic.name} candidate over the region's manager capacity"
    frame[TIER] = tier
    frame[TIER_REASON] = reason

    value_pct = _share_below(frame[EXPECTED_VALUE])
    frame[RETENTION] = ((value_pct >= policy.retention.min_value_percentile)
                        & (frame[CHURN_PROBABILITY] >= policy.retention.min_churn_probability))
    frame = (frame.assign(_order=ordering.to_numpy())
             .sort_values(["_order", CUSTOMER_ID], ascending=[False, True], kind="stable")
             .drop(columns="_order"))
    frame[RANK] = np.arange(1, len(frame) + 1)
    frame[REGION_RANK] = frame.groupby(REGION, dropna=False).cumcount() + 1
    shortfall = pd.DataFrame({
        POOL: pools,
        CANDIDATES: [int((order[POOL] == p).sum()) for p in pools],
        CAPACITY: [int(slots[p]) for p in pools],
        STRATEGIC: [int(((order[POOL] == p) & (order["slot"] < order[CAPACITY])).sum())
                      for p in pools],
    })
    shortfall[OVERFLOW] = shortfall[CANDIDATES] - shortfall[STRATEGIC]
    return frame.reset_index(drop=True), shortfall


def demote(tiers: pd.DataFrame, customer_ids, policy: TierPolicy, reason: str) -> pd.DataFrame:
    """Move the given strategic accounts to the next tier, with `reason` (e.g. no manager)."""
    frame = tiers.copy()
    hit = frame[CUSTOMER_ID].isin(set(customer_ids)) & (frame[TIER] == policy.strategic.name)
    frame.loc[hit, TIER] = policy.tier_names[1]
    frame.loc[hit, TIER_REASON] = reason
    return frame


def movement(
    previous: pd.DataFrame | None, current: pd.DataFrame, names: tuple[str, ...]
) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """What changed since the previous tiers.

    `previous` and `current`: customer_id, region, tier (previous may be None: all new).
    Returns (change per current account: new/kept/upgraded/downgraded, aligned with
    `current`; counts per region and tier of new, kept, upgraded, downgraded and lost, where
    lost accounts count under their previous tier and region; the matrix previous tier x
    current tier with "(new)" and "(lost)").
    """
    if previous is None:
        previous = pd.DataFrame({CUSTOMER_ID: pd.Series(dtype="str"),
                                 REGION: pd.Series(dtype="str"), TIER: pd.Series(dtype="str")})
    prev = previous[previous[TIER].notna()].drop_duplicates(CUSTOMER_ID, keep="last")
    before = current[CUSTOMER_ID].map(prev.set_index(CUSTOMER_ID)[TIER])
    now_rank = _tier_index(current[TIER], names)
    before_rank = _tier_index(before, names)
    change = np.select(
        [before.isna().to_numpy() | (before_rank < 0), before_rank == now_rank,
         now_rank < before_rank],
        ["new", "kept", "upgraded"], "downgraded")
    change = pd.Series(change, index=current.index, name=CHANGE)

    lost = prev[~prev[CUSTOMER_ID].isin(set(current[CUSTOMER_ID]))]
    events = pd.concat([
        pd.DataFrame({REGION: current[REGION].to_numpy(), TIER: current[TIER].to_numpy(),
                      "move": change.to_numpy()}),
        pd.DataFrame({REGION: lost[REGION].to_numpy() if REGION in lost else None,
                      TIER: lost[TIER].to_numpy(), "move": "lost"}),
    ], ignore_index=True)
    events[REGION] = events[REGION].fillna("(no region)").astype(str)
    summary = (events.groupby([REGION, TIER, "move"]).size().unstack("move", fill_value=0)
               .reindex(columns=list(MOVES), fill_value=0).reset_index())
    order = {n: i for i, n in enumerate(names)}
    summary = summary.sort_values([REGION, TIER], key=lambda s: s.map(order) if s.name == TIER
                                  else s).reset_index(drop=True)
    summary.columns.name = None

    rows = before.astype(object).where(before_rank >= 0, "(new)")
    matrix = pd.crosstab(pd.Categorical(rows, categories=["(new)", *names]),
                         pd.Categorical(current[TIER], categories=[*names, "(lost)"]),
                         dropna=False)
    for tier_name, count in lost[TIER].value_counts().items():
        if tier_name in matrix.index:
            matrix.loc[tier_name, "(lost)"] = count
    matrix.index.name, matrix.columns.name = "previous tier", "tier now"
    return change, summary, matrix


@dataclass(frozen=True)
class TierDecision:
    """Everything the tier stage decides: `tiers` (one row per scored customer, ranked, with
    tier, manager_id, kept_manager, change...), `movement` and `matrix` (see `movement`),
    `shortfall` per pool, `books` per manager, `notes` for people, and `basis`: what the
    movement is measured against."""

    tiers: pd.DataFrame
    movement: pd.DataFrame
    matrix: pd.DataFrame
    shortfall: pd.DataFrame
    books: pd.DataFrame
    notes: tuple[str, ...]
    basis: str


def active_managers(managers: pd.DataFrame) -> pd.DataFrame:
    """The managers that take accounts: those marked active (all without the column)."""
    return managers[managers[ACTIVE].fillna(False).astype(bool)] if ACTIVE in managers else managers


def total_capacity(managers: pd.DataFrame | None, policy: TierPolicy) -> int:
    """How many accounts the managers can take in all: the active managers' capacity, or the
    strategic slots of the policy without a managers table."""
    if managers is None:
        return int(policy.strategic.capacity_without_managers)
    return int(active_managers(managers)[CAPACITY].fillna(0).sum())


def decide(
    scores: pd.DataFrame, customers: pd.DataFrame | None, managers: pd.DataFrame | None,
    previous: pd.DataFrame | None, policy: TierPolicy,
) -> TierDecision:
    """Tier the scored customers, assign strategic accounts to managers, measure movement.

    `customers` (region, current_manager_id, current_tier) and `managers` (manager_id, region,
    capacity, active) may be None: without customers there is one region "all"; without
    managers the strategic tier has `capacity_without_managers` slots and nobody is assigned.
    `previous`: the previous run's tiers (customer_id, region, tier[, run_id]) or None; the
    hysteresis uses its tier, else the customers' current_tier. Strategic accounts that find
    no manager are moved to the next tier (reported in `shortfall` and `notes`).
    """
    notes: list[str] = []
    frame = scores.drop(columns=[REGION, CURRENT_MANAGER_ID, CURRENT_TIER], errors="ignore")
    if customers is not None:
        info = customers.set_index(CUSTOMER_ID)
        for column in (REGION, CURRENT_MANAGER_ID, CURRENT_TIER):
            frame[column] = frame[CUSTOMER_ID].map(info[column]) if column in info else None
    else:
        frame[REGION], frame[CURRENT_MANAGER_ID], frame[CURRENT_TIER] = POOL_ALL, None, None
        notes.append("no customers table: one region 'all', no current tiers or managers "
                     "on record")
    frame[REGION] = frame[REGION].fillna("(no region)").astype(str)
    if previous is not None:
        # hysteresis: the previous run's tier, else the tier on record in the customers table
        frame[PREVIOUS_TIER] = frame[CUSTOMER_ID].map(
            previous.set_index(CUSTOMER_ID)[TIER]).fillna(frame[CURRENT_TIER])
        reference = previous[[CUSTOMER_ID, REGION, TIER]]
        basis = (f"the previous run (as of {pd.Timestamp(previous[AS_OF].iloc[0]):%Y-%m-%d})"
                 if AS_OF in previous and len(previous) else "the previous run")
    else:
        frame[PREVIOUS_TIER] = frame[CURRENT_TIER]
        reference = frame.loc[frame[CURRENT_TIER].notna(), [CUSTOMER_ID, REGION, CURRENT_TIER]]
        reference = reference.rename(columns={CURRENT_TIER: TIER})
        basis = "the customers' current_tier (no previous run)"

    active, capacity = None, None
    if managers is not None:
        active = active_managers(managers)
        if customers is None:
            active = active.assign(**{REGION: POOL_ALL})
            notes.append("no customers table: managers of every region pooled into 'all'")
        capacity = active.groupby(REGION)[CAPACITY].sum().astype(int).to_dict()
    else:
        notes.append(f"no managers table: {policy.strategic.capacity_without_managers} strategic "
                     "slots from configs/tiers.yaml, no manager assignment")
    if policy.rank_by in (UPLIFT, VALUE_UPLIFT) and not has_gains(frame):
        reason = ""
        if GAIN_NOTE in frame and frame[GAIN_NOTE].notna().any():
            reason = f" ({frame[GAIN_NOTE].dropna().astype(str).iloc[0]})"
        notes.append(f"rank_by {policy.rank_by}: no account has an estimated manager gain"
                     f"{reason}; ranked by expected value instead")
        policy = policy.model_copy(update={"rank_by": EXPECTED_VALUE})
    tiers, shortfall = assign_tiers(frame, policy, capacity)

    books = pd.DataFrame(columns=[MANAGER_ID, REGION, CAPACITY, ACCOUNTS, EXPECTED_VALUE])
    tiers[MANAGER_ID], tiers[KEPT_MANAGER] = None, False
    if active is not None:
        strategic = tiers[tiers[TIER] == policy.strategic.name]
        result = assign_managers(strategic, active, policy.assignment)
        placed = result.assignments.set_index(CUSTOMER_ID)
        tiers[MANAGER_ID] = tiers[CUSTOMER_ID].map(placed[MANAGER_ID])
        tiers[KEPT_MANAGER] = tiers[CUSTOMER_ID].map(placed[KEPT_MANAGER]).fillna(False)
        tiers[KEPT_MANAGER] = tiers[KEPT_MANAGER].astype(bool)
        unplaced = placed.index[placed[MANAGER_ID].isna()]
        tiers = demote(tiers, unplaced, policy, "no manager capacity left in the region")
        books = result.books
        unassigned = shortfall[POOL].map(
            result.shortfall.set_index(REGION)[UNASSIGNED]).fillna(0).astype(int)
        shortfall[OVERFLOW] += unassigned
        shortfall[STRATEGIC] -= unassigned
    for row in shortfall[shortfall[OVERFLOW] > 0].itertuples():
        notes.append(f"region {row.pool}: {row.candidates} strategic candidates for "
                     f"{row.capacity} manager slots; {row.overflow} moved to "
                     f"{policy.tier_names[1]} (shortfall)")

    change, moves, matrix = movement(reference, tiers, policy.tier_names)
    tiers[CHANGE] = change
    return TierDecision(tiers=tiers, movement=moves, matrix=matrix, shortfall=shortfall,
                        books=books, notes=tuple(notes), basis=basis)


def summarize(decision: TierDecision, tier_names: tuple[str, ...]) -> dict:
    """The JSON-ready summary of `decision` (tier_summary.json): customers, the movement basis,
    the notes, accounts per tier (every name in `tier_names`, 0 when empty), accounts per move,
    retention flags, kept managers and the overflow per capacity pool."""
    tiers, counts = decision.tiers, decision.tiers[TIER].value_counts()
    return {
        "customers": len(tiers), "movement_basis": decision.basis, "notes": list(decision.notes),
        "tiers": {name: int(counts.get(name, 0)) for name in tier_names},
        "moved": {move: int(decision.movement[move].sum()) for move in MOVES},
        "retention_flagged": int(tiers[RETENTION].sum()),
        KEPT_MANAGER: int(tiers[KEPT_MANAGER].sum()),
        "shortfall": {str(r.pool): int(r.overflow) for r in decision.shortfall.itertuples()},
    }


def last_event_dates(customer_ids: pd.Series, events: pd.DataFrame, date_column: str,
                     as_of: pd.Timestamp | None = None) -> pd.Series:
    """Per entry of `customer_ids`, the latest `date_column` of its `events` (customer_id,
    date) on or before `as_of` (all events when None); NaT for a customer without events."""
    if as_of is not None:
        events = events[events[date_column] <= as_of]
    return customer_ids.map(events.groupby(CUSTOMER_ID)[date_column].max())

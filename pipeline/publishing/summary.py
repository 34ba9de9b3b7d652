"""What the workbooks and reports say besides the rows: pure tables and texts built from the
tier stage's outputs and the tier policy.

- `summary_tables`: the Summary sheet of the overall workbook; `book_tables`: a manager's or
  region lead's Summary;
- `tier_definitions`: what each tier takes to enter and to keep, in words, with its counts;
- `guide_rows`: the "How to read this" sheet (tiers, retention, the numbers, the change column,
  as-of, horizon, model versions and run ids);
- `manager_view` / `region_view`: accounts, expected value, value at risk and at-risk
  accounts per manager's book and per region;
- `kept_incumbents`: why an incumbent kept its strategic slot while a better-ranked candidate
  moved to the next tier (the hysteresis under a capacity shortfall);
- `manager_effect_tables`: the manager's estimated effect per region (one more and one fewer
  manager) and the curve of the k-th manager's value, with `effect_note` in words.
"""

import numpy as np
import pandas as pd

from features.contract import AS_OF, CAPACITY, CUSTOMER_ID, HORIZON_DAYS, MANAGER_ID, REGION
from models.columns import (
    ACCOUNTS,
    CHURN_PROBABILITY,
    CHURN_RUN_ID,
    CHURN_VERSION,
    EXPECTED_VALUE,
    GAIN_NOTE,
    IN_OVERLAP,
    MANAGER_GAIN,
    OVERFLOW,
    PERCENTILE,
    POOL,
    PREVIOUS_TIER,
    RANK,
    RANK_SCORE,
    RETENTION,
    RUN_ID,
    STRATEGIC,
    TIER,
    UPLIFT,
    VALUE_AT_RISK,
    VALUE_RUN_ID,
    VALUE_UPLIFT,
    VALUE_VERSION,
)
from models.manager_effect import manager_value_table
from models.tier_policy import TierPolicy

__all__ = ["AT_RISK", "EFFECT_TABLE", "CURVE_TABLE", "book_tables", "capacity_pools",
           "effect_note", "guide_rows", "kept_incumbents", "manager_effect_tables",
           "manager_view", "model_stamps", "rank_by_text", "region_view", "summary_tables",
           "tier_definitions", "workbook_notes"]

AT_RISK = "at_risk_accounts"
_TOTALS = [ACCOUNTS, EXPECTED_VALUE, VALUE_AT_RISK, "retention"]
_RANK_BY = {EXPECTED_VALUE: "expected value",
            VALUE_AT_RISK: "value at risk",
            UPLIFT: "the manager's estimated gain (accounts without an estimate last)"}
EFFECT_TABLE = "Manager's effect per region: one more and one fewer manager"
CURVE_TABLE = "Value of the k-th manager per region (estimated gain)"


def summary_tables(tiers: pd.DataFrame, moves: pd.DataFrame, matrix: pd.DataFrame,
                   books: pd.DataFrame, shortfall: pd.DataFrame,
                   names: tuple[str, ...],
                   effect: dict[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """Title -> table of the summary sheet, in order: accounts, expected value, value at risk
    and retention flags per tier (tiers in the order of `names`) and per tier and region (then
    by region), then the movement, the movement matrix (`matrix` with its "previous tier"
    column), the manager capacity per region (`shortfall`) and the manager books (`books`,
    e.g. `manager_view`), then the manager's effect tables (`effect`, `manager_effect_tables`)."""
    totals, by = _per_tier(tiers, names)
    return {"Accounts and expected value per tier": totals,
            "Per tier and region": by,
            "Movement since the last run": moves,
            "Movement matrix (previous tier in rows, tier now in columns)": matrix,
            "Manager capacity per region": shortfall,
            "Manager books": books, **(effect or {})}


def _per_tier(tiers: pd.DataFrame, names: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    by = (tiers.groupby([TIER, REGION]).agg(accounts=(CUSTOMER_ID, "size"),
                                            expected_value=(EXPECTED_VALUE, "sum"),
                                            value_at_risk=(VALUE_AT_RISK, "sum"),
                                            retention=(RETENTION, "sum"))
          .reset_index())
    by["_order"] = by[TIER].map({n: i for i, n in enumerate(names)})
    by = by.sort_values(["_order", REGION]).drop(columns="_order").reset_index(drop=True)
    totals = by.groupby(TIER, sort=False)[_TOTALS].sum().reset_index()
    return totals, by


def book_tables(tiers: pd.DataFrame, names: tuple[str, ...], views: dict[str, pd.DataFrame],
                moves: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Title -> table of a manager's or region lead's Summary sheet: accounts, expected value,
    value at risk and retention flags per tier of `tiers` (that book's rows), then each of
    `views` (e.g. "Manager books": the region's managers), then the movement (`moves`,
    that region's rows of the movement table) when given."""
    totals, _ = _per_tier(tiers, names)
    tables = {"Accounts and expected value per tier": totals, **views}
    if moves is not None:
        tables["Movement since the last run"] = moves
    return tables


def workbook_notes(summary: dict) -> list[str]:
    """The notes under the summary tables: the movement basis, then the tier stage's notes
    (`summary` is tier_summary.json)."""
    return [f"Movement compared with {summary['movement_basis']}.", *summary["notes"]]


def _top(bar: float) -> str:
    """A percentile bar as people say it: 0.9 -> "top 10%"."""
    return f"top {100 * (1 - bar):.4g}%"


def _bar(bar: float, policy: TierPolicy) -> str:
    if policy.thresholds_by == "percentile":
        return f"in the {_top(bar)}"
    return f"a ranking score of at least {bar:,.0f}"


def rank_by_text(policy: TierPolicy) -> str:
    """What accounts are ranked by, in words."""
    if policy.rank_by == "mix":
        return (f"a mix of {1 - policy.mix_weight:.0%} expected value and "
                f"{policy.mix_weight:.0%} value at risk")
    if policy.rank_by == VALUE_UPLIFT:
        return (f"{1 - policy.uplift_weight:.0%} the percentile of expected value and "
                f"{policy.uplift_weight:.0%} the percentile of the manager's estimated gain")
    return _RANK_BY[policy.rank_by]


def tier_definitions(policy: TierPolicy, tiers: pd.DataFrame | None = None) -> list[dict]:
    """One entry per tier, best first: name, enter (what it takes to enter it), keep (what it
    takes to keep it), and, from `tiers`, accounts, expected value and retention flags."""
    strategic = policy.strategic
    ranked = f"ranked by {rank_by_text(policy)}"
    out = [{"name": strategic.name,
            "enter": f"{_bar(strategic.min_bar, policy)} ({ranked}) and within the manager "
                     "capacity of its region: a dedicated manager",
            "keep": f"an account already {strategic.name} keeps it while "
                    f"{_bar(strategic.keep_bar, policy)}, and takes a slot before new "
                    "candidates"}]
    for bar in policy.tiers:
        out.append({"name": bar.name, "enter": _bar(bar.min_bar, policy),
                    "keep": f"kept while {_bar(bar.keep_bar, policy)}"})
    if len(out) > 1:
        out[1]["enter"] += (f"; also {strategic.name} candidates over their region's manager "
                            "capacity")
    out.append({"name": policy.fallback_tier, "enter": "every other account", "keep": ""})
    if tiers is not None:
        counts = tiers.groupby(TIER).agg(accounts=(TIER, "size"),
                                         expected_value=(EXPECTED_VALUE, "sum"),
                                         retention=(RETENTION, "sum"))
        for entry in out:
            row = counts.loc[entry["name"]] if entry["name"] in counts.index else None
            entry[ACCOUNTS] = 0 if row is None else int(row[ACCOUNTS])
            entry[EXPECTED_VALUE] = 0.0 if row is None else float(row[EXPECTED_VALUE])
            entry["retention"] = 0 if row is None else int(row["retention"])
    return out


def model_stamps(tiers: pd.DataFrame) -> dict[str, str]:
    """as_of, horizon_days and each model's version and run id of `tiers` ("n/a" when
    absent; several values joined by ", "; scores of before the per-model stamps have one
    run_id for both)."""
    def values(column: str, fallback: str | None = None) -> str:
        if column not in tiers and fallback in tiers:
            column = fallback
        if column not in tiers or tiers.empty:
            return "n/a"
        seen = [str(v) for v in pd.unique(tiers[column].dropna())][:3]
        return ", ".join(seen) or "n/a"

    as_of = (str(pd.Timestamp(tiers[AS_OF].iloc[0]).date())
             if AS_OF in tiers and len(tiers) else "n/a")
    return {AS_OF: as_of, HORIZON_DAYS: values(HORIZON_DAYS),
            "value_version": values(VALUE_VERSION), "value_run": values(VALUE_RUN_ID, RUN_ID),
            "churn_version": values(CHURN_VERSION), "churn_run": values(CHURN_RUN_ID, RUN_ID)}


def guide_rows(policy: TierPolicy, tiers: pd.DataFrame, basis: str,
               scope: str) -> list[tuple[str, str]]:
    """The "How to read this" sheet: (term, meaning) pairs for `scope` (who the book is for,
    e.g. "manager M001: only the accounts assigned to you")."""
    stamps = model_stamps(tiers)
    horizon = stamps[HORIZON_DAYS]
    retention = policy.retention
    rows = [("This book", scope),
            ("As of", f"{stamps[AS_OF]}: scores use the data up to this date"),
            ("Horizon", f"the next {horizon} days after the as-of date"),
            ("Value model", f"version {stamps['value_version']} (run {stamps['value_run']})"),
            ("Churn model", f"version {stamps['churn_version']} (run {stamps['churn_run']})"),
            ("", ""), ("Tiers", f"accounts ranked by {rank_by_text(policy)}; Rank 1 is the "
                                 "best account over every region")]
    for entry in tier_definitions(policy):
        keep = f"; {entry['keep']}" if entry["keep"] else ""
        rows.append((entry["name"], f"enter: {entry['enter']}{keep}"))
    rows += [
        ("Why an incumbent kept its slot",
         f"when a region has more {policy.strategic.name} candidates than manager slots, "
         f"accounts already {policy.strategic.name} are served first: one can keep its slot "
         "although it ranks below a new candidate who then moves to the next tier. Books stay "
         "stable from run to run."),
        ("", ""),
        ("Expected value", f"the spend expected from the customer over the next {horizon} days"),
        ("Churn probability", f"the chance the customer orders nothing over the next {horizon} "
                              "days (green low, red high)"),
        ("Value at risk", "churn probability x the customer's current spend over a horizon: "
                          "what losing the account would cost"),
        ("Retention", f"yes (highlighted) when the expected value is in the "
                      f"{_top(retention.min_value_percentile)} and the churn probability is at "
                      f"least {retention.min_churn_probability:.0%}, whatever the tier: call "
                      "these first"),
        ("At-risk accounts", f"accounts with a churn probability of at least "
                             f"{retention.min_churn_probability:.0%}"),
        ("Change since last run", f"compared with {basis}: new (not tiered then), kept, "
                                  "upgraded from / downgraded from the tier it had; a change "
                                  "of manager is added (manager was ..., newly assigned)"),
        ("Manager gain", f"the estimated extra spend over the next {horizon} days from a "
                         "dedicated manager, with its interval (from .. to): an observational "
                         "estimate from past accounts with and without a manager (README \"The "
                         "manager's effect\"); empty where accounts like this one nearly always "
                         "or nearly never had a manager (the note says which): no comparable "
                         "accounts, so no estimate"),
        ("Why", "the facts about the customer that moved its expected value and churn risk "
                "most"),
        ("Why this tier", "which bar the account passed, or why it was moved"),
    ]
    return rows


def _at_risk(tiers: pd.DataFrame, policy: TierPolicy) -> pd.Series:
    return tiers[CHURN_PROBABILITY] >= policy.retention.min_churn_probability


def manager_view(tiers: pd.DataFrame, books: pd.DataFrame | None,
                 policy: TierPolicy) -> pd.DataFrame:
    """Per manager (those of `books`, the tier stage's books, and any manager of `tiers`):
    region, capacity, accounts, expected value, value at risk, at-risk accounts and
    retention flags of their book, by region then manager; one grouping pass."""
    columns = [MANAGER_ID, REGION, CAPACITY, ACCOUNTS, EXPECTED_VALUE, VALUE_AT_RISK,
               AT_RISK, "retention"]
    assigned = tiers[tiers[MANAGER_ID].notna()] if MANAGER_ID in tiers else tiers.iloc[:0]
    agg = (assigned.assign(**{AT_RISK: _at_risk(assigned, policy)})
           .groupby(MANAGER_ID).agg(region=(REGION, "first"), accounts=(CUSTOMER_ID, "size"),
                                    expected_value=(EXPECTED_VALUE, "sum"),
                                    value_at_risk=(VALUE_AT_RISK, "sum"),
                                    at_risk_accounts=(AT_RISK, "sum"),
                                    retention=(RETENTION, "sum")))
    base = (books[[c for c in (MANAGER_ID, REGION, CAPACITY) if c in books]]
            .drop_duplicates(MANAGER_ID).set_index(MANAGER_ID)
            if books is not None and MANAGER_ID in books else pd.DataFrame(index=[]))
    view = base.join(agg.drop(columns=REGION), how="outer") if len(base.columns) else agg
    if REGION in agg and REGION in view:
        view[REGION] = view[REGION].fillna(agg[REGION])
    view = view.reindex(columns=columns[1:])
    for column in (ACCOUNTS, AT_RISK, "retention"):
        view[column] = view[column].fillna(0).astype(int)
    for column in (EXPECTED_VALUE, VALUE_AT_RISK):
        view[column] = view[column].fillna(0.0).astype(float)
    view.index.name = MANAGER_ID
    return view.reset_index().sort_values([REGION, MANAGER_ID], kind="stable",
                                          na_position="last").reset_index(drop=True)


def region_view(tiers: pd.DataFrame, shortfall: pd.DataFrame | None,
                managers: pd.DataFrame, policy: TierPolicy) -> pd.DataFrame:
    """Per region: accounts, strategic accounts, expected value, value at risk, at-risk
    accounts, retention flags, managers (from `managers`, a `manager_view`), manager
    capacity and the strategic candidates moved to the next tier (from `shortfall`)."""
    strategic = policy.strategic.name
    view = (tiers.assign(_strategic=tiers[TIER] == strategic, _risk=_at_risk(tiers, policy))
            .groupby(REGION).agg(accounts=(CUSTOMER_ID, "size"), strategic=("_strategic", "sum"),
                                 expected_value=(EXPECTED_VALUE, "sum"),
                                 value_at_risk=(VALUE_AT_RISK, "sum"),
                                 at_risk_accounts=("_risk", "sum"),
                                 retention=(RETENTION, "sum")))
    view["managers"] = (managers.groupby(REGION).size().reindex(view.index).fillna(0)
                        .astype(int) if len(managers) else 0)
    if shortfall is not None and POOL in shortfall and len(shortfall):
        pools = shortfall.assign(pool=shortfall[POOL].astype(str)).set_index(POOL)
        view[CAPACITY] = pools[CAPACITY].reindex(view.index)
        view["moved_to_next_tier"] = pools[OVERFLOW].reindex(view.index)
    return view.reset_index()


def capacity_pools(tiers: pd.DataFrame, shortfall: pd.DataFrame | None) -> pd.Series:
    """The strategic capacity pool of each row of `tiers`: its region, or the one pool of the
    tier stage's `shortfall` when there was a single pool for every region (no managers)."""
    pools = set() if shortfall is None or POOL not in shortfall else set(
        shortfall[POOL].astype(str))
    if len(pools) == 1 and not set(tiers[REGION].astype(str)) <= pools:
        return pd.Series(next(iter(pools)), index=tiers.index)
    return tiers[REGION].astype(str)


def _measure(tiers: pd.DataFrame, policy: TierPolicy) -> pd.Series | None:
    column = PERCENTILE if policy.thresholds_by == "percentile" else RANK_SCORE
    return tiers[column].astype(float) if column in tiers else None


def kept_incumbents(tiers: pd.DataFrame, policy: TierPolicy,
                    pools: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Why incumbents kept their strategic slots under a capacity shortfall, per capacity pool
    (`pools`: the pool of each row, aligned with `tiers`; by default its region).

    A candidate is above the strategic entry bar, or was strategic and is still above its
    keep bar; incumbents are served first, so a candidate "moved" to the next tier can rank
    above an incumbent who kept the slot. Returns (per pool: slots taken, incumbents kept,
    candidates moved, the best rank moved, the incumbents kept ranked below it and the lowest
    rank kept; only pools with a candidate moved), (those incumbents: pool, rank, customer,
    manager, ranked_in_top (0.04: in the top 4%; empty with value bars), lowest-ranked
    first). Empty when `tiers` lacks the
    previous tier or the ranking score."""
    strategic = policy.strategic
    measure = _measure(tiers, policy)
    names = [POOL, STRATEGIC, "incumbents_kept", "candidates_moved", "best_rank_moved",
             "kept_below_it", "lowest_rank_kept"]
    detail_names = [POOL, RANK, CUSTOMER_ID, MANAGER_ID, "ranked_in_top"]
    if measure is None or PREVIOUS_TIER not in tiers or RANK not in tiers or tiers.empty:
        return pd.DataFrame(columns=names), pd.DataFrame(columns=detail_names)
    was = (tiers[PREVIOUS_TIER] == strategic.name).to_numpy()
    now = (tiers[TIER] == strategic.name).to_numpy()
    candidate = (measure >= strategic.min_bar).to_numpy() | (was & (measure >= strategic.keep_bar)
                                                             .to_numpy())
    pool = (pools if pools is not None else tiers[REGION]).astype(str).to_numpy()
    frame = pd.DataFrame({POOL: pool, RANK: tiers[RANK].to_numpy(),
                          "kept": now & was, "moved": candidate & ~now, "now": now})
    moved = frame[frame["moved"]].groupby(POOL)[RANK].agg(["size", "min"])
    if moved.empty:
        return pd.DataFrame(columns=names), pd.DataFrame(columns=detail_names)
    best = frame[POOL].map(moved["min"])
    below = frame["kept"] & (frame[RANK] > best)
    per = frame.groupby(POOL).agg(strategic=("now", "sum"), incumbents_kept=("kept", "sum"))
    per = per.loc[moved.index]
    per["candidates_moved"] = moved["size"]
    per["best_rank_moved"] = moved["min"]
    per["kept_below_it"] = below.groupby(frame[POOL]).sum().reindex(per.index).fillna(0)
    lowest = frame[frame["kept"]].groupby(POOL)[RANK].max()
    per["lowest_rank_kept"] = lowest.reindex(per.index)
    per = per.reset_index()
    for column in names[1:]:
        per[column] = per[column].fillna(0).astype(np.int64)
    mask = below.to_numpy()
    share = (1 - measure) if policy.thresholds_by == "percentile" else measure * np.nan
    detail = pd.DataFrame({
        POOL: pool[mask], RANK: tiers[RANK].to_numpy()[mask],
        CUSTOMER_ID: tiers[CUSTOMER_ID].to_numpy()[mask],
        MANAGER_ID: (tiers[MANAGER_ID].to_numpy()[mask] if MANAGER_ID in tiers
                     else np.full(int(mask.sum()), None)),
        "ranked_in_top": share.to_numpy()[mask]})
    detail = detail.sort_values([RANK, POOL], ascending=[False, True]).reset_index(drop=True)
    return per, detail


def effect_note(tiers: pd.DataFrame) -> str:
    """The manager's effect in one sentence for the report: how many accounts have an
    estimate, or why none has."""
    if MANAGER_GAIN not in tiers or not tiers[MANAGER_GAIN].notna().any():
        notes = tiers[GAIN_NOTE].dropna().astype(str) if GAIN_NOTE in tiers else pd.Series([])
        reason = notes.iloc[0] if len(notes) else "not estimated"
        return f"The manager's effect is not shown: {reason}."
    inside = (tiers[IN_OVERLAP].fillna(False).astype(bool) if IN_OVERLAP in tiers
              else tiers[MANAGER_GAIN].notna())
    return (f"{int(inside.sum()):,} of {len(tiers):,} accounts ({inside.mean():.1%}) have an "
            "estimated manager gain; the others have no comparable accounts with and without "
            "a manager (outside overlap) and no estimate. It is an observational estimate: "
            "managers were not given at random, and reasons for giving one that the data "
            "does not show bias it. The gains of the accounts with the largest estimates "
            "overstate what their managers add (the largest of noisy estimates are picked): "
            "the out-of-sample gain of the top accounts is the training run's "
            "manager_effect.top_gain.")


def manager_effect_tables(tiers: pd.DataFrame, books: pd.DataFrame | None
                          ) -> dict[str, pd.DataFrame]:
    """Title -> table: per region, the managers now, the accounts one manager takes, the
    estimated gain of the accounts they would take by the largest estimated gains, one more
    and one fewer manager (models.manager_effect.manager_value_table, from the tier rows'
    gains and the managers of `books`), then the curve of the k-th manager's value. Empty
    without gains or managers."""
    if MANAGER_GAIN not in tiers or books is None or MANAGER_ID not in books:
        return {}
    managers = books.drop_duplicates(MANAGER_ID)
    gains = tiers[MANAGER_GAIN].astype(float)
    if IN_OVERLAP in tiers:
        gains = gains.where(tiers[IN_OVERLAP].fillna(False).astype(bool))
    table, curve = manager_value_table(gains, tiers[REGION], managers)
    if table.empty:
        return {}
    return {EFFECT_TABLE: table, CURVE_TABLE: curve}

"""The rows managers read: one per scored customer, the columns in their order and words."""

import numpy as np
import pandas as pd

from features.contract import CURRENT_MANAGER_ID, CUSTOMER_ID, MANAGER_ID, REGION
from models.columns import (
    CHANGE,
    CHURN_PROBABILITY,
    EXPECTED_VALUE,
    GAIN_LOWER,
    GAIN_NOTE,
    GAIN_UPPER,
    LAST_CONTACT_DATE,
    LAST_ORDER_DATE,
    MANAGER_GAIN,
    PREVIOUS_TIER,
    RANK,
    REASONS,
    RETENTION,
    TIER,
    TIER_REASON,
    VALUE_AT_RISK,
)

__all__ = ["COLUMNS", "HEADERS", "change_text", "manager_rows"]

# column -> header shown to people, in the order of the lists
HEADERS: dict[str, str] = {
    RANK: "Rank",
    CUSTOMER_ID: "Customer",
    REGION: "Region",
    TIER: "Tier",
    CHANGE: "Change since last run",
    PREVIOUS_TIER: "Previous tier",
    EXPECTED_VALUE: "Expected value",
    CHURN_PROBABILITY: "Churn probability",
    VALUE_AT_RISK: "Value at risk",
    MANAGER_GAIN: "Manager gain",
    GAIN_LOWER: "Manager gain from",
    GAIN_UPPER: "Manager gain to",
    GAIN_NOTE: "Manager gain note",
    LAST_ORDER_DATE: "Last order",
    LAST_CONTACT_DATE: "Last contact",
    MANAGER_ID: "Manager",
    RETENTION: "Retention",
    REASONS: "Why",
    TIER_REASON: "Why this tier",
}
COLUMNS = tuple(HEADERS)


def _given(values: pd.Series) -> np.ndarray:
    """Whether each value is a real id (not missing, not blank)."""
    text = values.astype(object)
    return (text.notna() & (text.astype(str).str.strip() != "")).to_numpy(bool)


def change_text(change: pd.Series, previous: pd.Series, manager: pd.Series | None = None,
                manager_before: pd.Series | None = None) -> pd.Series:
    """What changed since the last run, in words, from the tier stage's movement (`change`:
    new, kept, upgraded, downgraded) and the tier it compared with (`previous`): "new",
    "kept", "upgraded from key", "downgraded from strategic". When the manager on record
    (`manager_before`, the customers table's current manager) differs from the one assigned
    now (`manager`), that is said too: "; manager was M03", "; manager newly assigned" or
    "; no manager now (was M03)". Missing values stay empty."""
    moved = change.isin(["upgraded", "downgraded"]) & previous.notna()
    out = change.astype(object).where(change.notna(), "").astype(str)
    out = out.where(~moved, out + " from " + previous.astype(str))
    if manager is None or manager_before is None:
        return out
    now, before = _given(manager), _given(manager_before)
    was, is_ = (ids.astype(object).where(given, "").astype(str).to_numpy(dtype=object)
                for ids, given in ((manager_before, before), (manager, now)))
    same = now & before & (is_ == was)
    suffix = np.select([now & before & ~same, now & ~before, ~now & before],
                       ["; manager was " + was, "; manager newly assigned",
                        "; no manager now (was " + was + ")"], "")
    return out + pd.Series(suffix, index=out.index, dtype=object)


def manager_rows(tiers: pd.DataFrame) -> pd.DataFrame:
    """The published columns of `tiers`, ranked; missing optional columns are left empty.
    "Change since last run" says what changed (`change_text`); "Manager gain" (the estimated
    extra spend over the horizon from a dedicated manager) is empty where there is no
    estimate, and "Manager gain note" says why."""
    ranked = tiers.sort_values(RANK, kind="stable")
    rows = ranked.reindex(columns=list(COLUMNS))
    rows[CHANGE] = change_text(
        rows[CHANGE], rows[PREVIOUS_TIER], rows[MANAGER_ID],
        ranked[CURRENT_MANAGER_ID] if CURRENT_MANAGER_ID in ranked else None)
    rows[REASONS] = rows[REASONS].fillna("")
    rows[GAIN_NOTE] = rows[GAIN_NOTE].where(rows[GAIN_NOTE].notna(), "not estimated: scores "
                                            "without the manager's effect (re-run `keyaccounts "
                                            "score`)")
    for column in (LAST_ORDER_DATE, LAST_CONTACT_DATE):
        rows[column] = pd.to_datetime(rows[column])
    return rows.reset_index(drop=True)

"""The rows managers read: one per scored customer, the columns in their order and words."""

import pandas as pd

from features.contract import CUSTOMER_ID, MANAGER_ID, REGION

__all__ = ["COLUMNS", "HEADERS", "manager_rows"]

# column -> header shown to people, in the order of the lists
HEADERS: dict[str, str] = {
    "rank": "Rank",
    CUSTOMER_ID: "Customer",
    REGION: "Region",
    "tier": "Tier",
    "change": "Change since last run",
    "previous_tier": "Previous tier",
    "expected_value": "Expected value",
    "churn_probability": "Churn probability",
    "value_at_risk": "Value at risk",
    "last_order_date": "Last order",
    "last_contact_date": "Last contact",
    MANAGER_ID: "Manager",
    "retention_flag": "Retention",
    "reasons": "Why",
    "tier_reason": "Why this tier",
}
COLUMNS = tuple(HEADERS)


def manager_rows(tiers: pd.DataFrame) -> pd.DataFrame:
    """The published columns of `tiers`, ranked; missing optional columns are left empty."""
    rows = tiers.reindex(columns=list(COLUMNS)).sort_values("rank", kind="stable")
    rows["change"] = [
        f"{c} (was {p})" if c in ("upgraded", "downgraded") else c
        for c, p in zip(rows["change"], rows["previous_tier"])
    ]
    rows["reasons"] = rows["reasons"].fillna("")
    for column in ("last_order_date", "last_contact_date"):
        rows[column] = pd.to_datetime(rows[column])
    return rows.reset_index(drop=True)

"""The last check before anything is published: the rows a manager and the CRM would receive
are whole and sane, else nothing is written."""

import numpy as np
import pandas as pd

from features.contract import AS_OF, CUSTOMER_ID
from models.columns import (
    CHURN_PROBABILITY,
    EXPECTED_VALUE,
    IN_OVERLAP,
    MANAGER_GAIN,
    RANK,
    TIER,
    VALUE_AT_RISK,
)
from pipeline.errors import DataError

__all__ = ["check_rows"]

_REQUIRED = (CUSTOMER_ID, AS_OF, TIER, RANK, EXPECTED_VALUE, CHURN_PROBABILITY,
             VALUE_AT_RISK)


def check_rows(tiers: pd.DataFrame, tier_names: list[str]) -> None:
    """Raise DataError (nothing is published) unless `tiers` has one row per customer, one
    as-of, every required column, finite non-negative values, probabilities in [0, 1], a
    known tier for every row, ranks 1..n without gaps and no manager gain claimed for an
    account outside overlap."""
    problems = []
    missing = [c for c in _REQUIRED if c not in tiers.columns]
    if missing:
        raise DataError(f"the tier outputs lack column(s) {', '.join(missing)}: re-run "
                        "`keyaccounts score` and `keyaccounts tier`")
    if tiers.empty:
        problems.append("no rows")
    if tiers[CUSTOMER_ID].isna().any() or tiers[CUSTOMER_ID].duplicated().any():
        problems.append("customer_id missing or repeated")
    if pd.to_datetime(tiers[AS_OF]).nunique() > 1:
        problems.append("more than one as-of date")
    for column in (EXPECTED_VALUE, VALUE_AT_RISK):
        values = tiers[column].to_numpy(float)
        if not np.isfinite(values).all() or (values < 0).any():
            problems.append(f"{column} not finite and non-negative in "
                            f"{int((~np.isfinite(values) | (values < 0)).sum())} rows")
    churn = tiers[CHURN_PROBABILITY].to_numpy(float)
    if not (np.isfinite(churn) & (churn >= 0) & (churn <= 1)).all():
        problems.append("churn_probability outside [0, 1]")
    unknown = set(tiers[TIER].dropna()) - set(tier_names)
    if unknown or tiers[TIER].isna().any():
        problems.append(f"unknown or missing tier ({sorted(map(str, unknown))[:3]})")
    if MANAGER_GAIN in tiers and IN_OVERLAP in tiers:
        claimed = tiers[MANAGER_GAIN].notna() & ~tiers[IN_OVERLAP].fillna(False).astype(bool)
        if claimed.any():
            problems.append(f"a manager gain for {int(claimed.sum())} accounts outside overlap")
    ranks = np.sort(tiers[RANK].to_numpy())
    if len(ranks) and not np.array_equal(ranks, np.arange(1, len(ranks) + 1)):
        problems.append("ranks are not 1..n")
    if problems:
        raise DataError("refusing to publish: the tier outputs are not sane (" +
                        "; ".join(problems) + "): re-run `keyaccounts score` and `keyaccounts tier`")

"""Contact features of every customer at a cutoff (only contacts dated <= the cutoff).

- contacts per configured channel over each window (T - w, T];
- days since the last contact and since the last visit by a dedicated manager;
- complaints and the share of contacts that ended in an order over `contact_lookback_days`;
- whether a dedicated manager looks after the customer: a contact by a manager within
  `manager_lookback_days`. This is read from the contacts, not from the customers table's
  current manager, because that column describes today and would leak into past cutoffs.
Features whose source column (channel, manager_id, outcome) is absent are not produced.
"""

import polars as pl

from features import names
from features.config import FeaturesConfig
from features.tables import COLLECT_ENGINE, C, D, Prepared

__all__ = ["contact_features"]


def contact_features(prep: Prepared, cutoff: int, config: FeaturesConfig) -> pl.DataFrame | None:
    """One row per customer with a contact on or before `cutoff`; None without contacts."""
    if prep.contacts is None:
        return None
    T = cutoff
    day = pl.col(D)
    present = set(prep.contacts.columns)
    lookback = config.contact_lookback_days
    in_lookback = day > T - lookback
    aggs = [(T - day.max()).cast(pl.Float64).alias(names.CTC_DAYS_SINCE_LAST_CONTACT)]
    for name in config.contact_channels:
        if f"ch_{name}" in present:
            for w in config.windows_days:
                aggs.append(
                    (pl.col(f"ch_{name}") & (day > T - w))
                    .sum()
                    .cast(pl.Float64)
                    .alias(names.ctc_contacts(name, w))
                )
    if "manager_visit" in present:
        aggs.append(
            (T - day.filter(pl.col("manager_visit")).max())
            .cast(pl.Float64)
            .alias(names.CTC_DAYS_SINCE_MANAGER_VISIT)
        )
    if "manager" in present:
        aggs.append(
            (pl.col("manager") & (day > T - config.manager_lookback_days))
            .any()
            .cast(pl.Float64)
            .alias(names.CTC_HAS_MANAGER)
        )
    if "complaint" in present:
        aggs.append(
            (pl.col("complaint") & in_lookback)
            .sum()
            .cast(pl.Float64)
            .alias(names.ctc_complaints(lookback))
        )
        contacts_n = in_lookback.sum()
        aggs.append(
            pl.when(contacts_n > 0)
            .then((pl.col("converted") & in_lookback).sum() / contacts_n)
            .alias(names.ctc_order_conversion(lookback))
        )
    frame = prep.contacts.lazy().filter(day <= T).group_by(C).agg(aggs)
    return frame.collect(engine=COLLECT_ENGINE)

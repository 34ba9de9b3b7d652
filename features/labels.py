"""Labels of a cutoff T over the horizon H, read only from (T, T+H].

future_spend: the sum of amounts dated in (T, T+H], net of returns (a return in the window
lowers it, whichever order it refers to, so it can be negative in rare cases).
churned: True when the customer has no order (no positive amount) in (T, T+H].
Customers known at T without any transaction in the window get 0.0 and True.
future_manager_contact_days: days from T to the customer's first contact by a manager (a
contact with a manager_id) in (T, T+H], NaN when there is none or the contacts have no
manager_id; not a target, the manager's effect reads from it who had a manager after T.
"""

import numpy as np
import pandas as pd
import polars as pl

from features.config import FeaturesConfig
from features.contract import AMOUNT, CUSTOMER_ID, LABEL_CHURNED, LABEL_SPEND, ORDER_DATE, Tables
from features.tables import COLLECT_ENGINE, C, D, Prepared, prepare, require_columns, to_day

__all__ = ["build_labels", "labels_at", "manager_contact_after"]


def labels_at(
    prep: Prepared, codes: np.ndarray, cutoff: int, horizon_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """future_spend and churned for the customer `codes` (in that order), from the prepared days."""
    day = pl.col(D)
    window = (
        prep.daily.lazy()
        .filter((day > cutoff) & (day <= cutoff + horizon_days))
        .group_by(C)
        .agg(pl.col("net").sum().alias("spend"), (pl.col("gross") > 0).any().alias("bought"))
        .collect(engine=COLLECT_ENGINE)
    )
    spend = np.zeros(len(prep.ids))
    bought = np.zeros(len(prep.ids), dtype=bool)
    index = window.get_column(C).to_numpy()
    spend[index] = window.get_column("spend").to_numpy()
    bought[index] = window.get_column("bought").to_numpy()
    return spend[codes], ~bought[codes]


def manager_contact_after(
    prep: Prepared, codes: np.ndarray, cutoff: int, horizon_days: int
) -> np.ndarray:
    """Days from `cutoff` to the first manager contact in (cutoff, cutoff + horizon_days] of the
    customer `codes` (in that order), NaN where there is none or no contact names a manager."""
    days = np.full(len(prep.ids), np.nan)
    contacts = prep.contacts
    if contacts is not None and "manager" in contacts.columns:
        day = pl.col(D)
        first = (
            contacts.lazy()
            .filter(pl.col("manager") & (day > cutoff) & (day <= cutoff + horizon_days))
            .group_by(C)
            .agg(day.min().alias("first"))
            .collect(engine=COLLECT_ENGINE)
        )
        days[first.get_column(C).to_numpy()] = first.get_column("first").to_numpy() - cutoff
    return days[codes]


def build_labels(
    transactions: pd.DataFrame, cutoff, horizon_days: int, customers_index
) -> pd.DataFrame:
    """Labels for the customers in `customers_index` (ids known at `cutoff`), in that order.

    Returns customer_id, future_spend (net sum of amounts in (T, T+H]) and churned (no
    positive amount in (T, T+H]). A convenience over `labels_at`, the one implementation,
    which `features.build_training_set` uses: the transactions are prepared the same way
    (`features.tables.prepare`), with the ids of `customers_index` added as customers so
    that an id without any transaction gets 0.0 and True.
    """
    require_columns(transactions, (CUSTOMER_ID, ORDER_DATE, AMOUNT), "transactions")
    ids = pd.Series(list(customers_index), dtype="str")
    known = pd.DataFrame({CUSTOMER_ID: ids.drop_duplicates()})
    tables = Tables(transactions[[CUSTOMER_ID, ORDER_DATE, AMOUNT]], customers=known)
    prep = prepare(tables, FeaturesConfig())
    codes = pd.Index(prep.ids.to_list()).get_indexer(ids.to_list())
    found = codes >= 0  # a missing id has no code: no transaction, 0.0 and True
    spend, churned = np.zeros(len(ids)), np.ones(len(ids), dtype=bool)
    spend[found], churned[found] = labels_at(prep, codes[found], to_day(cutoff), horizon_days)
    return pd.DataFrame({CUSTOMER_ID: ids, LABEL_SPEND: spend, LABEL_CHURNED: churned})

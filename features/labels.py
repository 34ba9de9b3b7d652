"""Labels of a cutoff T over the horizon H, read only from (T, T+H].

future_spend: the sum of amounts dated in (T, T+H], net of returns (a return in the window
lowers it, whichever order it refers to, so it can be negative in rare cases).
churned: True when the customer has no order (no positive amount) in (T, T+H].
Customers known at T without any transaction in the window get 0.0 and True.
"""

import numpy as np
import pandas as pd
import polars as pl

from features.contract import AMOUNT, CUSTOMER_ID, LABEL_CHURNED, LABEL_SPEND, ORDER_DATE
from features.tables import C, D, Prepared, require_columns, to_day

__all__ = ["build_labels", "labels_at"]


def labels_at(
    prep: Prepared, codes: np.ndarray, cutoff: int, horizon_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """future_spend and churned for the customer `codes` (sorted), from the prepared days."""
    day = pl.col(D)
    window = (
        prep.daily.lazy()
        .filter((day > cutoff) & (day <= cutoff + horizon_days))
        .group_by(C)
        .agg(pl.col("net").sum().alias("spend"), (pl.col("gross") > 0).any().alias("bought"))
        .collect()
    )
    spend = np.zeros(len(prep.ids))
    bought = np.zeros(len(prep.ids), dtype=bool)
    index = window.get_column(C).to_numpy()
    spend[index] = window.get_column("spend").to_numpy()
    bought[index] = window.get_column("bought").to_numpy()
    return spend[codes], ~bought[codes]


def build_labels(
    transactions: pd.DataFrame, cutoff, horizon_days: int, customers_index
) -> pd.DataFrame:
    """Labels for the customers in `customers_index` (ids known at `cutoff`), in that order.

    Returns customer_id, future_spend (net sum of amounts in (T, T+H]) and churned (no
    positive amount in (T, T+H]).
    """
    require_columns(transactions, (CUSTOMER_ID, ORDER_DATE, AMOUNT), "transactions")
    T = to_day(cutoff)
    tx = pl.from_pandas(transactions[[CUSTOMER_ID, ORDER_DATE, AMOUNT]]).select(
        pl.col(CUSTOMER_ID).cast(pl.String),
        pl.col(ORDER_DATE).cast(pl.Date).cast(pl.Int32).alias(D),
        pl.col(AMOUNT).cast(pl.Float64),
    )
    window = (
        tx.filter((pl.col(D) > T) & (pl.col(D) <= T + horizon_days))
        .group_by(CUSTOMER_ID)
        .agg(pl.col(AMOUNT).sum().alias(LABEL_SPEND), (pl.col(AMOUNT) > 0).any().alias("_bought"))
    )
    ids = pl.DataFrame(
        {CUSTOMER_ID: pd.Series(list(customers_index), dtype="str")},
        schema={CUSTOMER_ID: pl.String},
    )
    joined = ids.with_row_index("_i").join(window, on=CUSTOMER_ID, how="left").sort("_i")
    result = joined.select(
        CUSTOMER_ID,
        pl.col(LABEL_SPEND).fill_null(0.0),
        (~pl.col("_bought").fill_null(False)).alias(LABEL_CHURNED),
    ).to_pandas()
    result[CUSTOMER_ID] = result[CUSTOMER_ID].astype("str")
    return result

"""Transaction features of every customer at a cutoff, from the prepared daily rows.

Definitions (T = the cutoff day; only days <= T are read):
- an *order day* (purchase day) is a day with at least one positive line; a negative amount
  is a return. Spend is net of returns unless the name says otherwise.
- recency = days since the last order day; tenure = days since the first transaction.
- order value statistics are per order (mean = gross spend / orders) or per order day
  (spread, maximum), because several orders of one day are one purchase occasion.
- windows are the last w days, (T - w, T]; the trend compares the last `trend_window_days`
  with the same span before, as (recent - previous) / (|recent| + |previous|), 0 when both are 0.
- inter-purchase gaps are days between consecutive order days; overdue ratio = recency /
  mean gap (2 = twice as long since the last order as usual).
- seasonality looks one year back: the share of last year's spend that fell in the 90 days
  that follow T a year earlier (the coming quarter), and the largest share any of the last
  four quarters took (0.25 = even, 1 = all spend in one quarter).
- BTYD columns follow the lifetimes conventions in days: frequency = order days - 1,
  recency = last - first order day, T = cutoff - first order day, monetary = mean gross
  spend of the repeat order days (0 when there are none). Customers without an order are NaN.
"""

import numpy as np
import polars as pl

from features import names
from features.config import FeaturesConfig
from features.tables import COLLECT_ENGINE, C, D, Prepared

__all__ = ["transaction_features"]


def _window_sum(value: pl.Expr, lower: int, upper: int) -> pl.Expr:
    """Sum of `value` over days in (lower, upper]."""
    day = pl.col(D)
    return pl.when((day > lower) & (day <= upper)).then(value).otherwise(0).sum()


def _category_features(prep: Prepared, cutoff: int) -> pl.DataFrame:
    """Categories bought and the Herfindahl concentration of spend over them, per customer."""
    lines = prep.category_rows
    upto = lines.day <= cutoff
    n_customers = len(prep.ids)
    pair_spend = np.bincount(lines.pair[upto], weights=lines.amount[upto], minlength=lines.n_pairs)
    bought = np.flatnonzero(pair_spend > 0)
    owners = bought // lines.stride if lines.stride else lines.pair_customer[bought]
    spend = pair_spend[bought]
    n_categories = np.bincount(owners, minlength=n_customers)
    total = np.bincount(owners, weights=spend, minlength=n_customers)
    hhi = np.bincount(owners, weights=(spend / total[owners]) ** 2, minlength=n_customers)
    present = np.flatnonzero(n_categories)
    return pl.DataFrame(
        {
            C: present.astype(np.int32),
            names.TXN_CATEGORIES: n_categories[present].astype(np.float64),
            names.TXN_CATEGORY_HHI: hhi[present],
        }
    )


def transaction_features(prep: Prepared, cutoff: int, config: FeaturesConfig) -> pl.DataFrame:
    """One row per customer with a transaction on or before `cutoff` (a day number)."""
    T = cutoff
    gross, net, n_orders, gap = pl.col("gross"), pl.col("net"), pl.col("n_orders"), pl.col("gap")
    order_day = gross > 0
    day = pl.col(D)
    tw = config.trend_window_days
    year = T - 365
    quarter_edges = [year + round(365 * k / 4) for k in range(5)]
    aggs = [
        day.min().alias("_first_any"),
        day.filter(order_day).min().alias("_first"),
        day.filter(order_day).max().alias("_last"),
        order_day.sum().cast(pl.Float64).alias(names.TXN_ORDER_DAYS),
        n_orders.sum().cast(pl.Float64).alias(names.TXN_ORDERS),
        gross.sum().alias("_gross"),
        net.sum().alias(names.TXN_SPEND_TOTAL),
        pl.col("returns").sum().alias("_returns"),
        gross.filter(order_day).std().alias(names.TXN_ORDER_DAY_SPEND_STD),
        gross.max().alias(names.TXN_ORDER_DAY_SPEND_MAX),
        gap.mean().cast(pl.Float64).alias(names.TXN_GAP_MEAN_DAYS),
        gap.std().alias(names.TXN_GAP_STD_DAYS),
        gross.filter(pl.col("first_purchase")).sum().alias("_first_gross"),
        _window_sum(net, T - tw, T).alias("_recent"),
        _window_sum(net, T - 2 * tw, T - tw).alias("_previous"),
        _window_sum(gross, year, T).alias("_year_gross"),
        _window_sum(gross, year, year + 90).alias("_next_quarter_gross"),
    ]
    for k in range(4):
        aggs.append(_window_sum(gross, quarter_edges[k], quarter_edges[k + 1]).alias(f"_q{k}"))
    for w in config.windows_days:
        aggs.append(_window_sum(n_orders, T - w, T).cast(pl.Float64).alias(names.txn_orders_in(w)))
        aggs.append(_window_sum(net, T - w, T).alias(names.txn_spend_in(w)))

    frame = prep.daily.lazy().filter(day <= T).group_by(C).agg(aggs)
    frame = frame.collect(engine=COLLECT_ENGINE)
    if prep.category_rows is not None:
        frame = frame.join(_category_features(prep, T), on=C, how="left")

    def ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
        return pl.when(den != 0).then(num / den).otherwise(None)

    recency = (T - pl.col("_last")).cast(pl.Float64)
    recent, previous = pl.col("_recent"), pl.col("_previous")
    quarters = [pl.col(f"_q{k}") for k in range(4)]
    derived = {
        names.TXN_DAYS_SINCE_LAST_ORDER: recency,
        names.TXN_TENURE_DAYS: (T - pl.col("_first_any")).cast(pl.Float64),
        names.TXN_MEAN_ORDER_VALUE: ratio(pl.col("_gross"), pl.col(names.TXN_ORDERS)),
        names.TXN_OVERDUE_RATIO: ratio(recency, pl.col(names.TXN_GAP_MEAN_DAYS)),
        names.txn_spend_trend(tw): pl.when((recent.abs() + previous.abs()) > 0)
        .then((recent - previous) / (recent.abs() + previous.abs()))
        .otherwise(0.0),
        names.TXN_RETURN_SHARE: ratio(pl.col("_returns"), pl.col("_gross")),
        names.TXN_SEASON_NEXT_QUARTER_SHARE: ratio(
            pl.col("_next_quarter_gross"), pl.col("_year_gross")
        ),
        names.TXN_SEASON_STRENGTH: ratio(pl.max_horizontal(quarters), pl.col("_year_gross")),
    }
    if prep.category_rows is not None:
        derived[names.TXN_CATEGORIES] = pl.col(names.TXN_CATEGORIES).fill_null(0.0)
        derived[names.TXN_CATEGORY_HHI] = pl.col(names.TXN_CATEGORY_HHI)
    frequency = pl.col(names.TXN_ORDER_DAYS) - 1
    btyd = {
        names.BTYD_FREQUENCY: pl.when(frequency >= 0).then(frequency),
        names.BTYD_RECENCY: (pl.col("_last") - pl.col("_first")).cast(pl.Float64),
        names.BTYD_T: (T - pl.col("_first")).cast(pl.Float64),
        names.BTYD_MONETARY: pl.when(frequency > 0)
        .then((pl.col("_gross") - pl.col("_first_gross")) / frequency)
        .when(frequency == 0)
        .then(0.0),
    }
    columns = [pl.col(C)]
    if config.families.transactions:
        columns += [expr.alias(name) for name, expr in derived.items()]
        columns += [
            pl.col(name)
            for name in (
                names.TXN_ORDERS,
                names.TXN_ORDER_DAYS,
                names.TXN_SPEND_TOTAL,
                names.TXN_ORDER_DAY_SPEND_STD,
                names.TXN_ORDER_DAY_SPEND_MAX,
                names.TXN_GAP_MEAN_DAYS,
                names.TXN_GAP_STD_DAYS,
            )
        ]
        for w in config.windows_days:
            columns += [pl.col(names.txn_orders_in(w)), pl.col(names.txn_spend_in(w))]
    if config.families.btyd:
        columns += [expr.alias(name) for name, expr in btyd.items()]
    return frame.select(columns)

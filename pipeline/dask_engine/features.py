"""The features stage on Dask: `features.build_all` per partition, at cutoffs planned once.

The cutoff plan (`features.plan_cutoffs`) reads only the first and last order dates (and the
scoring date of the config), so it is computed from the global minimum and maximum over all
partitions and handed unchanged to every partition: a partition's own dates never move a
cutoff. The categorical attributes (region, industry) get the categories of the whole
customers table, as the local engine's have. A customer's features read only that
customer's rows, and a partition holds all of them, so every feature is the local engine's.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

import features
from features import names
from features.config import FeaturesConfig
from features.contract import (
    AMOUNT,
    CONTACT_DATE,
    CONTACTS,
    CUSTOMER_ID,
    CUSTOMERS,
    INDUSTRY,
    ORDER_DATE,
    REGION,
    TRANSACTIONS,
    Tables,
)
from pipeline.dask_engine.layout import Layout, read_partition
from pipeline.files import BACKTEST_PARTS, PARTITIONED_DIR, SCORING_PARTS, TRAINING_PARTS

__all__ = ["Span", "build_partition", "collect", "customers_with_orders", "data_span",
           "global_plan", "recast_categories", "sample_partitions", "span_tables"]

_CATEGORICAL = ((REGION, names.CUST_REGION), (INDUSTRY, names.CUST_INDUSTRY))


@dataclass(frozen=True)
class Span:
    """What the cutoff plan and the customer check need from the whole data."""

    first_order: pd.Timestamp
    last_order: pd.Timestamp
    last_contact: pd.Timestamp | None
    levels: dict[str, list[str]]  # customers' column -> its categories over every partition


def _partition_span(url: str, k: int, tables: tuple[str, ...]) -> dict:
    layout = Layout(url)
    orders = layout.read_frame(layout.part(f"{PARTITIONED_DIR}/{TRANSACTIONS}", k),
                               columns=[ORDER_DATE])[ORDER_DATE]
    out = {"first": orders.min(), "last": orders.max(), "contact": None, "levels": {}}
    if CONTACTS in tables:
        contacts = layout.read_frame(layout.part(f"{PARTITIONED_DIR}/{CONTACTS}", k),
                                     columns=[CONTACT_DATE])[CONTACT_DATE]
        out["contact"] = contacts.max() if len(contacts) else None
    if CUSTOMERS in tables:
        path = layout.part(f"{PARTITIONED_DIR}/{CUSTOMERS}", k)
        frame = layout.read_frame(path)
        for column, _ in _CATEGORICAL:
            if column in frame:
                out["levels"][column] = set(frame[column].dropna().astype(str).unique())
    return out


def data_span(client, url: str, n_partitions: int, tables: tuple[str, ...]) -> Span:
    """First and last order, last contact and the attribute categories over all partitions
    (one small task per partition)."""
    parts = client.gather(client.map(_partition_span, [url] * n_partitions,
                                     range(n_partitions), [tables] * n_partitions))
    dates = [p for p in parts if not pd.isna(p["first"])]
    contacts = [p["contact"] for p in parts if p["contact"] is not None
                and not pd.isna(p["contact"])]
    levels: dict[str, set] = {}
    for p in parts:
        for column, values in p["levels"].items():
            levels.setdefault(column, set()).update(values)
    return Span(min(p["first"] for p in dates), max(p["last"] for p in dates),
                max(contacts) if contacts else None,
                {c: sorted(v) for c, v in levels.items()})


def span_tables(span: Span) -> Tables:
    """Two-row stand-ins of the tables holding the global first and last dates: all that
    `features.plan_cutoffs` and `features.coverage_warnings` read of them."""
    tx = pd.DataFrame({CUSTOMER_ID: ["first", "last"],
                       ORDER_DATE: [span.first_order, span.last_order], AMOUNT: [0.0, 0.0]})
    contacts = None if span.last_contact is None else pd.DataFrame(
        {CUSTOMER_ID: ["last"], CONTACT_DATE: [span.last_contact]})
    return Tables(tx, contacts)


def global_plan(span: Span, config: FeaturesConfig, min_train_cutoffs: int
                ) -> features.CutoffPlan:
    """The cutoff plan of the whole data (the local engine's, from its first and last
    dates)."""
    return features.plan_cutoffs(span_tables(span), config, min_train_cutoffs)


def recast_categories(frame: pd.DataFrame, levels: dict[str, list[str]]) -> pd.DataFrame:
    """`frame` with region and industry as categoricals over the global categories (a
    partition's own categories lack the regions it has no customer of)."""
    out = frame
    for column, name in _CATEGORICAL:
        if name in frame and column in levels:
            if out is frame:
                out = frame.copy()
            out[name] = pd.Categorical(frame[name].astype(object), categories=levels[column])
    return out


def customers_with_orders(url: str, k: int, last: pd.Timestamp) -> int:
    """Customers of partition k with an order (a positive amount) on or before `last`."""
    layout = Layout(url)
    tx = layout.read_frame(layout.part(f"{PARTITIONED_DIR}/{TRANSACTIONS}", k),
                           columns=[CUSTOMER_ID, ORDER_DATE, AMOUNT])
    bought = (tx[ORDER_DATE] <= last) & (tx[AMOUNT] > 0)
    return int(tx.loc[bought, CUSTOMER_ID].nunique())


def build_partition(url: str, k: int, tables: tuple[str, ...], plan: features.CutoffPlan,
                    config: FeaturesConfig, levels: dict[str, list[str]]) -> dict:
    """Build partition k's training set, scoring frame (and backtest set) with
    `features.build_all` at `plan`'s dates and write them under `url`; returns their row
    counts."""
    layout = Layout(url)
    inputs = read_partition(url, k, tables)
    built = features.build_all(inputs, plan.cutoffs, plan.as_of, config,
                               backtest_horizon_days=plan.backtest_horizon_days,
                               backtest_cutoffs=plan.backtest_cutoffs)
    del inputs
    out = {"partition": k, "training_rows": len(built.training),
           "scoring_rows": len(built.scoring),
           "backtest_rows": 0 if built.backtest is None else len(built.backtest)}
    for name, frame in ((TRAINING_PARTS, built.training), (SCORING_PARTS, built.scoring),
                        (BACKTEST_PARTS, built.backtest)):
        if frame is not None:
            layout.write_frame(recast_categories(frame, levels), layout.part(name, k))
    return out


def sample_partitions(counts: list[int], wanted: int | None) -> list[int]:
    """The partitions whose customers make the train stage's sample: the first ones (by
    number) until `wanted` customers are reached (all of them when None). Partitions are
    hash buckets, so their customers are a seeded random sample of the whole."""
    if wanted is None:
        return list(range(len(counts)))
    total = np.cumsum(counts)
    last = int(np.searchsorted(total, wanted, side="left"))
    return list(range(min(last + 1, len(counts))))


def collect(url: str, name: str, parts: list[int], columns: list[str] | None = None
            ) -> pd.DataFrame:
    """The files `parts` of the partitioned dataset `name`, concatenated (to the client)."""
    layout = Layout(url)
    frames = [layout.read_frame(layout.part(name, k), columns=columns) for k in parts
              if layout.exists(layout.part(name, k))]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)

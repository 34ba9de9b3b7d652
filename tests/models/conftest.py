"""A small synthetic training set shared by the model tests.

Customers buy as a Poisson process (own rate and order size) until they drop out, as the
BTYD models assume; features and labels are computed from the simulated orders at month-end
cutoffs exactly as the contract says (features from orders <= cutoff, labels from
(cutoff, cutoff + H]), so the models have real signal to find.
"""

import numpy as np
import pandas as pd
import pytest

from features.contract import CUSTOMER_ID, CUTOFF, LABEL_CHURNED, LABEL_SPEND

HORIZON = 365
START = pd.Timestamp("2020-01-01")


def simulate_orders(n_customers: int, seed: int, end: pd.Timestamp) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days_total = (end - START).days
    rows = []
    for i in range(n_customers):
        first = rng.uniform(0, days_total * 0.5)
        rate = rng.gamma(1.0, 1 / 50)  # orders per day, mean ~7 a year
        life = rng.exponential(900)
        size = np.exp(rng.normal(5.0, 0.8))
        t = first
        stop = min(first + life, days_total)
        while t <= stop:
            rows.append((f"C{i:05d}", int(t), size * np.exp(rng.normal(0, 0.4))))
            t += rng.exponential(1 / max(rate, 1e-4))
    orders = pd.DataFrame(rows, columns=[CUSTOMER_ID, "day", "amount"])
    return orders


def features_at(orders: pd.DataFrame, cutoff: pd.Timestamp, horizon: int, regions) -> pd.DataFrame:
    c = (cutoff - START).days
    past = orders[orders["day"] <= c]
    g = past.groupby(CUSTOMER_ID)
    first, last, n = g["day"].min(), g["day"].max(), g["day"].size()
    out = pd.DataFrame(
        {
            "txn_days_since_last_order": (c - last).astype(float),
            "txn_tenure_days": (c - first).astype(float),
            "txn_orders": n.astype(float),
            "txn_spend_total": g["amount"].sum(),
            "txn_gap_mean_days": (last - first) / (n - 1).where(n > 1),
        }
    )
    for w in (90, 365):
        recent = past[past["day"] > c - w].groupby(CUSTOMER_ID)
        out[f"txn_spend_{w}d"] = recent["amount"].sum().reindex(out.index).fillna(0.0)
        out[f"txn_orders_{w}d"] = recent["day"].size().reindex(out.index).fillna(0).astype(float)
    out["btyd_frequency"] = (n - 1).astype(float)
    out["btyd_recency"] = (last - first).astype(float)
    out["btyd_T"] = (c - first).astype(float)
    repeat = past[past["day"] > past[CUSTOMER_ID].map(first)]
    out["btyd_monetary"] = (
        repeat.groupby(CUSTOMER_ID)["amount"].mean().reindex(out.index).fillna(0.0)
    )
    future = orders[(orders["day"] > c) & (orders["day"] <= c + horizon)].groupby(CUSTOMER_ID)
    spend = future["amount"].sum().reindex(out.index).fillna(0.0)
    out[LABEL_SPEND] = spend
    out[LABEL_CHURNED] = ~out.index.isin(future.groups.keys())
    out = out.reset_index().rename(columns={"index": CUSTOMER_ID})
    out[CUSTOMER_ID] = out[CUSTOMER_ID].astype("str")
    out["cust_region"] = pd.Categorical(
        [regions[int(cid[1:]) % len(regions)] for cid in out[CUSTOMER_ID]], categories=regions
    )
    out.insert(1, CUTOFF, cutoff)
    return out


def make_training_set(
    n_customers: int = 400, n_cutoffs: int = 20, seed: int = 0, horizon: int = HORIZON
) -> pd.DataFrame:
    """Month-end cutoffs, each with a full label window before the end of the simulation."""
    cutoffs = pd.date_range("2021-06-30", periods=n_cutoffs, freq="ME")
    end = cutoffs[-1] + pd.Timedelta(days=horizon)
    orders = simulate_orders(n_customers, seed, end)
    regions = ["north", "south", "east"]
    frames = [features_at(orders, c, horizon, regions) for c in cutoffs]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="session")
def training_set() -> pd.DataFrame:
    return make_training_set()


@pytest.fixture
def small_params() -> dict:
    return {"n_estimators": 30, "num_leaves": 7, "min_child_samples": 10, "n_jobs": 1}

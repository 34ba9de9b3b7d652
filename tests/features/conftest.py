"""Tiny, readable input tables shared by the feature tests (values are worked out by hand in
the tests). The as-of date is 2024-06-30."""

import pandas as pd
import pytest

from features.config import FeaturesConfig
from features.contract import Tables

AS_OF = pd.Timestamp("2024-06-30")


def transactions() -> pd.DataFrame:
    rows = [
        # customer, order, date, amount, category
        ("C001", "o1", "2023-07-15", 100.0, "a"),
        ("C001", "o1", "2023-07-15", 50.0, "b"),
        ("C001", "o2", "2024-03-01", 200.0, "a"),
        ("C001", "o3", "2024-06-10", 40.0, "c"),
        ("C001", "r1", "2024-06-10", -30.0, "a"),  # a return on an order day
        ("C001", "r2", "2024-06-20", -20.0, "a"),  # a return on a day without an order
        ("C001", "o4", "2024-08-01", 999.0, "a"),  # after the as-of date
        ("007", "o5", "2024-06-30", 60.0, "a"),  # on the as-of date; leading zeros kept
        ("C003", "o6", "2024-07-05", 10.0, "b"),  # only after the as-of date
    ]
    frame = pd.DataFrame(
        rows, columns=["customer_id", "order_id", "order_date", "amount", "category"]
    )
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["quantity"] = 1
    frame["channel"] = "web"
    return frame


def contacts() -> pd.DataFrame:
    rows = [
        ("C001", "2024-06-01", "visit", "M1", "order"),
        ("C001", "2024-04-15", "call", None, "complaint"),
        ("C001", "2023-01-10", "email", None, "none"),
        ("C001", "2024-07-02", "visit", "M1", "complaint"),  # after the as-of date
        ("007", "2024-06-29", "email", None, "quote"),
        ("X99", "2024-06-01", "visit", "M2", "order"),  # unknown customer: ignored
    ]
    frame = pd.DataFrame(
        rows, columns=["customer_id", "contact_date", "channel", "manager_id", "outcome"]
    )
    frame["contact_date"] = pd.to_datetime(frame["contact_date"])
    return frame


def customers() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "customer_id": ["C001", "007", "C004", "C005"],
            "region": ["North", "South", "North", "East"],
            "industry": ["Retail", None, "Retail", "Mining"],
            "size": [45.0, 1200.0, None, 3.0],
            "created_date": pd.to_datetime(
                ["2023-01-01", "2024-06-30", "2024-05-01", "2024-12-01"]
            ),
            "current_manager_id": ["M1", None, None, None],
            "current_tier": ["key", None, None, None],
        }
    )
    frame["customer_id"] = frame["customer_id"].astype("str")
    return frame


@pytest.fixture
def config() -> FeaturesConfig:
    return FeaturesConfig()


@pytest.fixture
def tx_only() -> Tables:
    return Tables(transactions())


@pytest.fixture
def all_tables() -> Tables:
    return Tables(transactions(), contacts(), customers())

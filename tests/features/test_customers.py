"""Customer attributes as of 2024-06-30 (customers table of conftest.py)."""

import math

import pandas as pd

import features
from features.config import FamiliesConfig, FeaturesConfig
from features.contract import Tables
from features.customers import size_band_labels
from tests.features.conftest import AS_OF, customers, transactions


def build(config=None):
    tables = Tables(transactions(), customers=customers())
    return features.build(tables, AS_OF, config or FeaturesConfig())


def test_customers_known_by_created_date_too():
    frame = build()
    # C004 was created 2024-05-01 without orders; C005 only on 2024-12-01
    assert frame["customer_id"].tolist() == ["007", "C001", "C004"]
    c004 = frame.set_index("customer_id").loc["C004"]
    assert c004["txn_orders"] == 0 and c004["txn_spend_365d"] == 0
    assert math.isnan(c004["txn_days_since_last_order"]) and math.isnan(c004["btyd_frequency"])


def test_attributes_are_categoricals_with_stable_levels():
    frame = build()
    for column in ("cust_region", "cust_industry", "cust_size_band"):
        assert isinstance(frame[column].dtype, pd.CategoricalDtype)
    # levels come from the whole table (East belongs to C005, not known yet)
    assert list(frame["cust_region"].cat.categories) == ["East", "North", "South"]
    assert frame["cust_region"].tolist() == ["South", "North", "North"]
    assert frame["cust_industry"].isna().tolist() == [True, False, False]
    assert list(frame["cust_size_band"].cat.categories) == size_band_labels((10, 50, 250, 1000))
    assert frame["cust_size_band"].astype(object).tolist()[:2] == ["1000+", "10-49"]


def test_size_and_relationship_age():
    frame = build().set_index("customer_id")
    assert frame.loc["C001", "cust_size_employees"] == 45
    assert math.isnan(frame.loc["C004", "cust_size_employees"])
    # 2023-01-01 -> 2024-06-30, 2024-06-30 -> same day, 2024-05-01 -> 06-30
    assert frame["cust_relationship_days"].tolist() == [0, 546, 60]


def test_size_band_labels():
    assert size_band_labels((10, 50)) == ["<10", "10-49", "50+"]


def test_family_switch():
    frame = build(FeaturesConfig(families=FamiliesConfig(customers=False)))
    assert not any(c.startswith("cust_") for c in frame.columns)
    assert "C004" in frame["customer_id"].tolist()  # still known by its created date

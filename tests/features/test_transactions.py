"""Transaction and BTYD features on the hand-made frame of conftest.py, as of 2024-06-30.

C001's order days: 2023-07-15 (150 = 100 a + 50 b), 2024-03-01 (200 a), 2024-06-10 (40 c,
with a 30 return); a 20 return on 2024-06-20 and an order after the as-of date.
Gaps: 2023-07-15 -> 2024-03-01 = 230 days, 2024-03-01 -> 2024-06-10 = 101 days.
"""

import math

import pandas as pd
import pytest

import features
from features.config import FamiliesConfig, FeaturesConfig
from tests.features.conftest import AS_OF


def row(frame: pd.DataFrame, customer: str) -> pd.Series:
    return frame.set_index("customer_id").loc[customer]


def test_known_customers_and_ids_kept_exactly(tx_only, config):
    frame = features.build(tx_only, AS_OF, config)
    assert frame["customer_id"].tolist() == ["007", "C001"]  # C003 buys only later
    assert (frame["as_of"] == AS_OF).all()
    assert list(frame.columns[:2]) == ["customer_id", "as_of"]


def test_recency_frequency_monetary(tx_only, config):
    c = row(features.build(tx_only, AS_OF, config), "C001")
    assert c["txn_days_since_last_order"] == 20  # 2024-06-10 -> 06-30
    assert c["txn_tenure_days"] == 351  # 2023-07-15 -> 2024-06-30
    assert c["txn_orders"] == 3 and c["txn_order_days"] == 3
    assert c["txn_spend_total"] == 340  # 150 + 200 + 40 - 30 - 20
    assert c["txn_mean_order_value"] == 130  # 390 gross / 3 orders
    assert c["txn_order_day_spend_std"] == pytest.approx(math.sqrt(6700))  # of 150, 200, 40
    assert c["txn_order_day_spend_max"] == 200


def test_windows_and_trend(tx_only, config):
    c = row(features.build(tx_only, AS_OF, config), "C001")
    # 30 and 90 days: 2024-06-10 and the 06-20 return; 180: + 03-01; 365: + 2023-07-15
    assert [c[f"txn_orders_{w}d"] for w in (30, 90, 180, 365)] == [1, 1, 2, 3]
    assert [c[f"txn_spend_{w}d"] for w in (30, 90, 180, 365)] == [-10, -10, 190, 340]
    # last 90 days -10 against 200 the 90 days before: (-10 - 200) / (10 + 200)
    assert c["txn_spend_trend_90d"] == pytest.approx(-1.0)


def test_gaps_returns_categories(tx_only, config):
    c = row(features.build(tx_only, AS_OF, config), "C001")
    assert c["txn_gap_mean_days"] == 165.5
    assert c["txn_gap_std_days"] == pytest.approx(129 / math.sqrt(2))
    assert c["txn_overdue_ratio"] == pytest.approx(20 / 165.5)
    assert c["txn_return_share"] == pytest.approx(50 / 390)
    assert c["txn_categories"] == 3  # a 300, b 50, c 40
    assert c["txn_category_hhi"] == pytest.approx((300**2 + 50**2 + 40**2) / 390**2)


def test_seasonality(tx_only, config):
    c = row(features.build(tx_only, AS_OF, config), "C001")
    # last year's gross spend 390; the 90 days after 2023-07-01 hold the 150 of 07-15;
    # quarters: 150 (Jul-Sep), 0, 200 (Mar 1), 40 (Jun 10)
    assert c["txn_season_next_quarter_share"] == pytest.approx(150 / 390)
    assert c["txn_season_strength"] == pytest.approx(200 / 390)


def test_single_order_on_the_as_of_date(tx_only, config):
    c = row(features.build(tx_only, AS_OF, config), "007")
    assert c["txn_days_since_last_order"] == 0 and c["txn_tenure_days"] == 0
    assert c["txn_orders_30d"] == 1 and c["txn_spend_30d"] == 60
    assert c["txn_spend_trend_90d"] == 1.0
    assert math.isnan(c["txn_gap_mean_days"]) and math.isnan(c["txn_overdue_ratio"])
    assert c["txn_return_share"] == 0 and c["txn_category_hhi"] == 1


def test_btyd_summary_follows_lifetimes(tx_only, config):
    frame = features.build(tx_only, AS_OF, config).set_index("customer_id")
    btyd = frame[["btyd_frequency", "btyd_recency", "btyd_T", "btyd_monetary"]]
    assert btyd.loc["C001"].tolist() == [2, 331, 351, 120]  # repeat days 200 and 40
    assert btyd.loc["007"].tolist() == [0, 0, 0, 0]


def test_all_numeric_features_are_float(tx_only, config):
    frame = features.build(tx_only, AS_OF, config)
    numeric = frame.drop(columns=["customer_id", "as_of"])
    assert all(str(t) == "float64" for t in numeric.dtypes)
    assert str(frame["customer_id"].dtype) == "str"
    float32 = features.build(tx_only, AS_OF, FeaturesConfig(float_dtype="float32"))
    assert all(str(t) == "float32" for t in float32.drop(columns=["customer_id", "as_of"]).dtypes)


def test_families_can_be_switched_off(tx_only):
    config = FeaturesConfig(families=FamiliesConfig(btyd=False))
    columns = features.build(tx_only, AS_OF, config).columns
    assert not any(c.startswith("btyd_") for c in columns)
    assert "txn_orders" in columns
    only_btyd = FeaturesConfig(families=FamiliesConfig(transactions=False))
    columns = features.build(tx_only, AS_OF, only_btyd).columns
    assert not any(c.startswith("txn_") for c in columns) and "btyd_T" in columns


def test_windows_come_from_config(tx_only):
    config = FeaturesConfig(windows_days=(7, 60), trend_window_days=30)
    columns = features.build(tx_only, AS_OF, config).columns
    assert {"txn_orders_7d", "txn_spend_60d", "txn_spend_trend_30d"} <= set(columns)
    assert "txn_orders_365d" not in columns


def test_minimal_transactions_columns(config):
    tx = pd.DataFrame(
        {
            "customer_id": ["A", "A"],
            "order_date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "amount": [10.0, 20.0],
        }
    )
    frame = features.build(features.contract.Tables(tx), "2024-03-01", config)
    assert frame["txn_orders"].tolist() == [2]  # one order per positive line without order_id
    assert "txn_categories" not in frame.columns


def test_missing_required_column_is_named(config):
    tx = pd.DataFrame({"customer_id": ["A"], "order_date": pd.to_datetime(["2024-01-01"])})
    with pytest.raises(ValueError, match="amount"):
        features.build(features.contract.Tables(tx), "2024-03-01", config)

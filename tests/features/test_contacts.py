"""Contact features as of 2024-06-30 on the frame of conftest.py.

C001: visit by M1 on 06-01 (order), call on 04-15 (complaint), email on 2023-01-10, and a
visit after the as-of date. 007: email on 06-29 (quote). X99 is unknown and ignored.
"""

import math

import pandas as pd

import features
from features.config import FamiliesConfig, FeaturesConfig
from features.contract import Tables
from tests.features.conftest import AS_OF, contacts, transactions


def build(config=None, contact_frame=None):
    tables = Tables(transactions(), contacts() if contact_frame is None else contact_frame)
    return features.build(tables, AS_OF, config or FeaturesConfig()).set_index("customer_id")


def test_counts_by_channel_and_window():
    c = build().loc["C001"]
    assert [c[f"ctc_visit_{w}d"] for w in (30, 90, 180, 365)] == [1, 1, 1, 1]
    assert [c[f"ctc_call_{w}d"] for w in (30, 90, 180, 365)] == [
        0,
        1,
        1,
        1,
    ]  # 04-15 is 76 days back
    assert [c[f"ctc_email_{w}d"] for w in (30, 90, 180, 365)] == [0, 0, 0, 0]  # 2023-01-10 too old


def test_recency_manager_complaints_conversion():
    frame = build()
    c, d = frame.loc["C001"], frame.loc["007"]
    assert c["ctc_days_since_last_contact"] == 29 and d["ctc_days_since_last_contact"] == 1
    assert c["ctc_days_since_manager_visit"] == 29 and math.isnan(d["ctc_days_since_manager_visit"])
    assert c["ctc_has_manager"] == 1 and d["ctc_has_manager"] == 0
    assert c["ctc_complaints_365d"] == 1  # the later complaint is not seen
    assert c["ctc_order_conversion_365d"] == 0.5  # 1 order of 2 contacts in the last year
    assert d["ctc_order_conversion_365d"] == 0


def test_lookbacks_come_from_config():
    config = FeaturesConfig(manager_lookback_days=20, contact_lookback_days=60)
    c = build(config).loc["C001"]
    assert c["ctc_has_manager"] == 0  # the visit was 29 days ago
    assert c["ctc_complaints_60d"] == 0 and c["ctc_order_conversion_60d"] == 1.0


def test_customer_without_contacts_gets_zero_counts_and_unknown_recency():
    only_c001 = contacts().query("customer_id == 'C001'")
    d = build(contact_frame=only_c001).loc["007"]
    assert d["ctc_email_365d"] == 0 and d["ctc_complaints_365d"] == 0 and d["ctc_has_manager"] == 0
    assert math.isnan(d["ctc_days_since_last_contact"]) and math.isnan(
        d["ctc_order_conversion_365d"]
    )


def test_family_absent_without_table_or_when_switched_off():
    without = features.build(Tables(transactions()), AS_OF, FeaturesConfig())
    assert not any(c.startswith("ctc_") for c in without.columns)
    off = build(FeaturesConfig(families=FamiliesConfig(contacts=False)))
    assert not any(c.startswith("ctc_") for c in off.columns)


def test_optional_contact_columns_only_feed_their_features():
    bare = contacts()[["customer_id", "contact_date", "channel"]]
    frame = build(contact_frame=bare)
    assert "ctc_visit_30d" in frame.columns and "ctc_days_since_last_contact" in frame.columns
    assert not {"ctc_has_manager", "ctc_complaints_365d", "ctc_order_conversion_365d"} & set(
        frame.columns
    )
    assert isinstance(frame, pd.DataFrame)

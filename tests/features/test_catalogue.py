"""The feature catalogue covers exactly the features built, and renders values in words."""

import math
import re

import pytest

import features
from features.catalogue import CATALOGUE, FAMILIES, catalogue, catalogue_markdown, describe, lookup
from features.config import FeaturesConfig
from tests.features.conftest import AS_OF


@pytest.mark.parametrize(
    "config",
    [
        FeaturesConfig(),
        FeaturesConfig(
            windows_days=(14, 60),
            trend_window_days=28,
            contact_channels=("visit", "phone"),
            contact_lookback_days=180,
        ),
    ],
)
def test_every_feature_built_has_an_entry_and_vice_versa(all_tables, config):
    built = features.feature_columns(features.build(all_tables, AS_OF, config))
    assert built == list(catalogue(config))


def test_entries_are_complete():
    for name, entry in CATALOGUE.items():
        assert entry.name == name and entry.family in FAMILIES
        assert entry.description.endswith(".") and "{" not in entry.description
        assert "{value" in entry.template and "{window}" not in entry.template


def test_describe_renders_values():
    assert describe("txn_days_since_last_order", 142) == "last order 142 days ago"
    assert describe("txn_return_share", 0.125) == "12% of purchases returned"
    assert describe("txn_spend_90d", 12345.6) == "12,346 spent in the last 90 days"
    assert describe("ctc_has_manager", 1.0) == "a dedicated manager is in touch"
    assert describe("cust_region", "North") == "region North"
    # a missing value says what it means for that feature, else "not known"
    assert describe("txn_gap_mean_days", math.nan) == "no repeat order yet"
    assert describe("cust_size_employees", math.nan) == "number of employees: not known"


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        # singular and plural follow the number shown
        ("txn_days_since_last_order", 1, "last order 1 day ago"),
        ("txn_days_since_last_order", 2, "last order 2 days ago"),
        ("ctc_complaints_365d", 1, "1 complaint in the last 365 days"),
        ("ctc_complaints_365d", 3, "3 complaints in the last 365 days"),
        ("ctc_visit_90d", 1, "1 visit contact in the last 90 days"),
        ("txn_orders", 1, "1 order so far"),
        ("btyd_frequency", 1, "ordered again on 1 day"),
        ("cust_size_employees", 1, "1 employee"),
        ("btyd_T", 1, "first order 1 day ago"),
        ("txn_order_days", 1, "ordered on a single day"),
        ("txn_categories", 1, "buys from a single product category"),
        # zero: today, or nothing
        ("txn_days_since_last_order", 0, "last order today"),
        ("ctc_days_since_last_contact", 0, "last contact today"),
        ("txn_tenure_days", 0, "first purchase today"),
        ("ctc_complaints_365d", 0, "no complaint in the last 365 days"),
        ("txn_orders_90d", 0, "no order in the last 90 days"),
        ("txn_spend_365d", 0, "nothing spent in the last 365 days"),
        ("ctc_email_30d", 0, "no email contact in the last 30 days"),
        # thousands separators on counts, days and amounts
        ("cust_relationship_days", 3189, "customer for 3,189 days"),
        ("txn_tenure_days", 1942, "buying from us for 1,942 days"),
        ("txn_orders", 1234, "1,234 orders so far"),
        ("cust_size_employees", 12000, "12,000 employees"),
        ("txn_spend_total", 1234567.4, "1,234,567 spent so far"),
        # returns larger than purchases
        ("txn_spend_90d", -1500, "returns exceed purchases by 1,500 in the last 90 days"),
        # missing = it never happened
        ("ctc_days_since_last_contact", math.nan, "never contacted"),
        ("ctc_days_since_manager_visit", math.nan, "never visited by a manager"),
        ("ctc_order_conversion_365d", math.nan, "no contact in the last 365 days"),
        ("txn_days_since_last_order", math.nan, "no order yet"),
        ("btyd_T", None, "no order yet"),
        # the overdue ratio in words
        ("txn_overdue_ratio", 3.1, "three times its usual gap since the last order"),
        ("txn_overdue_ratio", 1.0, "about its usual gap since the last order"),
        ("txn_overdue_ratio", 12.4, "12 times its usual gap since the last order"),
    ],
)
def test_describe_reads_like_a_sentence(name, value, text):
    assert describe(name, value) == text


@pytest.mark.parametrize("value", [0, 1, 2, 12345.0, -3.0, math.nan])
def test_no_entry_renders_a_placeholder_a_bare_unknown_or_a_plural_one(value):
    for name, entry in CATALOGUE.items():
        if entry.categorical:
            continue
        text = describe(name, value)
        assert "{" not in text and "unknown" not in text, (name, text)
        assert not re.search(r"(?<![\d.,])1 (?:[a-z]+ )?[a-z]+s\b", text), (name, text)
        if "{value:,.0f}" in entry.template and value == 12345.0:
            assert "12,345" in text, (name, text)


def test_one_fact_per_group_of_features_saying_the_same():
    assert lookup("txn_tenure_days").fact == lookup("btyd_T").fact
    assert lookup("txn_tenure_days").fact == lookup("cust_relationship_days").fact
    assert lookup("txn_orders").fact == lookup("txn_order_days").fact == lookup(
        "btyd_frequency").fact
    assert lookup("txn_overdue_ratio").fact == lookup("txn_days_since_last_order").fact
    assert lookup("txn_spend_90d").fact == lookup("txn_spend_365d").fact
    # "nothing spent in the last 90 days" is what "last order 200 days ago" says
    assert lookup("txn_spend_90d").zero_fact == lookup("txn_days_since_last_order").fact
    assert lookup("txn_spend_90d").fact != lookup("txn_orders_90d").fact


def test_the_good_side_of_features_whose_reading_is_obvious():
    assert lookup("ctc_has_manager").better == "higher"
    assert lookup("txn_spend_365d").better == "higher"
    assert lookup("txn_days_since_last_order").better == "lower"
    assert lookup("ctc_complaints_365d").better == "lower"
    assert lookup("cust_region").better is None


def test_describe_uses_the_row_for_context():
    row = {"txn_gap_mean_days": 47.0}
    assert (
        describe("txn_days_since_last_order", 142, row)
        == "last order 142 days ago, three times its usual gap"
    )
    assert (
        describe("txn_days_since_last_order", 100, row)
        == "last order 100 days ago, twice its usual gap"
    )
    assert describe("txn_days_since_last_order", 50, row) == "last order 50 days ago"


def test_lookup_handles_any_configured_window_and_channel():
    assert lookup("txn_orders_14d").description == "Orders in the last 14 days."
    assert describe("ctc_phone_60d", 3) == "3 phone contacts in the last 60 days"
    assert describe("ctc_phone_60d", 1) == "1 phone contact in the last 60 days"
    assert describe("ctc_phone_60d", 0) == "no phone contact in the last 60 days"
    assert lookup("ctc_phone_60d").fact == "contacts_phone"
    with pytest.raises(KeyError, match="not in the feature catalogue"):
        lookup("no_such_feature")


def test_markdown_lists_every_feature():
    text = catalogue_markdown(FeaturesConfig())
    assert text.startswith("# Feature catalogue")
    for name in CATALOGUE:
        assert f"`{name}`" in text


def test_lookup_of_unconfigured_names_matches_the_catalogue_of_their_config():
    # names that only another config produces are resolved by pattern: each must get the
    # entry (description, phrase) that config's own catalogue gives it
    other = FeaturesConfig(
        windows_days=(45, 200),
        trend_window_days=60,
        contact_channels=("visit", "site_visit"),
        manager_lookback_days=180,
        contact_lookback_days=180,
    )
    resolved = {name: f for name, f in catalogue(other).items() if name not in CATALOGUE}
    assert "ctc_order_conversion_180d" in resolved and "ctc_site_visit_45d" in resolved
    for name, expected in resolved.items():
        found = lookup(name)
        assert found == expected, name


def test_an_order_well_before_its_usual_gap_reads_as_such():
    assert describe("txn_overdue_ratio", 0.02) == "well within its usual gap since the last order"
    assert describe("txn_overdue_ratio", 2.1) == "twice its usual gap since the last order"


def test_spend_trend_and_category_concentration_read_as_plain_words():
    # t = (recent - before) / (|recent| + |before|): t = -0.5 is recent = before / 3
    assert describe("txn_spend_trend_90d", -0.5) == (
        "spend down 67% in the last 90 days on the 90 days before")
    assert describe("txn_spend_trend_90d", 1 / 3) == (
        "spend up 100% in the last 90 days on the 90 days before")
    assert describe("txn_spend_trend_90d", -1.0) == (
        "nothing bought in the last 90 days, after buying in the 90 days before")
    assert describe("txn_spend_trend_90d", 1.0) == (
        "bought in the last 90 days, nothing in the 90 days before")
    assert describe("txn_spend_trend_90d", 0.0) == (
        "spend unchanged (last 90 days against the 90 before)")
    # 0 because nothing was bought in either window
    assert describe("txn_spend_trend_90d", 0.0, {"txn_spend_90d": 0.0}) == (
        "nothing bought in the last 180 days")
    assert describe("txn_category_hhi", 1.0) == "buys almost only from one product category"
    assert describe("txn_category_hhi", 0.5) == "buys mostly from one product category"
    assert describe("txn_category_hhi", 0.49) == "spend spread over several product categories"

"""The feature catalogue covers exactly the features built, and renders values in words."""

import math

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
    assert describe("txn_days_since_last_order", 142) == "no order for 142 days"
    assert describe("txn_return_share", 0.125) == "12% of purchases returned"
    assert describe("txn_spend_90d", 12345.6) == "12,346 spent in the last 90 days"
    assert describe("ctc_has_manager", 1.0) == "a dedicated manager is in touch"
    assert describe("cust_region", "North") == "region North"
    assert (
        describe("txn_gap_mean_days", math.nan)
        == "usual number of days between two order days: unknown"
    )


def test_describe_uses_the_row_for_context():
    row = {"txn_gap_mean_days": 47.0}
    assert (
        describe("txn_days_since_last_order", 142, row)
        == "no order for 142 days, three times its usual gap"
    )
    assert (
        describe("txn_days_since_last_order", 100, row)
        == "no order for 100 days, twice its usual gap"
    )
    assert describe("txn_days_since_last_order", 50, row) == "no order for 50 days"


def test_lookup_handles_any_configured_window_and_channel():
    assert lookup("txn_orders_14d").description == "Orders in the last 14 days."
    assert describe("ctc_phone_60d", 3) == "3 phone contacts in the last 60 days"
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
        assert (found.description, found.template, found.family) == (
            expected.description, expected.template, expected.family), name

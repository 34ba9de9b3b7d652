"""Great Expectations suites: they pass on clean accepted data and catch what they promise."""

import datetime as dt
import os

import pandas as pd
import pytest

from pipeline.validation import SPECS

REF = dt.date(2026, 10, 31)
MIN = dt.date(1900, 1, 1)


@pytest.fixture(scope="module")
def runner():
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    from pipeline.validation.expectations import GxRunner

    return GxRunner(max_rows=1000)


def _customers(ids, size=(1, 2, 3)) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": pd.Series(ids, dtype="str"), "size": pd.array(list(size), dtype="Int64")}
    )


def _failed(results) -> list[tuple[str, str]]:
    return [(r.expectation, r.column) for r in results if not r.success]


def test_clean_accepted_frame_passes(runner) -> None:
    frame = _customers(["C1", "C2", "C3"])
    items = runner.accepted_expectations(SPECS["customers"], frame, MIN, REF)
    assert _failed(runner.check("customers", "accepted", frame, items)) == []


def test_uniqueness_range_and_type_failures_are_caught(runner) -> None:
    frame = _customers(["C1", "C1", "C3"], size=(1, -5, 3))
    items = runner.accepted_expectations(SPECS["customers"], frame, MIN, REF)
    assert sorted(_failed(runner.check("customers", "bad", frame, items))) == [
        ("expect_column_min_to_be_between", "size"),
        ("expect_column_values_to_be_unique", "customer_id"),
    ]


def test_referential_integrity_is_checked_against_known_customers(runner) -> None:
    from pipeline.validation.expectations import reference_frame

    contacts = pd.DataFrame({"customer_id": pd.Series(["C1", "C9", "C1", None], dtype="str")})
    known = pd.Series(["C1", "C2"], dtype="str", name="customer_id")
    frame = reference_frame(contacts, "customer_id", known, "customers")
    assert frame["customer_id"].tolist() == ["C1", "C9"]  # distinct, non-null
    assert frame["customers.customer_id"].isna().tolist() == [False, True]
    results = runner.check(
        "contacts",
        "references customers",
        frame,
        runner.reference_expectations(frame, blocking=True),
    )
    assert _failed(results) == [("expect_column_values_to_not_be_null", "customers.customer_id")]
    assert results[0].observed.startswith("1 unexpected") and results[0].blocking


def test_large_frames_are_sampled(runner) -> None:
    frame = _customers([f"C{i}" for i in range(5000)], size=range(5000))
    assert len(runner._sample(frame)) == 1000
    results = runner.check(
        "customers", "big", frame, runner.raw_expectations(SPECS["customers"], frame)
    )
    row_count = next(r for r in results if r.expectation == "expect_table_row_count_to_be_between")
    assert row_count.observed == "1000"


def test_analytics_are_disabled(runner) -> None:
    assert runner._context.variables.analytics_enabled is False


@pytest.mark.parametrize(
    "amounts, failing",
    [([10.0, -5.0], []), ([-1.0, -2.0], ["max"]), ([2e12, -5.0], ["max"]), ([5.0, -2e12], ["min"])],
)
def test_accepted_amounts_lie_within_the_limit_and_include_a_purchase(
    runner, amounts, failing
) -> None:
    frame = pd.DataFrame({
        "customer_id": pd.Series(["C1", "C2"], dtype="str"),
        "order_date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        "amount": amounts,
    })
    items = runner.accepted_expectations(SPECS["transactions"], frame, MIN, REF, 1e12)
    assert _failed(runner.check("transactions", f"amounts{amounts}", frame, items)) == [
        (f"expect_column_{side}_to_be_between", "amount") for side in failing
    ]

"""Great Expectations suites: the rows suite finds the rows of each rule with its reason, the
accepted suite checks the accepted table, Data Docs render without data values."""

import pandas as pd
import pytest

from pipeline.validation import SPECS, CheckOptions

REF = pd.Timestamp("2026-10-31")
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def runner():
    from pipeline.validation.expectations import GxRunner

    return GxRunner(max_rows=1000)


def _customers(ids, size=(1, 2, 3)) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": pd.Series(ids, dtype="str"), "size": pd.array(list(size), dtype="Int64")}
    )


def _failed(results) -> list[tuple[str, str]]:
    return [(r.expectation, r.column) for r in results if not r.success]


def test_clean_accepted_frame_passes(runner) -> None:
    from pipeline.validation.expectations import accepted_expectations

    frame = _customers(["C1", "C2", "C3"])
    items = accepted_expectations(SPECS["customers"], frame)
    assert _failed(runner.check("customers", "accepted", frame, items)) == []


def test_an_accepted_table_without_a_required_column_fails(runner) -> None:
    from pipeline.validation.expectations import accepted_expectations

    frame = _customers(["C1", "C2", "C3"])
    transactions = pd.DataFrame({"customer_id": frame["customer_id"], "amount": [1.0, 2, 3]})
    items = accepted_expectations(SPECS["transactions"], transactions)  # no order_date
    failed = _failed(runner.check("transactions", "no_date", transactions, items))
    assert [name for name, _ in failed] == ["expect_table_columns_to_match_set"]


def test_uniqueness_and_type_failures_of_the_accepted_table_are_caught(runner) -> None:
    from pipeline.validation.expectations import accepted_expectations

    frame = _customers(["C1", "C1", "C3"]).assign(size=[1.5, 2.0, 3.0])
    items = accepted_expectations(SPECS["customers"], frame)
    results = runner.check("customers", "bad", frame, items)
    assert sorted(_failed(results)) == [
        ("expect_column_values_to_be_of_type", "size"),
        ("expect_column_values_to_be_unique", "customer_id"),
    ]
    assert all(r.blocking and r.reason == "" for r in results)


def test_the_rows_suite_names_each_rules_rows_and_reason(runner) -> None:
    from pipeline.validation.expectations import row_expectations

    frame = pd.DataFrame({
        "customer_id": pd.Series(["C1", None, "C3", "C4", "C5"], dtype="str"),
        "order_date": pd.to_datetime(
            ["2024-01-01", "2024-01-02", "1899-12-31", "2026-11-01", None]
        ).astype("datetime64[ns]"),
        "amount": [10.0, float("inf"), -5.0, -2e12, None],
        "quantity": pd.array([1, -1, None, 2, 3], dtype="Int64"),  # "int": no minimum
    })
    options = CheckOptions(reference_date=REF, max_abs_amount=1e12)
    items = row_expectations(SPECS["transactions"], list(frame.columns), options)
    found = runner.unexpected_rows("transactions", "rows", frame, items)
    failed = {(r.reason, r.column): rows.tolist() for r, rows in found if not r.success}
    assert failed == {
        ("null_id", "customer_id"): [1],
        ("date_out_of_range", "order_date"): [2],
        ("future_date", "order_date"): [3],
        ("bad_date", "order_date"): [4],
        ("amount_out_of_range", "amount"): [1, 3],
        ("bad_amount", "amount"): [4],
    }
    assert not any(r.blocking for r, _ in found)


def test_counts_and_capacities_have_their_minimum_in_the_rows_suite(runner) -> None:
    from pipeline.validation.expectations import row_expectations

    frame = pd.DataFrame({
        "manager_id": pd.Series(["M1", "M2", "M3"], dtype="str"),
        "region": pd.Series(["n", None, "s"], dtype="str"),
        "capacity": pd.array([1, 0, None], dtype="Int64"),
    })
    items = row_expectations(SPECS["managers"], list(frame.columns), CheckOptions(REF))
    found = runner.unexpected_rows("managers", "rows", frame, items)
    failed = {(r.reason, r.column): rows.tolist() for r, rows in found if not r.success}
    assert failed == {
        ("missing_value", "region"): [1],
        ("missing_value", "capacity"): [2],
        ("bad_number", "capacity"): [1],
    }


def test_referential_integrity_is_checked_against_known_customers(runner) -> None:
    from pipeline.validation.expectations import reference_expectations, reference_frame

    contacts = pd.DataFrame({"customer_id": pd.Series(["C1", "C9", "C1", None], dtype="str")})
    known = pd.Series(["C1", "C2"], dtype="str", name="customer_id")
    frame = reference_frame(contacts, "customer_id", known, "customers")
    assert frame["customer_id"].tolist() == ["C1", "C9"]  # distinct, non-null
    assert frame["customers.customer_id"].isna().tolist() == [False, True]
    results = runner.check(
        "contacts", "references customers", frame, reference_expectations(frame, blocking=True)
    )
    assert _failed(results) == [("expect_column_values_to_not_be_null", "customers.customer_id")]
    assert results[0].observed.startswith("1 unexpected") and results[0].blocking


def test_large_frames_are_sampled_by_the_accepted_suite_only(runner) -> None:
    from pipeline.validation.expectations import accepted_expectations, row_expectations

    frame = _customers([f"C{i}" for i in range(5000)], size=range(5000))
    assert len(runner._sample(frame)) == 1000
    results = runner.check(
        "customers", "big", frame, accepted_expectations(SPECS["customers"], frame)
    )
    row_count = next(r for r in results if r.expectation == "expect_table_row_count_to_be_between")
    assert row_count.observed == "1000"
    items = row_expectations(SPECS["customers"], list(frame.columns), CheckOptions(REF))
    found = runner.unexpected_rows("customers", "big rows", frame, items)
    assert all(r.success for r, _ in found) and len(found) == 2  # every row: key, size >= 0


def test_analytics_are_disabled(runner) -> None:
    assert runner._context.variables.analytics_enabled is False


@pytest.mark.parametrize("amounts, failing", [([10.0, -5.0], False), ([-1.0, 0.0], True)])
def test_accepted_transactions_include_a_purchase(runner, amounts, failing) -> None:
    from pipeline.validation.expectations import accepted_expectations

    frame = pd.DataFrame({
        "customer_id": pd.Series(["C1", "C2"], dtype="str"),
        "order_date": pd.to_datetime(["2024-01-01", "2024-01-02"]).astype("datetime64[ns]"),
        "amount": amounts,
    })
    items = accepted_expectations(SPECS["transactions"], frame)
    failed = _failed(runner.check("transactions", f"amounts{amounts}", frame, items))
    assert failed == ([("expect_column_max_to_be_between", "amount")] if failing else [])


def test_data_docs_render_every_suite_and_no_data_value(tmp_path) -> None:
    from pipeline.validation.expectations import GxRunner, accepted_expectations

    runner = GxRunner()
    frame = _customers([SCRIPT, SCRIPT, "C3"])
    results = runner.check("customers", "accepted", frame,
                           accepted_expectations(SPECS["customers"], frame))
    assert ("expect_column_values_to_be_unique", "customer_id") in _failed(results)
    index = runner.build_docs(tmp_path / "docs")
    assert index == tmp_path / "docs" / "index.html" and index.exists()
    pages = {p.relative_to(tmp_path / "docs").as_posix(): p.read_text()
             for p in (tmp_path / "docs").rglob("*.html")}
    assert "expectations/customers/accepted.html" in pages
    validation = [text for name, text in pages.items() if name.startswith("validations/")]
    assert len(validation) == 1 and "customer_id" in validation[0]
    assert not any("alert(1)" in text for text in pages.values())  # GX does not escape values

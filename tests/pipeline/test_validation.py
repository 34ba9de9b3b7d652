"""Row-level validation: parsing, one test per defect kind, and counts that add up."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipeline.validation import (
    ALL_COLUMNS,
    SPECS,
    CheckOptions,
    check_table,
    check_tables,
)
from pipeline.validation.parse import parse_bools, parse_dates, parse_floats, parse_ids, parse_ints

REF = pd.Timestamp("2026-10-31")
OPTIONS = CheckOptions(reference_date=REF)


def _text(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype="str")


def _tx(**overrides) -> pd.DataFrame:
    """Three clean transactions as text; `overrides` replace whole columns."""
    base = {
        "customer_id": ["C001", "C002", "C003"],
        "order_id": ["O1", "O2", "O3"],
        "order_date": ["2024-01-02", "2024-02-03", "2024-03-04"],
        "amount": ["10.5", "-3", "7"],
        "quantity": ["1", "2", "3"],
    }
    return _text(**{**base, **overrides})


def _only_reason(result, reason: str, column: str, source_row: int) -> None:
    q = result.quarantine
    assert q["reason"].tolist() == [reason]
    assert q["column"].tolist() == [column]
    assert q["source_row"].tolist() == [source_row]
    assert result.rows_in == result.rows_accepted + result.rows_quarantined


# --- one test per defect kind ------------------------------------------------------------


@pytest.mark.parametrize("missing", [None, "", "   "])
def test_null_id_is_quarantined(missing) -> None:
    result = check_table(_tx(customer_id=["C001", missing, "C003"]), SPECS["transactions"], OPTIONS)
    _only_reason(result, "null_id", "customer_id", 2)
    assert result.accepted["customer_id"].tolist() == ["C001", "C003"]


def test_unparseable_date_is_quarantined() -> None:
    result = check_table(
        _tx(order_date=["2024-01-02", "31/02/2024", "2024-03-04"]), SPECS["transactions"], OPTIONS
    )
    _only_reason(result, "bad_date", "order_date", 2)
    assert result.quarantine["order_date"].tolist() == ["31/02/2024"]  # original text kept


def test_missing_required_date_is_quarantined() -> None:
    result = check_table(
        _tx(order_date=["2024-01-02", None, "2024-03-04"]), SPECS["transactions"], OPTIONS
    )
    _only_reason(result, "bad_date", "order_date", 2)


@pytest.mark.parametrize("amount", ["ten", "12,5 EUR", "", "nan"])
def test_amount_not_a_number_is_quarantined(amount) -> None:
    result = check_table(_tx(amount=["1", "2", amount]), SPECS["transactions"], OPTIONS)
    _only_reason(result, "bad_amount", "amount", 3)


def test_future_date_is_quarantined_relative_to_the_reference_date() -> None:
    raw = _tx(order_date=["2024-01-02", "2031-05-01", "2026-10-31"])
    result = check_table(raw, SPECS["transactions"], OPTIONS)
    _only_reason(result, "future_date", "order_date", 2)
    earlier = check_table(
        raw, SPECS["transactions"], CheckOptions(reference_date=pd.Timestamp("2026-10-30"))
    )
    assert earlier.quarantine["source_row"].tolist() == [2, 3]


def test_date_before_min_date_is_quarantined() -> None:
    result = check_table(
        _tx(order_date=["2024-01-02", "1899-12-31", "2024-03-04"]), SPECS["transactions"], OPTIONS
    )
    _only_reason(result, "date_out_of_range", "order_date", 2)


def test_exact_duplicate_keeps_the_first() -> None:
    raw = _tx(
        customer_id=["C001", "C002", "C001"],
        order_id=["O1", "O2", "O1"],
        order_date=["2024-01-02", "2024-02-03", "2024-01-02"],
        amount=["10.5", "-3", "10.5"],
        quantity=["1", "2", "1"],
    )
    result = check_table(raw, SPECS["transactions"], OPTIONS)
    _only_reason(result, "duplicate_row", ALL_COLUMNS, 3)
    assert result.accepted["order_id"].tolist() == ["O1", "O2"]


def test_same_order_line_with_another_amount_is_not_a_duplicate() -> None:
    raw = _tx(customer_id=["C001"] * 3, order_id=["O1"] * 3, order_date=["2024-01-02"] * 3)
    assert check_table(raw, SPECS["transactions"], OPTIONS).rows_quarantined == 0


def test_quantity_not_whole_is_quarantined() -> None:
    result = check_table(_tx(quantity=["1", "2.5", None]), SPECS["transactions"], OPTIONS)
    _only_reason(result, "bad_number", "quantity", 2)
    assert result.accepted["quantity"].isna().tolist() == [False, True]  # optional: null allowed


def test_transactions_and_contacts_of_unknown_customers_are_quarantined() -> None:
    known = pd.Series(["C001", "C003"])
    tx = check_table(_tx(), SPECS["transactions"], OPTIONS, known_customers=known)
    _only_reason(tx, "unknown_customer", "customer_id", 2)
    contacts = _text(
        customer_id=["C001", "C999"],
        contact_date=["2024-01-01", "2024-01-02"],
        channel=["call", "visit"],
    )
    ct = check_table(contacts, SPECS["contacts"], OPTIONS, known_customers=known)
    _only_reason(ct, "unknown_customer", "customer_id", 2)


def test_without_a_customers_table_there_is_no_referential_check() -> None:
    assert check_table(_tx(), SPECS["transactions"], OPTIONS).rows_quarantined == 0


@pytest.mark.parametrize("capacity", ["0", "-3", "2.5", "many", None])
def test_capacity_must_be_a_positive_whole_number(capacity) -> None:
    raw = _text(manager_id=["M001", "M002"], region=["north", "south"], capacity=["25", capacity])
    result = check_table(raw, SPECS["managers"], OPTIONS)
    reason = "missing_value" if capacity is None else "bad_number"
    _only_reason(result, reason, "capacity", 2)
    assert result.accepted["capacity"].dtype == "Int64"


def test_manager_without_region_is_quarantined() -> None:
    raw = _text(manager_id=["M001", "M002"], region=["north", ""], capacity=["25", "30"])
    _only_reason(check_table(raw, SPECS["managers"], OPTIONS), "missing_value", "region", 2)


def test_bad_boolean_is_quarantined() -> None:
    raw = _text(
        manager_id=["M1", "M2", "M3"],
        region=["n"] * 3,
        capacity=["5"] * 3,
        active=["yes", "FALSE", "maybe"],
    )
    result = check_table(raw, SPECS["managers"], OPTIONS)
    _only_reason(result, "bad_bool", "active", 3)
    assert result.accepted["active"].tolist() == [True, False]


def test_repeated_customer_id_keeps_the_first() -> None:
    raw = _text(customer_id=["C001", "C002", "C001"], region=["n", "s", "e"])
    result = check_table(raw, SPECS["customers"], OPTIONS)
    _only_reason(result, "duplicate_key", "customer_id", 3)
    assert result.accepted["region"].tolist() == ["n", "s"]


def test_negative_size_is_quarantined() -> None:
    raw = _text(customer_id=["C001", "C002"], size=["10", "-1"])
    _only_reason(check_table(raw, SPECS["customers"], OPTIONS), "bad_number", "size", 2)


def test_unknown_manager_warns_by_default_and_quarantines_when_asked() -> None:
    raw = _text(customer_id=["C001", "C002", "C003"], current_manager_id=["M001", "M999", None])
    managers = pd.Series(["M001"])
    warned = check_table(raw, SPECS["customers"], OPTIONS, known_managers=managers)
    assert warned.rows_quarantined == 0
    assert [(w["code"], w["count"]) for w in warned.warnings] == [("unknown_manager", 1)]
    strict = CheckOptions(reference_date=REF, on_unknown_manager="quarantine")
    _only_reason(
        check_table(raw, SPECS["customers"], strict, known_managers=managers),
        "unknown_manager",
        "current_manager_id",
        2,
    )


def test_first_reason_in_priority_order_wins() -> None:
    raw = _tx(
        customer_id=[None, "C2", "C3"],
        order_date=["bad", "2024-01-01", "2024-01-01"],
        amount=["x", "1", "1"],
    )
    assert check_table(raw, SPECS["transactions"], OPTIONS).quarantine["reason"].tolist() == [
        "null_id"
    ]


# --- types and parsing -------------------------------------------------------------------


def test_leading_zeros_are_kept_and_integer_ids_have_no_decimal_suffix() -> None:
    assert parse_ids(pd.Series(["000123", " 007\t", None], dtype="str")).tolist()[:2] == [
        "000123",
        "007",  # surrounding whitespace trimmed, the zeros kept
    ]
    assert parse_ids(pd.Series([123.0, np.nan])).tolist()[0] == "123"
    assert parse_ids(pd.Series([42], dtype="int64")).tolist() == ["42"]


def test_accepted_frame_has_contract_types() -> None:
    accepted = check_table(_tx(), SPECS["transactions"], OPTIONS).accepted
    assert list(accepted.columns) == ["customer_id", "order_id", "order_date", "amount", "quantity"]
    assert accepted["customer_id"].dtype == "str"
    assert accepted["order_date"].dtype == "datetime64[ns]"
    assert accepted["amount"].dtype == "float64"
    assert accepted["amount"].tolist() == [10.5, -3.0, 7.0]


def test_dates_from_every_storage_type() -> None:
    expected = pd.Timestamp("2024-01-31")
    cases = [
        (pd.Series(["2024-01-31"], dtype="str"), None),
        (pd.Series(["31.01.2024"], dtype="str"), "%d.%m.%Y"),
        (pd.Series([20240131], dtype="int64"), "%Y%m%d"),
        (pd.Series([20240131.0]), None),  # integer dates stored as float (with nulls)
        (pd.Series(pd.to_datetime(["2024-01-31 13:45"])), None),  # time of day dropped
        (pd.Series([dt.date(2024, 1, 31)], dtype=object), None),  # Parquet date32
    ]
    for values, date_format in cases:
        parsed, bad = parse_dates(values, date_format)
        assert parsed.tolist() == [expected] and not bad.any(), (values, date_format)


def test_integer_dates_reject_impossible_days() -> None:
    _, bad = parse_dates(pd.Series([20240230, 20240101]), "%Y%m%d")
    assert bad.tolist() == [True, False]


def test_numbers_with_decimal_comma_and_thousands() -> None:
    parsed, bad = parse_floats(pd.Series(["1.234,50", "-5,00", "x"], dtype="str"), ",", ".")
    assert parsed.tolist()[:2] == [1234.5, -5.0] and bad.tolist() == [False, False, True]


def test_typed_numbers_pass_through() -> None:
    parsed, bad = parse_floats(pd.Series([1.5, np.nan, np.inf]))
    assert parsed.tolist()[0] == 1.5 and bad.tolist() == [False, False, True]
    ints, bad = parse_ints(pd.Series([3, 4]), minimum=1)
    assert ints.tolist() == [3, 4] and not bad.any()
    flags, bad = parse_bools(pd.Series([True, False]))
    assert flags.tolist() == [True, False] and not bad.any()


# --- whole tables ------------------------------------------------------------------------


def _four_tables() -> dict[str, pd.DataFrame]:
    managers = _text(
        manager_id=["M001", "M002", "M002", None],
        region=["n", "s", "s", "n"],
        capacity=["10", "12", "12", "3"],
    )
    customers = _text(
        customer_id=["0001", "0002", "0003", "0003"],
        region=["n", "s", "n", "s"],
        current_manager_id=["M001", "M404", None, "M002"],
        created_date=["2023-01-01", "2023-01-02", "2030-01-01", "2023-01-04"],
    )
    transactions = _tx(customer_id=["0001", "0002", "0003"])  # 0003 refused as a customer
    contacts = _text(
        customer_id=["0001", "0002", "0009"],
        contact_date=["2024-01-01", "2024-13-01", "2024-01-03"],
        channel=["visit", "call", "email"],
        manager_id=["M001", None, "M002"],
    )
    return {
        "managers": managers,
        "customers": customers,
        "transactions": transactions,
        "contacts": contacts,
    }


def test_rows_in_equal_accepted_plus_quarantined_for_every_table() -> None:
    raws = _four_tables()
    results = check_tables(raws, {t: OPTIONS for t in raws})
    for name, result in results.items():
        assert result.rows_in == len(raws[name]) == result.rows_accepted + result.rows_quarantined
    assert results["managers"].reasons == {"null_id": 1, "duplicate_row": 1}
    assert results["customers"].reasons == {"future_date": 1}
    # the future-dated 0003 is refused, so its later row is no duplicate key; M404 only warns
    assert results["customers"].accepted["customer_id"].tolist() == ["0001", "0002", "0003"]
    assert results["customers"].warnings[0]["count"] == 1
    assert results["transactions"].rows_quarantined == 0
    assert results["contacts"].reasons == {"bad_date": 1, "unknown_customer": 1}


def test_inputs_are_not_mutated() -> None:
    raw = _tx(customer_id=["C001", None, "C003"])
    before = raw.copy()
    check_table(raw, SPECS["transactions"], OPTIONS)
    pd.testing.assert_frame_equal(raw, before)


def test_a_large_frame_is_checked_without_row_loops() -> None:
    n = 200_000
    rng = np.random.default_rng(0)
    raw = pd.DataFrame(
        {
            "customer_id": pd.Series([f"C{i:06d}" for i in rng.integers(0, 5000, n)], dtype="str"),
            "order_date": pd.Series(
                pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
            ).dt.strftime("%Y-%m-%d"),
            "amount": rng.normal(100, 30, n).round(2).astype(str),
        }
    )
    result = check_table(raw, SPECS["transactions"], OPTIONS)
    assert result.rows_in == n == result.rows_accepted + result.rows_quarantined


def test_check_options_take_dates_number_format_and_manager_policy_from_config():
    from pipeline.config.data import DataConfig
    from pipeline.validation.run import check_options

    config = DataConfig.model_validate({
        "transactions": {"path": "t.csv", "date_format": "%d.%m.%Y",
                         "csv": {"decimal": ",", "thousands": "."}},
        "min_date": "2020-01-01", "on_unknown_manager": "quarantine"})
    options = check_options(config, config.transactions, dt.date(2026, 10, 31))
    assert options.reference_date == REF
    assert options.min_date == pd.Timestamp("2020-01-01")
    assert (options.date_format, options.decimal, options.thousands) == ("%d.%m.%Y", ",", ".")
    assert options.on_unknown_manager == "quarantine"


def test_failure_message_counts_and_shows_the_first_five_failures():
    from pathlib import Path

    from pipeline.validation.run import failure_message

    failed = [{"table": "transactions", "expectation": f"e{i}", "column": "amount",
               "observed": str(i)} for i in range(7)]
    message = failure_message({"failed_expectations": failed}, Path("r/index.html"))
    assert message.startswith("the accepted data fails 7 expectation(s): transactions: "
                              "e0(amount) 0; ")
    assert "e4(amount) 4; see r/index.html (set fail_on_expectations: false" in message
    assert "e5" not in message


# --- a column that mostly fails to parse: a wrong format, not bad rows ---------------------


def _many(n: int, **columns) -> pd.DataFrame:
    """`n` transactions as text: distinct customers, clean values unless given."""
    base = {
        "customer_id": [f"C{i:03d}" for i in range(n)],
        "order_date": [f"2024-01-{1 + i % 28:02d}" for i in range(n)],
        "amount": [f"{10 + i}.5" for i in range(n)],
    }
    return _text(**{**base, **columns})


def _failure(result, column: str):
    found = [f for f in result.parse_failures if f.column == column]
    assert len(found) == 1, result.parse_failures
    return found[0]


def test_wrong_date_format_is_one_systematic_failure_with_the_format_to_set() -> None:
    dates = [f"{d:02d}/01/2024" for d in range(13, 33 - 3)]  # 13/01 .. 29/01: day first
    raw = _many(len(dates), order_date=dates)
    options = CheckOptions(reference_date=REF, date_format="%Y-%m-%d")
    result = check_table(raw, SPECS["transactions"], options)
    failure = _failure(result, "order_date")
    assert (failure.failed, failure.present) == (len(dates), len(dates))
    assert failure.examples == ("13/01/2024", "14/01/2024")
    assert failure.problem == "do not match date_format '%Y-%m-%d'"
    assert failure.fix == (
        'they read as "%d/%m/%Y": set transactions.date_format: "%d/%m/%Y" in configs/data.yaml'
    )
    # the result itself stays complete: every row is accounted for
    assert result.rows_in == result.rows_accepted + result.rows_quarantined == len(dates)
    message = failure.message("exports/tx.csv", "Invoice Date")
    assert message.startswith(
        "exports/tx.csv: column order_date (source column 'Invoice Date'): 17 of 17 values do "
        "not match date_format '%Y-%m-%d' (e.g. '13/01/2024', '14/01/2024'); they read as"
    )
    assert "\n" not in message
    assert failure.message("tx.csv", "order_date").startswith("tx.csv: column order_date: 17")


def test_without_date_format_day_month_ambiguity_names_both_formats() -> None:
    raw = _many(8, order_date=[f"0{m}/0{m + 1}/2024" for m in range(1, 9)])
    failure = _failure(check_table(raw, SPECS["transactions"], OPTIONS), "order_date")
    assert failure.problem == "are not ISO 8601 dates (no date_format is set)"
    assert '"%d/%m/%Y" or "%m/%d/%Y"' in failure.fix and "day or month first" in failure.fix


def test_decimal_commas_without_csv_decimal_suggest_it() -> None:
    amounts = ["1234,50", "-50,00", "99,90", "15,00", "500,00", "10,00", "zehn"]
    result = check_table(_many(7, amount=amounts), SPECS["transactions"], OPTIONS)
    failure = _failure(result, "amount")
    assert (failure.failed, failure.present) == (7, 7)
    assert failure.problem == "are not numbers written with decimal '.'"
    assert failure.fix == (
        'most of them look like decimal-comma numbers: set transactions.csv.decimal: "," in '
        "configs/data.yaml"
    )


def test_decimal_comma_with_thousands_points_suggests_both() -> None:
    amounts = ["1.234,50", "2.000,00", "12.345,67", "3,10", "4,20", "1.000.000,00"]
    result = check_table(_many(6, amount=amounts), SPECS["transactions"], OPTIONS)
    failure = _failure(result, "amount")
    assert 'transactions.csv.decimal: "," and transactions.csv.thousands: "."' in failure.fix


def test_thousands_commas_suggest_csv_thousands() -> None:
    amounts = ["1,234.50", "2,000.00", "12,345.67", "3,100.10", "4,200.20"]
    result = check_table(_many(5, amount=amounts), SPECS["transactions"], OPTIONS)
    failure = _failure(result, "amount")
    assert failure.fix == (
        "they use ',' between thousands: set transactions.csv.thousands: \",\" in "
        "configs/data.yaml"
    )


def test_a_repeated_placeholder_value_suggests_na_values() -> None:
    dates = ["00000000"] * 6 + ["20240102"]
    options = CheckOptions(reference_date=REF, date_format="%Y%m%d")
    failure = _failure(
        check_table(_many(7, order_date=dates), SPECS["transactions"], options), "order_date"
    )
    assert failure.fix.startswith(
        'if "00000000" means "no value", add it to transactions.csv.na_values'
    )


def test_quantities_with_decimal_commas_and_booleans_in_another_language() -> None:
    raw = _many(6, quantity=["1,0", "2,0", "3,0", "4,0", "5,0", "6,0"])
    failure = _failure(check_table(raw, SPECS["transactions"], OPTIONS), "quantity")
    assert failure.problem == "are not whole numbers written with decimal '.'"
    assert 'transactions.csv.decimal: ","' in failure.fix
    managers = _text(
        manager_id=[f"M{i}" for i in range(6)],
        region=["n"] * 6,
        capacity=["5"] * 6,
        active=["ja", "nein", "ja", "ja", "nein", "ja"],
    )
    failure = _failure(check_table(managers, SPECS["managers"], OPTIONS), "active")
    assert failure.problem.startswith("are not true/false values")


@pytest.mark.parametrize(
    ("bad", "total", "share", "stops"),
    [
        (4, 4, 0.5, False),  # all bad, but fewer than SYSTEMATIC_MIN_COUNT: row by row
        (5, 10, 0.5, False),  # exactly half: not more than the share
        (6, 10, 0.5, True),
        (5, 5, 0.5, True),  # the minimum count, all bad
        (10, 10, 1.0, False),  # max_unparseable_share: 1 never stops
        (3, 10, 0.2, False),  # more than the share, fewer than the minimum count
    ],
)
def test_systematic_threshold(bad: int, total: int, share: float, stops: bool) -> None:
    from pipeline.validation.checks import SYSTEMATIC_MIN_COUNT

    assert SYSTEMATIC_MIN_COUNT == 5
    # no other date format reads "31/31/2024": only the share decides (not a format mismatch)
    dates = ["31/31/2024"] * bad + ["2024-01-02"] * (total - bad)
    options = CheckOptions(reference_date=REF, max_unparseable_share=share)
    raw = _many(total, order_date=dates)
    result = check_table(raw, SPECS["transactions"], options)
    assert bool(result.parse_failures) is stops
    assert result.reasons == {"bad_date": bad}  # the rows are quarantined either way
    assert result.rows_in == result.rows_accepted + result.rows_quarantined


def test_a_few_bad_values_in_a_real_sized_table_are_only_quarantined() -> None:
    raw = _many(100, amount=[f"{i}.5" for i in range(90)] + ["12,5 EUR"] * 10)
    result = check_table(raw, SPECS["transactions"], OPTIONS)
    assert result.parse_failures == [] and result.reasons == {"bad_amount": 10}


def test_max_unparseable_share_one_never_stops_even_on_a_format_mismatch() -> None:
    dates = ["31/01/2024"] * 10
    options = CheckOptions(reference_date=REF, max_unparseable_share=1.0)
    assert check_table(_many(10, order_date=dates), SPECS["transactions"], options).parse_failures == []


def test_thousands_commas_on_large_amounts_only_stop_with_the_thousands_hint() -> None:
    """A US export without csv.thousands: only amounts >= 1,000 fail (a minority, but the
    biggest orders); quarantining them would silently drop most of the revenue."""
    amounts = ["999.50"] * 90 + [f"{1 + i},234.56" for i in range(10)]
    result = check_table(_many(100, amount=amounts), SPECS["transactions"], OPTIONS)
    failure = _failure(result, "amount")
    assert (failure.failed, failure.present) == (10, 100)
    assert failure.fix == (
        "they use ',' between thousands: set transactions.csv.thousands: \",\" in "
        "configs/data.yaml"
    )
    fixed = CheckOptions(reference_date=REF, thousands=",")
    assert check_table(_many(100, amount=amounts), SPECS["transactions"], fixed).reasons == {}


def test_trailing_minus_negatives_stop_saying_they_must_be_converted() -> None:
    amounts = ["50,00"] * 90 + [f"{i},50-" for i in range(10)]
    options = CheckOptions(reference_date=REF, decimal=",")
    failure = _failure(check_table(_many(100, amount=amounts), SPECS["transactions"], options),
                       "amount")
    assert failure.failed == 10
    assert failure.fix == (
        "they write negative numbers with a trailing minus ('0,50-'), which cannot be read: "
        "make the export write a leading minus ('-0,50')"
    )


def test_a_minority_in_another_date_format_stops_as_mixed_formats() -> None:
    dates = ["2024-01-02"] * 95 + ["31.01.2024"] * 5
    failure = _failure(check_table(_many(100, order_date=dates), SPECS["transactions"], OPTIONS),
                       "order_date")
    assert failure.fix == (
        'they read as "%d.%m.%Y", but the other 95 values read with the current setting: '
        "the export mixes formats; make it write one format throughout"
    )


@pytest.mark.parametrize("share", [0.01, 0.02])
def test_random_garbage_at_one_or_two_percent_is_only_quarantined(share: float) -> None:
    """The generator's --defects faults (pipeline.synthetic.defects) read in no format: they
    are quarantined row by row, even though there are more than SYSTEMATIC_MIN_COUNT."""
    from pipeline.synthetic.defects import _BAD_AMOUNTS, _BAD_DATES

    n = 2000
    bad = int(n * share)
    amounts = [f"{10 + i % 900}.5" for i in range(n - bad)] + [
        _BAD_AMOUNTS[i % len(_BAD_AMOUNTS)] for i in range(bad)
    ]
    dates = [_BAD_DATES[i % len(_BAD_DATES)] for i in range(bad)] + [
        f"2024-01-{1 + i % 28:02d}" for i in range(n - bad)
    ]
    raw = _many(n, amount=amounts, order_date=dates)
    result = check_table(raw, SPECS["transactions"], OPTIONS)
    assert result.parse_failures == []
    assert result.reasons == {"bad_amount": bad, "bad_date": bad}


def test_tied_number_formats_prefer_a_thousands_separator_that_occurs() -> None:
    """With decimal "," configured, "1234.56" reads with thousands "," as well as with none:
    the hint must not invent a thousands separator, nor call them decimal-comma numbers."""
    options = CheckOptions(reference_date=REF, decimal=",")
    amounts = ["1234.56", "2345.5", "3.25", "4.5", "5.75", "6.0"]
    failure = _failure(check_table(_many(6, amount=amounts), SPECS["transactions"], options),
                       "amount")
    assert failure.fix == (
        'they use a decimal point: set transactions.csv.decimal: "." in configs/data.yaml'
    )
    options = CheckOptions(reference_date=REF, decimal=",", thousands=".")
    failure = _failure(check_table(_many(6, amount=amounts), SPECS["transactions"], options),
                       "amount")
    assert failure.fix == (
        'they use a decimal point: set transactions.csv.decimal: "." and '
        "transactions.csv.thousands: null in configs/data.yaml"
    )
    options = CheckOptions(reference_date=REF, decimal=",")
    amounts = ["1.234", "2.345", "3.456", "4.567", "5.678", "6.789"]
    failure = _failure(check_table(_many(6, amount=amounts), SPECS["transactions"], options),
                       "amount")
    assert "decimal-comma" not in failure.fix and "'None'" not in failure.fix
    assert failure.fix.startswith(
        "they use '.' between thousands: set transactions.csv.thousands: \".\""
    )


def test_missing_values_do_not_count_as_unparseable() -> None:
    dates = [None] * 10 + ["31/01/2024"] * 4 + ["2024-01-02"] * 6
    raw = _many(20, order_date=dates)
    assert check_table(raw, SPECS["transactions"], OPTIONS).parse_failures == []


# --- number separators and time zones ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "decimal", "thousands", "expected"),
    [
        ("1.234,50", ",", ".", 1234.5),
        ("1.234", ",", ".", 1234.0),
        ("12.34", ",", ".", None),  # not grouped by three: ambiguous, refused
        ("1.5", ",", None, None),  # a point with decimal ",": ambiguous, refused
        ("1,234.50", ".", ",", 1234.5),
        ("1,5", ".", ",", None),
        ("1 234,50", ",", " ", 1234.5),
        ("-1.234.567,8", ",", ".", -1234567.8),
        ("1234,5", ",", ".", 1234.5),
    ],
)
def test_thousands_and_decimal_separators(text, decimal, thousands, expected) -> None:
    parsed, bad = parse_floats(pd.Series([text], dtype="str"), decimal, thousands)
    if expected is None:
        assert bad.tolist() == [True] and parsed.isna().all()
    else:
        assert bad.tolist() == [False] and parsed.tolist() == [expected]


def test_whole_numbers_use_the_configured_separators() -> None:
    ints, bad = parse_ints(pd.Series(["1.000", "2", "1,5"], dtype="str"), 0, ",", ".")
    assert ints.tolist()[:2] == [1000, 2] and bad.tolist() == [False, False, True]
    options = CheckOptions(reference_date=REF, decimal=",", thousands=".")
    raw = _tx(amount=["1", "2", "3"], quantity=["1.000", "2", "3"])
    accepted = check_table(raw, SPECS["transactions"], options).accepted
    assert accepted["quantity"].tolist() == [1000, 2, 3]  # was read as 1 before


def test_dates_with_utc_offsets_keep_the_date_as_written() -> None:
    mixed = pd.Series(
        ["2024-01-02T23:30:00+01:00", "2024-07-03T00:30:00+02:00", "2024-07-04", "x"], dtype="str"
    )
    parsed, bad = parse_dates(mixed, None)
    assert parsed.dt.strftime("%Y-%m-%d").tolist()[:3] == ["2024-01-02", "2024-07-03", "2024-07-04"]
    assert bad.tolist() == [False, False, False, True] and parsed.dt.tz is None
    one = pd.Series(["2024-01-02 23:30 +0100", "2024-01-03 08:00 +0100"], dtype="str")
    parsed, bad = parse_dates(one, "%Y-%m-%d %H:%M %z")
    assert parsed.tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03")]
    raw = _tx(order_date=["2024-01-02T10:00:00+01:00", "2024-07-02T10:00:00+02:00", "2024-03-04"])
    assert check_table(raw, SPECS["transactions"], OPTIONS).rows_quarantined == 0


# --- messages when every row of a table is quarantined -----------------------------------


def _empty_table_summary(table: str = "contacts") -> dict:
    return {
        "failed_expectations": [
            {"table": table, "expectation": "expect_table_row_count_to_be_between",
             "column": "", "observed": "0"},
            {"table": "transactions", "expectation": "expect_column_max_to_be_between",
             "column": "order_date", "observed": "2030-01-01"},
        ],
        "tables": {
            table: {
                "source": "exports/c.csv", "rows_in": 3, "rows_accepted": 0,
                "reasons": {"bad_date": 1, "unknown_customer": 2},
                "top_reasons": [
                    {"reason": "unknown_customer", "column": "customer_id", "rows": 2},
                    {"reason": "bad_date", "column": "contact_date", "rows": 1},
                ],
            },
            "transactions": {"source": "t.csv", "rows_in": 5, "rows_accepted": 5, "reasons": {}},
        },
    }


def test_failure_message_explains_an_empty_table_by_its_quarantine_reasons():
    from pathlib import Path

    from pipeline.validation.run import failure_message

    message = failure_message(_empty_table_summary(), Path("r/index.html"))
    assert message.startswith(
        "exports/c.csv: all 3 contacts rows were quarantined, none accepted "
        "(2 unknown_customer in customer_id, 1 bad_date in contact_date); unknown_customer: "
        "the customer_id is not in the accepted customers table; see r/index.html"
    )
    assert "contacts: null" in message  # an optional table can be skipped
    assert "expect_table_row_count_to_be_between" not in message
    # the other table's failure is still reported, with the usual advice
    assert "fails 1 expectation(s): transactions: expect_column_max_to_be_between" in message


def test_all_quarantined_message_counts_the_reasons_it_does_not_name():
    from pathlib import Path

    from pipeline.validation.run import all_quarantined_message

    summary = {
        "tables": {
            "transactions": {
                "source": "t.csv", "rows_in": 20, "rows_accepted": 0, "rows_quarantined": 20,
                "reasons": {"future_date": 10, "null_id": 4, "bad_date": 3, "bad_amount": 2,
                            "duplicate_row": 1},
                "top_reasons": [
                    {"reason": "future_date", "column": "order_date", "rows": 10},
                    {"reason": "null_id", "column": "customer_id", "rows": 4},
                    {"reason": "bad_date", "column": "order_date", "rows": 3},
                    {"reason": "bad_amount", "column": "amount", "rows": 2},
                    {"reason": "duplicate_row", "column": "(all columns)", "rows": 1},
                ],
            }
        }
    }
    message = all_quarantined_message(summary, "transactions", Path("q.csv"))
    assert (
        "(10 future_date in order_date, 4 null_id in customer_id, 3 bad_date in order_date, "
        "3 more in other reasons); future_date:"
    ) in message


# --- ids trimmed, look-alike ids reported, amounts in range, contacts kept -------------------


def test_ids_are_compared_after_trimming_surrounding_whitespace() -> None:
    raw = _tx(
        customer_id=[" C001 ", "C001", "\tC002"],
        order_id=["O1", "O1 ", "O2"],
        order_date=["2024-01-02", "2024-01-02", "2024-02-03"],
        amount=["10.5", "10.5", "7"],
        quantity=["1", "1", "3"],
    )
    result = check_table(raw, SPECS["transactions"], OPTIONS)
    # the second row repeats the first once ids are trimmed; every other value is compared as is
    _only_reason(result, "duplicate_row", ALL_COLUMNS, 2)
    assert result.accepted["customer_id"].tolist() == ["C001", "C002"]
    assert result.quarantine["customer_id"].tolist() == ["C001"]  # the original text kept
    customers = check_table(
        _text(customer_id=["0042", " 0042", "0042a"], region=["n", "s", "n"]),
        SPECS["customers"],
        OPTIONS,
    )
    _only_reason(customers, "duplicate_key", "customer_id", 2)
    assert customers.accepted["customer_id"].tolist() == ["0042", "0042a"]  # zeros, case kept


def _lookalike_tables():
    customers = _text(
        customer_id=["C001", "c001", "C002", "C002\u200b", "\ufeffC003", "C004"],
        region=["n", "n", "s", "s", "e", "w"],
    )
    tx = _tx(
        customer_id=["C001", "C003", "C004\u00a0"],
        order_date=["2024-01-02", "2024-02-03", "2024-03-04"],
    )
    return {"customers": customers, "transactions": tx}


def test_ids_that_differ_only_by_case_or_invisible_characters_are_kept_and_reported() -> None:
    from pipeline.validation.ids import collision_warnings, id_collisions

    raws = _lookalike_tables()
    results = check_tables(raws, {t: OPTIONS for t in raws})
    # kept as written: five customers, not merged; "C003" and "C004\xa0" are not in customers
    assert results["customers"].accepted["customer_id"].tolist() == raws["customers"][
        "customer_id"
    ].tolist()
    assert results["transactions"].reasons == {"unknown_customer": 2}

    found = id_collisions(results)
    assert set(found) == {"customer_id"}
    c = found["customer_id"]
    assert (c["groups"], c["ids"], c["rows"]) == (4, 8, 9)
    assert c["by_kind"] == {"case": 1, "invisible": 3}
    groups = {tuple(m["id"] for m in e["ids"]): e for e in c["examples"]}
    assert groups[("C001", "c001")]["kinds"] == ["case"]
    assert groups[("C001", "c001")]["ids"][0]["rows"] == {
        "customers.customer_id": 1,
        "transactions.customer_id": 1,
    }
    assert groups[("C002", "C002\u200b")]["kinds"] == ["invisible"]
    assert [m["shown"] for m in groups[("C002", "C002\u200b")]["ids"]] == ["C002", "C002\\u200b"]
    # the rows refused as unknown_customer are what the look-alike explains
    assert groups[("C003", "\ufeffC003")]["ids"][0]["rows"] == {"transactions.customer_id": 1}
    assert [m["shown"] for m in groups[("C004", "C004\u00a0")]["ids"]] == ["C004", "C004\\u00a0"]
    (line,) = collision_warnings(found)
    assert line.startswith(
        "customer_id: 4 group(s) of ids differ only by case or invisible characters (8 ids, "
        "9 rows), kept as separate ids: "
    )
    assert "'C002' / 'C002\\u200b' (invisible)" in line


def test_distinct_ids_are_no_collision() -> None:
    from pipeline.validation.ids import id_collisions, lookalike_key

    raws = {"transactions": _tx(customer_id=["C001", "C 001", "C0001"])}
    assert id_collisions(check_tables(raws, {"transactions": OPTIONS})) == {}
    assert lookalike_key("\uff23001") == lookalike_key("c001")  # full-width C


@pytest.mark.parametrize("amount", ["1e308", "inf", "-Infinity", "1e309", "-2e12", "1000000000001"])
def test_amount_beyond_the_limit_or_infinite_is_out_of_range(amount) -> None:
    result = check_table(_tx(amount=["1", "1e12", amount]), SPECS["transactions"], OPTIONS)
    _only_reason(result, "amount_out_of_range", "amount", 3)
    assert result.rows_in == 3 == result.rows_accepted + result.rows_quarantined
    assert result.accepted["amount"].tolist() == [1.0, 1e12]  # the limit itself is accepted
    assert result.quarantine["amount"].tolist() == [amount]
    assert result.parse_failures == []  # not "unparseable": no format hint


def test_amount_limit_is_configurable_and_applies_to_typed_parquet_amounts() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "order_date": pd.to_datetime(["2024-01-02"] * 4),
            "amount": [50.0, -150.0, np.inf, np.nan],
        }
    )
    options = CheckOptions(reference_date=REF, max_abs_amount=100)
    result = check_table(raw, SPECS["transactions"], options)
    assert result.reasons == {"bad_amount": 1, "amount_out_of_range": 2}
    assert result.quarantine["source_row"].tolist() == [2, 3, 4]
    assert result.rows_in == result.rows_accepted + result.rows_quarantined == 4


def _two_calls():
    return _text(
        customer_id=["C001", "C001", "C002"],
        contact_date=["2024-01-02", "2024-01-02", "2024-01-02"],
        channel=["call", "call", "call"],
    )


def test_two_identical_contacts_on_one_day_are_both_accepted() -> None:
    result = check_table(_two_calls(), SPECS["contacts"], OPTIONS)
    assert result.rows_quarantined == 0
    assert result.accepted["customer_id"].tolist() == ["C001", "C001", "C002"]


def test_contacts_dedupe_exact_rows_and_transactions_dedupe_none_when_configured() -> None:
    from pipeline.config.data import DataConfig
    from pipeline.validation.run import check_options

    config = DataConfig.model_validate({
        "transactions": {"path": "t.csv", "dedupe": "none"},
        "contacts": {"path": "c.csv", "dedupe": "exact_rows"},
        "max_abs_amount": 5e6,
    })
    reference = dt.date(2026, 10, 31)
    contacts = check_table(
        _two_calls(), SPECS["contacts"], check_options(config, config.contacts, reference)
    )
    _only_reason(contacts, "duplicate_row", ALL_COLUMNS, 2)
    tx_options = check_options(config, config.transactions, reference)
    assert tx_options.max_abs_amount == 5e6
    doubled = _tx(customer_id=["C001"] * 3, order_id=["O1"] * 3, amount=["1"] * 3,
                  order_date=["2024-01-02"] * 3, quantity=["1"] * 3)
    assert check_table(doubled, SPECS["transactions"], tx_options).rows_quarantined == 0
    assert check_table(doubled, SPECS["transactions"], OPTIONS).reasons == {"duplicate_row": 2}
    with pytest.raises(ValueError, match="dedupe"):
        DataConfig.model_validate({"transactions": {"path": "t.csv", "dedupe": "rows"}})

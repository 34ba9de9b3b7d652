"""The CRM bulk paths (binary COPY on PostgreSQL, pre-converted executemany on SQLite, the
current-state upsert) keep every value as SQLAlchemy's types store it: missing values of each
kind, dates with a time of day, flags held as objects, text with tabs, newlines and backslashes.

PostgreSQL comes from KEYACCOUNTS_TEST_PG_URL, as in test_crm.py.
"""

import os
import uuid
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from pipeline.publishing import crm

PG_ENV = "KEYACCOUNTS_TEST_PG_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """(url, tables) of a fresh set of CRM tables, dropped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.db'}"
    else:
        url = os.environ.get(PG_ENV)
        if not url:
            if os.environ.get("CI"):
                pytest.fail(f"{PG_ENV} is not set: CI must start PostgreSQL (see .ci/run)")
            pytest.skip(f"no PostgreSQL: set {PG_ENV} (as .ci/run does) to run these")
    suffix = uuid.uuid4().hex[:8]
    tables = crm.CrmTables.named(f"bulk_s_{suffix}", f"bulk_c_{suffix}", f"bulk_r_{suffix}")
    yield url, tables
    engine = sa.create_engine(url)
    tables.metadata.drop_all(engine, checkfirst=True)
    engine.dispose()


WRITTEN = datetime(2026, 7, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)
TEXT = "tab\there\nnew line \\N \"quoted\" é"


def tricky(as_of: str, ids: list[str]) -> pd.DataFrame:
    """Three customers (given in reverse key order) with a missing value of every kind."""
    return pd.DataFrame({
        "customer_id": ids, "as_of": pd.Timestamp(as_of), "horizon_days": 365,
        "rank": pd.array([1, None, 3], dtype="Int64"), "tier": ["strategic", "key", "growth"],
        "previous_tier": pd.Series(["key", None, np.nan], dtype=object),
        "change": pd.Series(["kept", "new", "new"], dtype="str"), "region": ["N", "S", "N"],
        "manager_id": pd.Series(["M1", 17, None], dtype=object),
        "kept_manager": pd.Series([True, None, np.False_], dtype=object),
        "expected_value": [1 / 3, np.nan, 1e300],
        "churn_probability": pd.array([0.25, None, 0.5], dtype="Float64"),
        "value_at_risk": [0.0, -1.5, 2.0], "retention_flag": [True, False, True],
        "last_order_date": pd.to_datetime(["2026-01-01 13:45", None, "2020-02-29"],
                                          format="ISO8601"),
        "last_contact_date": pd.NaT,
        "reasons": pd.Series([TEXT, "", None], dtype="str"), "tier_reason": ["a", "b", "c"],
        "value_model_version": "3", "value_run_id": "r-value",
        "churn_model_version": "4", "churn_run_id": "r-churn",
        "manager_gain": [-12.5, np.nan, 3e4], "manager_gain_lower": [-40.0, np.nan, 1e4],
        "manager_gain_upper": [10.0, np.nan, 5e4], "manager_propensity": [0.2, 0.01, 0.9],
        "in_overlap": pd.Series([True, False, None], dtype=object),
        "manager_gain_note": pd.Series(["", TEXT, None], dtype="str"),
    })


def publish(frame: pd.DataFrame, url: str, tables: crm.CrmTables) -> None:
    run = crm.new_run(frame, run_id=uuid.uuid4().hex, started_at=WRITTEN)
    engine = crm.make_engine(url, 5)
    try:
        crm.write_run(crm.crm_frame(frame, run, WRITTEN), run, engine, tables)
    finally:
        engine.dispose()


def read(url: str, table: sa.Table) -> pd.DataFrame:
    engine = sa.create_engine(url)
    try:
        return crm.read_table(engine, table).set_index("customer_id")
    finally:
        engine.dispose()


def _day(value) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def check_rows(rows: pd.DataFrame, as_of: date) -> None:
    assert list(rows.index) == ["C1", "C2", "C3"]
    c1, c2, c3 = (rows.loc[c] for c in ("C3", "C2", "C1"))  # the frame's 1st, 2nd, 3rd row
    assert {_day(r["as_of"]) for r in (c1, c2, c3)} == {as_of}
    assert c1["rank"] == 1 and pd.isna(c2["rank"]) and c3["rank"] == 3
    assert c1["previous_tier"] == "key" and pd.isna(c2["previous_tier"])
    assert pd.isna(c3["previous_tier"])
    assert (c1["manager_id"], c2["manager_id"]) == ("M1", "17") and pd.isna(c3["manager_id"])
    assert [c1["kept_manager"], c3["kept_manager"]] == [True, False]
    assert pd.isna(c2["kept_manager"])
    assert c1["expected_value"] == 1 / 3 and pd.isna(c2["expected_value"])
    assert c3["expected_value"] == 1e300
    assert c1["churn_probability"] == 0.25 and pd.isna(c2["churn_probability"])
    assert [bool(r["retention_flag"]) for r in (c1, c2, c3)] == [True, False, True]
    assert [_day(r["last_order_date"]) for r in (c1, c2, c3)] == [
        date(2026, 1, 1), None, date(2020, 2, 29)]  # the time of day is dropped
    assert all(_day(r["last_contact_date"]) is None for r in (c1, c2, c3))
    assert (c1["reasons"], c2["reasons"]) == (TEXT, "") and pd.isna(c3["reasons"])
    assert (c1["manager_gain"], c3["manager_gain_upper"]) == (-12.5, 5e4)
    assert pd.isna(c2["manager_gain"]) and c2["manager_propensity"] == 0.01
    assert [c1["in_overlap"], c2["in_overlap"]] == [True, False] and pd.isna(c3["in_overlap"])
    assert (c1["manager_gain_note"], c2["manager_gain_note"]) == ("", TEXT)
    assert pd.Timestamp(c1["written_at"]).replace(tzinfo=None) == WRITTEN.replace(tzinfo=None)


def nulls(url: str, table: sa.Table) -> dict[str, list[str]]:
    """column -> the customers whose value is SQL NULL (not NaN, not 'None', not '')."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return {c.name: sorted(connection.execute(
                sa.select(table.c.customer_id).where(c.is_(None))).scalars())
                for c in table.columns}
    finally:
        engine.dispose()


def test_every_kind_of_value_round_trips(database):
    url, tables = database
    publish(tricky("2026-06-30", ["C3", "C2", "C1"]), url, tables)
    check_rows(read(url, tables.scores), date(2026, 6, 30))
    check_rows(read(url, tables.current), date(2026, 6, 30))
    found = {c: ids for c, ids in nulls(url, tables.scores).items() if ids}
    assert found == {"rank": ["C2"], "previous_tier": ["C1", "C2"], "manager_id": ["C1"],
                     "kept_manager": ["C2"], "expected_value": ["C2"],
                     "churn_probability": ["C2"], "last_order_date": ["C2"],
                     "last_contact_date": ["C1", "C2", "C3"], "reasons": ["C1"],
                     "manager_gain": ["C2"], "manager_gain_lower": ["C2"],
                     "manager_gain_upper": ["C2"], "in_overlap": ["C1"],
                     "manager_gain_note": ["C1"]}


def test_the_current_upsert_replaces_every_column(database):
    url, tables = database
    first = tricky("2026-06-30", ["C3", "C2", "C1"])
    first["reasons"], first["expected_value"] = "old", 5.0
    publish(first, url, tables)
    publish(tricky("2026-07-31", ["C3", "C2", "C1"]), url, tables)
    current = read(url, tables.current)
    check_rows(current, date(2026, 7, 31))
    assert current["active"].all() and current["inactive_since"].isna().all()
    assert len(read(url, tables.scores)) == 6

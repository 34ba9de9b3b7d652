"""The CRM tables on SQLite and on PostgreSQL: history per as-of, current state, run log, one
transaction per run, serialised writers, retries and errors that hide the password.

PostgreSQL comes from the environment variable KEYACCOUNTS_TEST_PG_URL (`.ci/run` installs and
starts a server and sets it). In CI (CI=true) a missing server is a failure, not a skip.
"""

import os
import threading
import uuid
from datetime import datetime, timezone

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from pipeline.errors import CrmUnavailable, DataError
from pipeline.publishing import crm

PG_ENV = "KEYACCOUNTS_TEST_PG_URL"


def _pg_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set: CI must start PostgreSQL (see .ci/run)")
        pytest.skip(f"no PostgreSQL: set {PG_ENV} (as .ci/run does) to run these")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """(url, tables) of a fresh set of CRM tables; PostgreSQL tables are dropped afterwards."""
    url = f"sqlite:///{tmp_path / 'crm.db'}" if request.param == "sqlite" else _pg_url()
    suffix = uuid.uuid4().hex[:8]
    tables = crm.CrmTables.named(f"scores_{suffix}", f"current_{suffix}", f"runs_{suffix}")
    yield url, tables
    engine = sa.create_engine(url)
    tables.metadata.drop_all(engine, checkfirst=True)
    engine.dispose()


def tiers(as_of: str, ids=("C001", "C002", "C003"), value: float = 100.0) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({
        "customer_id": list(ids), "as_of": pd.Timestamp(as_of), "horizon_days": 365,
        "rank": range(1, n + 1), "tier": ["strategic"] + ["key"] * (n - 1),
        "previous_tier": [None] * n, "change": ["new"] * n, "region": ["N"] * n,
        "manager_id": ["M1"] + [None] * (n - 1), "kept_manager": [False] * n,
        "expected_value": [value * (n - i) for i in range(n)],
        "churn_probability": [0.1] * n, "value_at_risk": [5.0] * n,
        "retention_flag": [False] * n, "last_order_date": pd.Timestamp(as_of),
        "last_contact_date": pd.NaT, "reasons": ["Value up: 12 orders in the last 90 days."] * n,
        "tier_reason": ["entered"] * n, "value_model_version": "3", "value_run_id": "r-value",
        "churn_model_version": "4", "churn_run_id": "r-churn",
    })


def publish(frame, url, tables, **options):
    run = crm.new_run(frame)
    engine = crm.make_engine(url, options.pop("lock_timeout_seconds", 5))
    try:
        return run, crm.write_run(crm.crm_frame(frame, run, datetime.now(timezone.utc)), run,
                                  engine, tables, shown_url="the test CRM", **options)
    finally:
        engine.dispose()


def read(url, table, order_by=("customer_id",)):
    engine = sa.create_engine(url)
    try:
        return crm.read_table(engine, table, order_by)
    finally:
        engine.dispose()


_VOLATILE = ["scoring_run_id", "written_at"]


def test_history_current_and_run_log(database):
    url, tables = database
    run, result = publish(tiers("2026-06-30"), url, tables)
    assert result.rows_written == 3 and result.current_updated
    history, current = read(url, tables.scores), read(url, tables.current)
    assert list(history["customer_id"]) == ["C001", "C002", "C003"]
    assert current["active"].all() and current["inactive_since"].isna().all()
    assert history.loc[0, "value_run_id"] == "r-value" and history.loc[0, "churn_run_id"] == "r-churn"
    assert pd.Timestamp(history.loc[0, "as_of"]) == pd.Timestamp("2026-06-30")
    log = read(url, tables.runs, ("scoring_run_id",))
    assert log.loc[0, "status"] == "succeeded" and log.loc[0, "rows_written"] == 3
    assert log.loc[0, "scoring_run_id"] == run.scoring_run_id
    assert log.loc[0, "finished_at"] >= log.loc[0, "started_at"]


def test_rerunning_an_as_of_leaves_the_same_tables(database):
    url, tables = database
    publish(tiers("2026-06-30"), url, tables)
    first = [read(url, t).drop(columns=_VOLATILE) for t in (tables.scores, tables.current)]
    publish(tiers("2026-06-30"), url, tables)
    again = [read(url, t).drop(columns=_VOLATILE) for t in (tables.scores, tables.current)]
    for before, after in zip(first, again):
        pd.testing.assert_frame_equal(before, after)
    assert len(read(url, tables.runs, ("scoring_run_id",))) == 2


def test_absent_customers_are_marked_inactive_and_come_back(database):
    url, tables = database
    publish(tiers("2026-06-30"), url, tables)
    publish(tiers("2026-07-31", ids=("C001", "C002")), url, tables)
    current = read(url, tables.current).set_index("customer_id")
    assert current["active"].to_dict() == {"C001": True, "C002": True, "C003": False}
    assert pd.Timestamp(current.loc["C003", "inactive_since"]) == pd.Timestamp("2026-07-31")
    assert pd.Timestamp(current.loc["C003", "as_of"]) == pd.Timestamp("2026-06-30")  # its last row
    log = read(url, tables.runs, ("started_at",))
    assert log["customers_inactivated"].tolist() == [0, 1]
    publish(tiers("2026-08-31"), url, tables)
    current = read(url, tables.current).set_index("customer_id")
    assert current["active"].all() and current["inactive_since"].isna().all()


def test_an_older_as_of_never_overwrites_the_current_state(database):
    url, tables = database
    publish(tiers("2026-07-31", value=200.0), url, tables)
    before = read(url, tables.current)
    _, result = publish(tiers("2026-06-30", ids=("C001",), value=1.0), url, tables)
    assert not result.current_updated
    pd.testing.assert_frame_equal(read(url, tables.current), before)
    history = read(url, tables.scores, ("as_of", "customer_id"))
    assert sorted(pd.to_datetime(history["as_of"]).dt.strftime("%m").unique()) == ["06", "07"]


def test_a_failure_mid_write_leaves_the_crm_as_it_was(database, monkeypatch):
    url, tables = database
    publish(tiers("2026-06-30"), url, tables)
    before = [read(url, t) for t in (tables.scores, tables.current)]
    real = crm._bulk_insert

    def insert_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(crm, "_bulk_insert", insert_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        publish(tiers("2026-07-31", ids=("C009",)), url, tables)
    for frame, table in zip(before, (tables.scores, tables.current)):
        pd.testing.assert_frame_equal(read(url, table), frame)
    log = read(url, tables.runs, ("started_at",))
    assert log["status"].tolist() == ["succeeded", "failed"]
    assert "disk full" in log["message"].iloc[-1]


def test_transient_errors_are_retried(database, monkeypatch):
    url, tables = database
    real, calls = crm._replace, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real(*args, **kwargs)

    monkeypatch.setattr(crm, "_replace", flaky)
    _, result = publish(tiers("2026-06-30"), url, tables, retries=2, retry_wait_seconds=0)
    assert result.attempts == 2 and len(read(url, tables.current)) == 3


def test_a_run_holding_the_lock_makes_the_next_wait_then_give_up_clearly(database):
    url, tables = database
    publish(tiers("2026-06-30"), url, tables)
    holder = crm.make_engine(url, 5)
    with holder.begin() as connection:  # another run in the middle of its transaction
        crm._lock(connection)
        connection.execute(tables.runs.update().values(message="busy"))
        with pytest.raises(CrmUnavailable, match="unavailable after 2 attempt.*another run"):
            publish(tiers("2026-07-31"), url, tables, lock_timeout_seconds=0.5, retries=1,
                    retry_wait_seconds=0)
    holder.dispose()
    current = read(url, tables.current)
    assert set(pd.to_datetime(current["as_of"])) == {pd.Timestamp("2026-06-30")}


def test_concurrent_runs_are_serialised(database):
    url, tables = database
    errors = []

    def run(as_of):
        try:
            publish(tiers(as_of), url, tables, lock_timeout_seconds=20, retry_wait_seconds=0.2)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(d,)) for d in
               ("2026-06-30", "2026-07-31", "2026-08-31", "2026-09-30")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(read(url, tables.scores, ("as_of", "customer_id"))) == 12
    current = read(url, tables.current)
    assert set(pd.to_datetime(current["as_of"])) == {pd.Timestamp("2026-09-30")}
    assert read(url, tables.runs, ("started_at",))["status"].eq("succeeded").all()


def test_an_unreachable_server_is_crm_unavailable_without_the_password(tmp_path):
    tables = crm.CrmTables.named("s", "c", "r")
    url = "postgresql+psycopg://keyaccounts:hunter2-secret@127.0.0.1:1/crm"
    with pytest.raises(CrmUnavailable) as caught:
        publish(tiers("2026-06-30"), url, tables, lock_timeout_seconds=1, retries=1,
                retry_wait_seconds=0)
    assert "hunter2-secret" not in str(caught.value)


def test_rows_of_two_as_ofs_are_refused():
    frame = pd.concat([tiers("2026-06-30"), tiers("2026-07-31", ids=("C009",))])
    with pytest.raises(DataError, match="2 as-of dates"):
        crm.new_run(frame)


def test_a_customer_twice_is_refused():
    frame = tiers("2026-06-30", ids=("C001", "C001"))
    with pytest.raises(DataError, match="customer twice"):
        crm.crm_frame(frame, crm.new_run(frame), datetime.now(timezone.utc))

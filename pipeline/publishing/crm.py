"""The CRM tables (SQLAlchemy 2; SQLite by default, PostgreSQL for real), written once per run.

Three tables, declared once here (`CRM_SCHEMA`), created when missing:

- `customer_scores`: the history, one row per (customer_id, as_of): scores, tier, rank, manager,
  reasons, each model's version and run id, the scoring run id and the write time.
- `current_scores`: the latest as-of per customer, the table the CRM reads. A customer absent
  from the latest run keeps its last row with `active = false` and `inactive_since` = the as-of
  that no longer scored it; it is not left looking current.
- `scoring_runs`: the run log: run id, as-of, model versions, row counts, status (running,
  succeeded, failed), started, finished and the message of a failure.

Schema changes are additive: a table created by an older version lacks the columns added
since (the manager's gain, its interval, the propensity and the overlap flag); `write_run`
adds them (`migrate`: ALTER TABLE ... ADD COLUMN, nullable, so older rows read as null) in
the transaction that creates missing tables, before it writes.

`write_run` is all or nothing: the run log row is written "running" first (its own short
transaction, so a killed run leaves a trace), then ONE transaction replaces the as-of's history
rows, updates `current_scores` (only when the as-of is not older than the current state: an
older as-of is history only) and marks the run "succeeded". A failure rolls all of it back and
marks the run "failed". Concurrent runs are serialised: PostgreSQL takes a transaction-level
advisory lock (waiting at most `lock_timeout_seconds`), SQLite an immediate write lock (the same
wait); a lock still held after that, a dropped connection or a refused one are retried
`retries` times and then raise `CrmUnavailable`, naming the database without its password.
Bulk rows go through binary COPY on PostgreSQL (psycopg) and the driver's executemany on
SQLite, converted column by column; `current_scores` is updated with one INSERT ... ON CONFLICT
DO UPDATE (benchmarks/bench_crm.py times a run of a million customers on both backends).
"""

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from features.contract import AS_OF, CUSTOMER_ID, HORIZON_DAYS, MANAGER_ID, REGION
from models.columns import (
    CHANGE,
    CHURN_PROBABILITY,
    CHURN_RUN_ID,
    CHURN_VERSION,
    EXPECTED_VALUE,
    GAIN_LOWER,
    GAIN_NOTE,
    GAIN_UPPER,
    IN_OVERLAP,
    KEPT_MANAGER,
    LAST_CONTACT_DATE,
    LAST_ORDER_DATE,
    MANAGER_GAIN,
    PREVIOUS_TIER,
    PROPENSITY,
    RANK,
    REASONS,
    RETENTION,
    TIER,
    TIER_REASON,
    VALUE_AT_RISK,
    VALUE_RUN_ID,
    VALUE_VERSION,
)
from pipeline.errors import CrmUnavailable, DataError

__all__ = [
    "ACTIVE", "INACTIVE_SINCE", "SCORING_RUN_ID", "WRITTEN_AT", "SCORE_COLUMNS",
    "CrmTables", "RunRecord", "WriteResult", "crm_frame", "make_engine", "migrate", "new_run",
    "read_table", "record_failed_run", "write_run",
]

SCORING_RUN_ID, WRITTEN_AT = "scoring_run_id", "written_at"
ACTIVE, INACTIVE_SINCE = "active", "inactive_since"
_LOCK_KEY = 7_274_032_118  # the advisory lock every keyaccounts run takes on PostgreSQL
_SQLITE_CACHE_KIB = 131_072  # SQLite page cache of a CRM connection, at most 128 MiB

# column -> SQL type of a scored row, in the order of the tables
SCORE_COLUMNS: dict[str, sa.types.TypeEngine] = {
    CUSTOMER_ID: sa.String(200), AS_OF: sa.Date(), HORIZON_DAYS: sa.Integer(),
    RANK: sa.Integer(), TIER: sa.String(64), PREVIOUS_TIER: sa.String(64),
    CHANGE: sa.String(32), REGION: sa.String(200), MANAGER_ID: sa.String(200),
    KEPT_MANAGER: sa.Boolean(), EXPECTED_VALUE: sa.Float(), CHURN_PROBABILITY: sa.Float(),
    VALUE_AT_RISK: sa.Float(), RETENTION: sa.Boolean(), LAST_ORDER_DATE: sa.Date(),
    LAST_CONTACT_DATE: sa.Date(), REASONS: sa.Text(), TIER_REASON: sa.Text(),
    VALUE_VERSION: sa.String(64), VALUE_RUN_ID: sa.String(64),
    CHURN_VERSION: sa.String(64), CHURN_RUN_ID: sa.String(64),
    SCORING_RUN_ID: sa.String(64), WRITTEN_AT: sa.DateTime(timezone=True),
    # the manager's effect (models.manager_effect): added after the first version (`migrate`)
    MANAGER_GAIN: sa.Float(), GAIN_LOWER: sa.Float(), GAIN_UPPER: sa.Float(),
    PROPENSITY: sa.Float(), IN_OVERLAP: sa.Boolean(), GAIN_NOTE: sa.Text(),
}
_RUN_COLUMNS: dict[str, sa.types.TypeEngine] = {
    SCORING_RUN_ID: sa.String(64), AS_OF: sa.Date(), HORIZON_DAYS: sa.Integer(),
    VALUE_VERSION: sa.String(64), VALUE_RUN_ID: sa.String(64),
    CHURN_VERSION: sa.String(64), CHURN_RUN_ID: sa.String(64),
    "rows_scored": sa.Integer(), "rows_written": sa.Integer(), "current_updated": sa.Boolean(),
    "customers_inactivated": sa.Integer(), "status": sa.String(16),
    "started_at": sa.DateTime(timezone=True), "finished_at": sa.DateTime(timezone=True),
    "message": sa.Text(),
}
_STAMPS = (VALUE_VERSION, VALUE_RUN_ID, CHURN_VERSION, CHURN_RUN_ID)


@dataclass(frozen=True)
class CrmTables:
    """The three tables of one CRM database (names from configs/tiers.yaml publish.crm.tables)."""

    metadata: sa.MetaData
    scores: sa.Table
    current: sa.Table
    runs: sa.Table

    @classmethod
    def named(cls, scores: str, current: str, runs: str) -> "CrmTables":
        """The CRM schema under these table names."""
        metadata = sa.MetaData()

        def columns(spec, keys):
            return [sa.Column(name, kind, primary_key=name in keys, nullable=name not in keys)
                    for name, kind in spec.items()]

        scores_table = sa.Table(scores, metadata, *columns(SCORE_COLUMNS, {CUSTOMER_ID, AS_OF}))
        current_table = sa.Table(
            current, metadata, *columns(SCORE_COLUMNS, {CUSTOMER_ID}),
            sa.Column(ACTIVE, sa.Boolean(), nullable=False),
            sa.Column(INACTIVE_SINCE, sa.Date(), nullable=True))
        runs_table = sa.Table(runs, metadata, *columns(_RUN_COLUMNS, {SCORING_RUN_ID}))
        sa.Index(f"ix_{scores}_as_of", scores_table.c[AS_OF])
        return cls(metadata, scores_table, current_table, runs_table)


@dataclass
class RunRecord:
    """One scoring run as the run log records it."""

    scoring_run_id: str
    as_of: date
    horizon_days: int
    stamps: dict[str, str]
    rows_scored: int
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass(frozen=True)
class WriteResult:
    """What `write_run` did."""

    rows_written: int
    current_updated: bool
    customers_inactivated: int
    attempts: int


def new_run(frame: pd.DataFrame, run_id: str | None = None,
            started_at: datetime | None = None) -> RunRecord:
    """The run record of the scored rows `frame` (one as-of, one horizon; stamps from its
    model version and run id columns); a fresh run id unless given."""
    as_ofs = pd.to_datetime(frame[AS_OF]).dt.normalize().unique()
    if len(as_ofs) != 1:
        raise DataError(f"the rows to publish hold {len(as_ofs)} as-of dates; one run is one "
                        "as-of: re-run `keyaccounts score` and `keyaccounts tier`")
    stamps = {c: str(frame[c].iloc[0]) if c in frame and len(frame) else "" for c in _STAMPS}
    return RunRecord(run_id or uuid.uuid4().hex, pd.Timestamp(as_ofs[0]).date(),
                     int(frame[HORIZON_DAYS].iloc[0]), stamps, len(frame),
                     started_at or datetime.now(timezone.utc))


def crm_frame(tiers: pd.DataFrame, run: RunRecord, written_at: datetime) -> pd.DataFrame:
    """The rows of `customer_scores` for the tier stage's `tiers` (columns of SCORE_COLUMNS;
    optional ones missing from `tiers` are null), stamped with the run id and write time."""
    out = tiers.reindex(columns=list(SCORE_COLUMNS)).copy()
    out[SCORING_RUN_ID], out[WRITTEN_AT] = run.scoring_run_id, written_at
    out[CUSTOMER_ID] = tiers[CUSTOMER_ID].astype(str).to_numpy()
    if out[CUSTOMER_ID].duplicated().any():
        raise DataError("the rows to publish hold a customer twice: re-run `keyaccounts tier`")
    return out


def make_engine(url: str, lock_timeout_seconds: float) -> Engine:
    """An engine whose transactions take the write lock when they begin (SQLite: BEGIN
    IMMEDIATE, waiting up to the timeout; PostgreSQL: a lock_timeout for the advisory lock)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": lock_timeout_seconds})

        @event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_connection, _record):  # pysqlite's own BEGIN is deferred
            dbapi_connection.isolation_level = None
            # a page cache that holds the indexes a million-row run probes (default: 2 MiB)
            dbapi_connection.execute(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    args = {"connect_timeout": int(max(1, lock_timeout_seconds))}
    if parsed.get_backend_name() == "postgresql":
        args["options"] = f"-c lock_timeout={int(lock_timeout_seconds * 1000)}"
    return sa.create_engine(url, connect_args=args, pool_pre_ping=True)


def _column_values(series: pd.Series, kind: sa.types.TypeEngine,
                   process: Callable[[object], object] | None = None) -> list:
    """One column of a frame as plain Python values (None for missing) of what its SQL type
    takes, then passed through `process` (a dialect's bind processor, e.g. SQLite's date ->
    text) when given. Dates, times and flags hold few distinct values: each distinct one is
    converted once and the column taken from those (a per-row conversion costs seconds on a
    million rows)."""
    missing = series.isna().to_numpy()
    if isinstance(kind, (sa.Date, sa.DateTime, sa.Boolean)):
        if isinstance(kind, sa.Date):
            codes, uniques = pd.factorize(pd.to_datetime(series).dt.normalize())
            distinct = [stamp.date() for stamp in uniques]
        elif isinstance(kind, sa.DateTime):
            codes, uniques = pd.factorize(pd.to_datetime(series, utc=True))
            distinct = [stamp.to_pydatetime() for stamp in uniques]
        else:
            codes, uniques = pd.factorize(series)
            distinct = [bool(flag) for flag in uniques]
        if process is not None:
            distinct = [process(value) for value in distinct]
        values = np.array([*distinct, None], dtype=object)[codes]  # code -1 (missing): None
    else:
        if isinstance(kind, sa.Integer):
            values = series.astype("Int64").to_numpy(dtype=object, na_value=None)
        elif isinstance(kind, sa.Float):
            values = series.astype(float).to_numpy().astype(object)
        elif isinstance(series.dtype, pd.StringDtype):  # text already
            values = series.to_numpy(dtype=object, na_value=None)
        else:
            values = series.astype(object).map(str, na_action="ignore").to_numpy()
        if process is not None:
            values = np.frompyfunc(process, 1, 1)(values)
    if missing.any():
        values = np.where(missing, None, values)
    return values.tolist()


def _python_columns(frame: pd.DataFrame, spec: dict[str, sa.types.TypeEngine],
                    dialect: sa.Dialect | None = None) -> list[list]:
    """The columns of `frame` as lists of plain Python values (None for missing), in the order
    of `spec`, converted to what the column's SQL type takes; with `dialect`, to what its
    driver takes (the type's bind processor applied, as SQLAlchemy would per row)."""
    columns = []
    for name, kind in spec.items():
        process = None
        if dialect is not None:
            process = kind.dialect_impl(dialect).bind_processor(dialect)
        columns.append(_column_values(frame[name], kind, process))
    return columns


def _bulk_insert(connection: Connection, table: sa.Table, frame: pd.DataFrame,
                 chunk: int = 100_000) -> int:
    """Insert every row of `frame` into `table`, in key order (index pages then fill in order
    instead of at random) and converted `chunk` rows at a time (bounded memory). PostgreSQL
    with psycopg: binary COPY typed by the table's own column types (a tenth of the client
    work of text COPY); SQLite: the driver's executemany of tuples already converted as
    SQLAlchemy's types store them (dates as text, flags as 0/1), which skips SQLAlchemy's
    per-row parameter handling; elsewhere SQLAlchemy's executemany."""
    spec = {c.name: c.type for c in table.columns}
    keys = [c.name for c in table.primary_key.columns]  # customer_id first; one as-of a run
    order = (frame[keys[0]].argsort(kind="stable").to_numpy() if keys
             else np.arange(len(frame)))
    dialect = connection.dialect
    quote = dialect.identifier_preparer
    name, columns = quote.format_table(table), ", ".join(quote.quote(c) for c in spec)
    parts = (frame.iloc[order[start:start + chunk]] for start in range(0, len(frame), chunk))
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        types = dict(connection.execute(sa.text(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = CAST(:name AS regclass)"
            " AND attnum > 0 AND NOT attisdropped"), {"name": name}).all())
        missing = [c for c in spec if c not in types]
        if missing:
            raise DataError(f"CRM table {name} has no column {', '.join(missing)}: a table "
                            "created by an older version needs migrating (see README 'The "
                            "CRM tables')")
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {name} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([types[c] for c in spec])
            for part in parts:
                for row in zip(*_python_columns(part, spec)):
                    copy.write_row(row)
        return len(frame)
    if dialect.name == "sqlite":
        statement = f"INSERT INTO {name} ({columns}) VALUES ({', '.join('?' * len(spec))})"
        for part in parts:
            connection.exec_driver_sql(statement, list(zip(*_python_columns(part, spec, dialect))))
        return len(frame)
    names = list(spec)
    for part in parts:
        connection.execute(table.insert(),
                           [dict(zip(names, r)) for r in zip(*_python_columns(part, spec))])
    return len(frame)


def migrate(connection: Connection, tables: CrmTables) -> list[str]:
    """Add to the existing scores and current tables the columns of the schema they lack (a
    table created by an older version), nullable, so their older rows read as null; returns
    "table.column" of each column added. The names are the schema's own (configured table
    names are checked identifiers), never data."""
    inspector = sa.inspect(connection)
    quote = connection.dialect.identifier_preparer
    added = []
    for table in (tables.scores, tables.current):
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise DataError(f"CRM table {table.name} lacks the key column {column.name}: "
                                "it was not created by keyaccounts; rename it or configure "
                                "publish.crm.tables")
            kind = column.type.compile(dialect=connection.dialect)
            connection.exec_driver_sql(f"ALTER TABLE {quote.format_table(table)} ADD COLUMN "
                                       f"{quote.quote(column.name)} {kind}")
            added.append(f"{table.name}.{column.name}")
    return added


def _lock(connection: Connection) -> None:
    """Serialise keyaccounts runs on this database (SQLite already holds its write lock)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _replace(connection: Connection, tables: CrmTables, frame: pd.DataFrame,
             run: RunRecord) -> WriteResult:
    """The run's writes inside one transaction (see the module docstring)."""
    scores, current, runs = tables.scores, tables.current, tables.runs
    _lock(connection)
    connection.execute(scores.delete().where(scores.c[AS_OF] == run.as_of))
    written = _bulk_insert(connection, scores, frame)
    latest = connection.execute(sa.select(sa.func.max(current.c[AS_OF]))).scalar()
    update_current = latest is None or pd.Timestamp(latest).date() <= run.as_of
    inactivated = 0
    if update_current:
        scored = sa.exists().where(scores.c[CUSTOMER_ID] == current.c[CUSTOMER_ID],
                                   scores.c[AS_OF] == run.as_of)
        inactivated = connection.execute(
            current.update().where(current.c[ACTIVE].is_(True), ~scored)
            .values({ACTIVE: False, INACTIVE_SINCE: run.as_of})).rowcount
        _replace_current(connection, tables, run.as_of)
    connection.execute(runs.update().where(runs.c[SCORING_RUN_ID] == run.scoring_run_id).values(
        rows_written=written, current_updated=update_current,
        customers_inactivated=inactivated, status="succeeded",
        finished_at=datetime.now(timezone.utc), message=None))
    return WriteResult(written, update_current, inactivated, 1)


def _replace_current(connection: Connection, tables: CrmTables, as_of: date) -> None:
    """Make the as-of's history rows the current rows of their customers (active, no
    inactive_since); other customers' rows stay. Into an empty table (the first run) a plain
    INSERT ... SELECT; otherwise, on SQLite and PostgreSQL, one INSERT ... SELECT ... ON
    CONFLICT DO UPDATE, which rewrites an existing row in place (cheaper than deleting it
    from the table and its index and inserting it again); elsewhere DELETE then INSERT."""
    scores, current = tables.scores, tables.current
    names = [*SCORE_COLUMNS, ACTIVE, INACTIVE_SINCE]
    rows = (sa.select(*(scores.c[n] for n in SCORE_COLUMNS), sa.true(), sa.null())
            .where(scores.c[AS_OF] == as_of))
    upsert = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}.get(
        connection.dialect.name)
    if connection.execute(sa.select(current.c[CUSTOMER_ID]).limit(1)).first() is None:
        connection.execute(current.insert().from_select(names, rows))
    elif upsert is None:
        connection.execute(current.delete().where(current.c[CUSTOMER_ID].in_(
            sa.select(scores.c[CUSTOMER_ID]).where(scores.c[AS_OF] == as_of))))
        connection.execute(current.insert().from_select(names, rows))
    else:
        statement = upsert(current).from_select(names, rows)
        connection.execute(statement.on_conflict_do_update(
            index_elements=[current.c[CUSTOMER_ID]],
            set_={n: statement.excluded[n] for n in names if n != CUSTOMER_ID}))


def _transient(error: SQLAlchemyError) -> bool:
    """A locked database, a lock or connect timeout, a dropped or refused connection."""
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return text[0] if text else type(error).__name__


def write_run(frame: pd.DataFrame, run: RunRecord, engine: Engine, tables: CrmTables,
              retries: int = 3, retry_wait_seconds: float = 2.0, shown_url: str = "the CRM",
              sleep: Callable[[float], None] = time.sleep) -> WriteResult:
    """Write one scoring run: the run log row ("running"), then the history rows, the current
    state and the run's "succeeded" in one transaction (see the module docstring). Transient
    errors (locked, timed out, connection lost) are retried `retries` times with a growing wait;
    then `CrmUnavailable`. Any failure leaves the tables as they were and the run "failed"."""
    run_row = {SCORING_RUN_ID: run.scoring_run_id, AS_OF: run.as_of,
               HORIZON_DAYS: run.horizon_days, **run.stamps, "rows_scored": run.rows_scored,
               "status": "running", "started_at": run.started_at}
    last: SQLAlchemyError | None = None
    for attempt in range(1, retries + 2):
        try:
            with engine.begin() as connection:
                _lock(connection)  # two first runs must not both create the tables
                tables.metadata.create_all(connection, checkfirst=True)
                migrate(connection, tables)  # columns added since the tables were created
                connection.execute(tables.runs.delete().where(
                    tables.runs.c[SCORING_RUN_ID] == run.scoring_run_id))
                connection.execute(tables.runs.insert().values(run_row))
            with engine.begin() as connection:
                result = _replace(connection, tables, frame, run)
            return WriteResult(result.rows_written, result.current_updated,
                               result.customers_inactivated, attempt)
        except SQLAlchemyError as error:
            last = error
            if not _transient(error) or attempt > retries:
                break
            sleep(retry_wait_seconds * attempt)
        except BaseException as error:  # a bug or an interrupt: leave the run marked, re-raise
            _mark_failed(engine, tables, run, f"{type(error).__name__}: {_first_line(error)}")
            raise
    assert last is not None
    reason = _first_line(last)
    _mark_failed(engine, tables, run, reason)
    if _transient(last):
        raise CrmUnavailable(
            f"CRM database {shown_url} unavailable after {retries + 1} attempt(s): {reason}. "
            "Nothing was written. If it is locked, another run is writing (wait and re-run); "
            "otherwise check that the server is up and the URL in the environment is right"
        ) from last
    raise DataError(f"CRM database {shown_url}: {type(last).__name__}: {reason}; nothing was "
                    "written. A table created by an older version may need migrating (see "
                    "README 'The CRM tables')") from last


def _mark_failed(engine: Engine, tables: CrmTables, run: RunRecord, message: str) -> None:
    """Record the failure on the run's log row when the database can still be reached."""
    try:
        with engine.begin() as connection:
            connection.execute(tables.runs.update().where(
                tables.runs.c[SCORING_RUN_ID] == run.scoring_run_id).values(
                status="failed", finished_at=datetime.now(timezone.utc), message=message[:2000]))
    except SQLAlchemyError:
        pass  # the database is down: the error raised by write_run says so


def record_failed_run(engine: Engine, tables: CrmTables, run_id: str, as_of: date,
                      started_at: datetime, message: str) -> None:
    """Log a run that failed before publishing (e.g. drift refused) as "failed" with its
    message; the scores and current tables are not touched."""
    with engine.begin() as connection:
        _lock(connection)
        tables.metadata.create_all(connection, checkfirst=True)
        connection.execute(tables.runs.delete().where(tables.runs.c[SCORING_RUN_ID] == run_id))
        connection.execute(tables.runs.insert().values({
            SCORING_RUN_ID: run_id, AS_OF: as_of, "status": "failed", "started_at": started_at,
            "finished_at": datetime.now(timezone.utc), "message": message[:2000]}))


def read_table(engine: Engine, table: sa.Table,
               order_by: Iterable[str] = (CUSTOMER_ID,)) -> pd.DataFrame:
    """A CRM table as a frame (for tests, the benchmark and operators)."""
    with engine.connect() as connection:
        query = sa.select(table).order_by(*(table.c[c] for c in order_by))
        return pd.DataFrame(connection.execute(query).mappings().all(),
                            columns=[c.name for c in table.columns])


"""Upsert the rows into a database table (SQLAlchemy): same customer_id replaced, re-runs
idempotent, every row stamped with the model versions and run id it came from."""

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from features.contract import CUSTOMER_ID
from pipeline.errors import ConfigError, DataError

__all__ = ["upsert_table", "database_url", "crm_rows", "publish_crm"]

_TYPES = {"b": sa.Boolean, "i": sa.BigInteger, "u": sa.BigInteger, "f": sa.Float,
          "M": sa.DateTime}


def _table(name: str, frame: pd.DataFrame, key: str) -> sa.Table:
    columns = [sa.Column(c, _TYPES.get(frame[c].dtype.kind, sa.String), primary_key=c == key)
               for c in frame.columns]
    return sa.Table(name, sa.MetaData(), *columns)


def upsert_table(frame: pd.DataFrame, url: str, table: str, key: str = CUSTOMER_ID,
                 chunk: int = 5000) -> int:
    """Replace the rows of `table` whose `key` is in `frame` by the rows of `frame`, in one
    transaction (delete + insert, portable to any SQLAlchemy database); create the table
    when it does not exist. Rows of other keys are left alone. Returns the rows written."""
    engine = sa.create_engine(url)
    target = _table(table, frame, key)
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    try:
        with engine.begin() as connection:
            target.metadata.create_all(connection, checkfirst=True)
            existing = sa.Table(table, sa.MetaData(), autoload_with=connection)
            missing = [c for c in frame.columns if c not in existing.columns]
            if missing:
                shown = engine.url.render_as_string(hide_password=True)
                raise ValueError(f"table {table!r} at {shown} lacks column(s) {missing}; "
                                 "drop it or set publish.crm_table to a new name")
            keys = frame[key].tolist()
            for start in range(0, len(keys), chunk):
                connection.execute(existing.delete().where(
                    existing.c[key].in_(keys[start:start + chunk])))
            for start in range(0, len(records), chunk):
                connection.execute(existing.insert(), records[start:start + chunk])
    finally:
        engine.dispose()
    return len(records)


def database_url(configured: str | None, default: Path, resolve: Callable[[Path], Path]) -> str:
    """The CRM URL `configured` (publish.crm_url): None means the SQLite file `default`; a
    relative SQLite file is resolved by `resolve` (against the project root) and its folder
    created. Raises sqlalchemy's ArgumentError when `configured` is not a URL."""
    if configured is None:
        return f"sqlite:///{default}"
    url = make_url(configured)
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        database = resolve(Path(url.database))
        database.parent.mkdir(parents=True, exist_ok=True)
        return url.set(database=str(database)).render_as_string(hide_password=False)
    return configured


def crm_rows(rows: pd.DataFrame, tiers: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """The published `rows` plus the stamp columns of `columns` (those not already in `rows`:
    as_of, model versions, run id...) taken from `tiers` by customer_id (missing ones empty)."""
    stamps = [c for c in columns if c not in rows.columns]
    return rows.merge(tiers.reindex(columns=[CUSTOMER_ID, *stamps]), on=CUSTOMER_ID,
                      how="left", validate="one_to_one")


def publish_crm(frame: pd.DataFrame, resolve_url: Callable[[], str], table: str) -> int:
    """Upsert `frame` into `table` at the URL `resolve_url()` returns; a bad URL or database
    error is a `ConfigError` naming publish.crm_url, a table that lacks columns a `DataError`.
    Returns the rows written."""
    try:
        url = resolve_url()
    except ArgumentError as error:
        raise ConfigError(f"publish.crm_url in configs/tiers.yaml is not a database URL: "
                          f"{error}; use e.g. sqlite:///data/publish/crm.db") from error
    if url.startswith("sqlite:///"):
        Path(make_url(url).database).parent.mkdir(parents=True, exist_ok=True)
    try:
        return upsert_table(frame, url, table)
    except ValueError as error:
        raise DataError(str(error)) from error
    except SQLAlchemyError as error:
        shown = make_url(url).render_as_string(hide_password=True)
        raise ConfigError(
            f"CRM table {table} at {shown}: {type(error).__name__}: "
            f"{str(error).splitlines()[0]}; check publish.crm_url in configs/tiers.yaml"
        ) from error

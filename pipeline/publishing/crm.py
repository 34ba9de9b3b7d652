"""Upsert the rows into a database table (SQLAlchemy): same customer_id replaced, re-runs
idempotent, every row stamped with the model versions and run id it came from."""

import pandas as pd
import sqlalchemy as sa

__all__ = ["upsert_table"]

_TYPES = {"b": sa.Boolean, "i": sa.BigInteger, "u": sa.BigInteger, "f": sa.Float,
          "M": sa.DateTime}


def _table(name: str, frame: pd.DataFrame, key: str) -> sa.Table:
    columns = [sa.Column(c, _TYPES.get(frame[c].dtype.kind, sa.String), primary_key=c == key)
               for c in frame.columns]
    return sa.Table(name, sa.MetaData(), *columns)


def upsert_table(frame: pd.DataFrame, url: str, table: str, key: str = "customer_id",
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

"""Faults that real exports have, injected into a clean chunk at a given rate per kind.

Each row gets at most one fault; every kind hits a row with probability `rate`:

- duplicate_row: the row is written twice (the second copy is the defect),
- null_id: customer_id is null,
- bad_date: the date is text that is not a date (e.g. '2024-13-45'),
- bad_amount (transactions): the amount is text (e.g. 'n/a'),
- future_date: the date lies in 2031-2035, after any reference date,
- unknown_customer (contacts): customer_id of no customer in the customers table.

Parquet is typed, so with defects the date and amount columns are written as text, the way
a CSV export carries them: dates as 'YYYY-MM-DD', amounts as decimal text ('258.9').
`inject` returns the faulty frame and one row per defect: (row position in that frame, kind).
"""

import numpy as np
import pandas as pd

from features.contract import AMOUNT, CONTACT_DATE, CONTACTS, CUSTOMER_ID, ORDER_DATE, TRANSACTIONS

__all__ = ["DEFECT_KINDS", "inject"]

DEFECT_KINDS = {
    TRANSACTIONS: ("duplicate_row", "null_id", "bad_date", "bad_amount", "future_date"),
    CONTACTS: ("duplicate_row", "null_id", "bad_date", "future_date", "unknown_customer"),
}
_DATE_COLUMN = {TRANSACTIONS: ORDER_DATE, CONTACTS: CONTACT_DATE}
_BAD_DATES = np.array(["2024-13-45", "31/31/2024", "unknown", "2025-02-30", "20x4-01-01"],
                      dtype=object)
_BAD_AMOUNTS = np.array(["n/a", "abc", "EUR", "12.5.3", "--"], dtype=object)


def inject(frame: pd.DataFrame, table: str, rate: float, rng: np.random.Generator,
           unknown_ids: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (`frame` with faults, dates/amounts as text; defects as row position + kind).

    `unknown_ids` are customer ids that exist nowhere, used for unknown_customer.
    """
    kinds = DEFECT_KINDS[table]
    n = len(frame)
    draw = np.floor(rng.random(n) / rate).astype(np.int64) if rate > 0 else np.full(n, len(kinds))
    kind = np.where(draw < len(kinds), draw, -1)
    out = {c: frame[c].to_numpy() for c in frame.columns}
    date_col = _DATE_COLUMN[table]
    out[date_col] = frame[date_col].to_numpy().astype("datetime64[D]").astype(str).astype(object)
    if table == TRANSACTIONS:
        out[AMOUNT] = frame[AMOUNT].to_numpy().astype(str).astype(object)
    ids = frame[CUSTOMER_ID].to_numpy(dtype=object, na_value=None).copy()
    out[CUSTOMER_ID] = ids

    def rows(name: str) -> np.ndarray:
        return np.flatnonzero(kind == kinds.index(name)) if name in kinds else np.zeros(0, int)

    ids[rows("null_id")] = None
    r = rows("bad_date")
    out[date_col][r] = rng.choice(_BAD_DATES, len(r))
    r = rows("future_date")
    future = np.datetime64("2031-01-01") + rng.integers(0, 5 * 365, len(r))
    out[date_col][r] = future.astype(str).astype(object)
    r = rows("bad_amount")
    if len(r):
        out[AMOUNT][r] = rng.choice(_BAD_AMOUNTS, len(r))
    r = rows("unknown_customer")
    if len(r):
        ids[r] = rng.choice(unknown_ids, len(r))
    duplicate = kind == kinds.index("duplicate_row")
    index = np.repeat(np.arange(n), 1 + duplicate)
    result = pd.DataFrame({c: v[index] for c, v in out.items()})
    for column in result.columns:
        if result[column].dtype == object:
            result[column] = result[column].astype("str")
    # position of each row of `frame` in the result, and of the second copy of duplicates
    position = np.cumsum(1 + duplicate) - 1 - duplicate
    defect_rows = np.flatnonzero(kind >= 0)
    row = position[defect_rows] + duplicate[defect_rows]
    defects = pd.DataFrame({"row": row.astype(np.int64),
                            "kind": np.array(kinds, dtype=object)[kind[defect_rows]]})
    return result, defects

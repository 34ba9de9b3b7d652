"""Row-level checks: parse a raw table into its contract types and split it into accepted and
quarantined rows, each refused row with one reason. Pure functions over DataFrames.

A row is refused for the first reason that applies, in the order of `REASONS`. Every refused
row keeps its original values as text, the reason, the column at fault and `source_row`
(the 1-based position of the row in the file, header not counted), and
`rows_in == rows_accepted + rows_quarantined` holds for every table.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.contract import (
    AMOUNT,
    CONTACTS,
    CURRENT_MANAGER_ID,
    CUSTOMER_ID,
    CUSTOMERS,
    MANAGER_ID,
)
from pipeline.validation.parse import (
    is_blank,
    parse_bools,
    parse_dates,
    parse_floats,
    parse_ids,
    parse_ints,
)
from pipeline.validation.schema import TableSpec

__all__ = [
    "ALL_COLUMNS",
    "COLUMN",
    "REASON",
    "REASONS",
    "SOURCE_ROW",
    "CheckOptions",
    "TableResult",
    "check_table",
    "check_tables",
]

REASON = "reason"
COLUMN = "column"
SOURCE_ROW = "source_row"
ALL_COLUMNS = "(all columns)"

# Reason codes in priority order, with what they mean (shown in the validation report).
REASONS: dict[str, str] = {
    "null_id": "the row's identifier is missing or blank",
    "missing_value": "a required value is missing",
    "bad_date": "a date is missing (where required) or cannot be parsed with the date format",
    "bad_amount": "the amount is missing or not a number",
    "bad_number": "a count is not a whole number, or is out of range (size >= 0, capacity >= 1)",
    "bad_bool": "not a true/false value",
    "date_out_of_range": "a date lies before data.yaml min_date",
    "future_date": "a date lies after the reference date (data.yaml reference_date, default today)",
    "duplicate_row": "an exact copy of an earlier row (the first is kept)",
    "duplicate_key": "the identifier repeats an earlier accepted row of a table keyed by it",
    "unknown_customer": "the customer_id is not in the accepted customers table",
    "unknown_manager": "the manager is not in the accepted managers table",
}
_CODE = {name: i + 1 for i, name in enumerate(REASONS)}
_NAME = np.array([""] + list(REASONS), dtype=object)
_DEFAULT_MIN_DATE = pd.Timestamp("1900-01-01")
_MANAGER_REFERENCES = {CONTACTS: MANAGER_ID, CUSTOMERS: CURRENT_MANAGER_ID}


@dataclass(frozen=True)
class CheckOptions:
    """How to parse and judge one table (from configs/data.yaml)."""

    reference_date: pd.Timestamp
    min_date: pd.Timestamp = _DEFAULT_MIN_DATE
    date_format: str | None = None
    decimal: str = "."
    thousands: str | None = None
    on_unknown_manager: str = "warn"


@dataclass(frozen=True)
class TableResult:
    """Accepted (typed, canonical columns) and quarantined (text values + reason) rows."""

    name: str
    accepted: pd.DataFrame
    quarantine: pd.DataFrame
    rows_in: int
    reasons: dict[str, int]
    warnings: list[dict] = field(default_factory=list)

    @property
    def rows_accepted(self) -> int:
        return len(self.accepted)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)


class _Verdicts:
    """The first failing reason and column per row, as small integer codes."""

    def __init__(self, n: int, columns: list[str]):
        self.code = np.zeros(n, dtype=np.int8)
        self.column = np.zeros(n, dtype=np.int16)
        self.columns = [""] + columns

    @property
    def open(self) -> np.ndarray:
        return self.code == 0

    def refuse(self, reason: str, column: str, mask) -> None:
        hit = np.asarray(mask, dtype=bool) & (self.code == 0)
        self.code[hit] = _CODE[reason]
        self.column[hit] = self.columns.index(column)


def _as_text(values: pd.Series) -> pd.Series:
    """Original values as strings (missing stays missing), for the quarantine file."""
    return values.astype("str").where(values.notna())


def _parse(raw: pd.DataFrame, spec: TableSpec, options: CheckOptions, verdicts: _Verdicts):
    """Parse every present column; record parse failures; return the typed columns."""
    typed: dict[str, pd.Series] = {}
    problems: dict[str, list[tuple[str, pd.Series]]] = {r: [] for r in REASONS}
    for column in raw.columns:
        kind = spec.columns[column]
        values = raw[column]
        required = column in spec.not_null
        if kind == "id":
            typed[column] = parse_ids(values)
            if column == spec.key:
                problems["null_id"].append((column, typed[column].isna()))
        elif kind == "str":
            typed[column] = values.astype("str").where(~is_blank(values))
        elif kind == "date":
            parsed, bad = parse_dates(values, options.date_format)
            typed[column] = parsed
            problems["bad_date"].append((column, bad | (parsed.isna() if required else False)))
            problems["date_out_of_range"].append(
                (column, (parsed < options.min_date).fillna(False))
            )
            problems["future_date"].append(
                (column, (parsed > options.reference_date).fillna(False))
            )
        elif kind == "float":
            parsed, bad = parse_floats(values, options.decimal, options.thousands)
            typed[column] = parsed
            reason = "bad_amount" if column == AMOUNT else "bad_number"
            problems[reason].append((column, bad | (parsed.isna() if required else False)))
        elif kind in ("int", "count", "positive"):
            minimum = {"int": None, "count": 0, "positive": 1}[kind]
            parsed, bad = parse_ints(values, minimum)
            typed[column] = parsed
            problems["bad_number"].append((column, bad))
        elif kind == "bool":
            parsed, bad = parse_bools(values)
            typed[column] = parsed
            problems["bad_bool"].append((column, bad))
        else:  # pragma: no cover - a spec error, not a data error
            raise ValueError(f"unknown column kind {kind!r} for {spec.name}.{column}")
        if required and kind in ("str", "int", "count", "positive", "bool"):
            problems["missing_value"].append((column, is_blank(values)))
    for reason in REASONS:
        for column, mask in problems[reason]:
            verdicts.refuse(reason, column, mask)
    return typed


def check_table(
    raw: pd.DataFrame,
    spec: TableSpec,
    options: CheckOptions,
    known_customers: pd.Series | None = None,
    known_managers: pd.Series | None = None,
) -> TableResult:
    """Split `raw` (canonical column names, any subset of the spec's columns, values as read)
    into typed accepted rows and quarantined rows with their reason.

    `known_customers` / `known_managers` are the accepted keys of the referenced tables (None
    when the table is absent: no referential check then). Unknown managers are refused or only
    counted as a warning, per `options.on_unknown_manager`.
    """
    columns = [c for c in spec.columns if c in raw.columns]
    raw = raw[columns].reset_index(drop=True)
    verdicts = _Verdicts(len(raw), columns + [ALL_COLUMNS])
    typed = _parse(raw, spec, options, verdicts)

    verdicts.refuse("duplicate_row", ALL_COLUMNS, raw.duplicated(keep="first").to_numpy())
    key = typed[spec.key]
    if spec.unique:
        candidates = key[verdicts.open]
        repeated = candidates.duplicated(keep="first")
        verdicts.refuse("duplicate_key", spec.key, key.index.isin(repeated[repeated].index))
    if known_customers is not None and spec.name != CUSTOMERS and CUSTOMER_ID in typed:
        verdicts.refuse(
            "unknown_customer", CUSTOMER_ID, ~typed[CUSTOMER_ID].isin(known_customers).to_numpy()
        )
    warnings = []
    reference = _MANAGER_REFERENCES.get(spec.name)
    if known_managers is not None and reference in typed:
        ids = typed[reference]
        unknown = (ids.notna() & ~ids.isin(known_managers)).to_numpy()
        if options.on_unknown_manager == "quarantine":
            verdicts.refuse("unknown_manager", reference, unknown)
        elif (count := int((unknown & verdicts.open).sum())) > 0:
            warnings.append(
                {
                    "code": "unknown_manager",
                    "column": reference,
                    "count": count,
                    "message": f"{count} accepted rows name a {reference} that is not in the "
                    "managers table (kept; set on_unknown_manager: quarantine to refuse them)",
                }
            )

    keep = verdicts.open
    accepted = pd.DataFrame({c: typed[c][keep] for c in columns}).reset_index(drop=True)
    for column in spec.dates():
        if column in accepted:
            accepted[column] = accepted[column].astype("datetime64[ns]")
    refused = ~keep
    quarantine = pd.DataFrame({c: _as_text(raw[c][refused]) for c in columns})
    quarantine[REASON] = _NAME[verdicts.code[refused]].astype(str)
    quarantine[COLUMN] = np.array(verdicts.columns, dtype=object)[verdicts.column[refused]].astype(
        str
    )
    quarantine[SOURCE_ROW] = np.flatnonzero(refused) + 1
    quarantine = quarantine.reset_index(drop=True)
    for column in (REASON, COLUMN):
        quarantine[column] = quarantine[column].astype("str")

    counts = quarantine[REASON].value_counts()
    reasons = {r: int(counts[r]) for r in REASONS if r in counts.index}
    result = TableResult(spec.name, accepted, quarantine, len(raw), reasons, warnings)
    if result.rows_in != result.rows_accepted + result.rows_quarantined:  # never lose a row
        raise RuntimeError(
            f"{spec.name}: {result.rows_in} rows in != {result.rows_accepted} accepted + "
            f"{result.rows_quarantined} quarantined (a bug in pipeline.validation.checks)"
        )
    return result


def check_tables(
    raws: dict[str, pd.DataFrame], options: dict[str, CheckOptions]
) -> dict[str, TableResult]:
    """Check every table, referenced tables first (managers, customers, then transactions and
    contacts), so that references are checked against the accepted keys only."""
    from features.contract import MANAGERS
    from pipeline.validation.schema import CHECK_ORDER, SPECS

    results: dict[str, TableResult] = {}
    for name in CHECK_ORDER:
        if name not in raws:
            continue
        customers = results.get(CUSTOMERS)
        managers = results.get(MANAGERS)
        results[name] = check_table(
            raws[name],
            SPECS[name],
            options[name],
            known_customers=customers.accepted[CUSTOMER_ID] if customers else None,
            known_managers=managers.accepted[MANAGER_ID] if managers else None,
        )
    return results

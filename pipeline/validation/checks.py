"""Row-level checks: parse a raw table into its contract types and split it into accepted and
quarantined rows, each refused row with one reason. Functions over DataFrames, no I/O.

The value rules (ids and required values present, dates and amounts in range, counts at
their minimum) are the table's GX rows suite (`expectations.row_expectations`), run on every
parsed row; the quarantine takes the rows each expectation found, with the reason in its
meta. Parse failures, duplicates and references are refused here, by hand; `expectations`
says why each of them is not a GX expectation.

A row is refused for the first reason that applies, in the order of `REASONS`. Every refused
row keeps its original values as text, the reason, the column at fault and `source_row`
(the 1-based position of the row in the file, header not counted), and
`rows_in == rows_accepted + rows_quarantined` holds for every table.

A column whose values mostly fail to parse (more than `CheckOptions.max_unparseable_share` of
its present values, and at least `SYSTEMATIC_MIN_COUNT`), or whose failing values (at least 1%)
are nearly all read by another format, points at a wrong date_format or number format rather
than at a few bad rows: the table result lists it in `parse_failures`,
with example values and the setting that would read them, and the caller stops the run.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from features.contract import (
    AMOUNT,
    CONTACTS,
    CURRENT_MANAGER_ID,
    CUSTOMER_ID,
    CUSTOMERS,
    MANAGER_ID,
)
from pipeline.config.data import MAX_ABS_AMOUNT
from pipeline.validation.parse import (
    date_formats_reading,
    is_blank,
    number_formats_reading,
    parse_bools,
    parse_dates,
    parse_floats,
    parse_ids,
    parse_ints,
    trailing_minus_reading,
    whole_numbers,
)
from pipeline.validation.schema import TableSpec

__all__ = [
    "ALL_COLUMNS",
    "COLUMN",
    "REASON",
    "REASONS",
    "SOURCE_ROW",
    "SYSTEMATIC_EXPLAINED",
    "SYSTEMATIC_MIN_COUNT",
    "SYSTEMATIC_MIN_SHARE",
    "CheckOptions",
    "ParseFailure",
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
    "amount_out_of_range": "the amount is infinite or its absolute value exceeds data.yaml "
    "max_abs_amount",
    "bad_number": "a count is not a whole number, or is out of range (size >= 0, capacity >= 1)",
    "bad_bool": "not a true/false value",
    "date_out_of_range": "a date lies before data.yaml min_date",
    "future_date": "a date lies after the reference date (data.yaml reference_date, default today)",
    "duplicate_row": "an exact copy of an earlier row, ids compared after trimming (the first "
    "is kept; contacts only with contacts.dedupe: exact_rows)",
    "duplicate_key": "the identifier repeats an earlier accepted row of a table keyed by it",
    "unknown_customer": "the customer_id is not in the accepted customers table",
    "unknown_manager": "the manager is not in the accepted managers table",
}
# A column stops the run only when at least this many of its values fail to parse (and more
# than CheckOptions.max_unparseable_share of them): a handful of bad values in a small file are
# quarantined row by row like any defect, while any real export with a wrong format has more.
SYSTEMATIC_MIN_COUNT = 5
# ... or, below that share, when at least SYSTEMATIC_MIN_SHARE of the values fail and another
# format reads at least SYSTEMATIC_EXPLAINED of the failing ones (a format mismatch, not
# random defects; see _systematic).
SYSTEMATIC_MIN_SHARE = 0.01
SYSTEMATIC_EXPLAINED = 0.9
_CANDIDATE_SAMPLE = 500  # distinct failing values tried against other formats
_CODE = {name: i + 1 for i, name in enumerate(REASONS)}
_NAME = np.array([""] + list(REASONS), dtype=object)
_DEFAULT_MIN_DATE = pd.Timestamp("1900-01-01")
_MANAGER_REFERENCES = {CONTACTS: MANAGER_ID, CUSTOMERS: CURRENT_MANAGER_ID}


@dataclass(frozen=True)
class CheckOptions:
    """How to parse and judge one table (from configs/data.yaml). `dedupe` None: the table's
    default (`TableSpec.dedupe`)."""

    reference_date: pd.Timestamp
    min_date: pd.Timestamp = _DEFAULT_MIN_DATE
    date_format: str | None = None
    decimal: str = "."
    thousands: str | None = None
    on_unknown_manager: str = "warn"
    max_unparseable_share: float = 0.5
    max_abs_amount: float = MAX_ABS_AMOUNT
    dedupe: str | None = None


@dataclass(frozen=True)
class ParseFailure:
    """A column whose values mostly cannot be parsed: what they should be, examples, the fix.

    `problem` completes "<failed> of <present> values ..." and `fix` names the data.yaml
    setting to change; `message` puts them on one line with the file and source column.
    """

    table: str
    column: str
    failed: int
    present: int
    examples: tuple[str, ...]
    problem: str
    fix: str

    def message(self, file: object, source_column: str) -> str:
        source = f" (source column '{source_column}')" if source_column != self.column else ""
        shown = ", ".join(f"'{v}'" for v in self.examples)
        return (
            f"{file}: column {self.column}{source}: {self.failed} of {self.present} values "
            f"{self.problem} (e.g. {shown}); {self.fix}"
        )


@dataclass(frozen=True)
class TableResult:
    """Accepted (typed, canonical columns) and quarantined (text values + reason) rows."""

    name: str
    accepted: pd.DataFrame
    quarantine: pd.DataFrame
    rows_in: int
    reasons: dict[str, int]
    warnings: list[dict] = field(default_factory=list)
    parse_failures: list[ParseFailure] = field(default_factory=list)
    expectations: list = field(default_factory=list)  # the rows suite's ExpectationResults

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


def _parse(raw: pd.DataFrame, spec: TableSpec, options: CheckOptions):
    """Parse every present column; return the typed columns, the mask of unparseable values
    of every parsed column (counts below their minimum included, as `_systematic` counts
    them) and the hand-written refusals: values present that cannot be read."""
    typed: dict[str, pd.Series] = {}
    unparsed: dict[str, pd.Series] = {}
    problems: dict[str, list[tuple[str, pd.Series]]] = {r: [] for r in REASONS}
    for column in raw.columns:
        kind = spec.columns[column]
        values = raw[column]
        if kind == "id":
            typed[column] = parse_ids(values)
        elif kind == "str":
            typed[column] = values.astype("str").where(~is_blank(values))
        elif kind == "date":
            typed[column], unparsed[column] = parse_dates(values, options.date_format)
            problems["bad_date"].append((column, unparsed[column]))
        elif kind == "float":
            amount = column == AMOUNT  # inf is an amount out of range, not unparseable
            typed[column], unparsed[column] = parse_floats(
                values, options.decimal, options.thousands, amount
            )
            problems["bad_amount" if amount else "bad_number"].append((column, unparsed[column]))
        elif kind in ("int", "count", "positive"):
            # below the minimum stays a number here: the rows suite refuses it (bad_number)
            parsed, bad = parse_ints(values, None, options.decimal, options.thousands)
            typed[column] = parsed
            problems["bad_number"].append((column, bad))
            minimum = {"int": None, "count": 0, "positive": 1}[kind]
            below = (parsed < minimum).fillna(False).astype(bool) if minimum is not None else False
            unparsed[column] = bad | below
        elif kind == "bool":
            typed[column], unparsed[column] = parse_bools(values)
            problems["bad_bool"].append((column, unparsed[column]))
        else:  # pragma: no cover - a spec error, not a data error
            raise ValueError(f"unknown column kind {kind!r} for {spec.name}.{column}")
    return typed, unparsed, problems


# GX compares datetime64[ns] columns vectorised (other resolutions row by row, ~6 us a row);
# dates beyond its range (before 1677 or after 2262) are clamped to it, which keeps them
# before min_date or after the reference date
_NS_RANGE = (pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D"))


def _gx_frame(typed: dict[str, pd.Series], spec: TableSpec) -> pd.DataFrame:
    """The typed columns as one frame for the rows suite, dates as datetime64[ns]."""
    frame = pd.DataFrame(typed)
    for column in spec.dates():
        if column in frame:
            frame[column] = frame[column].clip(*_NS_RANGE).astype("datetime64[ns]")
    return frame


def _rows_suite(frame, spec, options, runner, problems, unparsed) -> list:
    """Run the table's rows suite on every row and add the rows each expectation found to
    `problems` under its reason; a required value that is missing because it could not be
    parsed keeps its parse reason. Returns the suite's results."""
    from pipeline.validation.expectations import GxRunner, row_expectations

    runner = runner or GxRunner()
    items = row_expectations(spec, list(frame.columns), options)
    results = []
    for result, rows in runner.unexpected_rows(spec.name, "rows", frame, items):
        mask = np.zeros(len(frame), dtype=bool)
        mask[rows] = True
        if result.reason == "missing_value" and result.column in unparsed:
            mask &= ~unparsed[result.column].to_numpy(dtype=bool)
        problems[result.reason].append((result.column, mask))
        results.append(result)
    return results


def _quoted(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


def _number_settings(table: str, pair: tuple, options: CheckOptions) -> str:
    decimal, thousands = pair
    settings = []
    if decimal != options.decimal:
        settings.append(f"{table}.csv.decimal: {_quoted(decimal)}")
    if thousands != options.thousands:
        settings.append(f"{table}.csv.thousands: {_quoted(thousands)}")
    return " and ".join(settings)


def _number_look(pair: tuple, options: CheckOptions) -> str:
    """What the values do differently from the configured separators, for the hint."""
    decimal, thousands = pair
    if decimal != options.decimal:
        return "look like decimal-comma numbers" if decimal == "," else "use a decimal point"
    if thousands is not None:
        return f"use '{thousands}' between thousands"
    return f"do not use '{options.thousands}' between thousands"


def _reads(text: pd.Series, kind: str, date_format: str | None, pair: tuple, minimum) -> int:
    """How many of `text` the date format or (decimal, thousands) pair reads."""
    if kind == "date":
        return int(pd.to_datetime(text, format=date_format, errors="coerce").notna().sum())
    numbers, bad = parse_floats(text, *pair)
    if kind != "float":
        bad = whole_numbers(numbers, bad, minimum)[1]
    return int((~bad).sum())


def _systematic(
    spec: TableSpec,
    column: str,
    values: pd.Series,
    failed_mask: pd.Series,
    options: CheckOptions,
) -> ParseFailure | None:
    """A ParseFailure when the failures of `column` point at a wrong setting, else None.

    That is when more than max_unparseable_share of its present values fail, or when at least
    SYSTEMATIC_MIN_SHARE of them fail and another format reads at least SYSTEMATIC_EXPLAINED of
    the failing values: a format mismatch that hits only some values ("1,234.56" among
    "999.50" without csv.thousands, SAP's trailing minus on negatives) is no random defect,
    and quarantining it would silently drop a biased part of the data. Both need at least
    SYSTEMATIC_MIN_COUNT failures; max_unparseable_share 1 never stops."""
    failed = int(failed_mask.sum())
    share = options.max_unparseable_share
    if failed < SYSTEMATIC_MIN_COUNT or share >= 1:
        return None
    present = int((~is_blank(values)).sum())
    mostly = failed > share * present
    if not mostly and failed < SYSTEMATIC_MIN_SHARE * present:
        return None
    table, kind = spec.name, spec.columns[column]
    failing = values[failed_mask.to_numpy(dtype=bool)].astype("str")
    distinct = pd.unique(failing)
    examples = tuple(str(v)[:40] for v in distinct[:2])
    sample = [str(v) for v in distinct[:_CANDIDATE_SAMPLE]]
    explained = int(np.ceil(SYSTEMATIC_EXPLAINED * len(sample)))
    where = "in configs/data.yaml"
    counts = failing.value_counts()
    token = str(counts.index[0]) if counts.iloc[0] * 2 >= failed else None
    missing_hint = (
        f'if "{token}" means "no value", add it to {table}.csv.na_values {where} (CSV) or '
        "leave such cells empty in the export"
    )
    mapping_hint = f"check that {table}.columns.{column} {where} names the right column"
    minimum = {"count": 0, "positive": 1}.get(kind)

    def mixed(candidate) -> str | None:
        """When only some values fail: a note if `candidate` would not read the others."""
        if mostly or kind == "date" and ptypes.is_numeric_dtype(values):
            return None
        passing = values[~failed_mask.to_numpy(dtype=bool) & ~is_blank(values).to_numpy()]
        passing = pd.Series(pd.unique(passing.astype("str"))[:_CANDIDATE_SAMPLE], dtype="str")
        fmt, pair = (candidate, None) if kind == "date" else (None, candidate)
        if _reads(passing.str.strip(), kind, fmt, pair, minimum) >= SYSTEMATIC_EXPLAINED * len(
            passing
        ):
            return None
        return (
            f", but the other {present - failed} values read with the current setting: the "
            "export mixes formats; make it write one format throughout"
        )

    if kind == "date":
        numeric = ptypes.is_numeric_dtype(values) and not ptypes.is_bool_dtype(values)
        if options.date_format:
            problem = f"do not match date_format '{options.date_format}'"
        elif numeric:
            problem = "do not match date_format '%Y%m%d' (the default for integer dates)"
        else:
            problem = "are not ISO 8601 dates (no date_format is set)"
        formats, read = date_formats_reading(sample)
        formats = [f for f in formats if f != options.date_format]
        if not mostly and not (formats and read >= explained):
            return None
        if formats and read * 2 > len(sample):
            they = "they read" if read == len(sample) else "most of them read"
            if len(formats) == 1:
                fix = f'{they} as "{formats[0]}": set {table}.date_format: "{formats[0]}" {where}'
            else:
                shown = " or ".join(f'"{f}"' for f in formats[:2])
                fix = (
                    f"{they} as {shown}: set {table}.date_format to the one your export uses "
                    f"(day or month first?) {where}"
                )
            if (note := mixed(formats[0])) is not None:
                shown = " or ".join(f'"{f}"' for f in formats[:2])
                fix = f"{they} as {shown}{note}"
        elif token is not None:
            fix = f"{missing_hint}; otherwise fix {table}.date_format {where}"
        else:
            fix = (
                f'fix {table}.date_format {where} (strptime codes, e.g. "%d.%m.%Y" or '
                f'"%Y%m%d"), or {mapping_hint}'
            )
    elif kind == "bool":
        if not mostly:
            return None
        problem = "are not true/false values (true/false, yes/no, y/n, t/f, 1/0)"
        fix = (
            missing_hint
            if token is not None
            else f"write them as true/false, yes/no or 1/0 in the export, or {mapping_hint}"
        )
    else:
        separators = f"decimal '{options.decimal}'" + (
            f" and thousands '{options.thousands}'" if options.thousands else ""
        )
        at_least = "" if minimum is None else f" >= {minimum}"
        what = "numbers" if kind == "float" else f"whole numbers{at_least}"
        problem = f"are not {what} written with {separators}"
        whole = kind != "float"
        pairs, read = number_formats_reading(
            sample, options.decimal, options.thousands, whole, minimum
        )
        minus_pair, minus_read = trailing_minus_reading(
            sample, options.decimal, options.thousands, whole, minimum
        )
        if not mostly and not (pairs and read >= explained) and minus_read < explained:
            return None
        if minus_read > read and minus_read * 2 > len(sample):
            they = "they" if minus_read == len(sample) else "most of them"
            fix = (
                f"{they} write negative numbers with a trailing minus ('{sample[0]}'), which "
                f"cannot be read: make the export write a leading minus ('-{sample[0][:-1]}')"
            )
            if minus_pair != (options.decimal, options.thousands):
                fix += f" and set {_number_settings(table, minus_pair, options)} {where}"
        elif pairs and read * 2 > len(sample):
            they = "they" if read == len(sample) else "most of them"
            first = pairs[0]
            fix = (
                f"{they} {_number_look(first, options)}: set "
                f"{_number_settings(table, first, options)} {where}"
            )
            other = next((p for p in pairs[1:] if p[0] != first[0]), None)
            if other is not None:
                role = (
                    f"'{other[1]}' separates thousands"
                    if other[1] is not None
                    else f"'{other[0]}' is the decimal separator"
                )
                fix += f" (or {_number_settings(table, other, options)} if {role} there)"
            if (note := mixed(first)) is not None:
                fix = f"{they} {_number_look(first, options)}{note}"
        elif token is not None:
            fix = missing_hint
        else:
            fix = (
                "they must be plain numbers without currency or unit; set "
                f"{table}.csv.decimal / {table}.csv.thousands {where} if they use other "
                f"separators, or {mapping_hint}"
            )
    return ParseFailure(table, column, failed, present, examples, problem, fix)


def check_table(
    raw: pd.DataFrame,
    spec: TableSpec,
    options: CheckOptions,
    known_customers: pd.Series | None = None,
    known_managers: pd.Series | None = None,
    runner=None,
) -> TableResult:
    """Split `raw` (canonical column names, any subset of the spec's columns, values as read)
    into typed accepted rows and quarantined rows with their reason.

    `known_customers` / `known_managers` are the accepted keys of the referenced tables (None
    when the table is absent: no referential check then). Unknown managers are refused or only
    counted as a warning, per `options.on_unknown_manager`. A column whose values mostly fail
    to parse is listed in `parse_failures` (its rows are still quarantined here). An exact copy
    of an earlier row (ids compared after trimming) is a duplicate_row unless the table's
    dedupe is "none" (contacts by default); an amount that is infinite or beyond
    `options.max_abs_amount` is amount_out_of_range.

    The value rules come from the table's GX rows suite, run on every parsed row with
    `runner` (an `expectations.GxRunner`; None: a new one); parse failures, duplicates and
    references are refused here (`expectations` says why).
    """
    columns = [c for c in spec.columns if c in raw.columns]
    raw = raw[columns].reset_index(drop=True)
    verdicts = _Verdicts(len(raw), columns + [ALL_COLUMNS])
    typed, unparsed, problems = _parse(raw, spec, options)
    frame = _gx_frame(typed, spec)
    expectations = _rows_suite(frame, spec, options, runner, problems, unparsed)
    for reason in REASONS:  # in priority order; columns in table order within a reason
        for column, mask in sorted(problems[reason], key=lambda found: columns.index(found[0])):
            verdicts.refuse(reason, column, mask)
    failures = [
        found
        for column, mask in unparsed.items()
        if (found := _systematic(spec, column, raw[column], mask, options)) is not None
    ]

    if (options.dedupe or spec.dedupe) == "exact_rows":
        # ids as trimmed: " C001 " repeats "C001"; every other value as written
        trimmed = raw.assign(**{c: typed[c] for c in columns if spec.columns[c] == "id"})
        verdicts.refuse("duplicate_row", ALL_COLUMNS, trimmed.duplicated(keep="first").to_numpy())
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
    accepted = frame[keep].reset_index(drop=True)
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
    result = TableResult(
        spec.name, accepted, quarantine, len(raw), reasons, warnings, failures, expectations
    )
    if result.rows_in != result.rows_accepted + result.rows_quarantined:  # never lose a row
        raise RuntimeError(
            f"{spec.name}: {result.rows_in} rows in != {result.rows_accepted} accepted + "
            f"{result.rows_quarantined} quarantined (a bug in pipeline.validation.checks)"
        )
    return result


def check_tables(
    raws: dict[str, pd.DataFrame], options: dict[str, CheckOptions], runner=None
) -> dict[str, TableResult]:
    """Check every table, referenced tables first (managers, customers, then transactions and
    contacts), so that references are checked against the accepted keys only; `runner`: the
    GxRunner of the run (None: one per table)."""
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
            runner=runner,
        )
    return results

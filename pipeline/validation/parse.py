"""Parse raw columns (strings from CSV, strings or typed values from Parquet) into their
contract types. Every parser is vectorised and returns the parsed column plus a mask of the
values that were present but could not be parsed; nothing is dropped here.

`date_formats_reading` and `number_formats_reading` try common formats on values that failed,
so that an error can name the date_format or csv.decimal / csv.thousands to set."""

import re

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = [
    "ID_WHITESPACE",
    "date_formats_reading",
    "is_blank",
    "number_formats_reading",
    "parse_bools",
    "parse_dates",
    "parse_floats",
    "parse_ids",
    "parse_ints",
    "trailing_minus_reading",
    "whole_numbers",
]

# Trimmed from both ends of an identifier: ASCII whitespace only. Other Unicode spaces (no-break
# space, ...) are invisible differences that are reported, not removed (pipeline.validation.ids).
ID_WHITESPACE = " \t\n\r\f\v"
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
# A time of day followed by a UTC offset ("10:00:00+01:00", "10:00Z"): the offset is dropped
# when one column mixes offsets (summer and winter time), keeping each value's own clock time.
_TIME_AND_OFFSET = r"(\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
# Formats tried on dates that failed, in order of preference (day-first before month-first).
_DATE_CANDIDATES = (
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%d%m%Y",
    "%d.%m.%y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
)
# (decimal, thousands) pairs tried on numbers that failed, in order of preference.
_NUMBER_CANDIDATES = (
    (",", None),
    (",", "."),
    (".", ","),
    (",", " "),
    (".", " "),
    (".", "'"),
    (".", None),
)


def is_blank(values: pd.Series) -> pd.Series:
    """True where a value is missing or an empty / whitespace-only string."""
    blank = values.isna()
    if ptypes.is_string_dtype(values) or values.dtype == object:
        text = values.astype("str")
        blank = blank | text.str.strip().eq("").fillna(True)
    return blank.astype(bool)


def _integral_text(values: pd.Series) -> pd.Series:
    """Numbers written as integer text (20240131.0 -> "20240131"); other values as text."""
    if ptypes.is_bool_dtype(values) or not ptypes.is_numeric_dtype(values):
        return values.astype("str").where(values.notna())
    as_float = values.astype("float64")
    integral = np.isfinite(as_float) & (np.floor(as_float) == as_float)
    text = pd.Series(pd.NA, index=values.index, dtype="str")
    text[integral] = as_float[integral].astype("int64").astype("str")
    other = values.notna() & ~integral
    text[other] = values[other].astype("str")
    return text


def parse_ids(values: pd.Series) -> pd.Series:
    """Identifiers as strings, kept exactly as given except for surrounding ASCII whitespace
    (" C001 " is "C001"); integer-typed ids lose no ".0" suffix.

    Leading zeros, case and every other character are kept: ids that differ only by case or
    by an invisible character (zero-width space, BOM, no-break space) stay distinct and are
    reported by `pipeline.validation.ids`. Blank strings become missing so that a null-id
    check sees them.
    """
    text = _integral_text(values).str.strip(ID_WHITESPACE)
    return text.where(~is_blank(text)).astype("str")


def _read_dates(text: pd.Series, date_format: str | None) -> pd.Series:
    """Strings to timestamps with `date_format` (ISO 8601 when None), NaT where they do not
    match; a UTC offset is dropped, keeping the date as written (the export's local date)."""
    fmt = date_format or "ISO8601"
    try:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    except ValueError as exc:
        if "Mixed timezones" not in str(exc):
            raise
        local = text.str.replace(_TIME_AND_OFFSET, r"\1", regex=True)
        parsed = pd.to_datetime(local, format=re.sub(r"\s*%[zZ]", "", fmt), errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed


def parse_dates(values: pd.Series, date_format: str | None) -> tuple[pd.Series, pd.Series]:
    """Dates at day precision (datetime64[ns]) and the mask of present-but-unparseable values.

    Typed datetimes and date objects are used as they are; integers are read as text with
    `date_format` ("%Y%m%d" when none is configured); strings use `date_format`, or ISO 8601
    when it is None. A UTC offset in the text is dropped: the date is the one written.
    """
    present = ~is_blank(values)
    if ptypes.is_datetime64_any_dtype(values):
        parsed = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) else values
    elif ptypes.is_numeric_dtype(values) and not ptypes.is_bool_dtype(values):
        parsed = pd.to_datetime(
            _integral_text(values), format=date_format or "%Y%m%d", errors="coerce"
        )
    elif ptypes.is_string_dtype(values) and values.dtype != object:
        parsed = _read_dates(values.str.strip(), date_format)
    else:  # object columns: date / datetime objects from Parquet, or mixed values
        strings = values.map(lambda v: isinstance(v, str), na_action="ignore").fillna(False)
        parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
        if strings.any():
            parsed[strings] = _read_dates(
                values[strings].astype("str").str.strip(), date_format
            )
        others = ~strings.astype(bool) & values.notna()
        if others.any():
            parsed[others] = pd.to_datetime(values[others], errors="coerce")
    parsed = pd.Series(parsed, index=values.index).dt.floor("D")
    bad = present & parsed.isna()
    return parsed, bad.astype(bool)


def parse_floats(
    values: pd.Series,
    decimal: str = ".",
    thousands: str | None = None,
    keep_infinite: bool = False,
) -> tuple[pd.Series, pd.Series]:
    """Numbers as float64 and the mask of present values that are not finite numbers
    (with `keep_infinite`, +-inf, written "inf" or too large for float64 like "1e309", is
    returned as a number and not marked: the caller refuses it as out of range instead).

    Text is read with the `decimal` and `thousands` separators. A thousands separator must
    group digits by three ("1.234,50", not "12.34" with thousands "."), and with a decimal
    other than "." a "." that is not the thousands separator makes the value bad: such
    values are ambiguous and are refused rather than read as something else.
    """
    present = ~is_blank(values)
    ambiguous = np.zeros(len(values), dtype=bool)
    if ptypes.is_numeric_dtype(values) and not ptypes.is_bool_dtype(values):
        parsed = values.astype("float64")
    else:
        text = values.astype("str").str.strip()
        if thousands:
            has = text.str.contains(thousands, regex=False).fillna(False).to_numpy(dtype=bool)
            if has.any():
                t, d = re.escape(thousands), re.escape(decimal)
                grouped = text[has].str.fullmatch(rf"[+-]?\d{{1,3}}(?:{t}\d{{3}})+(?:{d}\d*)?")
                ambiguous[has] = ~grouped.fillna(False).to_numpy(dtype=bool)
            text = text.str.replace(thousands, "", regex=False)
        if decimal != ".":
            ambiguous |= text.str.contains(".", regex=False).fillna(False).to_numpy(dtype=bool)
            text = text.str.replace(decimal, ".", regex=False)
        parsed = pd.to_numeric(text, errors="coerce").astype("float64")
    numbers = parsed.fillna(np.nan).to_numpy(dtype="float64", na_value=np.nan)
    finite = np.isfinite(numbers) | (keep_infinite & np.isinf(numbers))
    bad = present & (~finite | ambiguous)
    return parsed.where(~bad), pd.Series(bad, index=values.index).astype(bool)


def whole_numbers(
    numbers: pd.Series, bad: pd.Series, minimum: int | None = None
) -> tuple[pd.Series, pd.Series]:
    """`numbers` (from parse_floats, with its `bad` mask) as nullable Int64, and `bad`
    extended by the values that are not whole or are below `minimum`."""
    whole = np.floor(numbers) == numbers
    bad = bad | (numbers.notna() & ~whole.fillna(False).astype(bool))
    if minimum is not None:
        bad = bad | (numbers < minimum).fillna(False).astype(bool)
    parsed = numbers.where(~bad).astype("Int64")
    return parsed, bad.astype(bool)


def parse_ints(
    values: pd.Series,
    minimum: int | None = None,
    decimal: str = ".",
    thousands: str | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Whole numbers as nullable Int64 and the mask of present values that are not whole
    numbers (or are below `minimum`); text is read as by parse_floats."""
    return whole_numbers(*parse_floats(values, decimal, thousands), minimum)


def parse_bools(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Booleans (true/false, yes/no, y/n, t/f, 1/0, any case) and the mask of other values."""
    present = ~is_blank(values)
    if ptypes.is_bool_dtype(values):
        return values.astype("boolean"), pd.Series(False, index=values.index)
    text = _integral_text(values).str.strip().str.lower()
    parsed = pd.Series(pd.NA, index=values.index, dtype="boolean")
    parsed[text.isin(_TRUE).fillna(False).astype(bool)] = True
    parsed[text.isin(_FALSE).fillna(False).astype(bool)] = False
    bad = present & parsed.isna()
    return parsed, bad.astype(bool)


def date_formats_reading(samples: list[str]) -> tuple[list[str], int]:
    """The common date formats that read the most of `samples` (ties in order of preference)
    and how many they read; ([], 0) when none reads any."""
    text = pd.Series(samples, dtype="str").str.strip()
    best, found = 0, []
    for fmt in _DATE_CANDIDATES:
        count = int(pd.to_datetime(text, format=fmt, errors="coerce").notna().sum())
        if count > best:
            best, found = count, [fmt]
        elif count == best and count:
            found.append(fmt)
    return found, best


def _count_read(text: pd.Series, pair: tuple[str, str | None], whole: bool,
                minimum: int | None) -> int:
    """How many of `text` read as numbers with (decimal, thousands) `pair` (as `whole`
    numbers >= `minimum` if asked)."""
    numbers, bad = parse_floats(text, *pair)
    if whole:
        bad = whole_numbers(numbers, bad, minimum)[1]
    return int((~bad).sum())


def number_formats_reading(
    samples: list[str],
    decimal: str,
    thousands: str | None,
    whole: bool = False,
    minimum: int | None = None,
) -> tuple[list[tuple[str, str | None]], int]:
    """The (decimal, thousands) pairs other than the configured one that read the most of
    `samples` as numbers (as `whole` numbers >= `minimum` if asked), ties in order of
    preference, and how many they read."""
    text = pd.Series(samples, dtype="str")
    best, found = 0, []
    for pair in _NUMBER_CANDIDATES:
        if pair == (decimal, thousands):
            continue
        count = _count_read(text, pair, whole, minimum)
        if count > best:
            best, found = count, [pair]
        elif count == best and count:
            found.append(pair)
    # A tie is no evidence for a thousands separator that occurs in none of the samples:
    # "1234.56" reads with thousands "," as well as with none, and none is what to suggest.
    def absent(pair: tuple[str, str | None]) -> bool:
        return pair[1] is not None and not text.str.contains(pair[1], regex=False).any()

    found.sort(key=absent)
    return found, best


_TRAILING_MINUS = r"\d[\d.,' ]*-"


def trailing_minus_reading(
    samples: list[str],
    decimal: str,
    thousands: str | None,
    whole: bool = False,
    minimum: int | None = None,
) -> tuple[tuple[str, str | None] | None, int]:
    """How many of `samples` are numbers with a trailing minus ("50,00-", as SAP writes
    negatives), which no csv setting reads: the (decimal, thousands) pair, the configured one
    first, that reads the most of them once the minus is moved to the front, and that count;
    (None, 0) when none reads any."""
    text = pd.Series(samples, dtype="str").str.strip()
    trailing = text.str.fullmatch(_TRAILING_MINUS).fillna(False).astype(bool)
    if not trailing.any():
        return None, 0
    moved = "-" + text[trailing].str[:-1]
    best, found = 0, None
    for pair in ((decimal, thousands), *_NUMBER_CANDIDATES):
        count = _count_read(moved, pair, whole, minimum)
        if count > best:
            best, found = count, pair
    return found, best

"""Parse raw columns (strings from CSV, strings or typed values from Parquet) into their
contract types. Every parser is vectorised and returns the parsed column plus a mask of the
values that were present but could not be parsed; nothing is dropped here."""

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = ["is_blank", "parse_bools", "parse_dates", "parse_floats", "parse_ids", "parse_ints"]

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


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
    """Identifiers as strings, exactly as given; integer-typed ids lose no ".0" suffix.

    Blank strings become missing so that a null-id check sees them.
    """
    text = _integral_text(values)
    return text.where(~is_blank(text)).astype("str")


def parse_dates(values: pd.Series, date_format: str | None) -> tuple[pd.Series, pd.Series]:
    """Dates at day precision (datetime64[ns]) and the mask of present-but-unparseable values.

    Typed datetimes and date objects are used as they are; integers are read as text with
    `date_format` ("%Y%m%d" when none is configured); strings use `date_format`, or ISO 8601
    when it is None.
    """
    present = ~is_blank(values)
    if ptypes.is_datetime64_any_dtype(values):
        parsed = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) else values
    elif ptypes.is_numeric_dtype(values) and not ptypes.is_bool_dtype(values):
        parsed = pd.to_datetime(
            _integral_text(values), format=date_format or "%Y%m%d", errors="coerce"
        )
    elif ptypes.is_string_dtype(values) and values.dtype != object:
        parsed = pd.to_datetime(
            values.str.strip(), format=date_format or "ISO8601", errors="coerce"
        )
    else:  # object columns: date / datetime objects from Parquet, or mixed values
        strings = values.map(lambda v: isinstance(v, str), na_action="ignore").fillna(False)
        parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
        if strings.any():
            parsed[strings] = pd.to_datetime(
                values[strings].astype("str").str.strip(),
                format=date_format or "ISO8601",
                errors="coerce",
            )
        others = ~strings.astype(bool) & values.notna()
        if others.any():
            parsed[others] = pd.to_datetime(values[others], errors="coerce")
    parsed = pd.Series(parsed, index=values.index).dt.floor("D")
    bad = present & parsed.isna()
    return parsed, bad.astype(bool)


def parse_floats(
    values: pd.Series, decimal: str = ".", thousands: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """Numbers as float64 and the mask of present values that are not finite numbers."""
    present = ~is_blank(values)
    if ptypes.is_numeric_dtype(values) and not ptypes.is_bool_dtype(values):
        parsed = values.astype("float64")
    else:
        text = values.astype("str").str.strip()
        if thousands:
            text = text.str.replace(thousands, "", regex=False)
        if decimal != ".":
            text = text.str.replace(decimal, ".", regex=False)
        parsed = pd.to_numeric(text, errors="coerce").astype("float64")
    bad = present & ~np.isfinite(parsed.fillna(np.nan).to_numpy(dtype="float64", na_value=np.nan))
    return parsed.where(~bad), pd.Series(bad, index=values.index).astype(bool)


def parse_ints(values: pd.Series, minimum: int | None = None) -> tuple[pd.Series, pd.Series]:
    """Whole numbers as nullable Int64 and the mask of present values that are not whole
    numbers (or are below `minimum`)."""
    numbers, bad = parse_floats(values)
    whole = np.floor(numbers) == numbers
    bad = bad | (numbers.notna() & ~whole.fillna(False).astype(bool))
    if minimum is not None:
        bad = bad | (numbers < minimum).fillna(False).astype(bool)
    parsed = numbers.where(~bad).astype("Int64")
    return parsed, bad.astype(bool)


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

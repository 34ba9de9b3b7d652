"""configs/data.yaml: where the input tables are, how their columns map to the data contract,
how to parse them, and how strict validation is."""

import re
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from features.config import StrictModel
from features.contract import COLUMNS

__all__ = [
    "CONTRACT_COLUMNS",
    "DATE_CODES",
    "MAX_ABS_AMOUNT",
    "CsvOptions",
    "DataConfig",
    "SourceConfig",
]

# The contract columns a source may map, per table (features/contract.py declares them).
CONTRACT_COLUMNS: dict[str, tuple[str, ...]] = COLUMNS


# The default of max_abs_amount: no real B2B order line is worth a trillion.
MAX_ABS_AMOUNT = 1e12

# The strptime codes a date_format may use (the letter after %): those pandas' parser accepts.
DATE_CODES = frozenset("YymdbBjaAwuUWGVHIpMSfzZcxX%")
_YEAR_CODES = set("YyGcx")
_DATE_HELP = (
    'e.g. "%d.%m.%Y", "%d/%m/%Y" or "%Y%m%d" (%Y year, %y 2-digit year, %m month, %b month '
    "name, %d day, %j day of year, %H:%M:%S time of day, which is dropped); leave date_format "
    "out for ISO 8601 dates (2024-01-31)"
)


def _check_date_format(value: str | None) -> str | None:
    """Refuse a date_format pandas cannot use, or one that cannot yield a real date."""
    # "ISO8601": pandas' name for the default; "mixed": pandas infers each value's format
    if value is None or value in ("ISO8601", "mixed"):
        return value
    codes = re.findall(r"%(.?)", value)
    if "" in codes:
        raise ValueError(f"a '%' at the end is not a code; {_DATE_HELP}")
    unknown = [f"%{c}" for c in dict.fromkeys(codes) if c not in DATE_CODES]
    if unknown:
        note = " (%d and %m read 1 as well as 01)" if "%-" in unknown else ""
        raise ValueError(f"{', '.join(unknown)} is not a strptime date code{note}; {_DATE_HELP}")
    if not set(codes) - {"%"}:
        raise ValueError(f"the format has no strptime code such as %Y; {_DATE_HELP}")
    if not set(codes) & _YEAR_CODES:
        raise ValueError(
            "the format has no year code (%Y or %y), so every date would fall in 1900; "
            + _DATE_HELP
        )
    import pandas as pd  # already loaded by the other configs; kept local to this check

    try:  # combinations pandas refuses, e.g. %G without %V
        pd.to_datetime(pd.Series(["2024-01-31"]), format=value, errors="coerce")
    except ValueError as exc:
        raise ValueError(f"{str(exc).rstrip('.')}; {_DATE_HELP}") from None
    return value


class CsvOptions(StrictModel):
    """How a CSV source is written (ignored for Parquet)."""

    delimiter: str = ","
    decimal: str = "."
    thousands: str | None = None
    encoding: str = "utf-8"
    na_values: list[str] = Field(default_factory=lambda: [""])

    @model_validator(mode="after")
    def _separators_differ(self) -> "CsvOptions":
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError(
                f"decimal and thousands are both {self.decimal!r}; a number needs two different "
                'separators, e.g. decimal: "," with thousands: "."'
            )
        return self


class SourceConfig(StrictModel):
    """One input table: its file, format, column map (contract name: your column name),
    date format (strptime codes, e.g. "%d.%m.%Y"; also applied to integer dates such as
    20240131 with "%Y%m%d"; None = ISO 8601), CSV options and `dedupe`: "exact_rows"
    quarantines an exact copy of an earlier row as duplicate_row, "none" keeps every row;
    None = the table's default, exact_rows except for contacts, which have no id of their own
    (two calls to a customer on one day are two contacts)."""

    path: Path
    format: Literal["auto", "csv", "parquet"] = "auto"
    columns: dict[str, str] = Field(default_factory=dict)
    date_format: str | None = None
    csv: CsvOptions = CsvOptions()
    dedupe: Literal["exact_rows", "none"] | None = None

    @field_validator("date_format")
    @classmethod
    def _date_format_is_usable(cls, value: str | None) -> str | None:
        return _check_date_format(value)

    @field_validator("columns")
    @classmethod
    def _one_contract_column_per_source_column(cls, value: dict[str, str]) -> dict[str, str]:
        contract_of: dict[str, list[str]] = {}
        for contract, name in value.items():
            contract_of.setdefault(name, []).append(contract)
        shared = {name: found for name, found in contract_of.items() if len(found) > 1}
        if shared:
            which = "; ".join(f"'{n}' is mapped to {' and '.join(c)}" for n, c in shared.items())
            raise ValueError(
                f"{which}: a source column feeds one contract column, so one of them is "
                "wrong; map each to its own column, or delete the entry of an optional column "
                "the export does not have"
            )
        return value


class DataConfig(StrictModel):
    """The four tables of the data contract (only transactions is required) and the rules."""

    transactions: SourceConfig
    contacts: SourceConfig | None = None
    customers: SourceConfig | None = None
    managers: SourceConfig | None = None
    reference_date: date | None = None
    min_date: date = date(1900, 1, 1)
    on_unknown_manager: Literal["warn", "quarantine"] = "warn"
    fail_on_expectations: bool = True
    gx_max_rows: int = Field(default=1_000_000, ge=1000)
    quarantine_csv: bool = True
    # Stop (naming the fix) when more than this share of a column's present values cannot be
    # parsed, instead of quarantining them row by row; 1.0 never stops. Below this share a
    # column also stops when >= 1% of its values fail and another format reads nearly all of
    # them (pipeline.validation.checks.SYSTEMATIC_MIN_SHARE); SYSTEMATIC_MIN_COUNT: the minimum.
    max_unparseable_share: float = Field(default=0.5, gt=0, le=1)
    # Quarantine an amount whose absolute value exceeds this (amount_out_of_range), as well as
    # inf and 1e308: such values are export errors, and they overflow the sums of training.
    max_abs_amount: float = Field(default=MAX_ABS_AMOUNT, gt=0)

    @model_validator(mode="after")
    def _columns_are_contract_names(self) -> "DataConfig":
        for table, allowed in CONTRACT_COLUMNS.items():
            source = getattr(self, table)
            unknown = sorted(set(source.columns) - set(allowed)) if source else []
            if unknown:
                raise ValueError(
                    f"{table}.columns: unknown contract column(s) {', '.join(unknown)}; "
                    f"the keys are contract names ({', '.join(allowed)}) and the values "
                    "your column names"
                )
        return self

    def sources(self) -> dict[str, SourceConfig]:
        """The configured tables (a null / omitted table is left out)."""
        return {t: s for t in CONTRACT_COLUMNS if (s := getattr(self, t)) is not None}

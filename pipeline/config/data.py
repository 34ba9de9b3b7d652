"""configs/data.yaml: where the input tables are, how their columns map to the data contract,
how to parse them, and how strict validation is."""

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from pipeline.config.base import StrictModel

__all__ = ["CONTRACT_COLUMNS", "CsvOptions", "DataConfig", "SourceConfig"]

# The contract columns a source may map, per table (features/contract.py names).
CONTRACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "transactions": (
        "customer_id",
        "order_id",
        "order_date",
        "amount",
        "category",
        "quantity",
        "channel",
    ),
    "contacts": ("customer_id", "contact_date", "channel", "manager_id", "outcome"),
    "customers": (
        "customer_id",
        "region",
        "industry",
        "size",
        "created_date",
        "current_manager_id",
        "current_tier",
    ),
    "managers": ("manager_id", "region", "capacity", "active"),
}


class CsvOptions(StrictModel):
    """How a CSV source is written (ignored for Parquet)."""

    delimiter: str = ","
    decimal: str = "."
    thousands: str | None = None
    encoding: str = "utf-8"
    na_values: list[str] = Field(default_factory=lambda: [""])


class SourceConfig(StrictModel):
    """One input table: its file, format, column map (contract name: your column name),
    date format (strptime codes, e.g. "%d.%m.%Y"; also applied to integer dates such as
    20240131 with "%Y%m%d"; None = ISO 8601) and CSV options."""

    path: Path
    format: Literal["auto", "csv", "parquet"] = "auto"
    columns: dict[str, str] = Field(default_factory=dict)
    date_format: str | None = None
    csv: CsvOptions = CsvOptions()


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

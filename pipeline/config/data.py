"""configs/data.yaml: where the input tables are and how their columns map to the contract."""

from pathlib import Path
from typing import Literal

from pipeline.config.base import StrictModel

__all__ = ["SourceConfig", "DataConfig"]


class SourceConfig(StrictModel):
    """One input table: its file, format, column map and date format."""

    path: Path
    format: Literal["auto", "csv", "parquet"] = "auto"
    columns: dict[str, str] = {}
    date_format: str | None = None


class DataConfig(StrictModel):
    """The four tables of the data contract; only transactions is required."""

    transactions: SourceConfig
    contacts: SourceConfig | None = None
    customers: SourceConfig | None = None
    managers: SourceConfig | None = None

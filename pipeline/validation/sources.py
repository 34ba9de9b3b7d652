"""Read one configured source file into a frame with contract column names, values as read.

The only file reading of validation. A missing file, an unreadable file, a missing required
column, a column the map reads that the header holds twice (pandas would silently read the
first and rename the second "amount.1") or a file with no rows raises `DataError` naming the
file, the column and the fix.
CSV columns are all read as text (identifiers keep their leading zeros); Parquet columns keep
their stored types, which the parsers accept as well as text.
"""

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pipeline.config.data import SourceConfig
from pipeline.errors import DataError
from pipeline.validation.schema import TableSpec

__all__ = ["read_source", "source_format"]

_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_PARQUET_SUFFIXES = {".parquet", ".pq", ".parq"}


def source_format(path: Path, configured: str) -> str:
    """ "csv" or "parquet": the configured format, or the one the file suffix implies."""
    if configured != "auto":
        return configured
    suffixes = [s.lower() for s in path.suffixes]
    if any(s in _PARQUET_SUFFIXES for s in suffixes):
        return "parquet"
    if any(s in _CSV_SUFFIXES for s in suffixes):
        return "csv"
    raise DataError(
        f"{path}: cannot tell the format from the suffix {path.suffix!r}; set format: csv or "
        "format: parquet for this table in configs/data.yaml"
    )


def _header(path: Path, kind: str, source: SourceConfig) -> list[str]:
    """The column names as stored, repeated names included: the Parquet schema, or the CSV
    header line read as a data row (header=None), so pandas does not rename a repeated
    "amount" to "amount.1"; the same tokenizer as the read (quoting, encoding, BOM)."""
    if kind == "parquet":
        return list(pq.read_schema(path).names)
    options = source.csv
    first = pd.read_csv(
        path,
        sep=options.delimiter,
        encoding=options.encoding,
        header=None,
        nrows=1,
        dtype=str,
        keep_default_na=False,
    )
    return [str(name) for name in first.iloc[0]]


def _refuse_repeated(path: Path, table: str, present: list[str], wanted: dict[str, str]) -> None:
    """DataError when a source column the map reads appears more than once in the header:
    which of the two holds the values cannot be told. Repeats of unused columns are harmless."""
    for column, name in wanted.items():
        positions = [i + 1 for i, found in enumerate(present) if found == name]
        if len(positions) > 1:
            mapped = f" (read as {column})" if name != column else ""
            shown = ", ".join(str(p) for p in positions)
            raise DataError(
                f"{path}: column '{name}'{mapped} appears {len(positions)} times in the header "
                f"(columns {shown}); which one holds the {table} values cannot be told: rename "
                f"or remove the extra column in the export, or map {table}.columns.{column} in "
                "configs/data.yaml to a column that appears once"
            )


def _resolve_columns(
    path: Path, table: str, spec: TableSpec, source: SourceConfig, present: list[str]
) -> dict[str, str]:
    """Map contract column -> source column for every contract column found in the file."""
    wanted: dict[str, str] = {}
    for column in spec.columns:
        name = source.columns.get(column, column)
        if name in present:
            wanted[column] = name
        elif column in spec.required or column in source.columns:
            shown = ", ".join(present[:30]) + (", ..." if len(present) > 30 else "")
            mapped = f" (mapped from '{column}')" if column in source.columns else ""
            raise DataError(
                f"{path}: required column '{name}'{mapped} not found "
                f"(columns present: {shown}); map it in configs/data.yaml under "
                f"{table}.columns, e.g. {column}: <your column name>"
                if column in spec.required
                else f"{path}: column '{name}' mapped to '{column}' not found "
                f"(columns present: {shown}); fix {table}.columns.{column} in "
                "configs/data.yaml or remove the entry"
            )
    return wanted


def read_source(path: Path, table: str, spec: TableSpec, source: SourceConfig) -> pd.DataFrame:
    """The contract columns of `path`, renamed to contract names, values as stored."""
    if not path.is_file():
        skip = "" if table == "transactions" else f", or set {table}: null to skip this table"
        raise DataError(
            f"{path}: {table} file not found; fix {table}.path in configs/data.yaml{skip}"
        )
    kind = source_format(path, source.format)
    try:
        present = _header(path, kind, source)
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{path}: the file is empty (no header, no rows); export the {table} table again "
            f"or point {table}.path in configs/data.yaml at a file with rows"
        ) from None
    except Exception as exc:
        raise DataError(
            f"{path}: cannot read as {kind} ({type(exc).__name__}: {exc}); check the file or "
            f"set {table}.format / {table}.csv options in configs/data.yaml"
        ) from exc
    wanted = _resolve_columns(path, table, spec, source, present)
    _refuse_repeated(path, table, present, wanted)
    # data.yaml may not map two contract columns to one source column (refused on load), but
    # a mapped column can also bear another contract column's own name (category: channel)
    names = list(dict.fromkeys(wanted.values()))
    try:
        if kind == "parquet":
            frame = pd.read_parquet(path, columns=names)
        else:
            options = source.csv
            frame = pd.read_csv(
                path,
                sep=options.delimiter,
                encoding=options.encoding,
                usecols=names,
                dtype=str,
                keep_default_na=False,
                na_values=options.na_values,
            )
    except Exception as exc:
        raise DataError(
            f"{path}: cannot read as {kind} ({type(exc).__name__}: {exc}); check the file or "
            f"set {table}.format / {table}.csv options in configs/data.yaml"
        ) from exc
    if frame.empty:
        raise DataError(
            f"{path}: no rows (only a header); export the {table} table again or point "
            f"{table}.path in configs/data.yaml at a file with rows"
        )
    return pd.DataFrame({column: frame[name] for column, name in wanted.items()})

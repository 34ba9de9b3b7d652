"""Reading and writing the stages' files: Parquet, CSV and JSON, creating folders as needed.

The format follows the file suffix; a missing input raises `DataError` naming the file and the
stage that writes it.
"""

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.errors import DataError

__all__ = ["read_json", "read_table", "write_json", "write_table"]


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` as Parquet or CSV (by suffix), without the index."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def read_table(path: Path, produced_by: str | None = None, columns=None) -> pd.DataFrame:
    """Read a Parquet or CSV file; a missing one is a `DataError` that says what writes it."""
    path = Path(path)
    if not path.exists():
        hint = f": run `keyaccounts {produced_by}` first" if produced_by else ""
        raise DataError(f"{path} not found{hint}")
    if path.suffix == ".csv":
        return pd.read_csv(path, usecols=columns)
    return pd.read_parquet(path, columns=columns)


def _plain(value: Any) -> Any:
    """JSON-safe: numpy scalars as Python numbers, NaN/inf as None, timestamps as ISO text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (pd.Timestamp,)) or hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def write_json(data: Any, path: Path) -> Path:
    """Write `data` as indented JSON (numpy numbers, NaN and dates made JSON-safe)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_plain(data), indent=2) + "\n", encoding="utf-8")
    return path


def read_json(path: Path, produced_by: str | None = None) -> Any:
    """Read a JSON file; a missing one is a `DataError` that says what writes it."""
    path = Path(path)
    if not path.exists():
        hint = f": run `keyaccounts {produced_by}` first" if produced_by else ""
        raise DataError(f"{path} not found{hint}")
    return json.loads(path.read_text(encoding="utf-8"))

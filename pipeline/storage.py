"""Reading and writing the stages' files: Parquet, CSV, JSON and text, always atomically.

Every file is first written to a hidden temporary in its own folder and then renamed onto its
name (`atomic_path` for one file, `StagedFiles` for several put in place together), so a
reader, or a run killed half-way, finds the complete old file or the complete new one, never
a part of one. A killed run can leave a temporary behind; the next write into that folder
removes it (`remove_stale_temporaries`).

Text from the data is never executable in a CSV: `write_table` escapes formula-like text with
`csv_safe`. The rule, `is_formula_like`, lives here once; the workbook writer
(pipeline/publishing/excel.py) applies the same rule to its cells.

The format follows the file suffix; a missing input raises `DataError` naming the file and the
stage that writes it.
"""

import ctypes
import errno
import json
import math
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.errors import DataError

__all__ = [
    "CSV_LINE_END", "FORMULA_PREFIXES", "StagedFiles", "atomic_path", "csv_safe", "folder_entries",
    "is_formula_like", "read_json", "read_table", "remove_stale_temporaries", "staged_folder",
    "write_json", "write_table", "write_text",
]

# text starting with one of these is read as a formula by spreadsheet programs (OWASP's list)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_LINE_END = "\r\n"  # RFC 4180; with "\n", a value holding "\r" would be written unquoted

# .<final name>.<pid>-<random>.tmp<final suffix>: hidden, names its writer, keeps the suffix
_TEMPORARY = re.compile(r"^\..+\.(?P<pid>\d+)-[0-9a-f]{12}\.tmp(\.[^.]*)?$")
_STALE_AFTER_SECONDS = 24 * 3600  # where a process cannot be asked whether it still runs


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp{path.suffix}")


def _own_temporary(path: Path) -> bool:
    """Whether `path` is a temporary that this process made (by `StagedFiles.path`)."""
    match = _TEMPORARY.match(path.name)
    return bool(match) and int(match["pid"]) == os.getpid()


def _abandoned(path: Path, pid: int) -> bool:
    """Whether the writer of the temporary `path` is gone (POSIX: no process `pid`;
    elsewhere: the file is older than a day)."""
    if pid == os.getpid():
        return False
    if os.name != "posix":
        return time.time() - path.stat().st_mtime > _STALE_AFTER_SECONDS
    try:
        os.kill(pid, 0)  # signal 0 sends nothing: it only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # exists but belongs to someone else, or cannot tell: keep it
        return False
    return False


def folder_entries(folder: Path) -> list[os.DirEntry]:
    """The entries of `folder` (os.scandir), none when it is missing or not a folder."""
    try:
        return list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporaries that killed runs left in `folder` (hidden `.<name>.<pid>-....tmp*`
    files whose process is gone); those of running processes are kept. Returns the removed
    paths. The writers of this module call it for the folder they write into."""
    folder = Path(folder)
    removed = []
    for entry in folder_entries(folder):
        match = _TEMPORARY.match(entry.name)
        if not match or not entry.is_file(follow_symlinks=False):
            continue
        path = folder / entry.name
        try:
            if _abandoned(path, int(match["pid"])):
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # removed meanwhile by its writer or another cleaner
            continue
    return removed


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Make the renames in `folder` durable (POSIX only; a filesystem that refuses a folder
    fsync keeps the rename all the same)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_written(temporary: Path, final: Path) -> None:
    if not temporary.is_file():
        raise FileNotFoundError(f"{final}: nothing was written to its temporary {temporary.name}")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path in `path`'s own folder to write to instead of `path`.

    The temporary is hidden (`.<name>.<pid>-<random>.tmp<suffix>`) and keeps `path`'s suffix,
    so writers that pick the format from the suffix still work. It is not created: the writer
    creates it. When the block exits normally the temporary is fsynced and `os.replace()`d
    onto `path` (then the folder is fsynced); on an exception it is removed and the old file at
    `path` is untouched. Creates the parent folder and removes stale temporaries of killed
    runs there. A `path` that already is a temporary of this process (from `StagedFiles.path`)
    is yielded as it is: its `StagedFiles` puts it in place."""
    path = Path(path)
    if _own_temporary(path):
        yield path
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    temporary = _temporary(path)
    try:
        yield temporary
        _check_written(temporary, path)
        _fsync_file(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


_RENAME_EXCHANGE, _AT_FDCWD = 2, -100  # linux/fs.h, fcntl.h


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically (renameat2 with RENAME_EXCHANGE); False where the
    C library, kernel or file system does not offer it (nothing is changed then)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSYS, errno.EINVAL, errno.EXDEV, errno.ENOTSUP):
        return False
    raise OSError(error, os.strerror(error), str(b))


@contextmanager
def staged_folder(path: Path) -> Iterator[Path]:
    """Yield a new, empty hidden folder beside `path` to fill instead of `path`.

    When the block exits normally the new folder and the earlier one at `path` trade places
    in one atomic step (Linux renameat2 RENAME_EXCHANGE) and the earlier one is removed: a
    reader, or a kill at any moment, finds the whole old folder or the whole new one, never a
    part of one and never none. Where the kernel or file system cannot exchange, the old
    folder is renamed aside and the new one onto `path` (for an instant between the two
    renames there is none). Without an earlier folder the new one is renamed onto `path`. On
    an exception the new folder is removed and `path` is untouched. Folders that killed runs
    left beside `path` are removed first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for entry in folder_entries(path.parent):
        match = _TEMPORARY.match(entry.name)
        if match and entry.name.startswith(f".{path.name}.") and entry.is_dir(
            follow_symlinks=False
        ) and _abandoned(path.parent / entry.name, int(match["pid"])):
            shutil.rmtree(path.parent / entry.name, ignore_errors=True)
    temporary, aside = _temporary(path), _temporary(path)
    temporary.mkdir()
    moved = False
    try:
        yield temporary
        if path.exists() and _exchange(temporary, path):
            shutil.rmtree(temporary, ignore_errors=True)  # now the old folder
            _fsync_folder(path.parent)
            return
        if path.exists():
            os.replace(path, aside)
            moved = True
        os.replace(temporary, path)
    except BaseException:
        if moved:
            os.replace(aside, path)
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    shutil.rmtree(aside, ignore_errors=True)
    _fsync_folder(path.parent)


class StagedFiles:
    """Several files written to temporaries, then put in place together by `commit()`.

        with StagedFiles() as staged:
            tmp = staged.path(final_path)   # temp path in final_path's folder; write there
            ...
            staged.commit()                 # fsync + os.replace each onto its final path, in order

    Leaving the block without `commit()` (or with an exception) removes every temporary, and
    the old files stay as they were. `commit()` first checks that every temporary was written
    and fsyncs them all, so the renames follow one another with nothing slow in between.
    The writers of this module (`write_table`, ...) write directly to a staged path."""

    def __init__(self) -> None:
        self._staged: dict[Path, Path] = {}  # final path -> its temporary, in order

    def __enter__(self) -> "StagedFiles":
        return self

    def __exit__(self, *exc_info) -> None:
        self.discard()

    def path(self, final: Path) -> Path:
        """A temporary path in `final`'s folder (created, stale temporaries removed) that
        `commit()` renames onto `final`."""
        final = Path(final)
        if final in self._staged:
            raise ValueError(f"{final} is staged twice")
        final.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(final.parent)
        self._staged[final] = temporary = _temporary(final)
        return temporary

    @property
    def finals(self) -> tuple[Path, ...]:
        """The final paths staged and not yet put in place, in order."""
        return tuple(self._staged)

    def commit(self) -> list[Path]:
        """Put every staged file in place, in the order staged; returns the final paths.
        A temporary that was not written stops the commit before any rename."""
        for final, temporary in self._staged.items():
            _check_written(temporary, final)
        for temporary in self._staged.values():
            _fsync_file(temporary)
        done = []
        for final, temporary in list(self._staged.items()):
            os.replace(temporary, final)
            del self._staged[final]
            done.append(final)
        for folder in dict.fromkeys(final.parent for final in done):
            _fsync_folder(folder)
        return done

    def discard(self) -> None:
        """Remove the temporaries not yet put in place (what leaving the block does)."""
        for temporary in self._staged.values():
            temporary.unlink(missing_ok=True)
        self._staged.clear()


def is_formula_like(value: Any) -> bool:
    """Whether `value` is text that a spreadsheet would run as a formula: it starts with
    = + - @, a tab or a carriage return."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def _csv_safe_column(column: pd.Series) -> pd.Series | None:
    """`column` with a leading ' before each formula-like text, or None when nothing changes.
    Numbers, dates and missing values are left alone."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(object)
    if isinstance(column.dtype, pd.StringDtype):
        mask = column.str.startswith(FORMULA_PREFIXES).fillna(False).to_numpy(dtype=bool)
    elif column.dtype == object:
        mask = np.fromiter(map(is_formula_like, column), dtype=bool, count=len(column))
    else:
        return None
    if not mask.any():
        return None
    values = column.to_numpy(dtype=object, copy=True)
    values[mask] = ["'" + value for value in values[mask]]
    return pd.Series(values, index=column.index, name=column.name, dtype=column.dtype)


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` fit for a CSV that people open in a spreadsheet: every text value
    that is formula-like (`is_formula_like`) gets a leading single quote (the usual rule:
    `=1+2` is written `'=1+2`), in the text columns only (object, string or categorical);
    numbers, dates and the column names are unchanged, and so is `frame`."""
    out = frame.copy(deep=False)
    for i in range(out.shape[1]):
        escaped = _csv_safe_column(out.iloc[:, i])
        if escaped is not None:
            out.isetitem(i, escaped)
    return out


def write_table(frame: pd.DataFrame, path: Path, *, date_format: str | None = None) -> Path:
    """Write `frame` atomically as Parquet or CSV (by suffix), without the index.

    A CSV has formula-like text escaped (`csv_safe`), dates in `date_format` when given, and
    CRLF line ends (RFC 4180): with those, a value holding a carriage return is quoted, where
    with bare LF line ends it would split its row. Parquet keeps every value as it is."""
    path = Path(path)
    with atomic_path(path) as temporary:
        if path.suffix == ".csv":
            csv_safe(frame).to_csv(temporary, index=False, date_format=date_format,
                                   lineterminator=CSV_LINE_END)
        else:
            frame.to_parquet(temporary, index=False)
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


def write_text(text: str, path: Path) -> Path:
    """Write `text` atomically as UTF-8."""
    path = Path(path)
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return path


def write_json(data: Any, path: Path) -> Path:
    """Write `data` atomically as indented JSON (numpy numbers, NaN and dates made
    JSON-safe)."""
    return write_text(json.dumps(_plain(data), indent=2) + "\n", path)


def read_json(path: Path, produced_by: str | None = None) -> Any:
    """Read a JSON file; a missing one is a `DataError` that says what writes it."""
    path = Path(path)
    if not path.exists():
        hint = f": run `keyaccounts {produced_by}` first" if produced_by else ""
        raise DataError(f"{path} not found{hint}")
    return json.loads(path.read_text(encoding="utf-8"))

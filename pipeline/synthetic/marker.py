"""The marker of generate's raw folder: which files `keyaccounts generate` wrote, so that it
never overwrites a file it did not write (a user's export) or one changed since.

The marker lists every file generate wrote with its SHA-256 (None while a run is under way,
so an interrupted run's files still count as generate's).
"""

import hashlib
import json
from pathlib import Path

from features.contract import TABLES
from pipeline.errors import DataError
from pipeline.files import GENERATE_MARKER, GENERATE_SUMMARY, table_file
from pipeline.storage import write_text

__all__ = ["MARKER", "RAW_FILES", "refuse_foreign_files", "write_marker"]

MARKER = GENERATE_MARKER
RAW_FILES = tuple(table_file(table) for table in TABLES)  # what write_dataset puts in raw


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _foreign_files(raw_dir: Path, truth_dir: Path) -> list[str]:
    """The files in `raw_dir` that generate did not write, or that changed since it did.

    The marker lists every file generate wrote with its SHA-256 (None while a run is under
    way, so an interrupted run's files still count as generate's). A folder from before the
    marker counts as generate's when truth_dir/generate_summary.json exists and it holds
    only the four tables."""
    if not raw_dir.is_dir():
        return []
    present = sorted(p for p in raw_dir.iterdir()
                     if p.is_file() and not p.name.startswith(".") and p.name != MARKER)
    if (raw_dir / MARKER).exists():
        files = json.loads((raw_dir / MARKER).read_text(encoding="utf-8")).get("files", {})
        return [p.name for p in present
                if p.name not in files or files[p.name] not in (None, _digest(p))]
    if (truth_dir / GENERATE_SUMMARY).exists():
        return [p.name for p in present if p.name not in RAW_FILES]
    return [p.name for p in present]


def refuse_foreign_files(raw_dir: Path, truth_dir: Path) -> None:
    """Stop when `raw_dir` holds files that generate did not write (or that changed)."""
    foreign = _foreign_files(raw_dir, truth_dir)
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise DataError(
            f"{raw_dir} holds files that `keyaccounts generate` did not write or that changed "
            f"since ({shown}), and generating would overwrite them with demo data: keep your "
            "own exports outside this folder and point configs/data.yaml at them, and use "
            "`keyaccounts run --skip-generate`"
        )


def write_marker(raw_dir: Path, config, provisional: bool = False) -> None:
    """Write the marker: the files generate writes, each with its SHA-256 (None for all of
    them when `provisional`, before the run)."""
    files = (dict.fromkeys(RAW_FILES) if provisional else
             {name: _digest(raw_dir / name) for name in RAW_FILES if (raw_dir / name).exists()})
    marker = {"seed": config.seed, "n_customers": config.n_customers, "files": files}
    write_text(json.dumps(marker, indent=2), raw_dir / MARKER)

"""`keyaccounts generate`: write the synthetic demo data set and its ground truth.

Writes transactions, contacts, customers and managers as Parquet to paths.raw_dir, and
ground_truth.parquet, defects.parquet (the injected faults: table, row, kind) and
generate_summary.json to paths.truth_dir. Overrides from the CLI: n_customers, seed,
defect_rate, and out_dir, which replaces both folders by out_dir/raw and out_dir/truth.

A marker file, generated_by_keyaccounts.json, lists the files generate wrote with their
SHA-256: a raw folder holding any other file, or one of them changed (a user's export copied
over it), is never overwritten. Under `dvc repro` the folder is the generate stage's output,
which DVC removes before the stage runs: own exports belong outside it.
"""

import hashlib
import json
from pathlib import Path

from pydantic import ValidationError

from features.contract import TABLES
from pipeline.config import Settings
from pipeline.errors import ConfigError, DataError
from pipeline.progress import logger, step, track
from pipeline.synthetic import write_dataset

__all__ = ["MARKER", "main"]

MARKER = "generated_by_keyaccounts.json"
RAW_FILES = tuple(f"{table}.parquet" for table in TABLES)  # what write_dataset puts in raw


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
    if (truth_dir / "generate_summary.json").exists():
        return [p.name for p in present if p.name not in RAW_FILES]
    return [p.name for p in present]


def _refuse_foreign_files(raw_dir: Path, truth_dir: Path) -> None:
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


def _write_marker(raw_dir: Path, config, files: dict) -> None:
    marker = {"seed": config.seed, "n_customers": config.n_customers, "files": files}
    raw_dir.mkdir(parents=True, exist_ok=True)
    (raw_dir / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")


def main(settings: Settings, out_dir: Path | None = None, **overrides) -> None:
    """Generate the data set of configs/generate.yaml (with `overrides` applied)."""
    try:
        config = settings.generate.model_validate({**settings.generate.model_dump(), **overrides})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ConfigError(f"generate options: {problems} (see configs/generate.yaml)") from error
    paths = settings.pipeline.paths
    raw_dir = Path(out_dir) / "raw" if out_dir else settings.path(paths.raw_dir)
    truth_dir = Path(out_dir) / "truth" if out_dir else settings.path(paths.truth_dir)
    _refuse_foreign_files(raw_dir, truth_dir)
    _write_marker(raw_dir, config, dict.fromkeys(RAW_FILES))  # provisional: a run under way
    with step(f"generate: {config.n_customers} customers, seed {config.seed}, "
              f"defect rate {config.defect_rate}"):
        summary = write_dataset(config, raw_dir, truth_dir,
                                progress=lambda items, desc, total: track(items, desc, total))
    _write_marker(raw_dir, config, {name: _digest(raw_dir / name) for name in RAW_FILES
                                    if (raw_dir / name).exists()})
    logger.info("generate: %s -> %s", ", ".join(f"{v} {k}" for k, v in summary["rows"].items()),
                raw_dir)
    logger.info("generate: %d ground-truth rows at %d as-of dates (relative SE of the total "
                "expected spend <= %.2f%%) -> %s", summary["truth_rows"],
                len(summary["truth_as_of"]), 100 * summary["truth_relative_se_of_total_max"],
                truth_dir)

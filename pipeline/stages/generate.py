"""`keyaccounts generate`: write the synthetic demo data set and its ground truth.

Writes transactions, contacts, customers and managers as Parquet to paths.raw_dir, and
ground_truth.parquet, defects.parquet (the injected faults: table, row, kind) and
generate_summary.json to paths.truth_dir. Overrides from the CLI: n_customers, seed,
defect_rate, and out_dir, which replaces both folders by out_dir/raw and out_dir/truth.

A marker file, generated_by_keyaccounts.json, marks the raw folder as generate's own: a raw
folder holding files without it (a user's export) is never overwritten.
"""

import json
from pathlib import Path

from pydantic import ValidationError

from pipeline.config import Settings
from pipeline.errors import ConfigError, DataError
from pipeline.progress import logger, step, track
from pipeline.synthetic import write_dataset

__all__ = ["MARKER", "main"]

MARKER = "generated_by_keyaccounts.json"


def _refuse_foreign_files(raw_dir: Path) -> None:
    """Stop when `raw_dir` holds files that generate did not write (no marker)."""
    if not raw_dir.is_dir() or (raw_dir / MARKER).exists():
        return
    foreign = sorted(p.name for p in raw_dir.iterdir() if not p.name.startswith("."))
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise DataError(
            f"{raw_dir} holds files that `keyaccounts generate` did not write ({shown}) and "
            "generating would overwrite them with demo data: use `keyaccounts run "
            "--skip-generate` for your own data, or move the files and point configs/data.yaml "
            "at them"
        )


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
    _refuse_foreign_files(raw_dir)
    with step(f"generate: {config.n_customers} customers, seed {config.seed}, "
              f"defect rate {config.defect_rate}"):
        summary = write_dataset(config, raw_dir, truth_dir,
                                progress=lambda items, desc, total: track(items, desc, total))
    marker = {"seed": config.seed, "n_customers": config.n_customers, "rows": summary["rows"]}
    (raw_dir / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
    logger.info("generate: %s -> %s", ", ".join(f"{v} {k}" for k, v in summary["rows"].items()),
                raw_dir)
    logger.info("generate: %d ground-truth rows at %d as-of dates (relative SE of the total "
                "expected spend <= %.2f%%) -> %s", summary["truth_rows"],
                len(summary["truth_as_of"]), 100 * summary["truth_relative_se_of_total_max"],
                truth_dir)

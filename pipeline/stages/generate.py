"""`keyaccounts generate`: write the synthetic demo data set and its ground truth.

Writes transactions, contacts, customers and managers as Parquet to paths.raw_dir, and
ground_truth.parquet, defects.parquet (the injected faults: table, row, kind) and
generate_summary.json to paths.truth_dir. Overrides from the CLI: preset (a customer base of
another shape, pipeline.synthetic.presets, applied on top of configs/generate.yaml; its
line "run the pipeline on this data with ..." names the configs/ settings its data needs),
n_customers, seed, defect_rate (on top of the preset), and out_dir, which replaces both
folders by out_dir/raw and out_dir/truth.

A marker file, generated_by_keyaccounts.json, lists the files generate wrote with their
SHA-256: a raw folder holding any other file, or one of them changed (a user's export copied
over it), is never overwritten. Under `dvc repro` the folder is the generate stage's output,
which DVC removes before the stage runs: own exports belong outside it.
"""

from pathlib import Path

from pydantic import ValidationError

from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.progress import logger, step, track
from pipeline.synthetic import write_dataset
from pipeline.synthetic.marker import MARKER, RAW_FILES, refuse_foreign_files, write_marker
from pipeline.synthetic.presets import apply_preset, settings_note

__all__ = ["MARKER", "RAW_FILES", "main"]


def main(settings: Settings, out_dir: Path | None = None, preset: str | None = None,
         **overrides) -> None:
    """Generate the data set of configs/generate.yaml (with `preset`'s overrides, then
    `overrides`, applied)."""
    if preset is not None:
        config = apply_preset(settings.generate, preset, **overrides)
    else:
        try:
            config = settings.generate.model_validate(
                {**settings.generate.model_dump(), **overrides})
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                 for e in error.errors())
            raise ConfigError(f"generate options: {problems} (see configs/generate.yaml)"
                              ) from error
    paths = settings.pipeline.paths
    raw_dir = Path(out_dir) / "raw" if out_dir else settings.path(paths.raw_dir)
    truth_dir = Path(out_dir) / "truth" if out_dir else settings.path(paths.truth_dir)
    refuse_foreign_files(raw_dir, truth_dir)
    write_marker(raw_dir, config, provisional=True)  # provisional: a run under way
    shape = f"preset {preset}, " if preset else ""
    with step(f"generate: {shape}{config.n_customers} customers, seed {config.seed}, "
              f"defect rate {config.defect_rate}"):
        summary = write_dataset(config, raw_dir, truth_dir,
                                progress=lambda items, desc, total: track(items, desc, total))
    write_marker(raw_dir, config)
    logger.info("generate: %s -> %s", ", ".join(f"{v} {k}" for k, v in summary["rows"].items()),
                raw_dir)
    logger.info("generate: %d ground-truth rows at %d as-of dates (relative SE of the total "
                "expected spend <= %.2f%%) -> %s", summary["truth_rows"],
                len(summary["truth_as_of"]), 100 * summary["truth_relative_se_of_total_max"],
                truth_dir)
    note = settings_note(preset) if preset else None
    if note:
        logger.warning("generate: %s", note)

"""One validation run, table by table: read the configured sources, check the rows, run the
expectations, summarise; then write the accepted rows, the quarantine and the report.

Used by `pipeline/stages/validate.py`; GX is imported only when `run_checks` runs.
"""

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from features.contract import TABLES
from pipeline.config.data import DataConfig, SourceConfig
from pipeline.progress import logger, step
from pipeline.validation.checks import CheckOptions, TableResult, check_tables
from pipeline.validation.report import build_summary, render_html
from pipeline.validation.schema import SPECS
from pipeline.validation.sources import read_source

__all__ = [
    "ValidationRun", "check_options", "read_sources", "run_checks", "write_outputs",
    "log_results", "failure_message",
]


@dataclass(frozen=True)
class ValidationRun:
    """The row-level `results` per table and the JSON-ready `summary` (see build_summary)."""

    results: dict[str, TableResult]
    summary: dict


def check_options(config: DataConfig, source: SourceConfig, reference: date) -> CheckOptions:
    """The row-check options of one source: dates, number format, unknown-manager policy."""
    return CheckOptions(
        reference_date=pd.Timestamp(reference),
        min_date=pd.Timestamp(config.min_date),
        date_format=source.date_format,
        decimal=source.csv.decimal,
        thousands=source.csv.thousands,
        on_unknown_manager=config.on_unknown_manager,
    )


def read_sources(
    config: DataConfig, resolve: Callable[[Path], Path]
) -> tuple[dict[str, Path], dict[str, pd.DataFrame]]:
    """The file (`resolve`d against the project root) and the raw rows of every configured
    table."""
    files, raws = {}, {}
    for table, source in config.sources().items():
        files[table] = resolve(source.path)
        with step(f"validate: reading {table} from {files[table]}"):
            raws[table] = read_source(files[table], table, SPECS[table], source)
    return files, raws


def run_checks(
    raws: dict[str, pd.DataFrame], files: dict[str, Path], config: DataConfig, reference: date,
    started: float,
) -> ValidationRun:
    """Row-level checks, then the Great Expectations suites on raw and accepted rows, then the
    summary (`started`: time.perf_counter() at the start of the run)."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"  # before GX is first imported: no network
    with step("validate: row-level checks"):
        options = {t: check_options(config, s, reference) for t, s in config.sources().items()}
        results = check_tables(raws, options)
    with step("validate: Great Expectations suites"):
        from pipeline.validation.expectations import run_expectations

        expectations = run_expectations(
            raws,
            results,
            config.min_date,
            reference,
            config.gx_max_rows,
            unknown_manager_blocks=config.on_unknown_manager == "quarantine",
        )
    summary = build_summary(
        results,
        expectations,
        files,
        str(reference),
        time.perf_counter() - started,
        config.gx_max_rows,
    )
    return ValidationRun(results, summary)


def write_outputs(
    run: ValidationRun, validated_dir: Path, quarantine_dir: Path, report_dir: Path,
    write_validated: bool, quarantine_csv: bool,
) -> None:
    """Remove the outputs of an earlier run, then write the quarantine (Parquet, + CSV when
    `quarantine_csv`), the accepted rows (only when `write_validated`), the summary JSON and
    the HTML report."""
    for folder in (validated_dir, quarantine_dir, report_dir):
        folder.mkdir(parents=True, exist_ok=True)
    for table in TABLES:  # no stale file of an earlier run may survive
        for old in (
            validated_dir / f"{table}.parquet",
            quarantine_dir / f"{table}.parquet",
            quarantine_dir / f"{table}.csv",
        ):
            old.unlink(missing_ok=True)
    with step("validate: writing outputs"):
        for table, result in run.results.items():
            if write_validated:
                result.accepted.to_parquet(validated_dir / f"{table}.parquet", index=False)
            result.quarantine.to_parquet(quarantine_dir / f"{table}.parquet", index=False)
            if quarantine_csv:
                result.quarantine.to_csv(quarantine_dir / f"{table}.csv", index=False)
        (report_dir / "validation_summary.json").write_text(json.dumps(run.summary, indent=2))
        (report_dir / "index.html").write_text(render_html(run.summary), encoding="utf-8")


def log_results(results: dict[str, TableResult]) -> None:
    """Log the row counts, quarantine reasons and warnings of every table."""
    for table, r in results.items():
        logger.info(
            "validate: %s: %d in, %d accepted, %d quarantined %s",
            table,
            r.rows_in,
            r.rows_accepted,
            r.rows_quarantined,
            r.reasons or "",
        )
        for warning in r.warnings:
            logger.warning("validate: %s: %s", table, warning["message"])


def failure_message(summary: dict, report: Path) -> str:
    """The one-line error when the accepted data fails blocking expectations: the count, the
    first five failures and where the `report` is and how to write the data anyway."""
    failed = summary["failed_expectations"]
    shown = "; ".join(
        f"{e['table']}: {e['expectation']}({e['column']}) {e['observed']}" for e in failed[:5]
    )
    return (
        f"the accepted data fails {len(failed)} expectation(s): {shown}; see "
        f"{report} (set fail_on_expectations: false in configs/data.yaml "
        "to write the validated data anyway)"
    )

"""`keyaccounts validate`: configured sources in; typed Parquet, quarantine and a report out.

Reads every table named in configs/data.yaml (transactions required), refuses bad rows into
paths.quarantine_dir/<table>.parquet (+ .csv) with their reason, writes the accepted rows to
paths.validated_dir/<table>.parquet, checks raw and accepted rows with Great Expectations and
writes paths.reports_dir/validation/index.html and validation_summary.json. Stops with
`DataError` on a missing or empty file or a missing column, and, after writing the report and
the quarantine but no validated data, when the accepted rows fail a blocking expectation
(unless data.yaml fail_on_expectations is false).
"""

import json
import os
import time
from datetime import date

import pandas as pd

from features.contract import TABLES
from pipeline.config import Settings
from pipeline.config.data import DataConfig, SourceConfig
from pipeline.errors import DataError
from pipeline.progress import logger, step
from pipeline.validation import (
    SPECS,
    CheckOptions,
    build_summary,
    check_tables,
    read_source,
    render_html,
)

__all__ = ["main"]


def _options(config: DataConfig, source: SourceConfig, reference: date) -> CheckOptions:
    return CheckOptions(
        reference_date=pd.Timestamp(reference),
        min_date=pd.Timestamp(config.min_date),
        date_format=source.date_format,
        decimal=source.csv.decimal,
        thousands=source.csv.thousands,
        on_unknown_manager=config.on_unknown_manager,
    )


def main(settings: Settings, **overrides) -> None:
    """Validate the configured sources and write accepted rows, quarantine and the report."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"  # before GX is first imported: no network
    config = settings.data.model_copy(update=overrides) if overrides else settings.data
    paths = settings.pipeline.paths
    started = time.perf_counter()
    reference = config.reference_date or date.today()
    files, raws = {}, {}
    for table, source in config.sources().items():
        files[table] = settings.path(source.path)
        with step(f"validate: reading {table} from {files[table]}"):
            raws[table] = read_source(files[table], table, SPECS[table], source)
    with step("validate: row-level checks"):
        options = {t: _options(config, s, reference) for t, s in config.sources().items()}
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
    refuse = not summary["success"] and config.fail_on_expectations

    validated_dir = settings.path(paths.validated_dir)
    quarantine_dir = settings.path(paths.quarantine_dir)
    report_dir = settings.path(paths.reports_dir) / "validation"
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
        for table, result in results.items():
            if not refuse:
                result.accepted.to_parquet(validated_dir / f"{table}.parquet", index=False)
            result.quarantine.to_parquet(quarantine_dir / f"{table}.parquet", index=False)
            if config.quarantine_csv:
                result.quarantine.to_csv(quarantine_dir / f"{table}.csv", index=False)
        (report_dir / "validation_summary.json").write_text(json.dumps(summary, indent=2))
        (report_dir / "index.html").write_text(render_html(summary), encoding="utf-8")
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
    if refuse:
        failed = summary["failed_expectations"]
        shown = "; ".join(
            f"{e['table']}: {e['expectation']}({e['column']}) {e['observed']}" for e in failed[:5]
        )
        raise DataError(
            f"the accepted data fails {len(failed)} expectation(s): {shown}; see "
            f"{report_dir / 'index.html'} (set fail_on_expectations: false in configs/data.yaml "
            "to write the validated data anyway)"
        )

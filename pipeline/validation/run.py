"""One validation run, table by table: read the configured sources, check the rows, run the
expectations, summarise; then write the accepted rows, the quarantine and the report.

Three stops besides the expectations, all raised by `write_outputs` after the stale validated
data of an earlier run is removed and the quarantine and the report (with the error) are
written, but no validated data, whatever fail_on_expectations says: a column whose values fail
to parse in a way that points at a wrong date_format or number format (found by `run_checks`,
which then skips the expectations), naming the fix; a transactions table whose accepted rows
hold no positive amount (only returns), saying the purchases are missing; and a transactions
table with no accepted row, naming the main quarantine reasons. Ids that collide only by case
or invisible characters are logged and listed in the summary (`id_collisions`), not merged.

Used by `pipeline/stages/validate.py`; GX is imported only when `run_checks` runs.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from features.contract import AMOUNT, TABLES, TRANSACTIONS
from pipeline.config.data import DataConfig, SourceConfig
from pipeline.errors import DataError
from pipeline.files import (
    DATA_DOCS,
    VALIDATION_REPORT,
    VALIDATION_SUMMARY,
    csv_file,
    table_file,
)
from pipeline.progress import logger, step
from pipeline.storage import StagedFiles, staged_folder, write_table, write_text
from pipeline.validation.checks import ALL_COLUMNS, REASONS, CheckOptions, TableResult, check_tables
from pipeline.validation.ids import collision_warnings, id_collisions
from pipeline.validation.report import build_summary, render_html
from pipeline.validation.schema import SPECS
from pipeline.validation.sources import read_source

__all__ = [
    "ValidationRun", "check_options", "read_sources", "run_checks", "write_outputs",
    "log_results", "failure_message", "parse_failure_message", "all_quarantined_message",
    "no_purchases_message",
]


@dataclass(frozen=True)
class ValidationRun:
    """The row-level `results` per table and the JSON-ready `summary` (see build_summary);
    `stop`: the parse-failure or no-purchases message `write_outputs` raises after writing
    the report."""

    results: dict[str, TableResult]
    summary: dict
    stop: str | None = None
    docs: Callable[[Path], Path] | None = None  # renders the GX Data Docs into a folder


def check_options(config: DataConfig, source: SourceConfig, reference: date) -> CheckOptions:
    """The row-check options of one source: dates, number format, unknown-manager policy."""
    return CheckOptions(
        reference_date=pd.Timestamp(reference),
        min_date=pd.Timestamp(config.min_date),
        date_format=source.date_format,
        decimal=source.csv.decimal,
        thousands=source.csv.thousands,
        on_unknown_manager=config.on_unknown_manager,
        max_unparseable_share=config.max_unparseable_share,
        max_abs_amount=config.max_abs_amount,
        dedupe=source.dedupe,
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
    """Row-level checks (parsing, then each table's GX rows suite on every row), then the
    accepted and references suites on the accepted rows, then the summary (`started`:
    time.perf_counter() at the start of the run). One GX context runs every suite, so that
    `docs` renders them all as one Data Docs site.

    When a column's values fail to parse with a wrong setting (see `parse_failure_message`),
    the accepted and references suites are skipped and the run carries the message in `stop`
    (and the summary in `error`, with success false): `write_outputs` then removes the stale
    validated data, writes the quarantine and the report and raises DataError."""
    from pipeline.validation.expectations import GxRunner, run_expectations

    with step("validate: row-level checks (parsing, GX rows suites)"):
        runner = GxRunner(max_rows=config.gx_max_rows)
        options = {t: check_options(config, s, reference) for t, s in config.sources().items()}
        results = check_tables(raws, options, runner=runner)
        collisions = id_collisions(results)
    for line in collision_warnings(collisions):
        logger.warning("validate: %s", line)
    if message := parse_failure_message(results, files, config):
        summary = build_summary(
            results, {}, files, str(reference), time.perf_counter() - started, config.gx_max_rows,
            collisions, f"{DATA_DOCS}/{VALIDATION_REPORT}",
        )
        return ValidationRun(
            results, {**summary, "success": False, "error": message}, message, runner.build_docs
        )
    with step("validate: Great Expectations accepted and references suites"):
        expectations = run_expectations(
            results, runner, unknown_manager_blocks=config.on_unknown_manager == "quarantine"
        )
    summary = build_summary(
        results,
        expectations,
        files,
        str(reference),
        time.perf_counter() - started,
        config.gx_max_rows,
        collisions,
        f"{DATA_DOCS}/{VALIDATION_REPORT}",
    )
    if message := no_purchases_message(results, files, config):
        return ValidationRun(
            results, {**summary, "success": False, "error": message}, message, runner.build_docs
        )
    return ValidationRun(results, summary, docs=runner.build_docs)


def write_outputs(
    run: ValidationRun, validated_dir: Path, quarantine_dir: Path, report_dir: Path,
    write_validated: bool, quarantine_csv: bool,
) -> None:
    """Write the quarantine (Parquet, + CSV when
    `quarantine_csv`), the accepted rows (only when `write_validated`), the summary JSON and
    the HTML report and the GX Data Docs folder (`run.docs`, in report_dir/data_docs), all
    renamed into place together (storage.StagedFiles, storage.staged_folder), then remove what
    an earlier run wrote that this one did not (e.g. validated data after a stop).

    When the run carries a parse-failure `stop`, or no transactions row was accepted, no
    validated data is written and, after the quarantine and the report, DataError says why
    (the setting to fix, or the main quarantine reasons): that is nothing the next stages
    could use, whatever fail_on_expectations says."""
    summary = run.summary
    stop = run.stop
    if stop is not None:
        write_validated = False
    elif TRANSACTIONS in run.results and run.results[TRANSACTIONS].rows_accepted == 0:
        rows = quarantine_dir / f"{TRANSACTIONS}.{'csv' if quarantine_csv else 'parquet'}"
        stop = all_quarantined_message(summary, TRANSACTIONS, rows)
        summary = {**summary, "success": False, "error": stop}
        write_validated = False
    for folder in (validated_dir, quarantine_dir, report_dir):
        if folder != validated_dir or write_validated:
            folder.mkdir(parents=True, exist_ok=True)
    docs = report_dir / DATA_DOCS
    with step("validate: writing outputs and Data Docs"), StagedFiles() as staged, staged_folder(
        docs
    ) as new:
        if run.docs is not None:
            run.docs(new)
        written = set()
        for table, result in run.results.items():
            targets = [(result.quarantine, quarantine_dir / table_file(table))]
            if write_validated:
                targets.append((result.accepted, validated_dir / table_file(table)))
            if quarantine_csv:  # formula-like text escaped (storage.csv_safe)
                targets.append((result.quarantine, quarantine_dir / csv_file(table)))
            for frame, path in targets:
                write_table(frame, staged.path(path))
                written.add(path)
        write_text(json.dumps(summary, indent=2),
                   staged.path(report_dir / VALIDATION_SUMMARY))
        write_text(render_html(summary), staged.path(report_dir / VALIDATION_REPORT))
        staged.commit()  # the new files whole in place first (the Data Docs folder on leaving
        # the block), then the earlier run's others go
    for table in TABLES:  # no stale file of an earlier run may survive
        for old in (validated_dir / table_file(table), quarantine_dir / table_file(table),
                    quarantine_dir / csv_file(table)):
            if old not in written:
                old.unlink(missing_ok=True)
    if stop is not None:
        log_results(run.results)
        raise DataError(stop)


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


def parse_failure_message(
    results: dict[str, TableResult], files: dict[str, Path], config: DataConfig
) -> str | None:
    """One line for every column whose values mostly fail to parse (file, contract and source
    column, count, examples, the setting to change), or None when there is none."""
    sources = config.sources()
    return "; ".join(
        failure.message(files[table], sources[table].columns.get(failure.column, failure.column))
        for table, result in results.items()
        for failure in result.parse_failures
    ) or None


def no_purchases_message(
    results: dict[str, TableResult], files: dict[str, Path], config: DataConfig
) -> str | None:
    """The one-line error when transactions rows were accepted but none has a positive
    amount (all returns or zero): nothing to learn spend from. None otherwise (and when no
    row was accepted at all: `all_quarantined_message` says why)."""
    result = results.get(TRANSACTIONS)
    if result is None or result.rows_accepted == 0:
        return None
    amounts = result.accepted[AMOUNT]
    if (amounts > 0).any():
        return None
    source = config.transactions.columns.get(AMOUNT, AMOUNT)
    named = f" (source column '{source}')" if source != AMOUNT else ""
    return (
        f"{files[TRANSACTIONS]}: no accepted transactions row has a positive amount "
        f"({int((amounts < 0).sum())} returns, {int((amounts == 0).sum())} zero of "
        f"{result.rows_accepted} rows in column {AMOUNT}{named}): the purchases are missing; "
        "export the sales as well as the returns (a negative amount is a return), or check "
        f"that transactions.columns.{AMOUNT} in configs/data.yaml names the sales amount"
    )


def _top_reasons(table: dict) -> str:
    found = table.get("top_reasons") or [
        {"reason": r, "column": ALL_COLUMNS, "rows": n}
        for r, n in sorted(table["reasons"].items(), key=lambda item: -item[1])
    ]
    shown = ", ".join(
        f"{t['rows']} {t['reason']}" + ("" if t["column"] == ALL_COLUMNS else f" in {t['column']}")
        for t in found[:3]
    )
    total = table.get("rows_quarantined", sum(table["reasons"].values()))
    rest = total - sum(t["rows"] for t in found[:3])
    return f"{shown}, {rest} more in other reasons" if rest > 0 else shown


def all_quarantined_message(summary: dict, table: str, where: Path) -> str:
    """The one-line error when every row of `table` was quarantined: the file, the count, the
    three main reasons with their columns (and how many rows the others have), what the main reason means and `where` to look."""
    t = summary["tables"][table]
    main = max(t["reasons"], key=t["reasons"].get)
    skip = "" if table == TRANSACTIONS else f" (or set {table}: null in configs/data.yaml)"
    return (
        f"{t['source']}: all {t['rows_in']} {table} rows were quarantined, none accepted "
        f"({_top_reasons(t)}); {main}: {REASONS.get(main, main)}; see {where} and fix "
        f"configs/data.yaml or the export{skip}"
    )


def failure_message(summary: dict, report: Path) -> str:
    """The one-line error when the accepted data fails blocking expectations: the count, the
    first five failures and where the `report` is and how to write the data anyway. A table
    whose rows were all quarantined is described by its quarantine reasons instead of the
    expectations an empty table fails."""
    tables = summary.get("tables", {})
    empty = [name for name, t in tables.items() if t["rows_accepted"] == 0 and t["rows_in"]]
    failed = [e for e in summary["failed_expectations"] if e["table"] not in empty]
    parts = [all_quarantined_message(summary, name, report) for name in empty]
    if failed:
        shown = "; ".join(
            f"{e['table']}: {e['expectation']}({e['column']}) {e['observed']}" for e in failed[:5]
        )
        parts.append(
            f"the accepted data fails {len(failed)} expectation(s): {shown}; see "
            f"{report} (set fail_on_expectations: false in configs/data.yaml "
            "to write the validated data anyway)"
        )
    return "; ".join(parts)

"""`keyaccounts validate`: configured sources in; typed Parquet, quarantine and a report out.

Reads every table named in configs/data.yaml (transactions required), refuses bad rows into
paths.quarantine_dir/<table>.parquet (+ .csv) with their reason, writes the accepted rows to
paths.validated_dir/<table>.parquet (the rows suite of Great Expectations finds the refused
rows, the accepted suite checks the accepted table) and writes
paths.reports_dir/validation/index.html, validation_summary.json and the GX Data Docs in
data_docs/ (linked from index.html). Stops with
`DataError` on a missing or empty file or a missing column; and, after writing the report and
the quarantine but no validated data (an earlier run's is removed), when a column's values
fail to parse systematically (a wrong date_format, csv.decimal or csv.thousands: the message
names the fix), when no transactions row was accepted, or when the accepted rows fail a
blocking expectation (unless data.yaml fail_on_expectations is false). The work is in
`pipeline.validation.run`.
"""

import time
from datetime import date

from pipeline.config import Settings
from pipeline.errors import DataError
from pipeline.files import VALIDATION_REPORT
from pipeline.validation import run as validation

__all__ = ["main"]


def main(settings: Settings, **overrides) -> None:
    """Validate the configured sources and write accepted rows, quarantine and the report."""
    config = settings.data.model_copy(update=overrides) if overrides else settings.data
    paths = settings.pipeline.paths
    started = time.perf_counter()
    reference = config.reference_date or date.today()
    files, raws = validation.read_sources(config, settings.path)
    run = validation.run_checks(raws, files, config, reference, started)
    refuse = not run.summary["success"] and config.fail_on_expectations
    report_dir = settings.path(paths.reports_dir) / "validation"
    validation.write_outputs(
        run,
        settings.path(paths.validated_dir),
        settings.path(paths.quarantine_dir),
        report_dir,
        write_validated=not refuse,
        quarantine_csv=config.quarantine_csv,
    )
    validation.log_results(run.results)
    if refuse:
        raise DataError(validation.failure_message(run.summary, report_dir / VALIDATION_REPORT))

"""Validated ingestion: read the configured sources, parse them into contract types, refuse
bad rows into quarantine with a reason, check the result with Great Expectations and report.

`checks`, `parse` and `ids` (ids that differ only by case or invisible characters, reported)
are pure (DataFrames in, DataFrames out; `checks` runs each table's GX rows suite in memory);
`sources` reads files; `expectations` declares the accepted-data rules as GX suites and
renders GX Data Docs (GX is imported lazily: importing this package does not import it);
`report` renders the HTML page that links them; `run` ties them together for the stage
`pipeline/stages/validate.py` (read, check, summarise, write).
"""

from pipeline.validation.checks import (
    ALL_COLUMNS,
    COLUMN,
    REASON,
    REASONS,
    SOURCE_ROW,
    SYSTEMATIC_MIN_COUNT,
    CheckOptions,
    ParseFailure,
    TableResult,
    check_table,
    check_tables,
)
from pipeline.validation.ids import id_collisions
from pipeline.validation.report import build_summary, render_html
from pipeline.validation.schema import CHECK_ORDER, SPECS, TableSpec
from pipeline.validation.sources import read_source, source_format

__all__ = [
    "ALL_COLUMNS",
    "CHECK_ORDER",
    "COLUMN",
    "REASON",
    "REASONS",
    "SOURCE_ROW",
    "SPECS",
    "SYSTEMATIC_MIN_COUNT",
    "CheckOptions",
    "ParseFailure",
    "TableResult",
    "TableSpec",
    "build_summary",
    "check_table",
    "check_tables",
    "id_collisions",
    "read_source",
    "render_html",
    "source_format",
]

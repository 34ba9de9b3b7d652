"""What managers, the CRM and machines receive: the ranked lists as Excel, an HTML report,
per-manager and per-region books (pipeline.publishing.books), the CRM tables
(pipeline.publishing.crm) and Parquet/CSV of the same rows."""

from pipeline.publishing.books import BookPlan, plan_books, remove_stale, write_books
from pipeline.publishing.checks import check_rows
from pipeline.publishing.excel import write_workbook
from pipeline.publishing.html import write_book_page, write_report
from pipeline.publishing.inputs import TierOutputs, read_tier_outputs
from pipeline.publishing.rows import COLUMNS, manager_rows
from pipeline.publishing.summary import (
    capacity_pools,
    guide_rows,
    kept_incumbents,
    manager_effect_tables,
    manager_view,
    region_view,
    summary_tables,
    workbook_notes,
)

__all__ = ["BookPlan", "COLUMNS", "TierOutputs", "capacity_pools", "check_rows", "guide_rows",
           "kept_incumbents", "manager_effect_tables", "manager_rows", "manager_view", "plan_books",
           "read_tier_outputs", "region_view", "remove_stale", "summary_tables",
           "workbook_notes", "write_book_page", "write_books", "write_report",
           "write_workbook"]

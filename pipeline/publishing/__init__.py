"""What managers, the CRM and machines receive: the ranked lists as Excel, an HTML report,
the CRM tables (pipeline.publishing.crm) and Parquet/CSV of the same rows."""

from pipeline.publishing.checks import check_rows
from pipeline.publishing.excel import write_workbook
from pipeline.publishing.html import write_report
from pipeline.publishing.inputs import TierOutputs, read_tier_outputs
from pipeline.publishing.rows import COLUMNS, manager_rows
from pipeline.publishing.summary import summary_tables, workbook_notes

__all__ = ["COLUMNS", "TierOutputs", "check_rows", "manager_rows",
           "read_tier_outputs", "summary_tables", "workbook_notes", "write_report",
           "write_workbook"]

"""What managers, the CRM and machines receive: the ranked lists as Excel, an HTML report,
a database table (upserted) and Parquet/CSV of the same rows."""

from pipeline.publishing.crm import crm_rows, database_url, publish_crm, upsert_table
from pipeline.publishing.excel import write_workbook
from pipeline.publishing.html import write_report
from pipeline.publishing.inputs import TierOutputs, read_tier_outputs
from pipeline.publishing.rows import COLUMNS, manager_rows
from pipeline.publishing.summary import summary_tables, workbook_notes

__all__ = ["COLUMNS", "TierOutputs", "crm_rows", "database_url", "manager_rows",
           "publish_crm", "read_tier_outputs", "summary_tables", "upsert_table",
           "workbook_notes", "write_report", "write_workbook"]

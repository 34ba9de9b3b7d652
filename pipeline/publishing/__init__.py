"""What managers, the CRM and machines receive: the ranked lists as Excel, an HTML report,
a database table (upserted) and Parquet/CSV of the same rows."""

from pipeline.publishing.crm import upsert_table
from pipeline.publishing.excel import write_workbook
from pipeline.publishing.html import write_report
from pipeline.publishing.rows import COLUMNS, manager_rows

__all__ = ["COLUMNS", "manager_rows", "upsert_table", "write_report", "write_workbook"]

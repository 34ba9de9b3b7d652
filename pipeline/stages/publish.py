"""`keyaccounts publish`: the tier stage's rows out to people, the CRM and machines.

Reads paths.tiers_dir (tiers.parquet, movement.parquet, movement_matrix.parquet,
shortfall.parquet, books.parquet, tier_summary.json) and writes to paths.publish_dir: the
workbook (summary + a sheet per region or manager), the HTML report, Parquet and CSV of the
same rows, and upserts the CRM table (publish.crm_url, default sqlite crm.db in publish_dir).
The tables and writers live in `pipeline.publishing`.
"""

from features.contract import AS_OF, HORIZON_DAYS
from models.assignment import KEPT_MANAGER
from pipeline import publishing
from pipeline.config import Settings
from pipeline.progress import logger, step

__all__ = ["main", "crm_url", "CRM_COLUMNS"]

# the CRM table: the published rows plus the stamps of where they came from
CRM_COLUMNS = (*publishing.COLUMNS, KEPT_MANAGER, AS_OF, HORIZON_DAYS,
               "value_model_version", "churn_model_version", "run_id")


def crm_url(settings: Settings, configured: str | None) -> str:
    """The CRM URL `configured` (publish.crm_url); a relative SQLite file is resolved against
    the project root, None means crm.db in paths.publish_dir."""
    default = settings.path(settings.pipeline.paths.publish_dir) / "crm.db"
    return publishing.database_url(configured, default, settings.path)


def main(settings: Settings, **overrides) -> None:
    """Write the workbook, the report, Parquet/CSV and the CRM table."""
    config = settings.tiers.model_copy(update=overrides) if overrides else settings.tiers
    paths, publish, names = settings.pipeline.paths, config.publish, config.policy.tier_names
    out = settings.path(paths.publish_dir)
    with step("publish: reading tiers"):
        tier = publishing.read_tier_outputs(settings.path(paths.tiers_dir))
    rows = publishing.manager_rows(tier.tiers)
    out.mkdir(parents=True, exist_ok=True)
    with step(f"publish: workbook of {len(rows):,} rows by {publish.sheets_by}"):
        tables = publishing.summary_tables(tier.tiers, tier.movement, tier.matrix.reset_index(),
                                           tier.books, tier.shortfall, names)
        sheets = publishing.write_workbook(out / publish.workbook_name, rows, tables,
                                           publish.sheets_by,
                                           publishing.workbook_notes(tier.summary))
    with step("publish: HTML report"):
        publishing.write_report(out / publish.report_name, tier.tiers, tier.matrix,
                                tier.shortfall, names, tier.summary, publish.at_risk_rows)
    rows.to_parquet(out / f"{publish.rows_name}.parquet", index=False)
    rows.to_csv(out / f"{publish.rows_name}.csv", index=False, date_format="%Y-%m-%d")
    crm = publishing.crm_rows(rows, tier.tiers, CRM_COLUMNS)
    with step(f"publish: upserting {len(crm):,} rows into the CRM table {publish.crm_table}"):
        publishing.publish_crm(crm, lambda: crm_url(settings, publish.crm_url),
                               publish.crm_table)
    logger.info("publish: %d sheets (%s), report, rows and CRM table -> %s",
                len(sheets), ", ".join(sheets[:6]), out)

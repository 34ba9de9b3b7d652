"""`keyaccounts publish`: the tier stage's rows out to people, the CRM and machines.

Reads paths.tiers_dir (tiers.parquet, movement.parquet, movement_matrix.parquet,
shortfall.parquet, books.parquet, tier_summary.json) and writes to paths.publish_dir: the
workbook (summary + a sheet per region or manager), the HTML report, Parquet and CSV of the
same rows, and upserts the CRM table (publish.crm_url, default sqlite crm.db in publish_dir).
"""

import json
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from pipeline import publishing
from pipeline.config import Settings
from pipeline.errors import ConfigError, DataError
from pipeline.progress import logger, step

__all__ = ["main", "crm_url", "CRM_COLUMNS"]

# the CRM table: the published rows plus the stamps of where they came from
CRM_COLUMNS = (*publishing.COLUMNS, "kept_manager", "as_of", "horizon_days",
               "value_model_version", "churn_model_version", "run_id")


def crm_url(settings: Settings, configured: str | None) -> str:
    """The CRM URL `configured` (publish.crm_url); a relative SQLite file is resolved against
    the project root, None means crm.db in paths.publish_dir."""
    if configured is None:
        path = settings.path(settings.pipeline.paths.publish_dir) / "crm.db"
        return f"sqlite:///{path}"
    url = make_url(configured)
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        database = settings.path(Path(url.database))
        database.parent.mkdir(parents=True, exist_ok=True)
        return url.set(database=str(database)).render_as_string(hide_password=False)
    return configured


def _summary_tables(tiers: pd.DataFrame, moves: pd.DataFrame, matrix: pd.DataFrame,
                    books: pd.DataFrame, shortfall: pd.DataFrame,
                    names: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    by = (tiers.groupby(["tier", "region"]).agg(accounts=("customer_id", "size"),
                                                expected_value=("expected_value", "sum"),
                                                value_at_risk=("value_at_risk", "sum"),
                                                retention=("retention_flag", "sum"))
          .reset_index())
    by["_order"] = by["tier"].map({n: i for i, n in enumerate(names)})
    by = by.sort_values(["_order", "region"]).drop(columns="_order")
    totals = by.groupby("tier", sort=False)[["accounts", "expected_value", "value_at_risk",
                                             "retention"]].sum().reset_index()
    return {"Accounts and expected value per tier": totals,
            "Per tier and region": by,
            "Movement since the last run": moves,
            "Movement matrix (previous tier in rows, tier now in columns)": matrix,
            "Manager capacity per region": shortfall,
            "Manager books": books}


def main(settings: Settings, **overrides) -> None:
    """Write the workbook, the report, Parquet/CSV and the CRM table."""
    config = settings.tiers.model_copy(update=overrides) if overrides else settings.tiers
    paths, publish = settings.pipeline.paths, config.publish
    source, out = settings.path(paths.tiers_dir), settings.path(paths.publish_dir)
    if not (source / "tiers.parquet").exists():
        raise DataError(f"{source / 'tiers.parquet'} not found: run `keyaccounts tier` first")
    with step("publish: reading tiers"):
        tiers = pd.read_parquet(source / "tiers.parquet")
        moves = pd.read_parquet(source / "movement.parquet")
        matrix = pd.read_parquet(source / "movement_matrix.parquet").set_index("previous tier")
        shortfall = pd.read_parquet(source / "shortfall.parquet")
        books = pd.read_parquet(source / "books.parquet")
        summary = json.loads((source / "tier_summary.json").read_text())
    names = config.policy.tier_names
    rows = publishing.manager_rows(tiers)
    out.mkdir(parents=True, exist_ok=True)
    with step(f"publish: workbook of {len(rows):,} rows by {publish.sheets_by}"):
        sheets = publishing.write_workbook(
            out / publish.workbook_name, rows,
            _summary_tables(tiers, moves, matrix.reset_index(), books, shortfall, names),
            publish.sheets_by,
            [f"Movement compared with {summary['movement_basis']}.", *summary["notes"]])
    with step("publish: HTML report"):
        publishing.write_report(out / publish.report_name, tiers, matrix, shortfall, names,
                                summary, publish.at_risk_rows)
    rows.to_parquet(out / f"{publish.rows_name}.parquet", index=False)
    rows.to_csv(out / f"{publish.rows_name}.csv", index=False, date_format="%Y-%m-%d")
    stamps = [c for c in CRM_COLUMNS if c not in publishing.COLUMNS]
    crm = rows.merge(tiers.reindex(columns=["customer_id", *stamps]), on="customer_id",
                     how="left", validate="one_to_one")
    with step(f"publish: upserting {len(crm):,} rows into the CRM table {publish.crm_table}"):
        try:
            url = crm_url(settings, publish.crm_url)
        except ArgumentError as error:
            raise ConfigError(f"publish.crm_url in configs/tiers.yaml is not a database URL: "
                              f"{error}; use e.g. sqlite:///data/publish/crm.db") from error
        if url.startswith("sqlite:///"):
            Path(make_url(url).database).parent.mkdir(parents=True, exist_ok=True)
        try:
            publishing.upsert_table(crm, url, publish.crm_table)
        except ValueError as error:
            raise DataError(str(error)) from error
        except SQLAlchemyError as error:
            shown = make_url(url).render_as_string(hide_password=True)
            raise ConfigError(
                f"CRM table {publish.crm_table} at {shown}: {type(error).__name__}: "
                f"{str(error).splitlines()[0]}; check publish.crm_url in configs/tiers.yaml"
            ) from error
    logger.info("publish: %d sheets (%s), report, rows and CRM table -> %s",
                len(sheets), ", ".join(sheets[:6]), out)

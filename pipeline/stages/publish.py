"""`keyaccounts publish`: the tier stage's rows out to people, the CRM and machines.

Reads paths.tiers_dir (tiers.parquet, movement.parquet, movement_matrix.parquet,
shortfall.parquet, books.parquet, tier_summary.json), checks the rows (`publishing.check_rows`)
and writes to paths.publish_dir the sales director's workbook (Summary with the manager's
effect per region, How to read this, a sheet per region or manager, the unassigned accounts;
every row with its estimated manager gain) and HTML report, Parquet and CSV of the
same rows, with `publish.books: per_manager` the books (a workbook and a page per manager and
per region lead, and books.csv) in publish.books_folder, and the CRM tables (publish.crm:
history, current state, run log; pipeline/publishing/crm.py).

All or nothing: every file is first written to a temporary beside its final name, then the CRM
transaction commits, then the files are renamed into place; then the books folder's stale files
(managers that no longer exist; every book with `books: single`) are removed. A failure or a
kill before the CRM commit leaves the old files and the old CRM; after it, each file is whole
(old or new) and the next run re-publishes. The tables and writers live in
`pipeline.publishing`.
"""

from datetime import datetime, timezone

from features.contract import MANAGER_ID
from models.columns import RANK
from pipeline import publishing
from pipeline.config import Settings
from pipeline.files import csv_file, table_file
from pipeline.progress import logger, step
from pipeline.publishing import crm
from pipeline.secrets import resolve_database_url, shown_url
from pipeline.storage import StagedFiles, write_table

__all__ = ["main", "crm_target", "record_failure"]


def crm_target(settings: Settings) -> str:
    """The CRM database URL, password included (from the environment; never logged)."""
    config = settings.tiers.publish.crm
    configured = config.url or (
        f"sqlite:///{settings.path(settings.pipeline.paths.publish_dir) / 'crm.db'}")
    return resolve_database_url(configured, where="publish.crm.url in configs/tiers.yaml",
                                url_env=config.url_env, password_env=config.password_env,
                                password_file=config.password_file, resolve_path=settings.path)


def main(settings: Settings, write_crm: bool = True, run_id: str | None = None,
         started_at: datetime | None = None, **overrides) -> None:
    """Write the workbook, the report, Parquet/CSV and the CRM tables (skipped with
    `write_crm=False` or publish.crm.enabled false); `run_id`/`started_at` come from the job."""
    config = settings.tiers.model_copy(update=overrides) if overrides else settings.tiers
    paths, publish, policy = settings.pipeline.paths, config.publish, config.policy
    names = policy.tier_names
    out = settings.path(paths.publish_dir)
    books_dir = out / publish.books_folder
    with step("publish: reading and checking the tiers"):
        tier = publishing.read_tier_outputs(settings.path(paths.tiers_dir))
        publishing.check_rows(tier.tiers, names)
    tiers = tier.tiers.sort_values(RANK, kind="stable").reset_index(drop=True)
    rows = publishing.manager_rows(tiers)  # aligned with `tiers` by position
    plan = publishing.plan_books(rows, tier.books) if publish.books == "per_manager" else None
    managers = publishing.manager_view(tiers, tier.books, policy)
    regions = publishing.region_view(tiers, tier.shortfall, managers, policy)
    kept = publishing.kept_incumbents(tiers, policy,
                                      publishing.capacity_pools(tiers, tier.shortfall))
    effect = publishing.manager_effect_tables(tiers, tier.books)  # one more / one fewer manager
    links = plan.links(f"{publish.books_folder}/") if plan else {}
    run = crm.new_run(tier.tiers, run_id, started_at)
    books: list = []
    with StagedFiles() as staged:
        with step(f"publish: workbook of {len(rows):,} rows by {publish.sheets_by}"):
            files = plan.links(f"{publish.books_folder}/", ".xlsx") if plan else {}
            listed = managers.assign(book=[files.get(("manager", str(m)))
                                           for m in managers[MANAGER_ID]]) if plan else managers
            tables = publishing.summary_tables(tiers, tier.movement, tier.matrix.reset_index(),
                                               listed, tier.shortfall, names, effect)
            guide = publishing.guide_rows(
                policy, tiers, tier.summary["movement_basis"],
                "the sales director: every scored account" + (
                    f"; each manager's and region lead's book is in {publish.books_folder}/"
                    if plan else ""))
            sheets = publishing.write_workbook(staged.path(out / publish.workbook_name), rows,
                                               tables, publish.sheets_by,
                                               publishing.workbook_notes(tier.summary),
                                               guide=guide, unassigned=plan is not None)
        with step("publish: HTML report, Parquet and CSV"):
            publishing.write_report(staged.path(out / publish.report_name), tiers,
                                    tier.matrix, tier.shortfall, names, tier.summary,
                                    publish.at_risk_rows, policy=policy, managers=managers,
                                    links=links, kept_rows=publish.kept_rows, rows=rows,
                                    kept=kept, effect=effect)
            rows.to_parquet(staged.path(out / table_file(publish.rows_name)), index=False)
            write_table(rows, staged.path(out / csv_file(publish.rows_name)),
                        date_format="%Y-%m-%d")  # formula-like text quoted (csv_safe)
        if plan is not None:
            with step(f"publish: {len(plan.managers)} manager and {len(plan.regions)} region "
                      f"books -> {books_dir}"):
                books = publishing.write_books(staged.path, books_dir, plan, rows, tiers, tier,
                                               policy, managers, regions, kept,
                                               publish.at_risk_rows, publish.kept_rows, effect)
        if write_crm and publish.crm.enabled:
            _write_crm(settings, tier.tiers, run)
        staged.commit()
    stale = publishing.remove_stale(books_dir, books)
    logger.info("publish: run %s as of %s: %d sheets (%s), report, rows, %d book files "
                "(%d stale removed) -> %s", run.scoring_run_id, run.as_of, len(sheets),
                ", ".join(sheets[:6]), len(books), len(stale), out)


def _tables(settings: Settings) -> crm.CrmTables:
    names = settings.tiers.publish.crm.tables
    return crm.CrmTables.named(names.scores, names.current, names.runs)


def record_failure(settings: Settings, run_id: str, as_of, started_at: datetime,
                   message: str) -> None:
    """Best effort: log a job that failed before publishing in the CRM's run log (the CRM may
    be what failed; then only the job's own log says so)."""
    config = settings.tiers.publish.crm
    if not config.enabled:
        return
    try:
        url = crm_target(settings)
        engine = crm.make_engine(url, config.lock_timeout_seconds)
        try:
            crm.record_failed_run(engine, _tables(settings), run_id, as_of, started_at, message)
        finally:
            engine.dispose()
    except Exception as error:  # noqa: BLE001 - the job's own error is the one to report
        logger.warning("job %s: could not record the failure in the CRM run log: %s", run_id,
                       type(error).__name__)


def _write_crm(settings: Settings, tiers, run: crm.RunRecord) -> None:
    config = settings.tiers.publish.crm
    url = crm_target(settings)
    shown = shown_url(url)
    frame = crm.crm_frame(tiers, run, datetime.now(timezone.utc))
    tables = _tables(settings)
    engine = crm.make_engine(url, config.lock_timeout_seconds)
    try:
        with step(f"publish: {len(frame):,} rows into the CRM at {shown}"):
            result = crm.write_run(frame, run, engine, tables, config.retries,
                                   config.retry_wait_seconds, shown)
    finally:
        engine.dispose()
    state = (f"{config.tables.current} updated, {result.customers_inactivated:,} customers "
             "marked inactive" if result.current_updated else
             f"{config.tables.current} left as it was (it holds a later as-of)")
    logger.info("publish: CRM %s: %s rows as of %s; %s", config.tables.scores,
                f"{result.rows_written:,}", run.as_of, state)

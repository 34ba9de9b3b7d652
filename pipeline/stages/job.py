"""`keyaccounts job`: the scheduled scoring run that feeds the CRM and the managers' lists.

Steps, each one timed log line: validate the configured exports (skipped with
`skip_validate`), score every customer at the as-of date (today by default; features rebuilt
from the validated tables) with the registry's champions (or the versions asked for), reasons
included, the drift guard (refuses unless `force`), tiers and manager assignment, then publish:
the checked rows to the workbook, the HTML report, Parquet/CSV and the CRM tables, all or
nothing. The same stage functions as `dvc repro` run; only the model source differs.

`dry_run` runs every step on copies under paths.reports_dir/dry-run/<run id>/ (validated data,
scores, tiers, the would-be workbook and report) and writes nothing to the CRM or to the
published folder. A failure after the job started is recorded in the CRM's run log (status
failed, with the message) when the CRM can be reached. Exit codes: pipeline/errors.py.
"""

import dataclasses
import shutil
import time
import uuid
from datetime import date, datetime, timezone

from pipeline.config import Settings
from pipeline.files import HISTORY
from pipeline.progress import logger
from pipeline.stages import guard, publish, score, tier, validate

__all__ = ["main"]


def _dry_run_settings(settings: Settings, run_id: str, validates: bool) -> Settings:
    """`settings` whose outputs go to reports_dir/dry-run/<run_id>/ (the validated tables
    too when the job `validates`; else it reads the existing ones); the tier history is
    copied there so movement is measured as in a real run."""
    paths = settings.pipeline.paths
    root = settings.path(paths.reports_dir) / "dry-run" / run_id
    outputs = ("scores_dir", "tiers_dir", "publish_dir", "reports_dir") + (
        ("validated_dir", "quarantine_dir") if validates else ())
    moved = {name: root / name.removesuffix("_dir") for name in outputs}
    history = settings.path(paths.tiers_dir) / HISTORY
    if history.is_dir():
        shutil.copytree(history, moved["tiers_dir"] / HISTORY, dirs_exist_ok=True)
    pipeline = settings.pipeline.model_copy(update={
        "paths": paths.model_copy(update=moved),
        "guard": settings.pipeline.guard.model_copy(
            update={"report_dir": root / "reports" / "drift"})})
    return dataclasses.replace(settings, pipeline=pipeline)


def _with_models(settings: Settings, value_version: str | None,
                 churn_version: str | None) -> Settings:
    """`settings` scoring with the registry: the champions, or the versions given."""
    update = {"model_source": "champion", "value_version": value_version,
              "churn_version": churn_version}
    pipeline = settings.pipeline.model_copy(
        update={"score": settings.pipeline.score.model_copy(update=update)})
    return dataclasses.replace(settings, pipeline=pipeline)


def main(settings: Settings, as_of: date | None = None, value_version: str | None = None,
         churn_version: str | None = None, dry_run: bool = False, force: bool = False,
         skip_validate: bool = False) -> None:
    """Run the scheduled scoring job (see the module docstring)."""
    run_id, started = uuid.uuid4().hex, datetime.now(timezone.utc)
    day = as_of or date.today()
    settings = _with_models(settings, value_version, churn_version)
    if dry_run:
        settings = _dry_run_settings(settings, run_id, validates=not skip_validate)
    steps = [("validate", lambda: validate.main(settings)) if not skip_validate else None,
             ("score", lambda: score.main(settings, as_of=day, rebuild_features=True)),
             ("guard", lambda: guard.main(settings, force=force)),
             ("tier", lambda: tier.main(settings)),
             ("publish", lambda: publish.main(settings, write_crm=not dry_run, run_id=run_id,
                                              started_at=started))]
    logger.info("job %s: as of %s, models %s%s", run_id, day,
                f"value v{value_version or '@champion'}, churn v{churn_version or '@champion'}",
                " (dry run: nothing published)" if dry_run else "")
    clock = time.perf_counter()
    for name, run in filter(None, steps):
        began = time.perf_counter()
        try:
            run()
        except BaseException as error:
            message = f"{name}: {type(error).__name__}: {error}"
            logger.error("job %s: failed at %s after %.1f s (exit code %d)", run_id, name,
                         time.perf_counter() - clock, getattr(error, "exit_code", 1))
            if not dry_run and name != "publish":  # publish records its own failure
                publish.record_failure(settings, run_id, day, started, message)
            raise
        logger.info("job %s: %s done in %.1f s", run_id, name, time.perf_counter() - began)
    where = settings.path(settings.pipeline.paths.publish_dir)
    logger.info("job %s: %s in %.1f s -> %s", run_id,
                "dry run finished, nothing published" if dry_run else "published",
                time.perf_counter() - clock, where)

"""`keyaccounts tier`: scores in; tiers, manager assignment and movement out.

Reads paths.scores_dir/scores.parquet and, when present, the validated customers (region,
current manager, current tier), managers (region, capacity, active), transactions and contacts
(last order and contact dates, if the scores lack them). Movement and hysteresis compare with
the tiers of the latest EARLIER as-of (history/tiers_<as_of>.parquet in paths.tiers_dir, kept
by dvc: `persist: true`), so re-running an as-of compares with the run before it; without one,
the customers' current_tier is the reference. Writes to paths.tiers_dir: tiers.parquet (one row per
scored customer), previous_tiers.parquet, movement.parquet, movement_matrix.parquet,
shortfall.parquet, books.parquet, tier_summary.json (counts and notes) and
history/tiers_<as_of>.parquet (customer, region, tier, manager of every as-of; a
re-run of an as-of replaces its file).
Reading and writing live in `pipeline.tiering_io`, the decisions in `models.tiering`.
"""

from features.contract import CUSTOMERS, MANAGERS
from models import tiering
from pipeline import tiering_io
from pipeline.config import Settings
from pipeline.files import SCORES, table_file
from pipeline.progress import logger, step

__all__ = ["main"]


def main(settings: Settings, **overrides) -> None:
    """Tier every scored customer, assign strategic accounts to managers, measure movement."""
    config = settings.tiers.model_copy(update=overrides) if overrides else settings.tiers
    policy, paths = config.policy, settings.pipeline.paths
    validated, tiers_dir = settings.path(paths.validated_dir), settings.path(paths.tiers_dir)
    with step("tier: reading scores and validated tables"):
        if settings.pipeline.engine == "dask":  # the score columns of every partition
            from pipeline.dask_engine.run import collected_scores

            scores = collected_scores(settings)
        else:
            scores = tiering_io.read_scores(settings.path(paths.scores_dir) / SCORES)
        customers = tiering_io.read_optional(validated / table_file(CUSTOMERS))
        managers = tiering_io.read_optional(validated / table_file(MANAGERS))
        scores = tiering_io.add_last_dates(scores, validated)
        previous = tiering_io.previous_tiers(tiers_dir, scores)
    with step(f"tier: tiering {len(scores):,} customers and assigning managers"):
        result = tiering.decide(scores, customers, managers, previous, policy)
    summary = tiering.summarize(result, policy.tier_names)
    tiering_io.write_outputs(tiers_dir, result, previous, summary)
    for note in summary["notes"]:
        logger.info("tier: %s", note)
    logger.info("tier: %s; moved since %s: %s -> %s", summary["tiers"], result.basis,
                summary["moved"], tiers_dir)

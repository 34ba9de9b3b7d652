"""`keyaccounts score`: features at the as-of date and trained models in; one row per customer out.

The as-of date is `main(as_of=)` (CLI --as-of), else configs/features.yaml as_of, else the
scoring frame's (the end of the data). When it differs from paths.features_dir/
scoring_frame.parquet's, the features are rebuilt at that date from the validated tables
(only rows dated on or before it are read). The models are this run's: when they learnt from
labels past that date a warning says the scores are in-sample; to check a past date against
what happened after, set features.as_of and re-run the pipeline, which then trains only on
labels that end by it.

Models (configs/pipeline.yaml score.model_source, loaded by pipeline.models_io): "artifacts"
(default) = the models the train stage of this run wrote to paths.artifacts_dir, stamped with
the versions they were registered as (model_info.json); "champion" = the registry's
models:/<name>@champion. Either must have been trained at features.horizon_days. Without
trained models (short history) the BTYD fallback of models.training scores.

Writes paths.scores_dir/scores.parquet and scores.csv: customer_id (as in the input), as_of,
horizon_days, expected_value (spend over the horizon), churn_probability (no order over the
horizon), value_at_risk = churn_probability x the customer's current spend run-rate over the
horizon (what losing the customer would cost; a ranking of who is worth saving), last_order_date,
last_contact_date, value_model_version, value_run_id, churn_model_version, churn_run_id (each
model's own registered version and training run: the champions can come from different runs;
pipeline.scoring.STAMP_COLUMNS), the manager's effect (manager_gain, manager_gain_lower /
_upper: the estimated extra spend over the horizon from a dedicated manager and its interval,
manager_propensity, in_overlap, manager_gain_note: why an account has no estimate; from
paths.artifacts_dir/manager_effect.joblib, whatever score.model_source) and reasons: for
every customer by default, or for the top
accounts by expected value and by value at risk when score.reasons_top_* are set ("" for the others). Also writes scored_frame.parquet, the
features it scored (the drift guard compares them with the training reference).
The table is built by pipeline.scoring. The files are replaced together and atomically; in
scores.csv, text that a spreadsheet would run as a formula has a leading ' (storage.csv_safe).
"""

import pandas as pd

import features
from features.contract import AS_OF, ORDER_DATE
from models.columns import CHURN_RUN_ID, VALUE_RUN_ID
from pipeline import scoring
from pipeline.config import Settings
from pipeline.errors import ConfigError, DataError
from pipeline.features_io import load_tables
from pipeline.files import SCORED_FRAME, SCORES, SCORES_CSV, SCORING_FRAME
from pipeline.models_io import load_manager_effect, load_models
from pipeline.progress import logger, step
from pipeline.storage import StagedFiles, read_table, write_table

__all__ = ["main"]


def _frame(settings: Settings, as_of, rebuild: bool = False) -> pd.DataFrame:
    """The features stage's scoring frame, or the features rebuilt from the validated tables
    when `as_of` asks another date or `rebuild` is set (at the last order date when no date
    is asked)."""
    paths = settings.pipeline.paths
    wanted = as_of if as_of is not None else settings.features.as_of
    if not rebuild:
        frame = read_table(settings.path(paths.features_dir) / SCORING_FRAME,
                           "features")
        if wanted is None or pd.Timestamp(wanted) == pd.Timestamp(frame[AS_OF].iloc[0]):
            return frame
    tables = load_tables(settings.path(paths.validated_dir))
    orders = tables.transactions[ORDER_DATE]
    day = pd.Timestamp(wanted) if wanted is not None else pd.Timestamp(orders.max())
    if day < orders.min():
        raise DataError(f"as_of {day.date()} is before the first order ({orders.min().date()}): "
                        "nothing to score")
    with step(f"score: building features at {day.date()} from the validated tables"):
        return features.build(tables, day, settings.features)


def main(settings: Settings, as_of=None, rebuild_features: bool = False, **overrides) -> None:
    """Score every customer known at the as-of date and write scores.parquet/.csv;
    `rebuild_features` builds the features from the validated tables even when the features
    stage's frame has that as-of (the scheduled job: the exports may be newer)."""
    horizon, config = settings.features.horizon_days, settings.pipeline.score
    fitted, stamp = load_models(settings, horizon)  # first: a missing champion fails fast
    effect = load_manager_effect(settings.path(settings.pipeline.paths.artifacts_dir))
    if settings.pipeline.engine == "dask":  # per partition, at the features stage's as-of
        if as_of is not None or rebuild_features:
            raise ConfigError("engine: dask scores the features stage's partitions at its "
                              "as-of: set features.as_of and re-run `keyaccounts features` "
                              "instead of --as-of")
        from pipeline.dask_engine.run import score_stage

        score_stage(settings, fitted, scoring.effective_stamp(fitted, stamp), horizon, effect)
        return
    frame = _frame(settings, as_of, rebuild_features)
    stamp = scoring.effective_stamp(fitted, stamp)
    if fitted.fallback:
        logger.info("score: %s", fitted.message)
    warning = scoring.in_sample_warning(fitted, frame[AS_OF].iloc[0], horizon)
    if warning:
        logger.warning("score: %s", warning)
    with step(f"score: {len(frame):,} customers at {pd.Timestamp(frame[AS_OF].iloc[0]).date()}"):
        out, prepared = scoring.score_table(frame, fitted, horizon, stamp, effect)
    if effect is None or not effect.estimated:
        logger.info("score: manager gain %s", effect.reason if effect else
                    "not estimated: no manager_effect.joblib (re-run `keyaccounts train`)")
    needs = scoring.reason_rows(out, config.reasons_top_value, config.reasons_top_risk)
    if not fitted.fallback and len(needs):
        with step(f"score: reasons for {len(needs):,} accounts"):
            out = scoring.add_reasons(out, prepared, fitted, needs, settings.model.reasons.top_k)
    out = scoring.finish(out)
    scores_dir = settings.path(settings.pipeline.paths.scores_dir)
    with StagedFiles() as staged:  # both files, or neither, are replaced
        write_table(out, staged.path(scores_dir / SCORES))
        write_table(out, staged.path(scores_dir / SCORES_CSV))
        write_table(frame, staged.path(scores_dir / SCORED_FRAME))  # for the guard
        staged.commit()
    logger.info("score: %d customers, value model %s (run %s), churn model %s (run %s) -> %s",
                len(out), stamp["value"], stamp[VALUE_RUN_ID], stamp["churn"],
                stamp[CHURN_RUN_ID], scores_dir)

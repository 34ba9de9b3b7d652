"""`keyaccounts train`: training set in; backtest, fitted models and an MLflow run out.

Reads paths.features_dir/training_set.parquet (and, on generated data only, i.e. when the
transactions are read from paths.raw_dir, the ground truth paths.truth_dir/ground_truth.parquet,
used to score the "oracle" row of the backtest, never to train). Runs the rolling-origin backtest (models.backtest), fits the final models
(models.training.fit_models) and writes to paths.artifacts_dir: fitted_models.joblib,
backtest_{metrics,summary,grades,predictions}.parquet, features.json, model_info.json
(run id, registered versions, gate decisions, library versions, the manager effect's
summary), manager_effect.joblib (models.manager_effect.ManagerEffect: the DR-learner of the
manager's effect on spend, or the reason it was not estimated) and drift_reference.json (the
bins of paths.features_dir/scoring_frame.parquet's features and of the final models' scores on
it, for the drift guard; also logged to the MLflow run, pipeline.drift_io).

The MLflow run logs every config section as params, the per-fold metrics (step = fold),
plots, the feature catalogue, the manager's average effect with its interval and overlap
share (or the reason it was not estimated), and both models (registered as
tracking.value_model_name and
tracking.churn_model_name). The champion alias moves to a new version only when it beats
the best baseline, and the current champion when its backtest is comparable (same horizon
and folds), on the gate metric (pipeline.tracking.gate); otherwise the reason is logged and
tagged on the run. What is written is built by
pipeline.reporting; the MLflow logging and registration live in pipeline.tracking.
"""

from datetime import datetime, timezone
from importlib.metadata import version

import joblib

import features
from features.contract import CUTOFF, MANAGERS
from models import manager_effect
from models.backtest import backtest
from models.tiering import total_capacity
from models.training import fit_models, short_history
from pipeline import drift_io, features_io, models_io, run_context, tracking
from pipeline.config import Settings
from pipeline.files import (
    BTYD_POPULATION,
    DRIFT_REFERENCE,
    FEATURE_LIST,
    FITTED_MODELS,
    GROUND_TRUTH,
    MANAGER_EFFECT,
    MODEL_INFO,
    SCORING_FRAME,
    TRAINING_SET,
    backtest_table,
    table_file,
)
from pipeline.progress import logger, step
from pipeline.reporting import backtest_tables, model_info
from pipeline.secrets import redact_uri
from pipeline.storage import StagedFiles, read_table, write_json, write_table
from pipeline.tiering_io import read_optional

__all__ = ["main"]
LIBRARIES = ("lightgbm", "scikit-learn", "pandas", "numpy", "mlflow")


def _generated_truth(settings: Settings):
    """The generator's ground truth, when the transactions come from the generator (they sit
    in paths.raw_dir, where `keyaccounts generate` writes): with your own export, a truth
    file a demo run left behind describes other customers and is not read."""
    paths = settings.pipeline.paths
    truth_path = settings.path(paths.truth_dir) / GROUND_TRUTH
    source = settings.path(settings.data.transactions.path).resolve()
    if not truth_path.exists() or not source.is_relative_to(settings.path(paths.raw_dir).resolve()):
        return None
    return read_table(truth_path)


def main(settings: Settings, **overrides) -> None:
    """Backtest, fit, write artifacts, log the run and register the models."""
    tracking.configure(settings.pipeline.tracking, settings.root)  # fail fast on a bad URI
    import mlflow

    config = settings.model.model_copy(update=overrides) if overrides else settings.model
    paths, horizon = settings.pipeline.paths, settings.features.horizon_days
    out = settings.path(paths.artifacts_dir)
    training = read_table(settings.path(paths.features_dir) / TRAINING_SET, "features")
    truth = _generated_truth(settings)

    managers = read_optional(settings.path(paths.validated_dir) / table_file(MANAGERS))
    capacity = total_capacity(managers, settings.tiers.policy)  # for the capture at capacity
    # a history too short for a backtest fold at the horizon is backtested at a shorter one
    frame, backtest_horizon, note = features_io.backtest_inputs(
        settings.path(paths.features_dir), training, horizon)
    short = short_history(training, config, horizon)  # no labels to train at the horizon
    with step(f"train: backtest on {frame[CUTOFF].nunique()} cutoffs, {len(frame):,} rows"):
        result = backtest(
            frame, config, backtest_horizon, truth,
            progress=lambda m: logger.info("train: %s", m), capacity=capacity,
            target_horizon_days=horizon, label_free=short,
        )
    if note:
        result.messages.insert(0, note)
    for message in result.messages:
        logger.info("train: %s", message)
    with step("train: final models"):
        # the BTYD step the models carry is fitted on the customers at the end of the data
        # (and a short history's label-free rules are fitted on them); engine dask: every
        # customer's BTYD summary columns, not only the sample's (the rules need the sample's
        # whole scoring frame)
        dask = settings.pipeline.engine == "dask" and not short
        source = BTYD_POPULATION if dask else SCORING_FRAME
        population = (read_table(settings.path(paths.features_dir) / source, "features")
                      if config.btyd_features or short else None)
        fitted = fit_models(training, config, horizon, population=population,
                            selection=result.selection)
    logger.info("train: %s", fitted.message)
    with step("train: manager effect"):
        effect = manager_effect.estimate(training, config.manager_effect, horizon,
                                         n_jobs=config.value.params.n_jobs,
                                         random_state=config.random_state)
    logger.info("train: manager effect: %s", effect.describe())

    with StagedFiles() as staged:  # the artifacts are replaced together, after the MLflow run
        joblib.dump(fitted, staged.path(out / FITTED_MODELS), compress=3)
        models_io.save_manager_effect(effect, staged.path(out / MANAGER_EFFECT))
        for name, frame in backtest_tables(result).items():
            write_table(frame, staged.path(out / backtest_table(name)))
        write_json(fitted.features, staged.path(out / FEATURE_LIST))
        reference = drift_io.build_reference(settings, fitted)  # the drift guard's baseline
        with (mlflow.start_run(**run_context.start_run_kwargs(settings.root)) as run,
              step("train: MLflow run " + run.info.run_id)):
            tracking.log_training_run(
                result, fitted, {"features": settings.features, "model": config,
                                 "pipeline": settings.pipeline.model_dump(
                                     mode="json", exclude={"tracking": {"tracking_uri"}})},
                features.catalogue_markdown(settings.features))
            tracking.log_manager_effect(effect)
            drift_io.save_reference(reference, staged.path(out / DRIFT_REFERENCE),
                                    run.info.run_id)
            registered = tracking.register_models(
                fitted, training, config, horizon, result, settings.pipeline.tracking,
                config.gate, config.backtest.baselines)
        info = model_info(
            run_id=run.info.run_id, tracking_uri=redact_uri(mlflow.get_tracking_uri()),
            trained_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            horizon=horizon, backtest_horizon=backtest_horizon, fitted=fitted, result=result,
            registered=registered,
            versions={p: version(p) for p in LIBRARIES})
        info["manager_effect"] = effect.summary or {"reason": effect.reason}
        write_json(info, staged.path(out / MODEL_INFO))
        staged.commit()
    logger.info("train: artifacts -> %s; MLflow run %s", out, run.info.run_id)


"""`keyaccounts train`: training set in; backtest, fitted models and an MLflow run out.

Reads paths.features_dir/training_set.parquet (and, on generated data only, the ground truth
paths.truth_dir/ground_truth.parquet, used to score the "oracle" row of the backtest, never
to train). Runs the rolling-origin backtest (models.backtest), fits the final models
(models.training.fit_models) and writes to paths.artifacts_dir: fitted_models.joblib,
backtest_{metrics,summary,grades,predictions}.parquet, features.json and model_info.json
(run id, registered versions, gate decisions, library versions).

The MLflow run logs every config section as params, the per-fold metrics (step = fold),
plots, the feature catalogue and both models (registered as tracking.value_model_name and
tracking.churn_model_name). The champion alias moves to a new version only when it beats
the best baseline and the current champion on the gate metric (models.gate); otherwise the
reason is logged and tagged on the run.
"""

import tempfile
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

import joblib

import features
from features.contract import CUTOFF
from models.backtest import CHURN_MODEL, BacktestResult, backtest, value_model_name
from models.metrics import HIGHER_IS_BETTER
from models.training import FittedModels, fit_models, prepare_frame
from pipeline import plots, tracking
from pipeline.config import Settings
from pipeline.progress import logger, step
from pipeline.storage import read_table, write_json, write_table

__all__ = ["FITTED_MODELS", "MODEL_INFO", "main", "best_baseline", "write_plots"]

FITTED_MODELS, MODEL_INFO = "fitted_models.joblib", "model_info.json"
LIBRARIES = ("lightgbm", "scikit-learn", "pandas", "numpy", "mlflow")


def best_baseline(
    result: BacktestResult, metric: str, baselines
) -> tuple[str | None, float | None]:
    """The baseline with the best backtest mean of `metric`, and that mean."""
    if result.summary.empty or metric not in result.summary.columns:
        return None, None
    present = [b for b in baselines if b in result.summary.index]
    values = result.summary.loc[present, metric].dropna()
    if values.empty:
        return None, None
    name = values.idxmax() if HIGHER_IS_BETTER.get(metric, True) else values.idxmin()
    return str(name), float(values[name])


def write_plots(result: BacktestResult, fitted: FittedModels, folder: Path) -> list[Path]:
    """PNG plots of the backtest's latest fold and of the final models' importances."""
    predictions, written = result.predictions, []
    if not predictions.empty:
        gain = plots.gain_table(predictions)
        written.append(plots.plot_gain(gain, folder / "gain_curve.png"))
        calibration = plots.calibration_table(predictions)
        written.append(plots.plot_calibration(calibration, folder / "calibration_curve.png"))
        deciles = plots.decile_table(predictions)
        value_model = value_model_name(fitted.objective)
        if value_model in set(deciles["model"]):
            written.append(plots.plot_deciles(deciles, folder / "deciles.png", value_model))
    for kind, model in (("value", fitted.value), ("churn", fitted.churn)):
        if model is not None:
            written.append(plots.plot_importance(
                model.feature_importances(), folder / f"importance_{kind}.png",
                title=f"Feature importance of the {kind} model (gain)"))
    return written


def _register(fitted, sample, result, settings, kind) -> dict:
    """Log, register and gate one model; return what model_info.json records about it."""
    import mlflow

    track, gate_config = settings.pipeline.tracking, settings.model.gate
    if kind == "value":
        name, model, output = track.value_model_name, fitted.value, "predict"
        row, metric = value_model_name(fitted.objective), gate_config.value_metric
    else:
        name, model, output = track.churn_model_name, fitted.churn, "proba"
        row, metric = CHURN_MODEL, gate_config.churn_metric
    info = tracking.log_model(model, sample[fitted.features], f"{kind}_model", output, name)
    model_version = str(info.registered_model_version)
    new = float(result.summary.loc[row, metric]) if row in result.summary.index else float("nan")
    baseline, baseline_value = best_baseline(result, metric, settings.model.backtest.baselines)
    champion_version, champion_value = tracking.champion_score(name, track.champion_alias, metric)
    decision = tracking.gate(metric, new, baseline_value, baseline, champion_value,
                             HIGHER_IS_BETTER.get(metric, True), gate_config.min_margin)
    tracking.tag_version(name, model_version, metric, new)
    if decision.promote:
        tracking.set_alias(name, model_version, track.champion_alias)
    holder = model_version if decision.promote else champion_version
    logger.info("train: %s version %s: %s; @%s %s", name, model_version, decision.reason,
                track.champion_alias, f"-> version {holder}" if holder else "not set")
    verdict = "promoted: " if decision.promote else "not promoted: "
    mlflow.set_tag(f"gate.{kind}", verdict + decision.reason)
    return {"name": name, "version": model_version, "model_uri": info.model_uri, "metric": metric,
            "backtest_value": new, "best_baseline": baseline, "baseline_value": baseline_value,
            "previous_champion": champion_version, "promoted": decision.promote,
            "reason": decision.reason}


def main(settings: Settings, **overrides) -> None:
    """Backtest, fit, write artifacts, log the run and register the models."""
    tracking.configure(settings.pipeline.tracking, settings.root)  # fail fast on a bad URI
    import mlflow

    config = settings.model.model_copy(update=overrides) if overrides else settings.model
    paths, horizon = settings.pipeline.paths, settings.features.horizon_days
    out = settings.path(paths.artifacts_dir)
    training = read_table(settings.path(paths.features_dir) / "training_set.parquet", "features")
    truth_path = settings.path(paths.truth_dir) / "ground_truth.parquet"
    truth = read_table(truth_path) if truth_path.exists() else None
    with step(f"train: backtest on {training[CUTOFF].nunique()} cutoffs, {len(training):,} rows"):
        result = backtest(
            training, config, horizon, truth, progress=lambda m: logger.info("train: %s", m)
        )
    for message in result.messages:
        logger.info("train: %s", message)
    if result.best_objective and result.best_objective != config.value_objective:
        logger.info("train: the backtest prefers value objective %r over the configured %r "
                    "(set value_objective in configs/model.yaml)",
                    result.best_objective, config.value_objective)
    with step("train: final models"):
        fitted = fit_models(training, config, horizon)
    logger.info("train: %s", fitted.message)
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(fitted, out / FITTED_MODELS, compress=3)
    for name, frame in (("metrics", result.metrics), ("summary", result.summary.rename_axis("model").reset_index()),
                        ("grades", result.grades), ("predictions", result.predictions)):
        write_table(frame, out / f"backtest_{name}.parquet")
    write_json(fitted.features, out / "features.json")

    with mlflow.start_run() as run, step("train: MLflow run " + run.info.run_id):
        tracking.log_params({"features": settings.features, "model": config,
                             "pipeline": settings.pipeline})
        tracking.log_fold_metrics(result.metrics, result.summary)
        mlflow.set_tags({"value_objective": fitted.objective, "fallback": str(fitted.fallback),
                         "best_objective": str(result.best_objective)})
        with tempfile.TemporaryDirectory() as tmp:
            write_plots(result, fitted, Path(tmp))
            mlflow.log_artifacts(tmp, "plots")
        mlflow.log_text(features.catalogue_markdown(settings.features), "feature_catalogue.md")
        mlflow.log_text(result.table(), "backtest_summary.md")
        registered = {}
        if fitted.fallback:
            mlflow.set_tag("gate", "not registered: " + fitted.message)
            logger.info("train: models not registered: %s", fitted.message)
        else:
            latest = training[training[CUTOFF] == training[CUTOFF].max()]
            sample = prepare_frame(latest.head(1000), config, horizon)
            registered = {
                kind: _register(fitted, sample, result, settings, kind)
                for kind in ("value", "churn")
            }
    write_json({"run_id": run.info.run_id, "tracking_uri": mlflow.get_tracking_uri(),
                "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "horizon_days": horizon, "objective": fitted.objective,
                "best_objective": result.best_objective, "fallback": fitted.fallback,
                "message": fitted.message, "train_cutoffs": fitted.train_cutoffs,
                "oracle_share": result.oracle_share, "backtest_messages": result.messages,
                "models": registered,
                "versions": {p: version(p) for p in LIBRARIES}},
               out / MODEL_INFO)
    logger.info("train: artifacts -> %s; MLflow run %s", out, run.info.run_id)

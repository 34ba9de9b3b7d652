"""The tracking store and the training run's content: URI, experiment, params, metrics, tags.

Tracking goes to `settings.pipeline.tracking.tracking_uri` (a local SQLite store by default;
a relative `sqlite:///file.db` is resolved against the project root, so the CLI and dvc give
the same store wherever they run), or to the environment's KEYACCOUNTS_TRACKING_URI when set.
Artifacts of a new experiment go to `<root>/mlruns`.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipeline.files import BACKTEST_SUMMARY_MD, FEATURE_CATALOGUE, SELECTION
from pipeline.tracking.names import (
    ARTIFACT_ROOT_DIR,
    BEST_OBJECTIVE_TAG,
    FALLBACK_TAG,
    MANAGER_EFFECT_PREFIX,
    MANAGER_EFFECT_TAG,
    PLOTS_ARTIFACT_DIR,
    TRACKING_URI_ENV,
    VALUE_OBJECTIVE_TAG,
    published_tag,
)

if TYPE_CHECKING:
    from models.backtest import BacktestResult
    from models.manager_effect import ManagerEffect
    from models.training import FittedModels
    from pipeline.config.paths import TrackingConfig

__all__ = [
    "configure",
    "flatten",
    "log_fold_metrics",
    "log_manager_effect",
    "log_params",
    "log_training_run",
    "resolve_uri",
]

_PARAMS_PER_CALL, _METRICS_PER_CALL = 100, 1000  # MLflow's limits per log_params / log_batch
_PARAM_LENGTH = 6000  # MLflow's limit on a param value


def resolve_uri(uri: str, root: Path) -> str:
    """`uri` with a relative SQLite or file path made absolute against `root`."""
    for scheme in ("sqlite:///", "file:"):
        if uri.startswith(scheme):
            rest = uri[len(scheme):]
            if rest and not rest.startswith("/") and ":memory:" not in rest:
                return scheme + str((Path(root) / rest).resolve())
    if "://" not in uri and not uri.startswith("databricks"):
        path = Path(uri)
        return str(path if path.is_absolute() else (Path(root) / path).resolve())
    return uri


def configure(tracking: TrackingConfig, root: Path) -> str:
    """Point MLflow at the configured store and experiment; return the experiment id.

    A new experiment stores its artifacts under `<root>/mlruns` (explicit, so a SQLite store
    never writes next to the current folder).
    """
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    # the environment's URI (it may hold a password) wins over the password-free config; not
    # MLFLOW_TRACKING_URI, which set_tracking_uri itself writes for child processes
    mlflow.set_tracking_uri(resolve_uri(os.environ.get(TRACKING_URI_ENV)
                                        or tracking.tracking_uri, root))
    experiment = mlflow.get_experiment_by_name(tracking.experiment)
    if experiment is None:
        location = (Path(root) / ARTIFACT_ROOT_DIR).resolve().as_uri()
        experiment_id = mlflow.create_experiment(tracking.experiment, artifact_location=location)
    else:
        experiment_id = experiment.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested mappings/pydantic models as flat "a.b.c" -> string parameters."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    if isinstance(value, Mapping):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return {prefix: str(value)[:_PARAM_LENGTH]}


def log_params(sections: Mapping[str, Any]) -> None:
    """Log every config section flattened (e.g. "model.value.params.num_leaves")."""
    import mlflow

    params: dict[str, str] = {}
    for name, section in sections.items():
        params.update(flatten(section, name))
    items = list(params.items())
    for start in range(0, len(items), _PARAMS_PER_CALL):
        mlflow.log_params(dict(items[start:start + _PARAMS_PER_CALL]))


def log_fold_metrics(metrics: pd.DataFrame, summary: pd.DataFrame | None = None) -> None:
    """Per-fold metrics as "<model>.<metric>" with step = fold, and the means over folds as
    "mean.<model>.<metric>". `metrics` is the backtest's tidy table (fold, model, metric,
    value)."""
    import mlflow
    from mlflow.entities import Metric

    now = int(pd.Timestamp.now().timestamp() * 1000)
    batch = [
        Metric(f"{r.model}.{r.metric}", float(r.value), now, int(r.fold))
        for r in metrics.itertuples()
        if r.value is not None and math.isfinite(float(r.value))
    ]
    if summary is not None:
        for model, row in summary.iterrows():
            batch += [
                Metric(f"mean.{model}.{metric}", float(v), now, 0)
                for metric, v in row.items()
                if pd.notna(v) and math.isfinite(float(v))
            ]
    run_id = mlflow.active_run().info.run_id
    client = mlflow.MlflowClient()
    for start in range(0, len(batch), _METRICS_PER_CALL):
        client.log_batch(run_id, metrics=batch[start:start + _METRICS_PER_CALL])


def log_training_run(result: BacktestResult, fitted: FittedModels, params: Mapping[str, Any],
                     catalogue: str) -> None:
    """Log the train stage's run content into the active MLflow run.

    `params` (config sections) as params, the backtest's per-fold metrics (step = fold) and
    means, the value objective / fallback / backtest's preferred objective as tags, the PNG
    plots under "plots/", the feature catalogue and the backtest summary as Markdown."""
    import mlflow

    from pipeline import plots

    log_params(params)
    log_fold_metrics(result.metrics, result.summary)
    mlflow.set_tags({VALUE_OBJECTIVE_TAG: fitted.objective, FALLBACK_TAG: str(fitted.fallback),
                     BEST_OBJECTIVE_TAG: str(result.best_objective),
                     published_tag("value"): fitted.value_candidate or "none",
                     published_tag("churn"): fitted.churn_candidate or "none"})
    if result.selection:
        mlflow.log_dict({k: v.as_dict() for k, v in result.selection.items()}, SELECTION)
    with tempfile.TemporaryDirectory() as tmp:
        plots.write_backtest_plots(result, fitted, Path(tmp))
        mlflow.log_artifacts(tmp, PLOTS_ARTIFACT_DIR)
    mlflow.log_text(catalogue, FEATURE_CATALOGUE)
    mlflow.log_text(result.table(), BACKTEST_SUMMARY_MD)


_EFFECT_METRICS = ("ate", "ate_lower", "ate_upper", "top_gain", "top_gain_lower",
                   "top_gain_upper", "overlap_share", "treated_share", "churn_ate",
                   "churn_ate_lower", "churn_ate_upper")


def log_manager_effect(effect: ManagerEffect) -> None:
    """The manager's effect in the active run: the tag MANAGER_EFFECT_TAG ("estimated", or the
    reason it was not) and, when estimated, the average effect with its interval, the top
    accounts' out-of-sample gain, the share of training rows in overlap, the share managed
    and the average effect on churn with its interval as "manager_effect.<name>" metrics."""
    import mlflow

    mlflow.set_tag(MANAGER_EFFECT_TAG, "estimated" if effect.estimated else effect.reason)
    values = {f"{MANAGER_EFFECT_PREFIX}.{k}": float(effect.summary[k]) for k in _EFFECT_METRICS
              if k in effect.summary and math.isfinite(float(effect.summary[k]))}
    if values:
        mlflow.log_metrics(values)

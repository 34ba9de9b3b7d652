"""MLflow helpers of the train stage: tracking store, run logging, model registry, champion gate.

Tracking goes to `settings.pipeline.tracking.tracking_uri` (a local SQLite store by default;
a relative `sqlite:///file.db` is resolved against the project root, so the CLI and dvc give
the same store wherever they run). Artifacts of a new experiment go to `<root>/mlruns`.

Models are logged with `mlflow.sklearn` in skops format (cloudpickle when skops refuses an
attribute, e.g. the pandas Timestamps a ChurnModel keeps), with a signature, an input example
and explicit pip requirements (no environment inference: logging stays fast and offline).
LightGBM splits on pandas `category` columns, but an MLflow schema only knows strings, so
the logged model is a `ServingModel`: it turns string columns back into the categories seen
in training, then calls the fitted model; for the churn model `predict` returns
P(no order over the horizon). So `mlflow.pyfunc.load_model("models:/customer-value@champion")
.predict(frame)` works on a plain frame of the model's features.

The champion gate (`gate`) is a pure decision: the alias moves to a new version only when
its backtest value of the gate metric beats the best baseline and the current champion's
(recorded as a tag of the champion's model version) by more than `min_margin`.
"""

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from pipeline.progress import logger

__all__ = [
    "GATE_METRIC_TAG",
    "GATE_VALUE_TAG",
    "GateDecision",
    "ServingModel",
    "champion_score",
    "configure",
    "flatten",
    "gate",
    "log_fold_metrics",
    "log_model",
    "log_params",
    "pip_requirements",
    "resolve_uri",
    "serving_example",
    "set_alias",
    "tag_version",
]

GATE_METRIC_TAG = "gate_metric"
GATE_VALUE_TAG = "gate_value"
_REQUIREMENTS = ("lightgbm", "scikit-learn", "pandas", "numpy", "scipy", "skops")


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


def configure(tracking, root: Path) -> str:
    """Point MLflow at the configured store and experiment; return the experiment id.

    `tracking` is a `TrackingConfig`. A new experiment stores its artifacts under
    `<root>/mlruns` (explicit, so a SQLite store never writes next to the current folder).
    """
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    mlflow.set_tracking_uri(resolve_uri(tracking.tracking_uri, root))
    experiment = mlflow.get_experiment_by_name(tracking.experiment)
    if experiment is None:
        location = (Path(root) / "mlruns").resolve().as_uri()
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
    return {prefix: str(value)[:6000]}


def log_params(sections: Mapping[str, Any]) -> None:
    """Log every config section flattened (e.g. "model.value.params.num_leaves")."""
    import mlflow

    params: dict[str, str] = {}
    for name, section in sections.items():
        params.update(flatten(section, name))
    items = list(params.items())
    for start in range(0, len(items), 100):
        mlflow.log_params(dict(items[start:start + 100]))


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
    for start in range(0, len(batch), 1000):
        client.log_batch(run_id, metrics=batch[start:start + 1000])


class ServingModel(BaseEstimator):
    """A fitted value or churn model made servable from plain (string) columns.

    Parameters
    ----------
    model : fitted estimator (e.g. ValueModel, ChurnModel); not refitted.
    output : "predict" (value: expected spend) or "proba" (churn: P(class 1)).

    Attributes
    ----------
    categories_ : dict of column -> list of categories, from the frame passed to `fit`.
    feature_names_in_ : the columns, in order, the model expects.
    """

    def __init__(self, model=None, output: str = "predict"):
        self.model = model
        self.output = output

    def fit(self, X: pd.DataFrame, y=None):
        """Record the categories of X's categorical columns; the model stays as fitted."""
        self.categories_ = {
            str(c): [str(v) for v in X[c].cat.categories]
            for c in X.columns
            if isinstance(X[c].dtype, pd.CategoricalDtype)
        }
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        return self

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        X = pd.DataFrame(X)[list(self.feature_names_in_)]
        casts = {
            c: pd.Categorical(X[c].astype(object).where(X[c].notna(), None), categories=cats)
            for c, cats in self.categories_.items()
            if not isinstance(X[c].dtype, pd.CategoricalDtype)
        }
        return X.assign(**casts) if casts else X

    def predict(self, X) -> np.ndarray:
        """Expected spend ("predict") or P(class 1) ("proba") of every row of X."""
        check_is_fitted(self)
        X = self._frame(X)
        if self.output == "proba":
            return np.asarray(self.model.predict_proba(X)[:, 1], dtype=float)
        return np.asarray(self.model.predict(X), dtype=float)


def serving_example(X: pd.DataFrame, rows: int = 5) -> pd.DataFrame:
    """A few rows of X as MLflow sees them: categoricals as strings."""
    example = X.head(rows).copy()
    for c in example.columns:
        if isinstance(example[c].dtype, pd.CategoricalDtype):
            example[c] = example[c].astype(object).where(example[c].notna(), None).astype("str")
    return example


def pip_requirements(packages: Iterable[str] = _REQUIREMENTS) -> list[str]:
    """Pinned requirements of the logged models, from the installed versions."""
    pins = []
    for name in packages:
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            continue
    return pins


def log_model(model, X: pd.DataFrame, name: str, output: str, registered_model_name: str | None):
    """Log `model` (fitted) wrapped in a `ServingModel`, with signature, input example and
    pip requirements; register it under `registered_model_name` when given. Returns
    MLflow's ModelInfo (`.model_uri`, `.registered_model_version`)."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.models import infer_signature
    from skops.io import dumps, get_untrusted_types

    serving = ServingModel(model, output).fit(X)
    example = serving_example(X)
    arguments = dict(
        name=name,
        signature=infer_signature(example, serving.predict(example)),
        input_example=example,
        pip_requirements=pip_requirements(),
        registered_model_name=registered_model_name,
    )
    try:
        trusted = get_untrusted_types(data=dumps(serving))
    except Exception as error:  # noqa: BLE001 - skops refuses some attribute types
        logger.info("tracking: %s: skops cannot save it (%s); using cloudpickle", name,
                    str(error).split(". ")[0])
    else:
        try:
            return mlflow.sklearn.log_model(
                serving, serialization_format="skops", skops_trusted_types=trusted, **arguments
            )
        except MlflowException as error:
            logger.info("tracking: %s: skops cannot save it (%s); using cloudpickle", name,
                        str(error).split(". ")[0])
    return mlflow.sklearn.log_model(serving, serialization_format="cloudpickle", **arguments)


@dataclass(frozen=True)
class GateDecision:
    """Whether the alias moves, and why in one sentence."""

    promote: bool
    reason: str


def gate(
    metric: str,
    new: float,
    best_baseline: float | None,
    baseline_name: str | None,
    champion: float | None,
    higher_is_better: bool = True,
    min_margin: float = 0.0,
) -> GateDecision:
    """Promote only if `new` beats the best baseline and the current champion (if any) on
    `metric` by more than `min_margin` (in the metric's better direction)."""
    sign = 1.0 if higher_is_better else -1.0
    if new is None or not math.isfinite(new):
        return GateDecision(False, f"no backtest value of {metric} for the new model")
    if best_baseline is not None and math.isfinite(best_baseline):
        margin = sign * (new - best_baseline)
        if not margin > min_margin:
            return GateDecision(
                False,
                f"{metric} {new:.4f} does not beat the best baseline {baseline_name} "
                f"({best_baseline:.4f}) by more than {min_margin}",
            )
    if champion is not None and math.isfinite(champion):
        margin = sign * (new - champion)
        if not margin > min_margin:
            return GateDecision(
                False,
                f"{metric} {new:.4f} does not beat the current champion ({champion:.4f}) "
                f"by more than {min_margin}",
            )
        return GateDecision(
            True, f"{metric} {new:.4f} beats the champion ({champion:.4f}) and the baselines"
        )
    return GateDecision(True, f"{metric} {new:.4f} beats the baselines; no champion yet")


def champion_score(name: str, alias: str, metric: str) -> tuple[str | None, float | None]:
    """(version, gate value) of the model version holding `alias`, (None, None) without one.

    The value is the `gate_value` tag the train stage sets on every version it registers;
    a champion gated on another metric counts as absent (None value) so the new model is
    judged on the baselines only."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        current = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None, None
    tags = current.tags or {}
    if tags.get(GATE_METRIC_TAG) != metric or GATE_VALUE_TAG not in tags:
        return str(current.version), None
    return str(current.version), float(tags[GATE_VALUE_TAG])


def tag_version(name: str, version: str, metric: str, value: float) -> None:
    """Record on a registered version its backtest value of the gate metric."""
    import mlflow

    client = mlflow.MlflowClient()
    client.set_model_version_tag(name, version, GATE_METRIC_TAG, metric)
    client.set_model_version_tag(name, version, GATE_VALUE_TAG, repr(float(value)))


def set_alias(name: str, version: str, alias: str) -> None:
    """Point `alias` (e.g. "champion") at `version` of the registered model `name`."""
    import mlflow

    mlflow.MlflowClient().set_registered_model_alias(name, alias, version)

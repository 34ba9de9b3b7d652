"""MLflow helpers of the train stage: tracking store, run logging, model registry, champion gate.

Tracking goes to `settings.pipeline.tracking.tracking_uri` (a local SQLite store by default;
a relative `sqlite:///file.db` is resolved against the project root, so the CLI and dvc give
the same store wherever they run). Artifacts of a new experiment go to `<root>/mlruns`.

Models are logged with `mlflow.sklearn` in skops format (cloudpickle when skops refuses an
attribute, e.g. the pandas Timestamps a ChurnModel keeps), with a signature, an input example
and explicit pip requirements (no environment inference: logging stays fast and offline).
The logged model is a `ServingModel`, self-contained: it takes the raw feature columns of a
features frame as the features stage writes them (models.training.input_columns: the columns
of scoring_frame.parquet but ids and dates; categoricals as strings, since an MLflow schema
only knows strings), turns strings back into the categories seen in training, adds the BTYD
columns with the parameters fitted at training time (the model's BTYDTransformer, never
refitted on the rows passed in) and calls the fitted model; for the churn model `predict`
returns P(no order over the horizon). So `mlflow.pyfunc.load_model("models:/customer-value
@champion").predict(serving_input(scoring_frame.iloc[:5]))` gives exactly the score stage's
values for those five customers, alone or in any batch. `load_champion` rebuilds
models.training.FittedModels from the two ServingModels (each with its own input when the
champions come from different runs) and a stamp with each one's version and run id.

The champion gate (`gate`) is a pure decision: the alias moves to a new version only when
its backtest value of the gate metric beats the best baseline and the current champion's
(recorded as a tag of the champion's model version) by more than `min_margin`.

Two backtest means are comparable only when they come from the same backtest: every
registered version is tagged with its gate metric and value, its horizon (`horizon_days`)
and the cutoffs its backtest evaluated (`backtest_folds`, YYYY-MM-DD, comma-separated). The
champion's value enters the gate only when its tags show this run's metric, horizon and
fold cutoffs (`champion_comparison`); otherwise the new model is judged on the best
baseline only and the reason says why the champion was not compared. `load_champion`
refuses a champion trained at another horizon than the one asked for.
"""

import math
import os
import tempfile
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
    "FOLDS_TAG",
    "GATE_METRIC_TAG",
    "GATE_VALUE_TAG",
    "GateDecision",
    "HORIZON_TAG",
    "LAST_CUTOFF_TAG",
    "ServingModel",
    "backtest_folds",
    "champion_comparison",
    "champion_score",
    "configure",
    "flatten",
    "gate",
    "load_champion",
    "log_fold_metrics",
    "log_model",
    "log_params",
    "log_training_run",
    "register_gated",
    "register_models",
    "pip_requirements",
    "resolve_uri",
    "serving_example",
    "serving_input",
    "set_alias",
    "tag_version",
]

GATE_METRIC_TAG = "gate_metric"
CANDIDATE_TAG = "candidate"  # which candidate the version is (models.selection)
GATE_VALUE_TAG = "gate_value"
HORIZON_TAG = "horizon_days"
FOLDS_TAG = "backtest_folds"
LAST_CUTOFF_TAG = "last_train_cutoff"
TRACKING_URI_ENV = "KEYACCOUNTS_TRACKING_URI"
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

    # the environment's URI (it may hold a password) wins over the password-free config; not
    # MLFLOW_TRACKING_URI, which set_tracking_uri itself writes for child processes
    mlflow.set_tracking_uri(resolve_uri(os.environ.get(TRACKING_URI_ENV)
                                        or tracking.tracking_uri, root))
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
    """A fitted value or churn model made servable from a features frame's raw columns.

    Parameters
    ----------
    model : fitted estimator (e.g. ValueModel, ChurnModel); not refitted.
    output : "predict" (value: expected spend) or "proba" (churn: P(class 1)).
    btyd : the fitted models.baselines.BTYDTransformer the model was trained with, or None
        (no BTYD features); applied with its stored parameters, not refitted.
    features : the columns `model` takes, in order, after the BTYD step (default: the
        model's `feature_names_in_`, else the columns passed to `fit`).

    Attributes
    ----------
    feature_names_in_ : the input columns, in order: those of the frame passed to `fit`.
    categories_ : dict of column -> list of categories, from that frame.
    model_features_ : the columns the wrapped model sees (`features` resolved).
    """

    def __init__(self, model=None, output: str = "predict", btyd=None, features=None):
        self.model = model
        self.output = output
        self.btyd = btyd
        self.features = features

    def fit(self, X: pd.DataFrame, y=None):
        """Record X's columns and the categories of its categorical columns; the model and the
        BTYD step stay as fitted."""
        self.categories_ = {
            str(c): [str(v) for v in X[c].cat.categories]
            for c in X.columns
            if isinstance(X[c].dtype, pd.CategoricalDtype)
        }
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        names = self.features if self.features is not None else getattr(
            self.model, "feature_names_in_", self.feature_names_in_)
        self.model_features_ = [str(c) for c in names]
        return self

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        X = pd.DataFrame(X)[list(self.feature_names_in_)]
        casts = {
            c: pd.Categorical(X[c].astype(object).where(X[c].notna(), None), categories=cats)
            for c, cats in self.categories_.items()
            if not isinstance(X[c].dtype, pd.CategoricalDtype)
        }
        return X.assign(**casts) if casts else X

    def prepare(self, X) -> pd.DataFrame:
        """The wrapped model's input for raw rows X: categoricals cast, BTYD columns from the
        stored parameters, `model_features_` selected. Each row's depends on that row only."""
        check_is_fitted(self)
        X = self._frame(X)
        btyd = getattr(self, "btyd", None)  # a model logged before the step was stored
        if btyd is not None:
            X = btyd.transform(X)
        return X[getattr(self, "model_features_", list(self.feature_names_in_))]

    def predict(self, X) -> np.ndarray:
        """Expected spend ("predict") or P(class 1) ("proba") of every row of X."""
        X = self.prepare(X)
        if self.output == "proba":
            return np.asarray(self.model.predict_proba(X)[:, 1], dtype=float)
        return np.asarray(self.model.predict(X), dtype=float)


def serving_input(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """What a caller sends a registered model: `columns` of a features frame (default: its
    models.training.input_columns), categoricals as strings."""
    from models.training import input_columns

    out = frame[list(columns) if columns is not None else input_columns(frame)].copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object).where(out[c].notna(), None).astype("str")
    return out


def serving_example(X: pd.DataFrame, rows: int = 5) -> pd.DataFrame:
    """A few rows of X as MLflow sees them: categoricals as strings."""
    return serving_input(X.head(rows), X.columns)


def pip_requirements(packages: Iterable[str] = _REQUIREMENTS) -> list[str]:
    """Pinned requirements of the logged models, from the installed versions."""
    pins = []
    for name in packages:
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            continue
    return pins


def log_model(model, X: pd.DataFrame, name: str, output: str, registered_model_name: str | None,
              btyd=None, features: list[str] | None = None):
    """Log `model` (fitted) wrapped in a `ServingModel` with its BTYD step `btyd` and its
    `features` (see ServingModel), with signature, input example (from `X`, raw input
    columns) and pip requirements; register it under `registered_model_name` when given.
    Returns MLflow's ModelInfo (`.model_uri`, `.registered_model_version`)."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.models import infer_signature
    from skops.io import dumps, get_untrusted_types

    serving = ServingModel(model, output, btyd, features).fit(X)
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
    min_margin: float = 0.0,
    not_compared: str | None = None,
) -> GateDecision:
    """Promote only if `new` beats the best baseline and the current champion (if any) on
    `metric` by more than `min_margin` (in the metric's better direction).

    `not_compared` is why a current champion is left out (its backtest is not comparable,
    see `champion_comparison`; pass `champion=None` then): the decision rests on the best
    baseline only and the reason ends with it. "Beats" is models.selection.beats, the one
    decision the backtest's selection and grades and the score stage's warnings use too."""
    from models.selection import beats

    note = f"; {not_compared}" if not_compared else ""
    if new is None or not math.isfinite(new):
        return GateDecision(False, f"no backtest value of {metric} for the new model")
    has_baseline = best_baseline is not None and math.isfinite(best_baseline)
    if has_baseline:
        if not beats(new, best_baseline, metric, min_margin):
            return GateDecision(
                False,
                f"{metric} {new:.4f} does not beat the best baseline {baseline_name} "
                f"({best_baseline:.4f}) by more than {min_margin}{note}",
            )
    if champion is not None and math.isfinite(champion):
        if not beats(new, champion, metric, min_margin):
            return GateDecision(
                False,
                f"{metric} {new:.4f} does not beat the current champion ({champion:.4f}) "
                f"by more than {min_margin}",
            )
        return GateDecision(
            True, f"{metric} {new:.4f} beats the champion ({champion:.4f}) and the baselines"
        )
    if not_compared:
        against = (f"the best baseline {baseline_name} ({best_baseline:.4f})" if has_baseline
                   else "no baseline (none was scored)")
        return GateDecision(True, f"{metric} {new:.4f} beats {against}{note}")
    return GateDecision(True, f"{metric} {new:.4f} beats the baselines; no champion yet")


def backtest_folds(result) -> list[str]:
    """The cutoffs the backtest evaluated (skipped folds left out), oldest first, as
    YYYY-MM-DD: with the horizon, what makes two backtest means comparable.

    `result` is a models.backtest.BacktestResult."""
    from features.contract import CUTOFF

    if result.metrics.empty or CUTOFF not in result.metrics.columns:
        return []
    return [f"{c:%Y-%m-%d}" for c in sorted(pd.to_datetime(result.metrics[CUTOFF].unique()))]


def _folds_text(folds: list[str], full: bool = False) -> str:
    if not folds:
        return "no fold"
    if len(folds) == 1:
        return f"fold {folds[0]}"
    if full or len(folds) == 2:
        return "folds " + ", ".join(folds)
    return f"{len(folds)} folds {folds[0]}..{folds[-1]}"


def champion_comparison(version: str, tags: Mapping[str, str], metric: str, horizon: int,
                        folds: list[str]) -> tuple[float | None, str | None]:
    """(the champion's gate value, None) when its version tags show the same backtest as
    this run's: the same gate `metric`, `horizon` and evaluated fold cutoffs `folds` (see
    `backtest_folds`). Otherwise (None, why it is not compared), the reason ending with
    "compared with the best baseline only". Pure: `tags` are the version's tags."""
    who = f"champion v{version}"
    if tags.get(GATE_METRIC_TAG) != metric or GATE_VALUE_TAG not in tags:
        other = tags.get(GATE_METRIC_TAG)
        why = f"{who} has no backtest value of {metric}" + (
            f" (it was gated on {other})" if other else "")
    elif HORIZON_TAG not in tags or FOLDS_TAG not in tags:
        why = (f"{who}'s backtest is not comparable: its version does not record the "
               f"horizon and fold cutoffs of its backtest (registered before they were "
               f"tagged)")
    else:
        theirs = [f for f in tags[FOLDS_TAG].split(",") if f]
        their_horizon = tags[HORIZON_TAG]
        if their_horizon == str(int(horizon)) and theirs == list(folds):
            return float(tags[GATE_VALUE_TAG]), None
        full = _folds_text(theirs) == _folds_text(list(folds))  # same ends, other folds
        why = (f"{who}'s backtest is not comparable: it was backtested on "
               f"{_folds_text(theirs, full)} with horizon {their_horizon} days, this run on "
               f"{_folds_text(list(folds), full)} with horizon {int(horizon)} days")
    return None, why + "; compared with the best baseline only"


def champion_score(name: str, alias: str, metric: str, horizon: int,
                   folds: list[str]) -> tuple[str | None, float | None, str | None]:
    """(version, gate value, why not compared) of the model version holding `alias`;
    (None, None, None) without one.

    The value is the `gate_value` tag the train stage sets on every version it registers,
    given only when the version's tags show the same backtest as this run's (metric,
    `horizon`, `folds`; see `champion_comparison`); else it is None and the third item says
    why, so the new model is judged on the best baseline only."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        current = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None, None, None
    value, why = champion_comparison(str(current.version), current.tags or {}, metric,
                                     horizon, folds)
    return str(current.version), value, why


def tag_version(name: str, version: str, metric: str, value: float, horizon: int,
                folds: list[str], last_train_cutoff=None) -> None:
    """Record on a registered version its backtest value of the gate metric and what makes
    it comparable: the horizon and the evaluated fold cutoffs (see `backtest_folds`); and
    the latest cutoff it was trained on (its labels end a horizon later), which tells a
    scoring run when its scores are in-sample."""
    import mlflow

    client = mlflow.MlflowClient()
    client.set_model_version_tag(name, version, GATE_METRIC_TAG, metric)
    client.set_model_version_tag(name, version, GATE_VALUE_TAG, repr(float(value)))
    client.set_model_version_tag(name, version, HORIZON_TAG, str(int(horizon)))
    client.set_model_version_tag(name, version, FOLDS_TAG, ",".join(folds))
    if last_train_cutoff is not None:
        client.set_model_version_tag(name, version, LAST_CUTOFF_TAG,
                                     f"{pd.Timestamp(last_train_cutoff):%Y-%m-%d}")


def set_alias(name: str, version: str, alias: str) -> None:
    """Point `alias` (e.g. "champion") at `version` of the registered model `name`."""
    import mlflow

    mlflow.MlflowClient().set_registered_model_alias(name, alias, version)


def log_training_run(result, fitted, params: Mapping[str, Any], catalogue: str) -> None:
    """Log the train stage's run content into the active MLflow run.

    `params` (config sections) as params, the backtest's per-fold metrics (step = fold) and
    means, the value objective / fallback / backtest's preferred objective as tags, the PNG
    plots under "plots/", the feature catalogue and the backtest summary as Markdown.
    `result` is a models.backtest.BacktestResult, `fitted` a models.training.FittedModels."""
    import mlflow

    from pipeline import plots

    log_params(params)
    log_fold_metrics(result.metrics, result.summary)
    mlflow.set_tags({"value_objective": fitted.objective, "fallback": str(fitted.fallback),
                     "best_objective": str(result.best_objective),
                     "published.value": fitted.value_candidate or "none",
                     "published.churn": fitted.churn_candidate or "none"})
    if result.selection:
        mlflow.log_dict({k: v.as_dict() for k, v in result.selection.items()}, "selection.json")
    with tempfile.TemporaryDirectory() as tmp:
        plots.write_backtest_plots(result, fitted, Path(tmp))
        mlflow.log_artifacts(tmp, "plots")
    mlflow.log_text(catalogue, "feature_catalogue.md")
    mlflow.log_text(result.table(), "backtest_summary.md")


def register_gated(kind: str, fitted, sample: pd.DataFrame, result, track, gate_config,
                   baselines: Iterable[str], horizon: int) -> dict:
    """Log, register and gate one model (kind "value" or "churn") in the active run.

    The version is tagged with its backtest value of the gate metric, `horizon` and the
    backtest's fold cutoffs; `track.champion_alias` moves to it only when `gate` says so
    (against the best of `baselines` and the current champion, the latter only when its
    tags show the same backtest). The decision is tagged on the run as gate.<kind>. Returns
    what model_info.json records about the model.

    `sample` holds raw input rows (models.training.input_columns of a features frame): the
    logged ServingModel's signature, input example and categories; the model carries its
    own BTYD step and feature list from `fitted` (FittedModels.model_input)."""
    import mlflow

    from models.selection import CHURN_MODEL, value_model_name
    from pipeline.reporting import best_baseline

    if kind == "value":
        name, model, output = track.value_model_name, fitted.value, "predict"
        row = fitted.value_candidate or value_model_name(fitted.objective)
        metric = gate_config.value_metric
    else:
        name, model, output = track.churn_model_name, fitted.churn, "proba"
        row, metric = fitted.churn_candidate or CHURN_MODEL, gate_config.churn_metric
    inputs = fitted.model_input(kind)
    info = log_model(model, sample, f"{kind}_model", output, name, inputs.btyd, inputs.features)
    model_version = str(info.registered_model_version)
    chosen = result.selection.get(kind)
    if chosen is not None and row in chosen.scores:  # on the folds every candidate was scored on
        new = chosen.scores[row]
    else:
        new = float(result.summary.loc[row, metric]) if row in result.summary.index else math.nan
    baseline, baseline_value = best_baseline(result, metric, baselines)
    if chosen is not None and chosen.best_baseline in chosen.scores:
        baseline, baseline_value = chosen.best_baseline, chosen.scores[chosen.best_baseline]
    if row == baseline:  # the simple rule itself won: only the champion can stop it
        baseline_value = None
    # the folds the score is a mean over: the selection's (every candidate scored on them)
    folds = chosen.cutoffs if chosen is not None and chosen.cutoffs else backtest_folds(result)
    champion_version, champion_value, not_compared = champion_score(
        name, track.champion_alias, metric, horizon, folds)
    decision = gate(metric, new, baseline_value, baseline, champion_value,
                    gate_config.min_margin, not_compared)
    tag_version(name, model_version, metric, new, horizon, folds,
                max(fitted.train_cutoffs) if fitted.train_cutoffs else None)
    mlflow.MlflowClient().set_model_version_tag(name, model_version, CANDIDATE_TAG, row)
    if chosen is not None:
        mlflow.set_tag(f"selection.{kind}", chosen.text)
    if decision.promote:
        set_alias(name, model_version, track.champion_alias)
    holder = model_version if decision.promote else champion_version
    logger.info("train: %s version %s: %s; @%s %s", name, model_version, decision.reason,
                track.champion_alias, f"-> version {holder}" if holder else "not set")
    verdict = "promoted: " if decision.promote else "not promoted: "
    mlflow.set_tag(f"gate.{kind}", verdict + decision.reason)
    return {"name": name, "version": model_version, "model_uri": info.model_uri, "metric": metric,
            "backtest_value": new, "best_baseline": baseline, "baseline_value": baseline_value,
            "previous_champion": champion_version, "champion_value": champion_value,
            "promoted": decision.promote, "candidate": row,
            "reason": decision.reason}


def register_models(fitted, training: pd.DataFrame, config, horizon: int, result, track,
                    gate_config, baselines: Iterable[str]) -> dict:
    """Register and gate both models in the active run; {} (tagged "gate") on the fallback.

    The input example / signature sample is the raw input columns (models.training.
    input_columns) of the first 1,000 rows of the latest cutoff of `training`: the registered
    models prepare their input themselves. The BTYD step's parameters are also logged as
    btyd_params.json. `config` is kept for the callers (the models carry what they need)."""
    import mlflow

    from features.contract import CUTOFF
    from models.training import input_columns

    if fitted.fallback:
        mlflow.set_tag("gate", "not registered: " + fitted.message)
        logger.info("train: models not registered: %s", fitted.message)
        return {}
    latest = training[training[CUTOFF] == training[CUTOFF].max()]
    sample = latest.head(1000)[input_columns(latest)]
    if fitted.btyd is not None:
        mlflow.log_dict(fitted.btyd.params_, "btyd_params.json")
    return {kind: register_gated(kind, fitted, sample, result, track, gate_config, baselines,
                                 horizon)
            for kind in ("value", "churn")}


def _model_input(serving, who: str):
    """The models.training.ModelInput of a loaded ServingModel; DataError for one logged
    before the BTYD step travelled with the model (it cannot score rows by itself)."""
    from models.baselines import BTYD_OUTPUTS
    from models.training import ModelInput
    from pipeline.errors import DataError

    features = [str(c) for c in getattr(serving, "model_features_", serving.feature_names_in_)]
    btyd = getattr(serving, "btyd", None)
    if btyd is None and any(c in BTYD_OUTPUTS for c in features):
        raise DataError(
            f"champion {who} uses BTYD features but was registered before its fitted BTYD "
            "parameters were stored with it: train and promote a new version (keyaccounts "
            "train), or set score.model_source: artifacts in configs/pipeline.yaml")
    return ModelInput(features, btyd)


def load_champion(track, horizon: int, value_version: str | None = None,
                  churn_version: str | None = None):
    """The registry's champions (`track.champion_alias` of track.value_model_name and
    track.churn_model_name), or the registered versions `value_version` / `churn_version`
    when given, as models.training.FittedModels, with a stamp (pipeline.scoring.make_stamp)
    of each one's version and run id. No such version: `NoChampion` (exit code 6).

    The FittedModels score exactly as the registered models do: each brings its fitted BTYD
    step and feature list; when the churn champion's differ from the value champion's (it
    was trained in another run), it keeps its own (FittedModels.churn_input).

    Raises DataError when a champion's `horizon_days` tag names another horizon than
    `horizon` (its predictions are over that other horizon); a champion without the tag
    (registered before it was recorded) is assumed to match, with a warning.
    Call `configure` first."""
    import mlflow

    from models.training import FittedModels
    from pipeline.errors import DataError
    from pipeline.scoring import make_stamp

    client, found = mlflow.MlflowClient(), {}
    kinds = (("value", track.value_model_name), ("churn", track.churn_model_name))
    from mlflow.exceptions import MlflowException

    from pipeline.errors import NoChampion
    from pipeline.secrets import redact_uri

    versions, asked = {}, {"value": value_version, "churn": churn_version}
    store = redact_uri(mlflow.get_tracking_uri())
    for kind, name in kinds:
        try:
            versions[kind] = (client.get_model_version(name, str(asked[kind])) if asked[kind]
                              else client.get_model_version_by_alias(name, track.champion_alias))
        except MlflowException as error:
            if asked[kind]:
                raise NoChampion(
                    f"{name} has no version {asked[kind]} at {store}: pick one that `mlflow ui` "
                    f"lists, or leave --{kind}-version out to use @{track.champion_alias}"
                ) from error
            raise NoChampion(
                f"no version of {name} holds the alias @{track.champion_alias} at "
                f"{store}: train until a version beats the baselines (keyaccounts train), "
                "or set score.model_source: artifacts in configs/pipeline.yaml"
            ) from error
    for kind, name in kinds:
        model_version = versions[kind]
        trained_at = (model_version.tags or {}).get(HORIZON_TAG)
        if trained_at is None:
            logger.warning("tracking: champion %s v%s has no %s tag (registered before it was "
                           "recorded); assuming it was trained at horizon %d days", name,
                           model_version.version, HORIZON_TAG, horizon)
        elif trained_at != str(int(horizon)):
            raise DataError(
                f"champion {name} v{model_version.version} was trained at horizon "
                f"{trained_at} days but features.horizon_days is {horizon}: set "
                f"features.horizon_days back to {trained_at} in configs/features.yaml, or "
                f"train and promote a champion at horizon {horizon} days")
    for kind, name in kinds:  # the very versions checked, should the alias move meanwhile
        serving = mlflow.sklearn.load_model(f"models:/{name}/{versions[kind].version}")
        found[kind] = (serving.model, _model_input(serving, f"{name} v{versions[kind].version}"))
    (value, value_input), (churn, churn_input) = found["value"], found["churn"]
    last_cutoffs = [pd.Timestamp(v.tags[LAST_CUTOFF_TAG]) for v in versions.values()
                    if (v.tags or {}).get(LAST_CUTOFF_TAG)]
    candidate = {kind: (versions[kind].tags or {}).get(CANDIDATE_TAG, "") for kind, _ in kinds}
    fitted = FittedModels(value, churn, value_input.features,
                          getattr(value, "objective", candidate["value"]), horizon,
                          value_input.btyd is not None,
                          train_cutoffs=[max(last_cutoffs)] if last_cutoffs else [],
                          btyd=value_input.btyd,
                          churn_input=None if churn_input.same_as(value_input) else churn_input,
                          value_candidate=candidate["value"], churn_candidate=candidate["churn"])
    stamp = make_stamp(versions["value"].version, versions["value"].run_id,
                       versions["churn"].version, versions["churn"].run_id)
    return fitted, stamp

"""The model registry: register and gate the train stage's models, read the champions back.

`register_models` logs both models of a training run as ServingModels (pipeline.tracking.
serving), registers them, tags each version with what makes its backtest comparable
(`tag_version`) and moves the champion alias only when the gate says so (pipeline.tracking.
promotion, against the current champion's tags read by `champion_score`).

`load_champion` rebuilds models.training.FittedModels from the two champion ServingModels
(each with its own input when the champions come from different runs) and a stamp with each
one's version and run id; it refuses a champion trained at another horizon than the one asked
for (pipeline.scoring.check_horizon, the score stage's one horizon check).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from pipeline.files import BTYD_PARAMS
from pipeline.progress import logger
from pipeline.tracking.names import (
    CANDIDATE_TAG,
    FOLDS_TAG,
    GATE_METRIC_TAG,
    GATE_TAG,
    GATE_VALUE_TAG,
    HORIZON_TAG,
    LAST_CUTOFF_TAG,
    gate_tag,
    model_artifact,
    selection_tag,
)
from pipeline.tracking.promotion import backtest_folds, champion_comparison, gate
from pipeline.tracking.serving import log_model, serving_model_input

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion

    from models.backtest import BacktestResult
    from models.config import GateConfig, ModelConfig
    from models.training import FittedModels
    from pipeline.config.paths import TrackingConfig

__all__ = [
    "champion_score",
    "load_champion",
    "register_gated",
    "register_models",
    "set_alias",
    "tag_version",
]

SAMPLE_ROWS = 1000  # rows of the latest cutoff behind a registered model's signature


def champion_score(name: str, alias: str, metric: str, horizon: int,
                   folds: list[str]) -> tuple[str | None, float | None, str | None]:
    """(version, gate value, why not compared) of the model version holding `alias`;
    (None, None, None) without one.

    The value is the `gate_value` tag the train stage sets on every version it registers,
    given only when the version's tags show the same backtest as this run's (metric,
    `horizon`, `folds`; see promotion.champion_comparison); else it is None and the third
    item says why, so the new model is judged on the best baseline only."""
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
                folds: list[str], last_train_cutoff: Any = None) -> None:
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


def register_gated(kind: Literal["value", "churn"], fitted: FittedModels, sample: pd.DataFrame,
                   result: BacktestResult, track: TrackingConfig, gate_config: GateConfig,
                   baselines: Iterable[str], horizon: int) -> dict[str, Any]:
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

    from models.backtest import best_baseline
    from models.selection import CHURN_MODEL, value_model_name

    if kind == "value":
        name, model, output = track.value_model_name, fitted.value, "predict"
        row = fitted.value_candidate or value_model_name(fitted.objective)
        metric = gate_config.value_metric
    else:
        name, model, output = track.churn_model_name, fitted.churn, "proba"
        row, metric = fitted.churn_candidate or CHURN_MODEL, gate_config.churn_metric
    inputs = fitted.model_input(kind)
    info = log_model(model, sample, model_artifact(kind), output, name, inputs.btyd,
                     inputs.features)
    model_version = str(info.registered_model_version)
    chosen = result.selection.get(kind)
    if chosen is not None and row in chosen.scores:  # on the folds every candidate was scored on
        new = chosen.scores[row]
    else:
        known = row in result.summary.index and metric in result.summary.columns
        new = float(result.summary.loc[row, metric]) if known else math.nan
    baseline, baseline_value = best_baseline(result.summary, metric, baselines)
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
        mlflow.set_tag(selection_tag(kind), chosen.text)
    if decision.promote:
        set_alias(name, model_version, track.champion_alias)
    holder = model_version if decision.promote else champion_version
    logger.info("train: %s version %s: %s; @%s %s", name, model_version, decision.reason,
                track.champion_alias, f"-> version {holder}" if holder else "not set")
    verdict = "promoted: " if decision.promote else "not promoted: "
    mlflow.set_tag(gate_tag(kind), verdict + decision.reason)
    return {"name": name, "version": model_version, "model_uri": info.model_uri, "metric": metric,
            "backtest_value": new, "best_baseline": baseline, "baseline_value": baseline_value,
            "previous_champion": champion_version, "champion_value": champion_value,
            "promoted": decision.promote, "candidate": row,
            "reason": decision.reason}


def register_models(fitted: FittedModels, training: pd.DataFrame, config: ModelConfig,
                    horizon: int, result: BacktestResult, track: TrackingConfig,
                    gate_config: GateConfig, baselines: Iterable[str]) -> dict[str, dict]:
    """Register and gate both models in the active run; {} (tagged "gate") on the fallback.

    The input example / signature sample is the raw input columns (models.training.
    input_columns) of the first 1,000 rows of the latest cutoff of `training`: the registered
    models prepare their input themselves. The BTYD step's parameters are also logged as
    btyd_params.json. `config` is kept for the callers (the models carry what they need)."""
    import mlflow

    from features.contract import CUTOFF
    from models.training import input_columns

    if fitted.fallback:
        mlflow.set_tag(GATE_TAG, "not registered: " + fitted.message)
        logger.info("train: models not registered: %s", fitted.message)
        return {}
    latest = training[training[CUTOFF] == training[CUTOFF].max()]
    sample = latest.head(SAMPLE_ROWS)[input_columns(latest)]
    if fitted.btyd is not None:
        mlflow.log_dict(fitted.btyd.params_, BTYD_PARAMS)
    return {kind: register_gated(kind, fitted, sample, result, track, gate_config, baselines,
                                 horizon)
            for kind in ("value", "churn")}


def _version(name: str, kind: str, asked: str | None, alias: str) -> ModelVersion:
    """Version `asked` of the registered model `name`, else the one holding `alias`;
    NoChampion (exit code 6) naming the store and the fix when there is none."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from pipeline.errors import NoChampion
    from pipeline.secrets import redact_uri

    client = mlflow.MlflowClient()
    try:
        return (client.get_model_version(name, str(asked)) if asked
                else client.get_model_version_by_alias(name, alias))
    except MlflowException as error:
        store = redact_uri(mlflow.get_tracking_uri())
        if asked:
            raise NoChampion(
                f"{name} has no version {asked} at {store}: pick one that `mlflow ui` "
                f"lists, or leave --{kind}-version out to use @{alias}"
            ) from error
        raise NoChampion(
            f"no version of {name} holds the alias @{alias} at "
            f"{store}: train until a version beats the baselines (keyaccounts train), "
            "or set score.model_source: artifacts in configs/pipeline.yaml"
        ) from error


def load_champion(track: TrackingConfig, horizon: int, value_version: str | None = None,
                  churn_version: str | None = None) -> tuple[FittedModels, dict[str, str]]:
    """The registry's champions (`track.champion_alias` of track.value_model_name and
    track.churn_model_name), or the registered versions `value_version` / `churn_version`
    when given, as models.training.FittedModels, with a stamp (pipeline.scoring.make_stamp)
    of each one's version and run id. No such version: `NoChampion` (exit code 6).

    The FittedModels score exactly as the registered models do: each brings its fitted BTYD
    step and feature list; when the churn champion's differ from the value champion's (it
    was trained in another run), it keeps its own (FittedModels.churn_input).

    Raises ConfigError (pipeline.scoring.check_horizon) when a champion's `horizon_days` tag
    names another horizon than `horizon` (its predictions are over that other horizon); a
    champion without the tag (registered before it was recorded) is assumed to match, with a
    warning. Call `configure` first."""
    import mlflow

    from models.training import FittedModels
    from pipeline.scoring import check_horizon, make_stamp

    kinds = (("value", track.value_model_name), ("churn", track.churn_model_name))
    asked = {"value": value_version, "churn": churn_version}
    versions = {kind: _version(name, kind, asked[kind], track.champion_alias)
                for kind, name in kinds}
    for kind, name in kinds:  # before anything is downloaded
        model_version = versions[kind]
        trained_at = (model_version.tags or {}).get(HORIZON_TAG)
        if trained_at is None:
            logger.warning("tracking: champion %s v%s has no %s tag (registered before it was "
                           "recorded); assuming it was trained at horizon %d days", name,
                           model_version.version, HORIZON_TAG, horizon)
        else:
            check_horizon(trained_at, horizon, f"champion {name} v{model_version.version}",
                          f"train and promote a champion at horizon {horizon} days")
    found = {}
    for kind, name in kinds:  # the very versions checked, should the alias move meanwhile
        serving = mlflow.sklearn.load_model(f"models:/{name}/{versions[kind].version}")
        found[kind] = (serving.model,
                       serving_model_input(serving, f"{name} v{versions[kind].version}"))
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

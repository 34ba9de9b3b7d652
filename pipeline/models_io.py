"""The trained models the score stage scores with: one loader, whatever their source.

configs/pipeline.yaml score.model_source: "artifacts" (default) = the train stage's
models.training.FittedModels of this run (paths.artifacts_dir/fitted_models.joblib), stamped
with the versions they were registered as (model_info.json); "champion" = the registry's
models:/<name>@champion (or score.value_version / churn_version), rebuilt into FittedModels
by pipeline.tracking.load_champion. Either way the models must have been trained at
features.horizon_days: pipeline.scoring.check_horizon is the one check, a ConfigError that
names both fixes.

The manager's effect (models.manager_effect.ManagerEffect) is an artifact of the train stage
only (paths.artifacts_dir/manager_effect.joblib, `save_manager_effect` /
`load_manager_effect`), whatever score.model_source says: it is not registered.
"""

from pathlib import Path

import joblib

from models.manager_effect import ManagerEffect
from models.training import FittedModels
from pipeline import scoring
from pipeline.config import Settings
from pipeline.errors import DataError
from pipeline.files import FITTED_MODELS, MANAGER_EFFECT, MODEL_INFO
from pipeline.progress import logger
from pipeline.storage import read_json

__all__ = ["load_artifacts", "load_champion", "load_manager_effect", "load_models",
           "save_manager_effect"]


def load_models(settings: Settings, horizon: int) -> tuple[FittedModels, dict[str, str]]:
    """The configured models (score.model_source) and their stamp (scoring.make_stamp)."""
    if settings.pipeline.score.model_source == "champion":
        return load_champion(settings, horizon)
    return load_artifacts(settings.path(settings.pipeline.paths.artifacts_dir), horizon)


def load_champion(settings: Settings, horizon: int) -> tuple[FittedModels, dict[str, str]]:
    """The registry's champions (or score.value_version / churn_version) as FittedModels,
    with each one's version and run id; ConfigError when one was trained at another
    horizon, NoChampion when there is none."""
    from pipeline import tracking

    score = settings.pipeline.score
    tracking.configure(settings.pipeline.tracking, settings.root)
    return tracking.load_champion(settings.pipeline.tracking, horizon, score.value_version,
                                  score.churn_version)


def load_artifacts(artifacts: Path, horizon: int) -> tuple[FittedModels, dict[str, str]]:
    """The train stage's FittedModels in the folder `artifacts` and their stamp from its
    model_info.json; the warnings of a published model that lost to a baseline are logged.
    DataError when the files are missing or unusable, ConfigError when they were trained at
    another horizon."""
    path = Path(artifacts) / FITTED_MODELS
    if not path.exists():
        raise DataError(f"{path} not found: run `keyaccounts train` first")
    fitted = joblib.load(path)
    try:
        fitted.model_input("value")
    except ValueError as error:
        raise DataError(f"{path}: {error}") from error
    scoring.check_horizon(fitted.horizon_days, horizon, str(path),
                          "re-run `keyaccounts train` (or dvc repro)")
    info = read_json(Path(artifacts) / MODEL_INFO, "train")
    for warning in scoring.baseline_warnings(info):
        logger.warning("score: %s", warning)
    return fitted, scoring.artifact_stamp(info)


def save_manager_effect(effect: ManagerEffect, path: Path) -> None:
    """Write the manager's effect to `path` (a StagedFiles temporary: the train stage renames
    it into place with the other artifacts)."""
    joblib.dump(effect, path, compress=3)


def load_manager_effect(artifacts: Path) -> ManagerEffect | None:
    """The train stage's manager effect in the folder `artifacts`; None when the file is
    absent (artifacts of a version before it); DataError when it is not one."""
    path = Path(artifacts) / MANAGER_EFFECT
    if not path.exists():
        return None
    effect = joblib.load(path)
    if not isinstance(effect, ManagerEffect):
        raise DataError(f"{path} does not hold a manager effect: re-run `keyaccounts train`")
    return effect

"""MLflow for the train and score stages, one module per job; the public names re-exported.

- `runs`: the tracking store (`resolve_uri`, `configure`) and the training run's content
  (`flatten`, `log_params`, `log_fold_metrics` in batches, `log_training_run`,
  `log_manager_effect`).
- `serving`: the logged model, a self-contained `ServingModel` taking a features frame's raw
  columns (`serving_input`, `serving_example`), its pinned pip requirements and its skops
  serialisation with the cloudpickle fallback (`log_model`).
- `promotion`: the champion gate as pure decisions (`gate`, `GateDecision`), and whether the
  current champion's backtest is comparable with this run's (`backtest_folds`,
  `champion_comparison`).
- `registry`: registration and the champion alias (`register_models`, `register_gated`,
  `tag_version`, `set_alias`, `champion_score`) and reading the champions back as
  models.training.FittedModels (`load_champion`).
- `names`: every MLflow tag and artifact name the above write or read; import them from there.

Importing does nothing: MLflow itself is imported inside the functions that use it.
"""

from pipeline.tracking.promotion import GateDecision, backtest_folds, champion_comparison, gate
from pipeline.tracking.registry import (
    champion_score,
    load_champion,
    register_gated,
    register_models,
    set_alias,
    tag_version,
)
from pipeline.tracking.runs import (
    configure,
    flatten,
    log_fold_metrics,
    log_manager_effect,
    log_params,
    log_training_run,
    resolve_uri,
)
from pipeline.tracking.serving import (
    ServingModel,
    log_model,
    pip_requirements,
    serving_example,
    serving_input,
    serving_model_input,
)

__all__ = [
    "GateDecision",
    "ServingModel",
    "backtest_folds",
    "champion_comparison",
    "champion_score",
    "configure",
    "flatten",
    "gate",
    "load_champion",
    "log_fold_metrics",
    "log_manager_effect",
    "log_model",
    "log_params",
    "log_training_run",
    "pip_requirements",
    "register_gated",
    "register_models",
    "resolve_uri",
    "serving_example",
    "serving_input",
    "serving_model_input",
    "set_alias",
    "tag_version",
]

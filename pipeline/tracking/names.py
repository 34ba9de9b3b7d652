"""Names in the MLflow store: the one place each tag and artifact folder is spelled.

Model-version tags (on every version the train stage registers) record what makes two
backtest means comparable and what the score stage needs to know about the version:
GATE_METRIC_TAG / GATE_VALUE_TAG (the gate metric and this version's backtest value of it),
HORIZON_TAG and FOLDS_TAG (the horizon and the evaluated fold cutoffs, YYYY-MM-DD,
comma-separated), LAST_CUTOFF_TAG (the latest cutoff it was trained on) and CANDIDATE_TAG
(which candidate of models.selection it is).

Run tags of the training run: the value objective, the fallback flag, the backtest's
preferred objective, the published candidates (`published_tag(kind)`), the selection and the
gate decision of each model (`selection_tag(kind)`, `gate_tag(kind)`; GATE_TAG alone when no
model was registered), and the run's provenance: git commit (MLflow's own tag, which its UI
shows), dirty flag and DVC experiment (pipeline.run_context).

The manager's effect: MANAGER_EFFECT_TAG ("estimated" or the reason it was not) and the
metrics under MANAGER_EFFECT_PREFIX.
Artifacts of the training run: `model_artifact(kind)` (the logged ServingModel) and the PNG
plots under PLOTS_ARTIFACT_DIR; the files logged beside them (selection.json, the feature
catalogue, ...) are named where every file is, in pipeline.files.
"""

from features.contract import HORIZON_DAYS

__all__ = [
    "ARTIFACT_ROOT_DIR",
    "BEST_OBJECTIVE_TAG",
    "CANDIDATE_TAG",
    "DVC_BASELINE_TAG",
    "DVC_EXPERIMENT_TAG",
    "FALLBACK_TAG",
    "FOLDS_TAG",
    "GATE_METRIC_TAG",
    "GATE_TAG",
    "GATE_VALUE_TAG",
    "GIT_COMMIT_TAG",
    "GIT_DIRTY_TAG",
    "HORIZON_TAG",
    "LAST_CUTOFF_TAG",
    "MANAGER_EFFECT_PREFIX",
    "MANAGER_EFFECT_TAG",
    "PLOTS_ARTIFACT_DIR",
    "RUN_NAME_TAG",
    "TRACKING_URI_ENV",
    "VALUE_OBJECTIVE_TAG",
    "gate_tag",
    "model_artifact",
    "published_tag",
    "selection_tag",
]

# model-version tags
GATE_METRIC_TAG = "gate_metric"
GATE_VALUE_TAG = "gate_value"
HORIZON_TAG = HORIZON_DAYS  # the word of the config key and of the scores column
FOLDS_TAG = "backtest_folds"
LAST_CUTOFF_TAG = "last_train_cutoff"
CANDIDATE_TAG = "candidate"

# run tags of the training run
VALUE_OBJECTIVE_TAG = "value_objective"
FALLBACK_TAG = "fallback"
BEST_OBJECTIVE_TAG = "best_objective"
GATE_TAG = "gate"
GIT_COMMIT_TAG = "mlflow.source.git.commit"  # MLflow's own tag: its UI shows the commit
RUN_NAME_TAG = "mlflow.runName"  # MLflow's own tag: the run name given to start_run
GIT_DIRTY_TAG = "git_dirty"  # "true": the working tree had uncommitted changes
DVC_EXPERIMENT_TAG = "dvc_experiment"
DVC_BASELINE_TAG = "dvc_baseline_rev"
MANAGER_EFFECT_TAG = "manager_effect"  # "estimated" or why not (models.manager_effect)
# metrics of the training run: "manager_effect.ate", ".ate_lower", ".ate_upper",
# ".top_gain", ".top_gain_lower", ".top_gain_upper", ".overlap_share", ".treated_share"
# (the summary of models.manager_effect.ManagerEffect)
MANAGER_EFFECT_PREFIX = "manager_effect"

# artifact folders
PLOTS_ARTIFACT_DIR = "plots"  # in the training run

ARTIFACT_ROOT_DIR = "mlruns"  # under the project root: a new experiment's artifact location
TRACKING_URI_ENV = "KEYACCOUNTS_TRACKING_URI"  # replaces the config's URI (may hold a password)


def published_tag(kind: str) -> str:
    """The run tag naming the candidate published as the `kind` ("value"/"churn") model."""
    return f"published.{kind}"


def selection_tag(kind: str) -> str:
    """The run tag holding the selection's sentence for the `kind` model."""
    return f"selection.{kind}"


def gate_tag(kind: str) -> str:
    """The run tag holding the gate's decision ("promoted: ..."/"not promoted: ...")."""
    return f"{GATE_TAG}.{kind}"


def model_artifact(kind: str) -> str:
    """The artifact name of the logged `kind` ServingModel in the training run."""
    return f"{kind}_model"

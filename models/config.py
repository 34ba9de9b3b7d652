"""Typed settings of the value and churn models (configs/model.yaml).

Every key is documented in configs/model.yaml. The horizon H is not repeated here: it is
`features.horizon_days` (the label window of the training set), passed to the functions
that need it.
"""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from features.config import StrictModel
from features.cutoffs import STEP_PATTERN, months_alias
from features.names import CUST_INDUSTRY, CUST_SIZE_EMPLOYEES, ctc_complaints, txn_spend_in
from models._lightgbm import LIGHTGBM_PARAMS, check_lgbm_params
from models.metrics import GATE_CHURN_METRICS, VALUE_METRICS

__all__ = [
    "BacktestConfig",
    "ChurnConfig",
    "GateConfig",
    "LightGBMParams",
    "ManagerEffectConfig",
    "ModelConfig",
    "ReasonsConfig",
    "SelectionConfig",
    "ValueConfig",
]


_DEFAULT = {name: default for name, (_, default) in LIGHTGBM_PARAMS.items()}


class LightGBMParams(StrictModel):
    """Hyperparameters passed to LightGBM's scikit-learn estimators (defaults: the estimators'
    own, models._lightgbm.LIGHTGBM_PARAMS). n_estimators is the cap of early stopping;
    early_stopping_rounds None turns it off; min_child_samples "auto" = max(20, rows / 2000),
    at most 1000 (models._lightgbm explains both).

    Any other LightGBM parameter (max_depth, reg_alpha, boosting, min_split_gain, ...) may be
    added as a key of its own: it is checked at load time against LightGBM's parameter list
    and by LightGBM's own value checks (models._lightgbm.check_lgbm_params), and reaches the
    estimators as their `lgbm_params`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    n_estimators: int = Field(_DEFAULT["n_estimators"], gt=0)
    early_stopping_rounds: int | None = Field(_DEFAULT["early_stopping_rounds"], gt=0)
    learning_rate: float = Field(_DEFAULT["learning_rate"], gt=0)
    num_leaves: int = Field(_DEFAULT["num_leaves"], gt=1)
    min_child_samples: Annotated[int, Field(gt=0)] | Literal["auto"] = _DEFAULT[
        "min_child_samples"
    ]
    subsample: float = Field(_DEFAULT["subsample"], gt=0, le=1)
    subsample_freq: int = Field(_DEFAULT["subsample_freq"], ge=0)
    colsample_bytree: float = Field(_DEFAULT["colsample_bytree"], gt=0, le=1)
    reg_lambda: float = Field(_DEFAULT["reg_lambda"], ge=0)
    max_bin: int = Field(_DEFAULT["max_bin"], gt=1)
    n_jobs: int = _DEFAULT["n_jobs"]

    @model_validator(mode="after")
    def _lightgbm_checks_the_others(self):
        check_lgbm_params(self.model_extra)
        return self

    def estimator_kwargs(self) -> dict:
        """The keyword arguments of ValueModel / ChurnModel: the typed parameters, and the
        other LightGBM ones as `lgbm_params` (None when there are none)."""
        typed = {name: getattr(self, name) for name in type(self).model_fields}
        return typed | {"lgbm_params": dict(self.model_extra) or None}


class ValueConfig(StrictModel):
    """The value model: spend over the horizon."""

    tweedie_variance_power: float = Field(1.5, gt=1, lt=2)
    params: LightGBMParams = LightGBMParams()


class ChurnConfig(StrictModel):
    """The churn model: P(no order over the horizon), calibrated on a later time fold."""

    calibration: Literal["isotonic", "sigmoid", "none"] = "isotonic"
    calibration_cutoffs: int = Field(1, ge=1)
    params: LightGBMParams = LightGBMParams()


class BacktestConfig(StrictModel):
    """Rolling-origin backtest: which cutoffs are evaluated and what each fold trains on."""

    n_folds: int = Field(3, ge=1)
    fold_step: str = Field("auto", pattern=STEP_PATTERN)
    objectives: tuple[Literal["tweedie", "hurdle"], ...] = ("tweedie", "hurdle")
    baselines: tuple[Literal["last_period", "rfm", "avg_spend_retention", "btyd"], ...] = (
        "last_period",
        "rfm",
        "avg_spend_retention",
        "btyd",
    )

    @model_validator(mode="before")
    @classmethod
    def _old_step_key(cls, data):
        """Read the old `fold_step_months: n` as `fold_step: "<n>m"` (an alias)."""
        return months_alias(data, "fold_step_months", "fold_step")


class GateConfig(StrictModel):
    """When a new model counts as better (backtest summary means)."""

    value_metric: Literal[VALUE_METRICS] = "normalized_gini"
    churn_metric: Literal[GATE_CHURN_METRICS] = "pr_auc_active"
    min_margin: float = 0.0


class SelectionConfig(StrictModel):
    """What publishes a target's scores (models.selection): "best" = the candidate that wins
    the backtest on the gate metric (LightGBM, a baseline, BTYD or the blend); "lgbm" = the
    configured LightGBM model even when it lost (every output then names it). blend: whether
    the blend of the LightGBM models and the baselines is a candidate. within_se: the
    simplest candidate that scores at least the best baseline publishes unless the best
    candidate beats it by more than this many standard errors of the difference (`bootstrap`
    resamples of the customers; 0 = the plain best mean), models.selection.compare."""

    publish: Literal["best", "lgbm"] = "best"
    blend: bool = True
    within_se: float = Field(1.0, ge=0)
    bootstrap: int = Field(200, ge=20)


class ReasonsConfig(StrictModel):
    """Reasons behind a score: how many factors per direction."""

    top_k: int = Field(3, ge=1)


class ManagerEffectConfig(StrictModel):
    """The manager's effect (models.manager_effect, models.uplift.DRLearner): the estimated
    extra spend over the horizon an account gains from a dedicated manager.

    `enabled: false` (the default: README "The manager's effect" says when to switch it on)
    estimates nothing (the gain columns are empty, with the reason). The treatment is the
    firm's decision at a cutoff: an account whose first manager contact after the cutoff
    comes within `assigned_within_days` (null: half the horizon; at most the horizon) was
    given a manager, any other was not (a later first contact is a later decision, which may
    react to the spend being predicted: models.manager_effect's docstring).
    `decision_month` (1-12): the month at whose end the firm decides who gets a manager for
    the next year (its yearly account review); the effect is fitted on those month ends'
    cutoffs only, where the decision is made on what the features see. null: on every
    labelled cutoff, which is right only where assignments change at any time.
    `overlap`: accounts whose propensity of having a manager is below it or above 1 - it
    have no comparable accounts in the other arm and get no estimate (0.1, Crump et al.'s
    rule of thumb: weights of at most 10. With managers that change nothing and the earlier
    treatment rule, over eight bench_uplift seeds of each wallet 0.03 was no better calibrated
    than 0.1, 4 of 16 claimed gains excluding 0 with either; 0.03 gave more uplift share
    through more extreme weights).
    `final_features`: the columns the effect may vary with (those the features do
    not have are skipped), relative to `level_column` (last year's spend: the effect scales
    with the account). `n_bootstrap` customer-bootstrap refits give each account's interval
    at `level`. `window_cutoffs` and
    `max_rows` bound the training rows (the latest of those cutoffs, sampled down),
    `n_estimators` the trees of each nuisance model and the most the final model may choose
    (it chose 0-25 on bench_uplift). 600: with managers that change nothing, 200 left the
    average effect's z at a mean of 0.37 / 0.65 over eight bench_uplift bases of each wallet
    and 3 of 8 whole-wallet claimed gains excluding 0; 600: 0.24 / 0.28 and 1 of 8. It is
    the propensity's trees that matter: 600 for the outcome and 200 for the propensity gave
    0.38 / 0.61 and 3 of 8 again; the sharper propensity leaves out of overlap the accounts
    whose assignment was nearly certain, at a cost in uplift share. Early stopping on
    held-out loss kept about 150 trees and did not help. The LightGBM threads are the value
    model's `n_jobs`. The outcome is the training label `spend` (the only one the gains are
    published for); `churn_effect` also estimates the average effect on `churned` (the train
    log, model_info.json, MLflow), not per account."""

    enabled: bool = False
    outcome: Literal["spend"] = "spend"
    churn_effect: bool = True
    decision_month: int | None = Field(None, ge=1, le=12)
    assigned_within_days: int | None = Field(None, gt=0)
    overlap: float = Field(0.1, gt=0, lt=0.5)
    final_features: list[str] = [CUST_SIZE_EMPLOYEES, CUST_INDUSTRY, ctc_complaints(365),
                                 txn_spend_in(365)]
    level_column: str | None = txn_spend_in(365)
    n_bootstrap: int = Field(20, ge=0, le=500)
    level: float = Field(0.9, gt=0, lt=1)
    n_splits: int = Field(3, ge=2, le=10)
    n_estimators: int = Field(600, gt=0)
    window_cutoffs: int = Field(12, ge=1)
    max_rows: int | None = Field(200_000, gt=0)


class ModelConfig(StrictModel):
    """LightGBM settings, the value-model formulation, the backtest folds and the gate."""

    value_objective: Literal["tweedie", "hurdle"] = "tweedie"
    random_state: int = 0
    btyd_features: bool = True
    min_train_cutoffs: int = Field(3, ge=1)
    train_window_cutoffs: int = Field(12, ge=1)
    max_train_rows: int | None = Field(1_000_000, gt=0)
    value: ValueConfig = ValueConfig()
    churn: ChurnConfig = ChurnConfig()
    backtest: BacktestConfig = BacktestConfig()
    gate: GateConfig = GateConfig()
    selection: SelectionConfig = SelectionConfig()
    reasons: ReasonsConfig = ReasonsConfig()
    manager_effect: ManagerEffectConfig = ManagerEffectConfig()

"""Typed settings of the value and churn models (configs/model.yaml).

Every key is documented in configs/model.yaml. The horizon H is not repeated here: it is
`features.horizon_days` (the label window of the training set), passed to the functions
that need it.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BacktestConfig",
    "ChurnConfig",
    "GateConfig",
    "LightGBMParams",
    "ModelConfig",
    "ReasonsConfig",
    "ValueConfig",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LightGBMParams(_Strict):
    """Hyperparameters passed to LightGBM's scikit-learn estimators."""

    n_estimators: int = Field(300, gt=0)
    learning_rate: float = Field(0.05, gt=0)
    num_leaves: int = Field(31, gt=1)
    min_child_samples: int = Field(100, gt=0)
    subsample: float = Field(0.8, gt=0, le=1)
    subsample_freq: int = Field(1, ge=0)
    colsample_bytree: float = Field(0.5, gt=0, le=1)
    reg_lambda: float = Field(1.0, ge=0)
    max_bin: int = Field(63, gt=1)
    n_jobs: int = 2


class ValueConfig(_Strict):
    """The value model: spend over the horizon."""

    tweedie_variance_power: float = Field(1.5, gt=1, lt=2)
    params: LightGBMParams = LightGBMParams()


class ChurnConfig(_Strict):
    """The churn model: P(no order over the horizon), calibrated on a later time fold."""

    calibration: Literal["isotonic", "sigmoid", "none"] = "isotonic"
    calibration_cutoffs: int = Field(1, ge=1)
    params: LightGBMParams = LightGBMParams()


class BacktestConfig(_Strict):
    """Rolling-origin backtest: which cutoffs are evaluated and what each fold trains on."""

    n_folds: int = Field(3, ge=1)
    fold_step_months: int = Field(3, ge=1)
    objectives: tuple[Literal["tweedie", "hurdle"], ...] = ("tweedie", "hurdle")
    baselines: tuple[Literal["last_period", "rfm", "avg_spend_retention", "btyd"], ...] = (
        "last_period",
        "rfm",
        "avg_spend_retention",
        "btyd",
    )


class GateConfig(_Strict):
    """When a new model counts as better (backtest summary means)."""

    value_metric: str = "normalized_gini"
    churn_metric: str = "pr_auc"
    min_margin: float = 0.0


class ReasonsConfig(_Strict):
    """Reasons behind a score: how many factors per direction."""

    top_k: int = Field(3, ge=1)


class ModelConfig(_Strict):
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
    reasons: ReasonsConfig = ReasonsConfig()

"""Typed settings of the value and churn models (configs/model.yaml)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["ModelConfig"]


class ModelConfig(BaseModel):
    """LightGBM settings, the value-model formulation and the backtest folds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value_objective: Literal["tweedie", "hurdle"] = "tweedie"
    random_state: int = 0

"""Typed settings of the feature builder (configs/features.yaml)."""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FeaturesConfig"]


class FeaturesConfig(BaseModel):
    """What `features.build` computes and at which cutoffs the training set is stacked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    horizon_days: int = Field(365, gt=0)
    windows_days: tuple[int, ...] = (30, 90, 180, 365)
    as_of: date | None = None
    n_cutoffs: int = Field(12, gt=0)
    cutoff_step_months: int = Field(1, gt=0)

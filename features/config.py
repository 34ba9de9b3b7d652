"""Typed settings of the feature builder (configs/features.yaml)."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["FamiliesConfig", "FeaturesConfig"]


class FamiliesConfig(BaseModel):
    """Which feature families to compute; a family is also skipped when its table is absent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    transactions: bool = True
    btyd: bool = True
    contacts: bool = True
    customers: bool = True


class FeaturesConfig(BaseModel):
    """What `features.build` computes and at which cutoffs the training set is stacked.

    horizon_days: label window (T, T+H]. windows_days: look-back windows of the windowed
    counts and sums. trend_window_days: span of the spend trend. as_of: scoring date, None =
    end of data (the last order date). n_cutoffs / cutoff_step_months: training cutoffs (month ends). families:
    switches per feature family. contact_channels, manager_visit_channel, complaint_outcome,
    order_outcome: values of the contacts table that the contact features count.
    manager_lookback_days / contact_lookback_days: look-backs of "has a manager" and of
    complaints and conversion. size_bands: employee band edges. float_dtype: of the features.
    min_customers: the features stage stops when fewer customers have an order (a positive
    amount) on or before the last training cutoff: too few to train the models on.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    horizon_days: int = Field(365, gt=0)
    windows_days: tuple[int, ...] = (30, 90, 180, 365)
    trend_window_days: int = Field(90, gt=0)
    as_of: date | None = None
    n_cutoffs: int = Field(12, gt=0)
    cutoff_step_months: int = Field(1, gt=0)
    families: FamiliesConfig = FamiliesConfig()
    contact_channels: tuple[str, ...] = ("visit", "call", "email")
    manager_visit_channel: str = "visit"
    complaint_outcome: str = "complaint"
    order_outcome: str = "order"
    manager_lookback_days: int = Field(365, gt=0)
    contact_lookback_days: int = Field(365, gt=0)
    size_bands: tuple[int, ...] = (10, 50, 250, 1000)
    float_dtype: Literal["float64", "float32"] = "float64"
    min_customers: int = Field(50, ge=1)

    @field_validator("windows_days", "size_bands")
    @classmethod
    def _positive_increasing(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(v <= 0 for v in value) or list(value) != sorted(set(value)):
            raise ValueError("must be a non-empty list of increasing positive integers")
        return value

    @field_validator("contact_channels")
    @classmethod
    def _channel_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value) or any(not v.isidentifier() for v in value):
            raise ValueError("channels must be distinct names made of letters, digits and _")
        return value

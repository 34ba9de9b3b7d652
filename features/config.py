"""Typed settings of the feature builder (configs/features.yaml)."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from features.cutoffs import STEP_PATTERN, months_alias

__all__ = ["FamiliesConfig", "FeaturesConfig", "StrictModel"]


class StrictModel(BaseModel):
    """The base of every configuration model of the project: refuses unknown keys and is
    immutable once loaded. It lives here, in the lowest layer, so that models/ and pipeline/
    import the one definition."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FamiliesConfig(StrictModel):
    """Which feature families to compute; a family is also skipped when its table is absent."""

    transactions: bool = True
    btyd: bool = True
    contacts: bool = True
    customers: bool = True


class FeaturesConfig(StrictModel):
    """What `features.build` computes and at which cutoffs the training set is stacked.

    horizon_days: label window (T, T+H]. windows_days: look-back windows of the windowed
    counts and sums. trend_window_days: span of the spend trend. as_of: scoring date, None =
    end of data (the last order date). families: switches per feature family. contact_channels, manager_visit_channel, complaint_outcome,
    order_outcome: values of the contacts table that the contact features count.
    manager_lookback_days / contact_lookback_days: look-backs of "has a manager" and of
    complaints and conversion. size_bands: employee band edges. float_dtype: of the features.
    min_customers: the features stage stops when fewer customers have an order (a positive
    amount) on or before the last training cutoff (the scoring date when no cutoff has a full
    label window): too few to train the models on.

    Training cutoffs (features.cutoffs): cutoff_step is "auto" or a duration "<n>d", "<n>w",
    "<n>m"; "auto" = weekly for a history (first order to the end of the label windows) of
    365 days or less, monthly for longer. Cutoffs lie on month ends, Sundays or every n-th
    day. n_cutoffs: how many, each with a full label window; "auto" = every one from the first
    order date on, the latest max_cutoffs of them. The old key cutoff_step_months: n is read as
    cutoff_step: "<n>m". backtest_horizons_days: the shorter horizons the backtest falls back to
    (the longest that fits) when the history leaves it no fold at horizon_days.
    """

    horizon_days: int = Field(365, gt=0)
    windows_days: tuple[int, ...] = (30, 90, 180, 365)
    trend_window_days: int = Field(90, gt=0)
    as_of: date | None = None
    n_cutoffs: int | Literal["auto"] = "auto"
    max_cutoffs: int = Field(52, gt=0)
    cutoff_step: str = Field("auto", pattern=STEP_PATTERN)
    backtest_horizons_days: tuple[int, ...] = (182, 91, 60, 30)
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

    @model_validator(mode="before")
    @classmethod
    def _old_step_key(cls, data):
        """Read the old `cutoff_step_months: n` as `cutoff_step: "<n>m"` (an alias)."""
        return months_alias(data, "cutoff_step_months", "cutoff_step")

    @field_validator("n_cutoffs")
    @classmethod
    def _positive_count(cls, value):
        if value != "auto" and value <= 0:
            raise ValueError('must be a positive integer or "auto"')
        return value

    @field_validator("windows_days", "size_bands", "backtest_horizons_days")
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

"""configs/generate.yaml: the synthetic B2B customer base of `keyaccounts generate`.

The behaviour parameters are the true model of the synthetic world (see
`pipeline.synthetic.process` for how each one enters the weekly simulation). The presets of
`keyaccounts generate --preset NAME` (`pipeline.synthetic.presets`) are overrides of it.
"""

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from features.config import StrictModel

__all__ = ["GENERATED_TABLES", "BehaviourConfig", "GenerateConfig"]

# the tables generate can write (features.contract.TABLES); transactions is always written
GENERATED_TABLES = ("transactions", "contacts", "customers", "managers")


class BehaviourConfig(StrictModel):
    """The latent customer process: purchases, contacts, complaints and dropout (per week)."""

    initial_share: float = Field(0.55, gt=0.0, le=1.0)
    base_rate: float = Field(0.15, gt=0.0)
    base_order_value: float = Field(250.0, gt=0.0)
    order_value_sigma: float = Field(0.7, gt=0.0)
    return_rate: float = Field(0.04, ge=0.0, lt=1.0)
    seasonality: float = Field(0.25, ge=0.0, lt=1.0)
    season_cycles: int = Field(2, ge=1, le=4)  # waves a year (2: highs in spring and autumn)
    season_peak_day: int = Field(75, ge=1, le=366)  # day of the year of the (first) high
    base_hazard: float = Field(0.0018, gt=0.0, lt=1.0)
    neglect_effect: float = Field(1.5, ge=0.0)
    manager_effect: float = Field(0.45, gt=0.0, le=1.0)
    manager_memory_weeks: int = Field(8, ge=1)
    complaint_effect: float = Field(3.0, ge=1.0)
    complaint_memory_weeks: int = Field(13, ge=1)
    complaint_prob: float = Field(0.07, ge=0.0, le=1.0)
    contact_lift: float = Field(0.5, ge=0.0)
    lift_weeks: int = Field(3, ge=1)
    manager_contact_rate: float = Field(0.3, gt=0.0, le=0.5)
    other_contact_rate: float = Field(0.02, ge=0.0, le=1.0)
    strategic_share: float = Field(0.03, gt=0.0, lt=0.5)
    managed_given_eligible: float = Field(0.6, gt=0.0, le=1.0)
    key_share: float = Field(0.10, ge=0.0, lt=1.0)
    growth_share: float = Field(0.30, ge=0.0, lt=1.0)
    manager_capacity_min: int = Field(20, ge=1)
    manager_capacity_max: int = Field(40, ge=1)


class GenerateConfig(StrictModel):
    """Size, history, seed, defects and ground truth of the generated data set."""

    seed: int = 42
    n_customers: int = Field(20_000, gt=0)
    start_date: date = date(2022, 11, 1)
    end_date: date = date(2026, 10, 31)
    defect_rate: float = Field(0.0, ge=0.0, le=0.15)
    truth_horizon_days: int = Field(365, gt=0)
    truth_months: int = Field(24, ge=0)
    truth_n_sims: int = Field(16, ge=2)
    chunk_size: int = Field(50_000, ge=100)
    # the raw tables written; the others are simulated (they drive the process) but not
    # exported, e.g. [transactions] for a web shop's export without CRM or customer master
    tables: tuple[Literal["transactions", "contacts", "customers", "managers"], ...] = (
        GENERATED_TABLES)
    behaviour: BehaviourConfig = BehaviourConfig()

    @field_validator("tables")
    @classmethod
    def _transactions_written(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "transactions" not in value:
            raise ValueError("must include transactions, the one table every export has")
        return tuple(t for t in GENERATED_TABLES if t in value)  # in contract order, once

    @model_validator(mode="after")
    def _check_dates(self) -> "GenerateConfig":
        if self.end_date <= self.start_date:
            raise ValueError("end_date must be after start_date")
        return self

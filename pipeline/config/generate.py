"""configs/generate.yaml: the synthetic B2B customer base of `keyaccounts generate`."""

from datetime import date

from pydantic import Field

from pipeline.config.base import StrictModel

__all__ = ["GenerateConfig"]


class GenerateConfig(StrictModel):
    """Size, history, seed and defects of the generated data set."""

    seed: int = 42
    n_customers: int = Field(20_000, gt=0)
    start_date: date = date(2022, 11, 1)
    end_date: date = date(2026, 10, 31)
    defect_rate: float = Field(0.0, ge=0.0, le=0.5)
    truth_horizon_days: int = Field(365, gt=0)

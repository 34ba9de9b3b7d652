"""The drift guard before publishing: configs/pipeline.yaml `guard:` (models.drift computes)."""

from pathlib import Path

from pydantic import Field

from pipeline.config.base import StrictModel

__all__ = ["GuardConfig"]


class GuardConfig(StrictModel):
    """Limits of the population stability index (PSI) between the scored population and the
    training reference (artifacts/drift_reference.json), and where the report goes.

    enabled: False still computes and writes the report but never refuses. bins: quantile
    bins per numeric column of the reference (read by the train stage; missing values and
    point masses such as 0 get bins of their own). score_psi_limit: refuse when the PSI of
    expected_value or churn_probability exceeds it. feature_psi_limit: a feature "drifted"
    above it. top_features: refuse when one of the N most important features drifted
    (0 = off). max_drifted_share: refuse when more than this share of all features drifted.
    `keyaccounts guard --force` publishes anyway (the report says it was forced).
    report_dir: drift.json and drift.html, written on every run.
    """

    enabled: bool = True
    bins: int = Field(10, ge=2, le=100)
    score_psi_limit: float = Field(0.25, gt=0)
    feature_psi_limit: float = Field(0.25, gt=0)
    top_features: int = Field(10, ge=0)
    max_drifted_share: float = Field(0.25, ge=0, le=1)
    report_dir: Path = Path("reports/drift")

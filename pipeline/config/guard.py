"""The drift guard before publishing: configs/pipeline.yaml `guard:` (models.drift computes)."""

from pathlib import Path

from pydantic import Field

from features.config import StrictModel

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
    min_rows_share: refuse when fewer customers are scored than this share of the reference's
    (0 = off).
    `keyaccounts guard --force` publishes anyway (the report says it was forced).
    report_dir: drift.json and drift.html, written on every run.

    The defaults, measured on the demo (20,000 customers, models trained at 2026-10-31):
    scoring 1 to 9 months earlier moves the scores' PSI by at most 0.04 and the top 10
    features' by at most 0.20, and 2-3 of 51 features (6 %) beyond 0.25: the ages since the
    start of the history (txn_tenure_days, btyd_T, btyd_recency; the customers already there
    when the history starts share one narrow band of ages, which shifts by a bin a month), so
    they do not refuse; 12 months earlier refuses (days since the last order, rank 2: 0.65).
    Amounts x100, an empty contacts table or the last 60 days of orders lost refuse (scores
    up to 1.23, top features 2.9-5.7, 14-18 % of features drifted); amounts x1.2 pass (0.006).
    """

    enabled: bool = True
    bins: int = Field(10, ge=2, le=100)
    score_psi_limit: float = Field(0.25, gt=0)
    feature_psi_limit: float = Field(0.25, gt=0)
    top_features: int = Field(10, ge=0)
    max_drifted_share: float = Field(0.15, ge=0, le=1)
    min_rows_share: float = Field(0.8, ge=0, le=1)
    report_dir: Path = Path("reports/drift")

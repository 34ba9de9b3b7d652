"""Where every stage reads and writes: configs/pipeline.yaml (dvc.yaml reads the same file)."""

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from features.config import StrictModel
from pipeline.config.dask import DaskConfig
from pipeline.config.guard import GuardConfig

__all__ = ["PathsConfig", "ScoreConfig", "TrackingConfig", "PipelineConfig"]


class PathsConfig(StrictModel):
    """Folders of the stage outputs, relative to the project root unless absolute."""

    raw_dir: Path = Path("data/raw")
    truth_dir: Path = Path("data/truth")
    validated_dir: Path = Path("data/validated")
    quarantine_dir: Path = Path("data/quarantine")
    features_dir: Path = Path("data/features")
    artifacts_dir: Path = Path("artifacts")
    scores_dir: Path = Path("data/scores")
    tiers_dir: Path = Path("data/tiers")
    reports_dir: Path = Path("reports")
    publish_dir: Path = Path("reports/publish")
    metrics_dir: Path = Path("reports/metrics")
    plots_dir: Path = Path("reports/plots")
    sources_file: Path = Path("data/sources.json")  # `keyaccounts sources`: input fingerprint


class TrackingConfig(StrictModel):
    """MLflow tracking: a local SQLite store by default, any tracking URI by config.

    `tracking_uri` must not hold a password (configs/ is committed and DVC copies params into
    dvc.lock); the environment variable KEYACCOUNTS_TRACKING_URI, when set, replaces it (with
    its password, if any), and MLflow's own MLFLOW_TRACKING_USERNAME / _PASSWORD work as usual.
    The URI is never logged as a run parameter."""

    tracking_uri: str = "sqlite:///mlflow.db"
    experiment: str = "keyaccounts"
    value_model_name: str = "customer-value"
    churn_model_name: str = "churn-risk"
    champion_alias: str = "champion"

    @field_validator("tracking_uri")
    @classmethod
    def _no_password(cls, uri: str) -> str:
        if urlsplit(uri).password is not None:
            raise ValueError("the URI holds a password, which would end up in git and "
                             "dvc.lock: remove it and set the environment variable "
                             "KEYACCOUNTS_TRACKING_URI instead")
        return uri


class ScoreConfig(StrictModel):
    """The score stage: which models score, and which accounts get reasons.

    model_source: "artifacts" = the models trained by this run (paths.artifacts_dir, stamped
    with the versions they were registered as), "champion" = the registry's
    `models:/<name>@<champion_alias>`. reasons_top_value / reasons_top_risk: None (the
    default) writes reasons for every scored customer, so every row of the managers' lists
    has its "why" whatever its tier or movement; numbers write them only for the N accounts
    with the highest expected value and the N with the highest value at risk (others get an
    empty text), a cap for very large customer bases: reasons cost 2-3 ms per customer on
    two cores (TreeSHAP of both models): about 50 s for 20,000 customers, 15-25 minutes for
    500,000.
    """

    model_source: Literal["artifacts", "champion"] = "artifacts"
    value_version: str | None = None  # with model_source champion: this registered version
    churn_version: str | None = None  # instead of the alias (None = @champion_alias)
    reasons_top_value: int | None = Field(None, ge=0)
    reasons_top_risk: int | None = Field(None, ge=0)


class PipelineConfig(StrictModel):
    """configs/pipeline.yaml. engine: "local" runs every stage in this process (the
    default, and what dvc.yaml runs); "dask" runs the features, score and tier stages on a
    Dask cluster over hash partitions of the customers (`dask`, pipeline.dask_engine)."""

    engine: Literal["local", "dask"] = "local"
    dask: DaskConfig = DaskConfig()
    paths: PathsConfig = PathsConfig()
    tracking: TrackingConfig = TrackingConfig()
    score: ScoreConfig = ScoreConfig()
    guard: GuardConfig = GuardConfig()

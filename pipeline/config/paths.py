"""Where every stage reads and writes: configs/pipeline.yaml (dvc.yaml reads the same file)."""

from pathlib import Path

from pipeline.config.base import StrictModel

__all__ = ["PathsConfig", "TrackingConfig", "PipelineConfig"]


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


class TrackingConfig(StrictModel):
    """MLflow tracking: a local SQLite store by default, any tracking URI by config."""

    tracking_uri: str = "sqlite:///mlflow.db"
    experiment: str = "keyaccounts"
    value_model_name: str = "customer-value"
    churn_model_name: str = "churn-risk"
    champion_alias: str = "champion"


class PipelineConfig(StrictModel):
    """configs/pipeline.yaml."""

    paths: PathsConfig = PathsConfig()
    tracking: TrackingConfig = TrackingConfig()

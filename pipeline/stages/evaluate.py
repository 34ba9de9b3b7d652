"""`keyaccounts evaluate`: the train stage's backtest in; metrics, plot data and a report out.

Reads paths.artifacts_dir (backtest_*.parquet, model_info.json) and writes:
- paths.metrics_dir/backtest.json: mean backtest metric per model ({model: {metric: value}},
  which `dvc metrics show/diff` flattens to "model.metric"), the share of the oracle's top-10%
  capture each value model reaches, and the gate decisions;
- paths.plots_dir/{gain,calibration,deciles}.csv: wide tables, one column per model, that the
  `plots:` section of dvc.yaml draws (`dvc plots show`);
- paths.reports_dir/backtest/report.md: the metrics of every model next to the baselines and
  the oracle, the grades against the best baseline and the share of attainable lift.
The content is built by pipeline.reporting.
"""

from pipeline.config import Settings
from pipeline.progress import logger
from pipeline.reporting import (
    MODEL_INFO,
    metrics_json,
    plot_frames,
    report_markdown,
)
from pipeline.storage import read_json, read_table, write_json, write_table, write_text

__all__ = ["main"]


def main(settings: Settings, **overrides) -> None:
    """Write backtest.json, the plot CSVs and the report."""
    paths = settings.pipeline.paths
    artifacts = settings.path(paths.artifacts_dir)
    info = read_json(artifacts / MODEL_INFO, "train")
    summary = read_table(artifacts / "backtest_summary.parquet", "train")
    summary = summary.set_index(summary.columns[0]).rename_axis("model")  # model comes first
    grades = read_table(artifacts / "backtest_grades.parquet", "train")
    predictions = read_table(artifacts / "backtest_predictions.parquet", "train")

    metrics = write_json(metrics_json(summary, info),
                         settings.path(paths.metrics_dir) / "backtest.json")
    plot_dir = settings.path(paths.plots_dir)
    for name, frame in plot_frames(predictions).items():
        write_table(frame, plot_dir / f"{name}.csv")
    report = settings.path(paths.reports_dir) / "backtest" / "report.md"
    write_text(report_markdown(summary, grades, info), report)
    logger.info("evaluate: %s, %s, %s", metrics, plot_dir, report)

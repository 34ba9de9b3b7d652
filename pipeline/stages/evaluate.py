"""`keyaccounts evaluate`: the train stage's backtest in; metrics, plot data and a report out.

Reads paths.artifacts_dir (backtest_*.parquet, model_info.json) and writes:
- paths.metrics_dir/backtest.json: mean backtest metric per model ({model: {metric: value}},
  which `dvc metrics show/diff` flattens to "model.metric"), the share of the oracle's top-10%
  capture each value model reaches, and the gate decisions;
- paths.plots_dir/{gain,calibration,deciles}.csv: wide tables, one column per model;
- paths.plots_dir/{gain,calibration,deciles}.png: the same drawn (pipeline.plots; the deciles
  of the published value model), the images `dvc plots show` / `dvc plots diff` put in their
  HTML page: images need no JavaScript from the internet, so the page renders offline;
- paths.reports_dir/backtest/report.md: the metrics of every model next to the baselines and
  the oracle, the grades against the best baseline and the share of attainable lift.
The content is built by pipeline.reporting.
"""

from pathlib import Path

import pandas as pd

from pipeline import plots
from pipeline.config import Settings
from pipeline.files import (
    BACKTEST_METRICS,
    BACKTEST_REPORT,
    BACKTEST_REPORT_DIR,
    CALIBRATION_PLOT,
    DECILES_PLOT,
    GAIN_PLOT,
    MODEL_INFO,
    backtest_table,
    csv_file,
)
from pipeline.progress import logger
from pipeline.reporting import metrics_json, plot_frames, report_markdown
from pipeline.storage import read_json, read_table, write_json, write_table, write_text

__all__ = ["main"]


def main(settings: Settings, **overrides) -> None:
    """Write backtest.json, the plot CSVs and images, and the report."""
    paths = settings.pipeline.paths
    artifacts = settings.path(paths.artifacts_dir)
    info = read_json(artifacts / MODEL_INFO, "train")
    summary = read_table(artifacts / backtest_table("summary"), "train")
    summary = summary.set_index(summary.columns[0]).rename_axis("model")  # model comes first
    grades = read_table(artifacts / backtest_table("grades"), "train")
    predictions = read_table(artifacts / backtest_table("predictions"), "train")

    metrics = write_json(metrics_json(summary, info),
                         settings.path(paths.metrics_dir) / BACKTEST_METRICS)
    plot_dir = settings.path(paths.plots_dir)
    for name, frame in plot_frames(predictions).items():
        write_table(frame, plot_dir / csv_file(name))
    images = _write_images(predictions, info, plot_dir)
    report = settings.path(paths.reports_dir) / BACKTEST_REPORT_DIR / BACKTEST_REPORT
    write_text(report_markdown(summary, grades, info), report)
    logger.info("evaluate: %s, %s (%s), %s", metrics, plot_dir,
                ", ".join(p.name for p in images), report)


def _write_images(predictions: pd.DataFrame, info: dict, folder: Path) -> list[Path]:
    """gain.png, calibration.png and deciles.png (of the published value model) of the
    backtest's latest fold; without a fold (too short a history) the same files with empty
    axes, since dvc expects them."""
    if predictions.empty:
        gain = pd.DataFrame(columns=["model", "share_customers", "share_spend"])
        calibration = pd.DataFrame(columns=["model", "predicted", "observed"])
        deciles = pd.DataFrame(columns=["model", "decile", "predicted", "actual"])
    else:
        gain = plots.gain_table(predictions)
        calibration = plots.calibration_table(predictions)
        deciles = plots.decile_table(predictions)
    published = info.get("published", {}).get("value")
    model = (published if published in set(deciles["model"])
             else None if len(deciles) else "no backtest fold")
    return [plots.plot_gain(gain, folder / GAIN_PLOT),
            plots.plot_calibration(calibration, folder / CALIBRATION_PLOT),
            plots.plot_deciles(deciles, folder / DECILES_PLOT, model)]

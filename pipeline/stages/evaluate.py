"""`keyaccounts evaluate`: the train stage's backtest in; metrics, plot data and a report out.

Reads paths.artifacts_dir (backtest_*.parquet, model_info.json) and writes:
- paths.metrics_dir/backtest.json: mean backtest metric per model ({model: {metric: value}},
  which `dvc metrics show/diff` flattens to "model.metric"), the share of the oracle's top-10%
  capture each value model reaches, and the gate decisions;
- paths.plots_dir/{gain,calibration,deciles}.csv: wide tables, one column per model, that the
  `plots:` section of dvc.yaml draws (`dvc plots show`);
- paths.reports_dir/backtest/report.md: the metrics of every model next to the baselines and
  the oracle, the grades against the best baseline and the share of attainable lift.
"""

import pandas as pd

from models.metrics import CHURN_METRICS, VALUE_METRICS
from pipeline import plots
from pipeline.config import Settings
from pipeline.progress import logger
from pipeline.stages.train import MODEL_INFO
from pipeline.storage import read_json, read_table, write_json, write_table

__all__ = ["PLOT_COLUMNS", "main", "metrics_json", "report_markdown"]

# every model column the `plots:` of dvc.yaml names; dvc refuses a named column that is
# missing, so a model absent from a run (e.g. oracle on real data) gets an empty column
VALUE_MODELS = (
    "lgbm_tweedie", "lgbm_hurdle", "last_period", "rfm", "avg_spend_retention", "btyd", "oracle"
)
CHURN_MODELS = ("lgbm_churn", "last_period", "rfm", "btyd", "oracle")
PLOT_COLUMNS = {"gain": VALUE_MODELS, "calibration": CHURN_MODELS, "deciles": VALUE_MODELS}


def metrics_json(summary: pd.DataFrame, info: dict) -> dict:
    """The numbers of backtest.json: per model and metric the mean over folds."""
    data = {
        str(model): {str(m): v for m, v in row.dropna().items()}
        for model, row in summary.iterrows()
    }
    data["oracle_share_top10"] = info.get("oracle_share", {})
    data["gate"] = {kind: {"promoted": int(m["promoted"]), "backtest_value": m["backtest_value"]}
                    for kind, m in info.get("models", {}).items()}
    return data


def _table(summary: pd.DataFrame, metrics) -> list[str]:
    cols = [m for m in metrics if m in summary.columns]
    rows = summary[cols].dropna(how="all")
    lines = ["| model | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for model, row in rows.iterrows():
        cells = ("" if pd.isna(v) else f"{v:.3f}" for v in row)
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return lines


def report_markdown(summary: pd.DataFrame, grades: pd.DataFrame, info: dict) -> str:
    """The backtest report: value and churn tables, grades, attainable lift, gate, notes."""
    lines = [
        "# Backtest",
        "",
        f"MLflow run `{info.get('run_id')}`, horizon {info.get('horizon_days')} days, value "
        f"objective `{info.get('objective')}` (backtest prefers `{info.get('best_objective')}`).",
        "Means over the folds of the rolling-origin backtest; `oracle` is the generator's "
        "ground truth (the best possible prediction, generated data only).",
        "",
        "## Value (spend over the horizon)",
        "",
    ]
    lines += _table(summary, VALUE_METRICS) + ["", "## Churn (no order over the horizon)", ""]
    lines += _table(summary, CHURN_METRICS) + ["", "## Grades against the best baseline", ""]
    if not grades.empty:
        lines += [f"- {'PASS' if g.beats else 'FAIL'}: {g.text}" for g in grades.itertuples()]
    lines += ["", "## Share of attainable lift (top-10% capture / oracle's)", ""]
    lines += [f"- {m}: {s:.1%}" if pd.notna(s) else f"- {m}: no ground truth"
              for m, s in info.get("oracle_share", {}).items()]
    lines += ["", "## Champion gate", ""]
    gates = [
        f"- {m['name']} v{m['version']}: "
        f"{'promoted' if m['promoted'] else 'not promoted'}: {m['reason']}"
        for m in info.get("models", {}).values()
    ]
    lines += gates or [f"- not registered: {info.get('message')}"]
    notes = info.get("backtest_messages", [])
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def main(settings: Settings, **overrides) -> None:
    """Write backtest.json, the plot CSVs and the report."""
    paths = settings.pipeline.paths
    artifacts = settings.path(paths.artifacts_dir)
    info = read_json(artifacts / MODEL_INFO, "train")
    summary = read_table(artifacts / "backtest_summary.parquet", "train")
    summary = summary.set_index(summary.columns[0]).rename_axis("model")  # model comes first
    grades = read_table(artifacts / "backtest_grades.parquet", "train")
    predictions = read_table(artifacts / "backtest_predictions.parquet", "train")
    write_json(metrics_json(summary, info), settings.path(paths.metrics_dir) / "backtest.json")
    plot_dir = settings.path(paths.plots_dir)
    axes = {"gain": ("share_customers", "share_spend"), "calibration": ("bin", "observed"),
            "deciles": ("decile", "actual")}
    tables = {"gain": plots.gain_table, "calibration": plots.calibration_table,
              "deciles": plots.decile_table}
    for name, (x, y) in axes.items():
        # without a backtest fold the files still exist (headers only): dvc expects them
        table = tables[name](predictions) if not predictions.empty else pd.DataFrame(
            columns=["model", x, y])
        frame = table.pivot_table(index=x, columns="model", values=y, sort=True)
        extra = [c for c in frame.columns if c not in PLOT_COLUMNS[name]]
        frame = frame.reindex(columns=[*PLOT_COLUMNS[name], *extra]).reset_index()
        frame.columns.name = None
        if name == "calibration":
            frame.insert(1, "predicted", (frame["bin"] + 0.5) / 10)
        write_table(frame, plot_dir / f"{name}.csv")
    report = settings.path(paths.reports_dir) / "backtest" / "report.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(report_markdown(summary, grades, info), encoding="utf-8")
    logger.info("evaluate: %s, %s, %s",
                settings.path(paths.metrics_dir) / "backtest.json", plot_dir, report)

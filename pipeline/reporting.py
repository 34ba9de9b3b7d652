"""Pure builders of what the train and evaluate stages write about the backtest.

No file or MLflow I/O here: each function takes frames and dicts and returns a dict, a frame
or a string, so the stages only read, call these and write.
- `backtest_tables`: the four backtest_*.parquet frames of the train stage;
- `model_info`: the content of model_info.json;
- `metrics_json`: the content of metrics/backtest.json (`dvc metrics`);
- `plot_frames`: the wide gain/calibration/deciles tables that `dvc plots` draws;
- `report_markdown`: reports/backtest/report.md.
"""

from collections.abc import Mapping

import pandas as pd

from features.contract import HORIZON_DAYS
from models.backtest import BacktestResult
from models.columns import RUN_ID
from models.metrics import CHURN_METRICS, DIAGNOSTIC_METRICS, VALUE_METRICS
from pipeline import plots
from pipeline.files import FITTED_MODELS, MODEL_INFO  # re-exported: the train stage's artifacts

__all__ = [
    "CHURN_MODELS",
    "FITTED_MODELS",
    "MODEL_INFO",
    "PLOT_AXES",
    "PLOT_COLUMNS",
    "VALUE_MODELS",
    "backtest_tables",
    "metrics_json",
    "model_info",
    "plot_frames",
    "report_markdown",
]


# every model column the `plots:` of dvc.yaml names; dvc refuses a named column that is
# missing, so a model absent from a run (e.g. oracle on real data) gets an empty column
VALUE_MODELS = (
    "lgbm_tweedie", "lgbm_hurdle", "last_period", "rfm", "avg_spend_retention", "btyd", "oracle"
)
CHURN_MODELS = ("lgbm_churn", "last_period", "rfm", "btyd", "oracle")
PLOT_COLUMNS = {"gain": VALUE_MODELS, "calibration": CHURN_MODELS, "deciles": VALUE_MODELS}
# (x, y) columns of each plot table, as dvc.yaml's `plots:` reads them
PLOT_AXES = {"gain": ("share_customers", "share_spend"), "calibration": ("bin", "observed"),
             "deciles": ("decile", "actual")}
_PLOT_TABLES = {"gain": plots.gain_table, "calibration": plots.calibration_table,
                "deciles": plots.decile_table}


def backtest_tables(result: BacktestResult) -> dict[str, pd.DataFrame]:
    """{name: frame} of the train stage's backtest_<name>.parquet files.

    The summary's index (the model) becomes its first column, "model"."""
    return {"metrics": result.metrics,
            "summary": result.summary.rename_axis("model").reset_index(),
            "grades": result.grades, "predictions": result.predictions}


def model_info(*, run_id: str, tracking_uri: str, trained_at: str, horizon: int, fitted,
               result: BacktestResult, registered: Mapping, versions: Mapping,
               backtest_horizon: int | None = None) -> dict:
    """The content of model_info.json: the run, the fitted models, the backtest's notes, what
    was registered (with the gate decisions) and the library versions."""
    return {RUN_ID: run_id, "tracking_uri": tracking_uri, "trained_at": trained_at,
            HORIZON_DAYS: horizon, "backtest_horizon_days": backtest_horizon or horizon,
            "objective": fitted.objective,
            "best_objective": result.best_objective, "fallback": fitted.fallback,
            "message": fitted.message, "train_cutoffs": fitted.train_cutoffs,
            "oracle_share": result.oracle_share, "backtest_messages": result.messages,
            "selection": dict(fitted.selection),
            "published": {"value": fitted.value_candidate, "churn": fitted.churn_candidate},
            "models": dict(registered), "versions": dict(versions)}


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


def plot_frames(predictions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{name: wide table} for gain, calibration and deciles: x column, one column per model.

    Every model of PLOT_COLUMNS[name] is a column (empty when absent), then any other model;
    the calibration table also gets "predicted", the bin's centre. Without predictions (no
    backtest fold) the tables have the headers only: dvc still expects the files."""
    frames = {}
    for name, (x, y) in PLOT_AXES.items():
        table = _PLOT_TABLES[name](predictions) if not predictions.empty else pd.DataFrame(
            columns=["model", x, y])
        frame = table.pivot_table(index=x, columns="model", values=y, sort=True)
        extra = [c for c in frame.columns if c not in PLOT_COLUMNS[name]]
        frame = frame.reindex(columns=[*PLOT_COLUMNS[name], *extra]).reset_index()
        frame.columns.name = None
        if name == "calibration":
            frame.insert(1, "predicted", (frame["bin"] + 0.5) / 10)
        frames[name] = frame
    return frames


def _table(summary: pd.DataFrame, metrics) -> list[str]:
    """Markdown table lines: one row per model with any of `metrics`, 3 decimals."""
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
        f"MLflow run `{info.get(RUN_ID)}`, horizon {info.get(HORIZON_DAYS)} days"
        + (f" (backtest at {info['backtest_horizon_days']} days: the history is too short for "
           "a fold at the horizon)" if info.get("backtest_horizon_days", info.get(
               HORIZON_DAYS)) != info.get(HORIZON_DAYS) else "") + ".",
        "Means over the folds of the rolling-origin backtest; `oracle` is the generator's "
        "ground truth (the best possible prediction, generated data only); `blend` is scored "
        "from the second fold on (its weights for a fold are fitted on the folds before it).",
        "",
        "## What publishes",
        "",
    ]
    chosen = info.get("selection", {})
    lines += [f"- {c['text']}" for c in chosen.values()] or [
        f"- no selection: {info.get('message')}"]
    lines += [
        "",
        "## Value (spend over the horizon)",
        "",
    ]
    lines += _table(summary, VALUE_METRICS) + ["", "## Churn (no order over the horizon)", ""]
    lines += _table(summary, CHURN_METRICS) + ["", "## Grades against the best baseline", ""]
    if not grades.empty:
        lines += [f"- {'PASS' if g.beats else 'FAIL'}: {g.text}" for g in grades.itertuples()]
    lines += ["", "## Against the status quo, at capacity and on the active base", "",
              "`lift_share_*` is the share of the attainable lift: (model - status quo) / "
              "(truth - status quo) of the capture, where the status quo ranks by the last "
              "horizon's spend (what a firm without this pipeline does) and the truth is the "
              "generator's (`oracle`) or, on real data, hindsight; `*_capacity` at the "
              "managers' total capacity. `spend_ratio` is total predicted over total actual "
              "spend. `*_active`: churn on the customers with an order in the last horizon.",
              ""]
    lines += _table(summary, DIAGNOSTIC_METRICS)
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

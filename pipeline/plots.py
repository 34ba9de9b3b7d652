"""Plot data and figures of the backtest: gain curve, calibration curve, deciles, importance.

The inputs are the backtest's per-row predictions of its latest fold: the actual
`future_spend` and `churned`, and one "<model>_value" / "<model>_churn" column per model.
The `*_table` functions return tidy DataFrames (what `dvc plots` reads as CSV); the `plot_*`
functions draw them to a PNG with matplotlib's object API (`Figure`, Agg canvas), so nothing
touches pyplot's global state or the backend at import.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from features.contract import LABEL_CHURNED, LABEL_SPEND
from models.selection import value_model_name
from pipeline.files import CALIBRATION_CURVE, DECILES_PLOT, GAIN_CURVE, importance_plot
from pipeline.storage import atomic_path

__all__ = [
    "calibration_table",
    "decile_table",
    "gain_table",
    "models_with",
    "plot_calibration",
    "plot_deciles",
    "plot_gain",
    "plot_importance",
    "write_backtest_plots",
]


def models_with(predictions: pd.DataFrame, kind: str) -> list[str]:
    """Models that have a "<model>_<kind>" column (kind: "value" or "churn")."""
    suffix = f"_{kind}"
    return [c[: -len(suffix)] for c in predictions.columns if c.endswith(suffix)]


def _target(predictions: pd.DataFrame, kind: str) -> np.ndarray:
    column = LABEL_SPEND if kind == "value" else LABEL_CHURNED
    return predictions[column].to_numpy(float)


def gain_table(
    predictions: pd.DataFrame, models: Sequence[str] | None = None, points: int = 100
) -> pd.DataFrame:
    """Cumulative gain of the value models: the share of actual future spend held by the top
    `share_customers` of customers ranked by each model's prediction.

    Columns: model, share_customers (1/points .. 1), share_spend. Negative spend counts as 0.
    """
    models = models_with(predictions, "value") if models is None else list(models)
    actual = np.clip(_target(predictions, "value"), 0, None)
    total = actual.sum()
    grid = np.arange(1, points + 1) / points
    rows = []
    for model in models:
        predicted = predictions[f"{model}_value"].to_numpy(float)
        ok = ~np.isnan(predicted)
        ranked = actual[ok][np.argsort(-predicted[ok], kind="stable")]
        cumulative = np.concatenate([[0.0], np.cumsum(ranked)])
        taken = np.ceil(grid * len(ranked)).astype(int)
        share = cumulative[taken] / total if total > 0 else np.zeros_like(grid)
        rows.append(pd.DataFrame({"model": model, "share_customers": grid, "share_spend": share}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["model", "share_customers", "share_spend"]
    )


def calibration_table(
    predictions: pd.DataFrame, models: Sequence[str] | None = None, bins: int = 10
) -> pd.DataFrame:
    """Reliability of the churn probabilities: per model and bin of equal width in [0, 1],
    the mean predicted probability and the observed churn rate.

    Columns: model, bin, predicted, observed, customers. Empty bins are left out.
    """
    models = models_with(predictions, "churn") if models is None else list(models)
    actual = _target(predictions, "churn")
    rows = []
    for model in models:
        predicted = predictions[f"{model}_churn"].to_numpy(float)
        ok = ~np.isnan(predicted)
        p, y = predicted[ok], actual[ok]
        which = np.clip((p * bins).astype(int), 0, bins - 1)
        frame = pd.DataFrame({"bin": which, "p": p, "y": y}).groupby("bin")
        part = frame.agg(predicted=("p", "mean"), observed=("y", "mean"), customers=("y", "size"))
        rows.append(part.reset_index().assign(model=model))
    columns = ["model", "bin", "predicted", "observed", "customers"]
    return pd.concat(rows, ignore_index=True)[columns] if rows else pd.DataFrame(columns=columns)


def decile_table(predictions: pd.DataFrame, models: Sequence[str] | None = None) -> pd.DataFrame:
    """Per model and decile of predicted value (1 = highest): mean predicted and mean actual
    future spend.

    Columns: model, decile, predicted, actual, customers.
    """
    models = models_with(predictions, "value") if models is None else list(models)
    actual = _target(predictions, "value")
    rows = []
    for model in models:
        predicted = predictions[f"{model}_value"].to_numpy(float)
        ok = ~np.isnan(predicted)
        order = np.argsort(-predicted[ok], kind="stable")
        decile = np.empty(ok.sum(), dtype=int)
        decile[order] = np.arange(ok.sum()) * 10 // max(ok.sum(), 1) + 1
        frame = pd.DataFrame({"decile": decile, "p": predicted[ok], "y": actual[ok]})
        part = frame.groupby("decile").agg(
            predicted=("p", "mean"), actual=("y", "mean"), customers=("y", "size")
        )
        rows.append(part.reset_index().assign(model=model))
    columns = ["model", "decile", "predicted", "actual", "customers"]
    return pd.concat(rows, ignore_index=True)[columns] if rows else pd.DataFrame(columns=columns)


def _figure(title: str):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    return figure, axes


def _save(figure, path: Path) -> Path:
    """Save `figure` atomically; the temporary keeps the suffix that picks the format."""
    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=100)
    return path


def plot_gain(table: pd.DataFrame, path: Path) -> Path:
    """Gain curves of `gain_table`, with the random-ranking diagonal."""
    figure, axes = _figure("Gain: share of future spend in the top customers")
    for model, part in table.groupby("model", sort=False):
        axes.plot(part["share_customers"], part["share_spend"], label=str(model))
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", label="random")
    axes.set_xlabel("share of customers (ranked by prediction)")
    axes.set_ylabel("share of actual future spend")
    axes.legend(fontsize="small")
    return _save(figure, path)


def plot_calibration(table: pd.DataFrame, path: Path) -> Path:
    """Calibration curves of `calibration_table`, with the diagonal of perfect calibration."""
    figure, axes = _figure("Calibration of the churn probability")
    for model, part in table.groupby("model", sort=False):
        axes.plot(part["predicted"], part["observed"], marker="o", label=str(model))
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    axes.set_xlabel("predicted probability of no order")
    axes.set_ylabel("observed share without an order")
    axes.legend(fontsize="small")
    return _save(figure, path)


def plot_deciles(table: pd.DataFrame, path: Path, model: str | None = None) -> Path:
    """Mean predicted vs actual spend per predicted decile of one model (the first if None)."""
    model = model if model is not None else str(table["model"].iloc[0])
    part = table[table["model"] == model]
    figure, axes = _figure(f"Deciles of predicted value: {model}")
    x = part["decile"].to_numpy()
    axes.bar(x - 0.2, part["predicted"], width=0.4, label="predicted")
    axes.bar(x + 0.2, part["actual"], width=0.4, label="actual")
    axes.set_xlabel("decile of predicted value (1 = highest)")
    axes.set_ylabel("mean spend over the horizon")
    axes.set_xticks(x)
    axes.legend(fontsize="small")
    return _save(figure, path)


def plot_importance(importance: pd.Series, path: Path, top: int = 20, title: str = "") -> Path:
    """Horizontal bars of the `top` largest importances (e.g. total split gain)."""
    values = importance.sort_values(ascending=False).head(top)[::-1]
    figure, axes = _figure(title or "Feature importance (gain)")
    axes.barh([str(i) for i in values.index], values.to_numpy(float))
    axes.set_xlabel(str(importance.name or "importance"))
    axes.tick_params(axis="y", labelsize="small")
    return _save(figure, path)


def write_backtest_plots(result, fitted, folder: Path) -> list[Path]:
    """PNG plots of the backtest's latest fold and of the final models' importances.

    `result` is a models.backtest.BacktestResult, `fitted` a models.training.FittedModels.
    Writes gain_curve.png, calibration_curve.png, deciles.png (of the fitted value model)
    and importance_{value,churn}.png into `folder`, each only when its data exist; returns
    the paths written."""
    predictions, written = result.predictions, []
    if not predictions.empty:
        gain = gain_table(predictions)
        written.append(plot_gain(gain, folder / GAIN_CURVE))
        calibration = calibration_table(predictions)
        written.append(plot_calibration(calibration, folder / CALIBRATION_CURVE))
        deciles = decile_table(predictions)
        value_model = fitted.value_candidate or value_model_name(fitted.objective)
        if value_model in set(deciles["model"]):
            written.append(plot_deciles(deciles, folder / DECILES_PLOT, value_model))
    for kind, model in (("value", fitted.value), ("churn", fitted.churn)):
        if model is not None and hasattr(model, "feature_importances"):
            written.append(plot_importance(
                model.feature_importances(), folder / importance_plot(kind),
                title=f"Feature importance of the {kind} model (gain)"))
    return written

"""The logged model: a self-contained `ServingModel`, its input, its pins, its serialisation.

Models are logged with `mlflow.sklearn` in skops format (cloudpickle when skops refuses an
attribute, e.g. the pandas Timestamps a ChurnModel keeps), with a signature, an input example
and explicit pip requirements (no environment inference: logging stays fast and offline).
The logged model is a `ServingModel`: it takes the raw feature columns of a features frame as
the features stage writes them (models.training.input_columns: the columns of
scoring_frame.parquet but ids and dates; categoricals as strings, since an MLflow schema only
knows strings), turns strings back into the categories seen in training, adds the BTYD
columns with the parameters fitted at training time (the model's BTYDTransformer, never
refitted on the rows passed in) and calls the fitted model; for the churn model `predict`
returns P(no order over the horizon). So `mlflow.pyfunc.load_model("models:/customer-value
@champion").predict(serving_input(scoring_frame.iloc[:5]))` gives exactly the score stage's
values for those five customers, alone or in any batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from pipeline.progress import logger

if TYPE_CHECKING:
    from mlflow.models.model import ModelInfo

    from models.training import ModelInput

__all__ = [
    "SERVING_REQUIREMENTS",
    "ServingModel",
    "log_model",
    "pip_requirements",
    "serving_example",
    "serving_input",
    "serving_model_input",
]

SERVING_REQUIREMENTS = ("lightgbm", "scikit-learn", "pandas", "numpy", "scipy", "skops")


class ServingModel(BaseEstimator):
    """A fitted value or churn model made servable from a features frame's raw columns.

    Parameters
    ----------
    model : fitted estimator (e.g. ValueModel, ChurnModel); not refitted.
    output : "predict" (value: expected spend) or "proba" (churn: P(class 1)).
    btyd : the fitted models.baselines.BTYDTransformer the model was trained with, or None
        (no BTYD features); applied with its stored parameters, not refitted.
    features : the columns `model` takes, in order, after the BTYD step (default: the
        model's `feature_names_in_`, else the columns passed to `fit`).

    Attributes
    ----------
    feature_names_in_ : the input columns, in order: those of the frame passed to `fit`.
    categories_ : dict of column -> list of categories, from that frame.
    model_features_ : the columns the wrapped model sees (`features` resolved).
    """

    def __init__(self, model=None, output: Literal["predict", "proba"] = "predict", btyd=None,
                 features: list[str] | None = None):
        self.model = model
        self.output = output
        self.btyd = btyd
        self.features = features

    def fit(self, X: pd.DataFrame, y=None) -> ServingModel:
        """Record X's columns and the categories of its categorical columns; the model and the
        BTYD step stay as fitted."""
        self.categories_ = {
            str(c): [str(v) for v in X[c].cat.categories]
            for c in X.columns
            if isinstance(X[c].dtype, pd.CategoricalDtype)
        }
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        names = self.features if self.features is not None else getattr(
            self.model, "feature_names_in_", self.feature_names_in_)
        self.model_features_ = [str(c) for c in names]
        return self

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        X = pd.DataFrame(X)[list(self.feature_names_in_)]
        casts = {
            c: pd.Categorical(X[c].astype(object).where(X[c].notna(), None), categories=cats)
            for c, cats in self.categories_.items()
            if not isinstance(X[c].dtype, pd.CategoricalDtype)
        }
        return X.assign(**casts) if casts else X

    def prepare(self, X) -> pd.DataFrame:
        """The wrapped model's input for raw rows X: categoricals cast, BTYD columns from the
        stored parameters, `model_features_` selected. Each row's depends on that row only."""
        check_is_fitted(self)
        X = self._frame(X)
        btyd = getattr(self, "btyd", None)  # a model logged before the step was stored
        if btyd is not None:
            X = btyd.transform(X)
        return X[getattr(self, "model_features_", list(self.feature_names_in_))]

    def predict(self, X) -> np.ndarray:
        """Expected spend ("predict") or P(class 1) ("proba") of every row of X."""
        X = self.prepare(X)
        if self.output == "proba":
            return np.asarray(self.model.predict_proba(X)[:, 1], dtype=float)
        return np.asarray(self.model.predict(X), dtype=float)


def serving_input(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """What a caller sends a registered model: `columns` of a features frame (default: its
    models.training.input_columns), categoricals as strings."""
    from models.training import input_columns

    out = frame[list(columns) if columns is not None else input_columns(frame)].copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object).where(out[c].notna(), None).astype("str")
    return out


def serving_example(X: pd.DataFrame, rows: int = 5) -> pd.DataFrame:
    """A few rows of X as MLflow sees them: categoricals as strings."""
    return serving_input(X.head(rows), X.columns)


def pip_requirements(packages: Iterable[str] = SERVING_REQUIREMENTS) -> list[str]:
    """Pinned requirements of the logged models, from the installed versions."""
    pins = []
    for name in packages:
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            continue
    return pins


def log_model(model, X: pd.DataFrame, name: str, output: Literal["predict", "proba"],
              registered_model_name: str | None, btyd=None,
              features: list[str] | None = None) -> ModelInfo:
    """Log `model` (fitted) wrapped in a `ServingModel` with its BTYD step `btyd` and its
    `features` (see ServingModel), with signature, input example (from `X`, raw input
    columns) and pip requirements; register it under `registered_model_name` when given.
    Returns MLflow's ModelInfo (`.model_uri`, `.registered_model_version`)."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.models import infer_signature
    from skops.io import dumps, get_untrusted_types

    serving = ServingModel(model, output, btyd, features).fit(X)
    example = serving_example(X)
    arguments = dict(
        name=name,
        signature=infer_signature(example, serving.predict(example)),
        input_example=example,
        pip_requirements=pip_requirements(),
        registered_model_name=registered_model_name,
    )
    try:
        trusted = get_untrusted_types(data=dumps(serving))
    except Exception as error:  # noqa: BLE001 - skops refuses some attribute types
        logger.info("tracking: %s: skops cannot save it (%s); using cloudpickle", name,
                    str(error).split(". ")[0])
    else:
        try:
            return mlflow.sklearn.log_model(
                serving, serialization_format="skops", skops_trusted_types=trusted, **arguments
            )
        except MlflowException as error:
            logger.info("tracking: %s: skops cannot save it (%s); using cloudpickle", name,
                        str(error).split(". ")[0])
    return mlflow.sklearn.log_model(serving, serialization_format="cloudpickle", **arguments)


def serving_model_input(serving: ServingModel, who: str) -> ModelInput:
    """The models.training.ModelInput (feature list, BTYD step) a loaded ServingModel carries;
    DataError for one logged before the BTYD step travelled with the model (it cannot score
    rows by itself). `who` names the version in the message ("customer-value v3")."""
    from models.baselines import BTYD_OUTPUTS
    from models.training import ModelInput
    from pipeline.errors import DataError

    features = [str(c) for c in getattr(serving, "model_features_", serving.feature_names_in_)]
    btyd = getattr(serving, "btyd", None)
    if btyd is None and any(c in BTYD_OUTPUTS for c in features):
        raise DataError(
            f"champion {who} uses BTYD features but was registered before its fitted BTYD "
            "parameters were stored with it: train and promote a new version (keyaccounts "
            "train), or set score.model_source: artifacts in configs/pipeline.yaml")
    return ModelInput(features, btyd)

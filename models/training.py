"""Fit the final value and churn models on the training set, and predict with them.

`fit_models(training_set, config, horizon_days)` fits on the latest
`config.train_window_cutoffs` cutoffs whose labels are fully observed. When the data holds
fewer such cutoffs than `config.min_train_cutoffs` (a short history), it does not train on
truncated labels: it returns `FittedModels` with `fallback=True` and a message saying so,
and `predict` then uses BG/NBD + Gamma-Gamma fitted at the scoring date on the customers'
own summaries, which need no labels.

With `config.btyd_features` the BTYD predictions (fitted per cutoff) are added as features
before training and before scoring (`prepare_frame`), so the model sees them as well.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.contract import AS_OF, CUSTOMER_ID, CUTOFF, HORIZON_DAYS, LABEL_CHURNED, LABEL_SPEND
from models.baselines import add_btyd, btyd_predictions, spend_window
from models.churn import ChurnModel
from models.config import ModelConfig
from models.value import ValueModel

__all__ = [
    "FittedModels",
    "fit_models",
    "labelled_cutoffs",
    "make_churn_model",
    "make_value_model",
    "model_features",
    "predict",
    "prepare_frame",
    "sample_rows",
    "value_at_risk",
]

_NOT_FEATURES = {CUSTOMER_ID, CUTOFF, AS_OF, HORIZON_DAYS, LABEL_SPEND, LABEL_CHURNED}


def model_features(frame: pd.DataFrame) -> list[str]:
    """The columns the models train on: numeric and categorical, not ids, dates or labels."""
    return [
        c
        for c in frame.columns
        if c not in _NOT_FEATURES
        and (
            isinstance(frame[c].dtype, pd.CategoricalDtype)
            or pd.api.types.is_numeric_dtype(frame[c].dtype)
            or pd.api.types.is_bool_dtype(frame[c].dtype)
        )
    ]


def make_value_model(config: ModelConfig, objective: str | None = None) -> ValueModel:
    """An unfitted ValueModel with the configured parameters."""
    return ValueModel(
        objective=objective or config.value_objective,
        tweedie_variance_power=config.value.tweedie_variance_power,
        random_state=config.random_state,
        **config.value.params.model_dump(),
    )


def make_churn_model(config: ModelConfig) -> ChurnModel:
    """An unfitted ChurnModel with the configured parameters."""
    return ChurnModel(
        calibration=config.churn.calibration,
        calibration_cutoffs=config.churn.calibration_cutoffs,
        random_state=config.random_state,
        **config.churn.params.model_dump(),
    )


def prepare_frame(frame: pd.DataFrame, config: ModelConfig, horizon_days: int) -> pd.DataFrame:
    """The frame the models see: with the BTYD features added per cutoff when configured."""
    return add_btyd(frame, horizon_days) if config.btyd_features else frame


def labelled_cutoffs(
    frame: pd.DataFrame, horizon_days: int, end_of_data=None
) -> list[pd.Timestamp]:
    """Distinct cutoffs whose label window (c, c + H] ends on or before `end_of_data`
    (all cutoffs when it is None) and whose labels are present, oldest first."""
    if CUTOFF not in frame.columns or frame.empty:
        return []
    rows = frame[frame[LABEL_SPEND].notna() & frame[LABEL_CHURNED].notna()]
    cutoffs = pd.to_datetime(pd.Series(rows[CUTOFF].unique())).sort_values()
    if end_of_data is not None:
        limit = pd.Timestamp(end_of_data) - pd.Timedelta(days=horizon_days)
        cutoffs = cutoffs[cutoffs <= limit]
    return [pd.Timestamp(c) for c in cutoffs]


def sample_rows(frame: pd.DataFrame, max_rows: int | None, random_state: int) -> pd.DataFrame:
    """At most `max_rows` rows of `frame`, drawn uniformly without replacement (seeded), in
    their original order. The stacked cutoffs repeat every customer many times, so a few
    million rows carry nearly all the information and keep training within minutes."""
    if max_rows is None or len(frame) <= max_rows:
        return frame
    rng = np.random.default_rng(random_state)
    keep = np.sort(rng.choice(len(frame), size=max_rows, replace=False))
    return frame.iloc[keep]


@dataclass
class FittedModels:
    """The fitted value and churn models and what they need to score.

    `value` and `churn` are None when `fallback` is True (too short a history): `predict`
    then uses BG/NBD + Gamma-Gamma. `features` lists the columns the models expect after
    `prepare_frame` (the registered models' input schema).
    """

    value: ValueModel | None
    churn: ChurnModel | None
    features: list[str]
    objective: str
    horizon_days: int
    btyd_features: bool
    train_cutoffs: list[pd.Timestamp] = field(default_factory=list)
    fallback: bool = False
    message: str = ""

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """See `predict`."""
        return predict(self, frame)

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model input of a features frame: BTYD features added, `features` selected."""
        return prepare_frame(frame, _config_of(self), self.horizon_days)[self.features]


def fit_models(
    training_set: pd.DataFrame,
    config: ModelConfig,
    horizon_days: int,
    end_of_data=None,
    objective: str | None = None,
) -> FittedModels:
    """Fit the value model (objective: `objective` or `config.value_objective`) and the churn
    model on the latest `config.train_window_cutoffs` fully labelled cutoffs (sampled down
    to `config.max_train_rows` rows when larger).

    `end_of_data`, when given, drops cutoffs whose label window runs past it (their labels
    are truncated). Fewer than `config.min_train_cutoffs` usable cutoffs -> a BTYD fallback
    with `fallback=True` and the reason in `message`; nothing is trained.
    """
    objective = objective or config.value_objective
    cutoffs = labelled_cutoffs(training_set, horizon_days, end_of_data)
    if len(cutoffs) < config.min_train_cutoffs:
        span = ""
        if CUTOFF in training_set.columns and len(training_set):
            span = (
                f" (the training set has cutoffs {training_set[CUTOFF].min():%Y-%m-%d} to "
                f"{training_set[CUTOFF].max():%Y-%m-%d})"
            )
        message = (
            f"short history: {len(cutoffs)} cutoff(s) with a fully observed {horizon_days}-day "
            f"label window{span}, the models need at least {config.min_train_cutoffs} "
            "(models.min_train_cutoffs); scoring falls back to BG/NBD + Gamma-Gamma fitted at "
            "the scoring date. Add history, shorten features.horizon_days or lower "
            "min_train_cutoffs to train LightGBM."
        )
        return FittedModels(
            None, None, [], "btyd", horizon_days, False, cutoffs, fallback=True, message=message
        )
    used = cutoffs[-config.train_window_cutoffs :]
    train = training_set[training_set[CUTOFF].isin(used)]
    train = train[train[LABEL_SPEND].notna() & train[LABEL_CHURNED].notna()]
    rows_available = len(train)
    train = prepare_frame(train, config, horizon_days)  # BTYD fitted on whole cutoffs
    train = sample_rows(train, config.max_train_rows, config.random_state)
    features = model_features(train)
    X = train[features]
    value = make_value_model(config, objective).fit(X, train[LABEL_SPEND].to_numpy(float))
    churn = make_churn_model(config).fit(
        X, train[LABEL_CHURNED].astype(int).to_numpy(), cutoffs=train[CUTOFF].to_numpy()
    )
    message = (
        f"trained on {len(used)} cutoffs {used[0]:%Y-%m-%d}..{used[-1]:%Y-%m-%d}, "
        f"{len(train):,} rows (of {rows_available:,}), {len(features)} features, "
        f"value objective {objective}"
    )
    return FittedModels(
        value, churn, features, objective, horizon_days, config.btyd_features, used, False, message
    )


def value_at_risk(
    churn_probability, frame: pd.DataFrame, horizon_days: int, fallback_value
) -> np.ndarray:
    """What losing each customer would cost: churn_probability x the customer's current
    spend run-rate over the horizon (spend over the spend window closest to the horizon,
    scaled to `horizon_days`). Expected value already discounts churn, so it is not the
    value at stake; `fallback_value` (the expected value) stands in when the frame has no
    spend window."""
    churn = np.asarray(churn_probability, dtype=float)
    try:
        w = spend_window(frame.columns, horizon_days)
    except ValueError:
        return churn * np.asarray(fallback_value, dtype=float)
    current = frame[f"txn_spend_{w}d"].fillna(0).clip(lower=0).to_numpy(float)
    return churn * current * horizon_days / w


def predict(fitted: FittedModels, frame: pd.DataFrame) -> pd.DataFrame:
    """Scores of every row of a features frame (with `as_of` or `cutoff`).

    Returns, on the frame's index: customer_id, expected_value (spend over the horizon),
    churn_probability (no order over the horizon), and value_at_risk (see `value_at_risk`).
    """
    if fitted.fallback:
        btyd = btyd_predictions(frame, fitted.horizon_days)
        value, churn = btyd["expected_spend"].to_numpy(), btyd["prob_no_purchase"].to_numpy()
    else:
        X = fitted.prepare(frame)
        value = fitted.value.predict(X)
        churn = fitted.churn.predict_proba(X)[:, 1]
    return pd.DataFrame(
        {
            CUSTOMER_ID: frame[CUSTOMER_ID].to_numpy() if CUSTOMER_ID in frame else frame.index,
            "expected_value": np.asarray(value, dtype=float),
            "churn_probability": np.asarray(churn, dtype=float),
            "value_at_risk": value_at_risk(churn, frame, fitted.horizon_days, value),
        },
        index=frame.index,
    )


def _config_of(fitted: FittedModels) -> ModelConfig:
    return ModelConfig(btyd_features=fitted.btyd_features)

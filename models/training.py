"""Fit the final value and churn models on the training set, and predict with them.

`fit_models(training_set, config, horizon_days)` fits on the latest
`config.train_window_cutoffs` cutoffs whose labels are fully observed. When the data holds
fewer such cutoffs than `config.min_train_cutoffs` (a short history), it does not train on
truncated labels: it returns `FittedModels` with `fallback=True` and a message saying so,
publishing the label-free rule (models.baselines.LABEL_FREE: last_period's value, BG/NBD,
Pareto/NBD, or their blend) that the backtest at a shorter horizon chose
(models.backtest, `label_free=True`), else BG/NBD + Gamma-Gamma; the BTYD models are fitted
at the scoring date on the customers' own summaries, which need no labels.

With `config.btyd_features` the BTYD predictions are features too. The training rows get
them fitted per cutoff (`prepare_frame`: each cutoff's population at that cutoff, as the
backtest does). The fitted models carry one `BTYDTransformer` fitted at training time
(`FittedModels.btyd`; `fit_models` says on which customers, and why) and score every row with
those stored parameters, so a customer's scores do not depend on the other rows of the batch
and the registered models need nothing but a features frame's rows.

What a model takes from a features frame is declared here once: `input_columns` (the
features stage's columns minus ids, dates and labels: the registered models' input schema)
and `model_features` (the columns the estimators see once the BTYD step has run).
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.contract import (
    AS_OF,
    CUSTOMER_ID,
    CUTOFF,
    HORIZON_DAYS,
    LABEL_CHURNED,
    LABEL_MANAGER_DAYS,
    LABEL_SPEND,
)
from features.names import txn_spend_in
from models.baselines import (
    BTYD_OUTPUTS,
    LABEL_FREE,
    BTYDTransformer,
    add_btyd,
    btyd_predictions,
    fit_baseline,
    fit_label_free,
    spend_window,
)
from models.churn import ChurnModel
from models.columns import CHURN_PROBABILITY, EXPECTED_VALUE, VALUE_AT_RISK
from models.config import ModelConfig
from models.selection import (
    BLEND,
    CHURN_MODEL,
    BaselineChurn,
    BaselineValue,
    Blend,
    Selection,
    value_model_name,
)
from models.value import ValueModel

__all__ = [
    "FittedModels",
    "ModelInput",
    "fit_btyd",
    "fit_models",
    "input_columns",
    "labelled_cutoffs",
    "make_churn_model",
    "make_value_model",
    "model_features",
    "predict",
    "prepare_frame",
    "sample_rows",
    "short_history",
    "value_at_risk",
]

_NOT_FEATURES = {CUSTOMER_ID, CUTOFF, AS_OF, HORIZON_DAYS, LABEL_SPEND, LABEL_CHURNED,
                 LABEL_MANAGER_DAYS}


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


def input_columns(frame: pd.DataFrame) -> list[str]:
    """The columns a fitted model takes from a features frame as the features stage writes it
    (training_set.parquet or scoring_frame.parquet): its model features before the BTYD step,
    i.e. every numeric or categorical column but ids, dates, labels and BTYD outputs."""
    return [c for c in model_features(frame) if c not in BTYD_OUTPUTS]


def make_value_model(config: ModelConfig, objective: str | None = None) -> ValueModel:
    """An unfitted ValueModel with the configured parameters."""
    return ValueModel(
        objective=objective or config.value_objective,
        tweedie_variance_power=config.value.tweedie_variance_power,
        random_state=config.random_state,
        **config.value.params.estimator_kwargs(),
    )


def make_churn_model(config: ModelConfig) -> ChurnModel:
    """An unfitted ChurnModel with the configured parameters."""
    return ChurnModel(
        calibration=config.churn.calibration,
        calibration_cutoffs=config.churn.calibration_cutoffs,
        random_state=config.random_state,
        **config.churn.params.estimator_kwargs(),
    )


def prepare_frame(frame: pd.DataFrame, config: ModelConfig, horizon_days: int) -> pd.DataFrame:
    """The frame the models see: with the BTYD features added per cutoff when configured."""
    return add_btyd(frame, horizon_days) if config.btyd_features else frame


def fit_btyd(frame: pd.DataFrame, horizon_days: int) -> BTYDTransformer:
    """The BTYD step fitted on the customers of `frame`, which holds one date (its latest
    `cutoff` or `as_of` when it holds several)."""
    column = CUTOFF if CUTOFF in frame.columns else AS_OF if AS_OF in frame.columns else None
    if column is not None and frame[column].nunique() > 1:
        frame = frame[frame[column] == frame[column].max()]
    return BTYDTransformer(horizon_days=horizon_days).fit(frame)


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


@dataclass(frozen=True)
class ModelInput:
    """What one fitted model takes from a features frame: the BTYD step it was trained with
    (None: no BTYD features) and the columns it sees after it, in order."""

    features: list[str]
    btyd: BTYDTransformer | None = None

    def augment(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` with the BTYD columns of this input's stored parameters (as is without)."""
        return frame if self.btyd is None else self.btyd.transform(frame)

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model input of a features frame: BTYD columns added, `features` selected."""
        return self.augment(frame)[self.features]

    def same_as(self, other: "ModelInput") -> bool:
        """Whether both inputs prepare a frame identically (same columns, same parameters)."""
        mine = None if self.btyd is None else self.btyd.params_
        theirs = None if other.btyd is None else other.btyd.params_
        return list(self.features) == list(other.features) and mine == theirs


@dataclass
class FittedModels:
    """The fitted value and churn models and what they need to score.

    `value` and `churn` are what publishes each target (models.selection: a ValueModel /
    ChurnModel, a BaselineValue / BaselineChurn, or a Blend), named by `value_candidate` and
    `churn_candidate` ("lgbm_tweedie", "btyd", "blend", ...); `selection` is the backtest's
    Selection of each target as a dict (empty when no backtest chose). With `fallback`
    (too short a history) they are label-free rules (or their blend) that read the whole
    features frame and fit their BTYD models on the scored rows, or both None (a model saved
    before they were: `predict` then uses BG/NBD + Gamma-Gamma). `features` lists the columns
    the models expect after the BTYD step; `btyd` is that step, fitted at training time (None
    without `btyd_features`). `churn_input` is the churn model's own input when it differs
    from the value model's (a churn champion registered by another run than the value
    champion, see pipeline.tracking.load_champion); None when both share one.
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
    btyd: BTYDTransformer | None = None
    churn_input: ModelInput | None = None
    value_candidate: str = ""
    churn_candidate: str = ""
    selection: dict = field(default_factory=dict)

    def model_input(self, kind: str = "value") -> ModelInput:
        """The input of the "value" or "churn" model.

        Raises ValueError for models saved with BTYD features but without their fitted
        BTYD step (trained before the step was stored with them): re-train them."""
        if kind == "churn" and self.churn_input is not None:
            return self.churn_input
        if self.btyd_features and self.btyd is None and not self.fallback:
            raise ValueError(
                "these fitted models use BTYD features but carry no fitted BTYD step (saved "
                "before it was stored with the models): re-run `keyaccounts train`"
            )
        return ModelInput(list(self.features), self.btyd if self.btyd_features else None)

    def predict(self, frame: pd.DataFrame, augmented: pd.DataFrame | None = None) -> pd.DataFrame:
        """See `predict`."""
        return predict(self, frame, augmented)

    def augment(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` with the value model's BTYD columns from the stored parameters."""
        return frame if self.fallback else self.model_input("value").augment(frame)

    def prepare(self, frame: pd.DataFrame, kind: str = "value") -> pd.DataFrame:
        """The input of the `kind` model for a features frame: the BTYD columns from the
        stored parameters (never refitted on `frame`), `features` selected."""
        return self.model_input(kind).prepare(frame)


def fit_models(
    training_set: pd.DataFrame,
    config: ModelConfig,
    horizon_days: int,
    end_of_data=None,
    objective: str | None = None,
    population: pd.DataFrame | None = None,
    selection: dict[str, Selection] | None = None,
) -> FittedModels:
    """Fit the value model (objective: `objective` or `config.value_objective`) and the churn
    model on the latest `config.train_window_cutoffs` fully labelled cutoffs (sampled down
    to `config.max_train_rows` rows when larger).

    `end_of_data`, when given, drops cutoffs whose label window runs past it (their labels
    are truncated). Fewer than `config.min_train_cutoffs` usable cutoffs -> a BTYD fallback
    with `fallback=True` and the reason in `message`; nothing is trained.

    With `config.btyd_features` the training rows get the BTYD columns fitted per cutoff, and
    the returned models carry a BTYD step (`FittedModels.btyd`) fitted on `population`: the
    features frame of the customers at the end of the data (the scoring frame), or, without
    it, the rows of the latest cutoff of `training_set`. The end of the data is the better
    choice: each training row's BTYD columns were fitted on its own date's population, so the
    consistent parameters for scoring are those of the population at the scoring date, and
    the latest population the train stage sees is the one at the end of the data (the latest
    training cutoff is at least a horizon older, since its labels must be complete). It
    uses no labels, and scoring that frame then gives exactly the values a per-date fit
    would, with the parameters fixed for any other batch.

    `selection` (the backtest's, models.backtest.BacktestResult.selection) says what publishes
    each target: the LightGBM model, a baseline fitted on the same rows, or the blend of its
    members with weights > 0 (each fitted on the same rows; the weights are the backtest's).
    Without it, the LightGBM models publish.
    """
    objective = objective or config.value_objective
    cutoffs = labelled_cutoffs(training_set, horizon_days, end_of_data)
    if short_history(training_set, config, horizon_days, end_of_data):
        span = ""
        if CUTOFF in training_set.columns and len(training_set):
            span = (
                f" (the training set has cutoffs {training_set[CUTOFF].min():%Y-%m-%d} to "
                f"{training_set[CUTOFF].max():%Y-%m-%d})"
            )
        return _fallback(training_set, config, horizon_days, cutoffs, span, population,
                         selection)
    used = cutoffs[-config.train_window_cutoffs :]
    train = training_set[training_set[CUTOFF].isin(used)]
    train = train[train[LABEL_SPEND].notna() & train[LABEL_CHURNED].notna()]
    rows_available = len(train)
    train = prepare_frame(train, config, horizon_days)  # BTYD fitted on whole cutoffs
    train = sample_rows(train, config.max_train_rows, config.random_state)
    features = model_features(train)
    picked = {kind: (selection or {}).get(kind) for kind in ("value", "churn")}
    value_name = picked["value"].published if picked["value"] else value_model_name(objective)
    if value_name.startswith("lgbm_"):
        objective = value_name.removeprefix("lgbm_")
    fit = _Candidates(config, horizon_days, train, features, objective)
    value = fit.model("value", picked["value"], value_name)
    churn = fit.model("churn", picked["churn"],
                      picked["churn"].published if picked["churn"] else CHURN_MODEL)
    message = (
        f"trained on {len(used)} cutoffs {used[0]:%Y-%m-%d}..{used[-1]:%Y-%m-%d}, "
        f"{len(train):,} rows (of {rows_available:,}), {len(features)} features; "
        f"publishing value: {value_name}, churn: {fit.names['churn']}"
    )
    btyd = None
    if config.btyd_features:
        source = population if population is not None else training_set
        btyd = fit_btyd(source, horizon_days)
        message += f", BTYD step fitted on {btyd.params_['n_customers']:,} customers" + (
            f" at {btyd.params_['fitted_on']}" if btyd.params_["fitted_on"] else "")
    return FittedModels(
        value, churn, features, objective, horizon_days, config.btyd_features, used, False,
        message, btyd=btyd, value_candidate=value_name, churn_candidate=fit.names["churn"],
        selection={k: v.as_dict() for k, v in picked.items() if v is not None},
    )


def short_history(training_set: pd.DataFrame, config: ModelConfig, horizon_days: int,
                  end_of_data=None) -> bool:
    """Whether fewer than `config.min_train_cutoffs` cutoffs of the training set have a fully
    observed label window at the horizon: `fit_models` then trains nothing and publishes
    label-free rules, and the backtest judges only those (models.backtest label_free)."""
    return (len(labelled_cutoffs(training_set, horizon_days, end_of_data))
            < config.min_train_cutoffs)


def _fallback(training_set: pd.DataFrame, config: ModelConfig, horizon_days: int, cutoffs,
              span: str, population: pd.DataFrame | None,
              selection: dict[str, Selection] | None) -> FittedModels:
    """The short-history FittedModels: per target the label-free candidate the backtest
    chose (`selection`; BG/NBD + Gamma-Gamma without one), fitted on `population` (the
    customers at the scoring date; else the latest cutoff of the training set) with no
    labels."""
    frame = population
    if frame is None and CUTOFF in training_set.columns and len(training_set):
        frame = training_set[training_set[CUTOFF] == training_set[CUTOFF].max()]
    def label_free(kind: str, pick: Selection | None) -> bool:
        used = (pick.weights if pick.published == BLEND else {pick.published: 1.0}) if pick else {}
        return bool(used) and all((m, kind) in LABEL_FREE for m, w in used.items() if w > 0)

    picked = {kind: (selection or {}).get(kind) for kind in ("value", "churn")}
    picked = {k: p if label_free(k, p) else None for k, p in picked.items()}
    names = {kind: pick.published if pick is not None else "btyd"
             for kind, pick in picked.items()}
    what = ("BG/NBD + Gamma-Gamma" if set(names.values()) == {"btyd"}
            else f"value: {names['value']}, churn: {names['churn']} (the label-free "
                 "candidates' backtest at a shorter horizon)")
    message = (
        f"short history: {len(cutoffs)} cutoff(s) with a fully observed {horizon_days}-day "
        f"label window{span}, the models need at least {config.min_train_cutoffs} "
        f"(models.min_train_cutoffs); scoring falls back to {what}, fitted at the scoring "
        "date without labels. Add history, shorten features.horizon_days or lower "
        "min_train_cutoffs to train LightGBM."
    )
    if frame is None or not len(frame):  # nothing to fit on: predict fits BG/NBD per frame
        return FittedModels(None, None, [], "btyd", horizon_days, False, cutoffs,
                            fallback=True, message=message)
    fit = _Candidates(config, horizon_days, frame, list(frame.columns), "btyd",
                      label_free=True)
    value = fit.model("value", picked["value"], names["value"])
    churn = fit.model("churn", picked["churn"], names["churn"])
    return FittedModels(
        value, churn, [], "btyd", horizon_days, False, cutoffs, fallback=True, message=message,
        value_candidate=names["value"], churn_candidate=names["churn"],
        selection={k: v.as_dict() for k, v in picked.items() if v is not None},
    )


class _Candidates:
    """The final fit of the candidates `fit_models` publishes, on its training rows: each
    LightGBM formulation or baseline fitted once, a blend from its members. `label_free`:
    the rows have no labels, and only models.baselines.LABEL_FREE rules can be fitted."""

    def __init__(self, config: ModelConfig, horizon_days: int, train: pd.DataFrame,
                 features: list[str], objective: str, label_free: bool = False):
        self.config, self.horizon, self.train = config, horizon_days, train
        self.features, self.objective = features, objective
        self.label_free = label_free
        self.fitted: dict[tuple[str, str], object] = {}
        self.names: dict[str, str] = {}

    def _time(self) -> dict:
        """Each row's cutoff and customer: the LightGBM models stop early on the latest
        cutoffs of customers left out (models.value / models.churn)."""
        return {"cutoffs": self.train[CUTOFF].to_numpy(),
                "groups": self.train[CUSTOMER_ID].to_numpy()}

    def member(self, kind: str, name: str):
        """The fitted model of candidate `name` for target `kind`."""
        key = (kind, name)
        if key in self.fitted:
            return self.fitted[key]
        X = self.train[self.features]
        if self.label_free:
            baseline = fit_label_free(name, kind, self.horizon, self.train)
            wrapper = BaselineValue if kind == "value" else BaselineChurn
            model = wrapper(baseline, name).fit(X)
        elif name == CHURN_MODEL:
            model = make_churn_model(self.config).fit(
                X, self.train[LABEL_CHURNED].astype(int).to_numpy(), **self._time())
        elif name.startswith("lgbm_"):
            model = make_value_model(self.config, name.removeprefix("lgbm_")).fit(
                X, self.train[LABEL_SPEND].to_numpy(float), **self._time())
        else:
            baseline = fit_baseline(name, kind, self.horizon, self.train,
                                    self.train[LABEL_SPEND], self.train[LABEL_CHURNED])
            wrapper = BaselineValue if kind == "value" else BaselineChurn
            model = wrapper(baseline, name).fit(X)
        self.fitted[key] = model
        return model

    def model(self, kind: str, pick: Selection | None, name: str):
        """What publishes `kind`: candidate `name`, or the blend of `pick`'s weights."""
        self.names[kind] = name
        if name != BLEND:
            return self.member(kind, name)
        used = {m: w for m, w in pick.weights.items() if w > 0}
        members = [self.member(kind, m) for m in used]
        X = self.train[self.features]
        means = [float(np.mean(m.predict(X) if kind == "value" else m.predict_proba(X)[:, 1]))
                 for m in members]
        shares = [w * abs(mean) for w, mean in zip(used.values(), means)]
        if self.label_free and kind == "value":  # weights of another horizon (Blend docs)
            return Blend(members, list(used.values()), list(used), kind, shares,
                         scale_free=True).fit(X)
        return Blend(members, list(used.values()), list(used), kind, shares).fit()


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
    current = frame[txn_spend_in(w)].fillna(0).clip(lower=0).to_numpy(float)
    return churn * current * horizon_days / w


def predict(
    fitted: FittedModels, frame: pd.DataFrame, augmented: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Scores of every row of a features frame (with `as_of` or `cutoff`).

    Returns, on the frame's index: customer_id, expected_value (spend over the horizon),
    churn_probability (no order over the horizon), and value_at_risk (see `value_at_risk`).
    Each row's scores depend on that row alone (the BTYD step uses its stored parameters),
    except for the BTYD fallback, fitted on `frame`'s rows at its date. `augmented` is
    `fitted.augment(frame)` when the caller has it already (the BTYD step then runs once).
    """
    if fitted.fallback and fitted.value is None:
        btyd = btyd_predictions(frame, fitted.horizon_days)
        value, churn = btyd["expected_spend"].to_numpy(), btyd["prob_no_purchase"].to_numpy()
    elif fitted.fallback:  # label-free rules: they read the whole frame, fit BTYD on its rows
        value = fitted.value.predict(frame)
        churn = fitted.churn.predict_proba(frame)[:, 1]
    else:
        augmented = fitted.augment(frame) if augmented is None else augmented
        value = fitted.value.predict(augmented[fitted.features])
        X = (augmented[fitted.features] if fitted.churn_input is None
             else fitted.churn_input.prepare(augmented))
        churn = fitted.churn.predict_proba(X)[:, 1]
    return pd.DataFrame(
        {
            CUSTOMER_ID: frame[CUSTOMER_ID].to_numpy() if CUSTOMER_ID in frame else frame.index,
            EXPECTED_VALUE: np.asarray(value, dtype=float),
            CHURN_PROBABILITY: np.asarray(churn, dtype=float),
            VALUE_AT_RISK: value_at_risk(churn, frame, fitted.horizon_days, value),
        },
        index=frame.index,
    )

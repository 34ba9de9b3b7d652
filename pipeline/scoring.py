"""Pure pieces of the score stage: model stamps, the scores table, who gets reasons.

No file or MLflow I/O: the score stage reads the features and models, calls these and
writes the result.

A stamp says which models scored: {"value": version, "value_run_id": run, "churn": version,
"churn_run_id": run} (`make_stamp`); each model has its own version and run, since the value
and churn champions can come from different training runs. The scores table carries them as
VALUE_VERSION, VALUE_RUN_ID, CHURN_VERSION and CHURN_RUN_ID (models.columns; STAMP_COLUMNS
maps the stamp's keys to them).
"""

import math

import pandas as pd

from features.contract import AS_OF, CUSTOMER_ID, HORIZON_DAYS
from features.names import CTC_DAYS_SINCE_LAST_CONTACT, TXN_DAYS_SINCE_LAST_ORDER
from models.columns import (
    CHURN_PROBABILITY,
    CHURN_RUN_ID,
    CHURN_VERSION,
    EXPECTED_VALUE,
    GAIN_COLUMNS,
    LAST_CONTACT_DATE,
    LAST_ORDER_DATE,
    REASONS,
    RUN_ID,
    VALUE_AT_RISK,
    VALUE_RUN_ID,
    VALUE_VERSION,
)
from models.manager_effect import ManagerEffect, account_gains
from models.reasons import explain, explainable
from models.selection import beats
from models.training import FittedModels
from pipeline.errors import ConfigError, DataError

__all__ = [
    "COLUMNS",
    "FALLBACK_VERSION",
    "STAMP_COLUMNS",
    "add_reasons",
    "artifact_stamp",
    "baseline_warnings",
    "check_horizon",
    "effective_stamp",
    "finish",
    "in_sample_warning",
    "make_stamp",
    "reason_rows",
    "score_table",
]

# stamp key -> scores column (a run id's key is its column's name)
STAMP_COLUMNS = {"value": VALUE_VERSION, VALUE_RUN_ID: VALUE_RUN_ID,
                 "churn": CHURN_VERSION, CHURN_RUN_ID: CHURN_RUN_ID}
COLUMNS = [CUSTOMER_ID, AS_OF, HORIZON_DAYS, EXPECTED_VALUE, CHURN_PROBABILITY, VALUE_AT_RISK,
           LAST_ORDER_DATE, LAST_CONTACT_DATE, VALUE_VERSION, VALUE_RUN_ID, CHURN_VERSION,
           CHURN_RUN_ID, REASONS, *GAIN_COLUMNS]
FALLBACK_VERSION = "{}-fallback"  # a short history's version: what published, e.g. "btyd-fallback"
# scores column -> feature holding the days since that event at the as-of date
_SINCE = ((LAST_ORDER_DATE, TXN_DAYS_SINCE_LAST_ORDER),
          (LAST_CONTACT_DATE, CTC_DAYS_SINCE_LAST_CONTACT))


def make_stamp(value_version, value_run_id, churn_version, churn_run_id) -> dict:
    """The stamp of the models that score: each model's version and run id (as strings)."""
    return {"value": str(value_version), VALUE_RUN_ID: str(value_run_id),
            "churn": str(churn_version), CHURN_RUN_ID: str(churn_run_id)}


def artifact_stamp(info: dict) -> dict:
    """The stamp (see `make_stamp`) of the train stage's models from its model_info.json: the
    registered version of each model ("unregistered" when it was not registered); both were
    trained in the one run of model_info.json, so both run ids are that run's."""
    models = info.get("models", {})
    value, churn = (models.get(kind, {}).get("version", "unregistered")
                    for kind in ("value", "churn"))
    return make_stamp(value, info[RUN_ID], churn, info[RUN_ID])


def baseline_warnings(info: dict) -> list[str]:
    """One warning per model of model_info.json that lost to the best baseline on its
    backtest gate metric (models.selection.beats): only a forced candidate can
    (configs/model.yaml selection.publish: lgbm), and a user should know that a simple rule
    ranked better."""
    warnings = []
    for kind, m in info.get("models", {}).items():
        new, base = m.get("backtest_value"), m.get("baseline_value")
        if new is None or base is None or not (math.isfinite(new) and math.isfinite(base)):
            continue  # no baseline to lose to (or the published model is the best baseline)
        if beats(base, new, m.get("metric", ""), 0.0):
            warnings.append(
                f"the {kind} model v{m.get('version')} does not beat the best baseline "
                f"{m.get('best_baseline')} on the backtest ({m.get('metric')} {new:.4f} vs "
                f"{base:.4f}); its scores are published because configs/model.yaml "
                "selection.publish forces it: see reports/backtest/report.md, or set it back "
                "to best"
            )
    return warnings


def check_horizon(trained_at: int | str, horizon: int, model: str, retrain: str) -> None:
    """ConfigError unless `model` (e.g. "champion customer-value v3", or the path of the
    artifacts) was trained at `horizon` days, features.horizon_days: a model's predictions
    are over the horizon it was trained at. The one horizon check of every model the score
    stage loads, whatever its source; `retrain` is that source's other fix ("re-run
    `keyaccounts train`")."""
    if str(trained_at) != str(int(horizon)):
        raise ConfigError(
            f"{model} was trained at horizon {trained_at} days but features.horizon_days is "
            f"{horizon}: set features.horizon_days back to {trained_at} in "
            f"configs/features.yaml, or {retrain}")


def effective_stamp(fitted: FittedModels, stamp: dict) -> dict:
    """`stamp` with each version set to FALLBACK_VERSION of what publishes it when `fitted`
    is the short-history fallback ("btyd-fallback", "blend-fallback", "pnbd-fallback"; the run
    ids stay: the run that found the history too short)."""
    if fitted.fallback:
        value = getattr(fitted, "value_candidate", "") or "btyd"
        churn = getattr(fitted, "churn_candidate", "") or "btyd"
        return {**stamp, "value": FALLBACK_VERSION.format(value),
                "churn": FALLBACK_VERSION.format(churn)}
    return stamp


def in_sample_warning(fitted: FittedModels, as_of, horizon: int) -> str | None:
    """A warning when the models learnt from labels past `as_of`: they were trained on
    cutoffs whose label windows ((cutoff, cutoff + horizon]) run after it, so checking these
    scores against what happened after `as_of` would grade the models on data they saw."""
    if fitted.fallback or not fitted.train_cutoffs:
        return None
    labels_end = max(pd.Timestamp(c) for c in fitted.train_cutoffs) + pd.Timedelta(days=horizon)
    if pd.Timestamp(as_of) >= labels_end:
        return None
    return (
        f"the models learnt from orders up to {labels_end.date()}, after the as-of date "
        f"{pd.Timestamp(as_of).date()}: these scores are in-sample. To check a past date "
        "against what happened after, set as_of in configs/features.yaml and re-run the "
        "pipeline (dvc repro), which trains only on labels that end by that date"
    )


def score_table(frame: pd.DataFrame, fitted: FittedModels, horizon: int,
                stamp: dict, effect: ManagerEffect | None = None
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scores, prepared): one row per row of `frame` (same index), reasons still "".

    expected_value, churn_probability and value_at_risk come from `fitted`
    (models.training.predict; value_at_risk: churn x current spend run-rate), each row's
    from that row alone; last_order_date / last_contact_date are the as-of date minus the
    days-since features (NaT without them); versions and run ids come from `stamp` (see
    `make_stamp`, `effective_stamp`); the manager's gain, its interval, the propensity, the
    overlap flag and the note come from `effect` (models.manager_effect.account_gains: empty
    with the reason when there is no estimate, e.g. `effect` None). `prepared` is `frame`
    with the BTYD columns of the models' stored parameters (`fitted.augment`), for the
    reasons."""
    prepared = fitted.augment(frame)
    scored = fitted.predict(frame, augmented=prepared)
    as_of_day = pd.Timestamp(frame[AS_OF].iloc[0])
    out = pd.DataFrame({CUSTOMER_ID: frame[CUSTOMER_ID].astype("str"), AS_OF: as_of_day,
                        HORIZON_DAYS: horizon, EXPECTED_VALUE: scored[EXPECTED_VALUE],
                        CHURN_PROBABILITY: scored[CHURN_PROBABILITY]}, index=frame.index)
    out[VALUE_AT_RISK] = scored[VALUE_AT_RISK]
    for column, days in _SINCE:
        since = frame[days] if days in frame else pd.Series(float("nan"), index=frame.index)
        out[column] = as_of_day - pd.to_timedelta(since, unit="D")
    for key, column in STAMP_COLUMNS.items():
        out[column] = str(stamp[key])
    out[REASONS] = ""
    gains = account_gains(effect, frame)
    for column in GAIN_COLUMNS:
        out[column] = gains[column]
    return out, prepared


def reason_rows(scores: pd.DataFrame, top_value: int | None, top_risk: int | None) -> pd.Index:
    """Index of the rows that get reasons: every row when either cap is None (the default:
    every account of the managers' lists, whatever its tier, has its "why"); else the
    `top_value` largest expected values and the `top_risk` largest values at risk (their
    union), a cap for very large customer bases."""
    if top_value is None or top_risk is None:
        return scores.index
    return scores[EXPECTED_VALUE].nlargest(top_value).index.union(
        scores[VALUE_AT_RISK].nlargest(top_risk).index)


def add_reasons(scores: pd.DataFrame, prepared: pd.DataFrame, fitted: FittedModels,
                rows: pd.Index, top_k: int, references: dict | None = None) -> pd.DataFrame:
    """`scores` with the "reasons" of `rows` filled in (models.reasons.explain, up to `top_k`
    facts per section, the whole scored frame as the reference for "typical", the scores'
    churn_probability deciding who gets a churn section); unchanged for the BTYD fallback or
    no rows. `prepared` is score_table's. A churn model with an input of its own (a champion
    of another run, see FittedModels.churn_input) is explained on that input, its section
    appended to the value model's. A model is explained through models.reasons.explainable
    (a blend by its main LightGBM member; a baseline not at all). `references`
    ({"value": ..., "churn": ...}, models.reasons.reference_columns of the explained inputs
    of every customer) replaces `prepared` as the reference of "typical": the Dask engine's
    partitions are explained against the whole base."""
    if fitted.fallback or not len(rows):
        return scores
    value_model, churn_model = explainable(fitted.value), explainable(fitted.churn)
    if value_model is None and churn_model is None:  # baselines: rules, not models to explain
        return scores
    churn_p = scores[CHURN_PROBABILITY]
    if fitted.churn_input is None:
        reasons = explain(prepared[fitted.features], value_model, churn_model, rows=rows,
                          top_k=top_k, churn_probability=churn_p,
                          references=references and references["value"])[REASONS]
    else:
        value = explain(prepared[fitted.features], value_model, None, rows=rows, top_k=top_k,
                        references=references and references["value"])
        churn = explain(fitted.churn_input.prepare(prepared), None, churn_model, rows=rows,
                        top_k=top_k, churn_probability=churn_p,
                        references=references and references["churn"])
        reasons = (value[REASONS] + " " + churn[REASONS]).str.strip()
    scores = scores.copy()
    scores.loc[rows, REASONS] = reasons
    return scores


def finish(scores: pd.DataFrame) -> pd.DataFrame:
    """The scores in COLUMNS order with a fresh index; a customer twice is a DataError."""
    out = scores[COLUMNS].reset_index(drop=True)
    if out[CUSTOMER_ID].duplicated().any():
        raise DataError("the scoring frame holds a customer twice: re-run `keyaccounts features`")
    return out

"""`keyaccounts score`: features at the as-of date and trained models in; one row per customer out.

The as-of date is `main(as_of=)` (CLI --as-of), else configs/features.yaml as_of, else the
scoring frame's (the end of the data). When it differs from paths.features_dir/
scoring_frame.parquet's, the features are rebuilt at that date from the validated tables
(only rows dated on or before it are read), so any past date can be scored and checked
against what happened after.

Models (configs/pipeline.yaml score.model_source): "artifacts" (default) = the models the
train stage of this run wrote to paths.artifacts_dir, stamped with the versions they were
registered as (model_info.json); "champion" = the registry's models:/<name>@champion. Without
trained models (short history) the BTYD fallback of models.training scores.

Writes paths.scores_dir/scores.parquet and scores.csv: customer_id (as in the input), as_of,
horizon_days, expected_value (spend over the horizon), churn_probability (no order over the
horizon), value_at_risk = expected_value x churn_probability (the expected spend weighted by
the risk of losing the customer; a ranking of who is worth saving), last_order_date,
last_contact_date, value_model_version, churn_model_version, run_id, and reasons for the
top accounts by expected value and by value at risk (score.reasons_top_*; "" otherwise).
"""

import joblib
import pandas as pd

import features
from features.contract import AS_OF, CUSTOMER_ID, HORIZON_DAYS
from models.baselines import BTYD_EXPECTED_SPEND
from models.reasons import explain
from models.training import FittedModels, prepare_frame
from pipeline.config import Settings
from pipeline.errors import DataError
from pipeline.progress import logger, step
from pipeline.stages.features import load_tables
from pipeline.stages.train import FITTED_MODELS, MODEL_INFO
from pipeline.storage import read_json, read_table, write_table

__all__ = ["COLUMNS", "main", "load_champion"]

COLUMNS = [CUSTOMER_ID, AS_OF, HORIZON_DAYS, "expected_value", "churn_probability", "value_at_risk",
           "last_order_date", "last_contact_date", "value_model_version", "churn_model_version",
           "run_id", "reasons"]


def load_champion(settings: Settings, horizon: int) -> tuple[FittedModels, dict]:
    """The registry's champions as FittedModels, with their versions and run id."""
    from pipeline import tracking

    track = settings.pipeline.tracking
    tracking.configure(track, settings.root)
    import mlflow

    client, found = mlflow.MlflowClient(), {}
    for kind, name in (("value", track.value_model_name), ("churn", track.churn_model_name)):
        version = client.get_model_version_by_alias(name, track.champion_alias)
        serving = mlflow.sklearn.load_model(f"models:/{name}@{track.champion_alias}")
        found[kind] = (serving.model, version)
    value, churn = found["value"][0], found["churn"][0]
    names = [str(n) for n in value.feature_names_in_]
    fitted = FittedModels(value, churn, names, value.objective, horizon,
                          BTYD_EXPECTED_SPEND in names)
    stamp = {"value": found["value"][1].version, "churn": found["churn"][1].version,
             "run_id": found["value"][1].run_id}
    return fitted, stamp


def _frame(settings: Settings, as_of) -> pd.DataFrame:
    paths = settings.pipeline.paths
    frame = read_table(settings.path(paths.features_dir) / "scoring_frame.parquet", "features")
    wanted = as_of if as_of is not None else settings.features.as_of
    if wanted is None or pd.Timestamp(wanted) == pd.Timestamp(frame[AS_OF].iloc[0]):
        return frame
    with step(f"score: rebuilding features at {pd.Timestamp(wanted).date()}"):
        tables = load_tables(settings.path(paths.validated_dir))
        if pd.Timestamp(wanted) < tables.transactions["order_date"].min():
            raise DataError(f"as_of {wanted} is before the first order: nothing to score")
        return features.build(tables, pd.Timestamp(wanted), settings.features)


def main(settings: Settings, as_of=None, **overrides) -> None:
    """Score every customer known at the as-of date and write scores.parquet/.csv."""
    paths, horizon = settings.pipeline.paths, settings.features.horizon_days
    artifacts = settings.path(paths.artifacts_dir)
    frame = _frame(settings, as_of)
    if settings.pipeline.score.model_source == "champion":
        fitted, stamp = load_champion(settings, horizon)
    else:
        if not (artifacts / FITTED_MODELS).exists():
            raise DataError(f"{artifacts / FITTED_MODELS} not found: run `keyaccounts train` first")
        fitted = joblib.load(artifacts / FITTED_MODELS)
        info = read_json(artifacts / MODEL_INFO, "train")
        models = info.get("models", {})
        stamp = {kind: models.get(kind, {}).get("version", "unregistered")
                 for kind in ("value", "churn")} | {"run_id": info["run_id"]}
    if fitted.fallback:
        stamp = {**stamp, "value": "btyd-fallback", "churn": "btyd-fallback"}
        logger.info("score: %s", fitted.message)
    with step(f"score: {len(frame):,} customers at {pd.Timestamp(frame[AS_OF].iloc[0]).date()}"):
        prepared = prepare_frame(frame, _config(fitted), horizon)
        scored = fitted.predict(prepared)
    as_of_day = pd.Timestamp(frame[AS_OF].iloc[0])
    out = pd.DataFrame({CUSTOMER_ID: frame[CUSTOMER_ID].astype("str"), AS_OF: as_of_day,
                        HORIZON_DAYS: horizon, "expected_value": scored["expected_value"],
                        "churn_probability": scored["churn_probability"]}, index=frame.index)
    out["value_at_risk"] = out["expected_value"] * out["churn_probability"]
    for column, days in (("last_order_date", "txn_days_since_last_order"),
                         ("last_contact_date", "ctc_days_since_last_contact")):
        since = frame[days] if days in frame else pd.Series(float("nan"), index=frame.index)
        out[column] = as_of_day - pd.to_timedelta(since, unit="D")
    out["value_model_version"] = str(stamp["value"])
    out["churn_model_version"] = str(stamp["churn"])
    out["run_id"], out["reasons"] = str(stamp["run_id"]), ""
    config = settings.pipeline.score
    needs = out["expected_value"].nlargest(config.reasons_top_value).index.union(
        out["value_at_risk"].nlargest(config.reasons_top_risk).index)
    if not fitted.fallback and len(needs):
        with step(f"score: reasons for {len(needs):,} accounts"):
            reasons = explain(prepared[fitted.features], fitted.value, fitted.churn, rows=needs,
                              top_k=settings.model.reasons.top_k)
            out.loc[needs, "reasons"] = reasons["reasons"]
    out = out[COLUMNS].reset_index(drop=True)
    if out[CUSTOMER_ID].duplicated().any():
        raise DataError("the scoring frame holds a customer twice: re-run `keyaccounts features`")
    scores_dir = settings.path(paths.scores_dir)
    write_table(out, scores_dir / "scores.parquet")
    write_table(out, scores_dir / "scores.csv")
    logger.info("score: %d customers, value v%s, churn v%s, run %s -> %s", len(out),
                stamp["value"], stamp["churn"], stamp["run_id"], scores_dir)


def _config(fitted: FittedModels):
    from models.config import ModelConfig

    return ModelConfig(btyd_features=fitted.btyd_features)

"""The stages on the Dask engine (configs/pipeline.yaml `engine: dask`): partition, features,
score, and the collected score columns of the tier stage. Each opens the cluster of
pipeline.yaml `dask`, runs one task per partition and writes under dask.data_url; what the
stages on one machine read (the train stage's sample, the BTYD population, the summary)
goes to the usual folders."""

from pathlib import Path

import pandas as pd

import features
from features.contract import AS_OF, CUSTOMER_ID, TABLES
from models.btyd import AGE, FREQUENCY, MONETARY, RECENCY
from models.columns import REASONS
from pipeline import scoring
from pipeline.config import Settings
from pipeline.dask_engine import features as dask_features
from pipeline.dask_engine import scoring as dask_scoring
from pipeline.dask_engine.cluster import dask_client
from pipeline.dask_engine.layout import Layout, write_partitions
from pipeline.errors import DataError
from pipeline.features_io import features_summary, write_outputs
from pipeline.files import (
    BACKTEST_PARTS,
    BTYD_POPULATION,
    SCORING_PARTS,
    TRAINING_PARTS,
    table_file,
)
from pipeline.progress import logger, step
from pipeline.storage import write_table

__all__ = ["collected_scores", "features_stage", "partition_stage", "score_stage"]


def _url(settings: Settings) -> str:
    url = settings.pipeline.dask.data_url
    return url if "://" in url else str(settings.path(Path(url)))


def partition_stage(settings: Settings) -> dict:
    """`keyaccounts partition`: the validated tables split into dask.partitions hash
    partitions of customer_id under dask.data_url."""
    validated = settings.path(settings.pipeline.paths.validated_dir)
    sources = {t: str(validated / table_file(t)) for t in TABLES
               if (validated / table_file(t)).exists()}
    n = settings.pipeline.dask.partitions
    with step(f"partition: {', '.join(sources)} into {n} partitions by customer"):
        manifest = write_partitions(sources, _url(settings), n)
    logger.info("partition: %s rows -> %s", manifest["rows"], _url(settings))
    return manifest


def features_stage(settings: Settings, config) -> dict:
    """The features of every partition (dask_engine.features), the train stage's sample
    (training set, backtest set and scoring frame of the customers of the first partitions,
    dask.train_sample_customers) and every customer's BTYD summary columns to
    paths.features_dir."""
    url, dask = _url(settings), settings.pipeline.dask
    manifest = Layout(url).manifest()
    n, tables = manifest["partitions"], tuple(manifest["tables"])
    out_dir = settings.path(settings.pipeline.paths.features_dir)
    with dask_client(dask) as client:
        span = dask_features.data_span(client, url, n, tables)
        plan = dask_features.global_plan(span, config, settings.model.min_train_cutoffs)
        for warning in features.coverage_warnings(dask_features.span_tables(span), plan.as_of):
            logger.warning("features: %s", warning)
        if plan.short_history:
            logger.warning("features: %s", plan.short_history)
        last = plan.cutoffs[-1] if plan.cutoffs else plan.as_of
        count = sum(client.gather(client.map(dask_features.customers_with_orders,
                                             [url] * n, range(n), [last] * n)))
        if count < config.min_customers:
            raise DataError(f"only {count} customers have an order on or before {last.date()}, "
                            f"fewer than min_customers {config.min_customers}")
        with step(f"features: {n} partitions, {len(plan.cutoffs)} training cutoffs and the "
                  f"scoring frame at {plan.as_of.date()} on dask"):
            futures = client.map(dask_features.build_partition, [url] * n, range(n),
                                 [tables] * n, [plan] * n, [config] * n, [span.levels] * n,
                                 pure=False)
            parts = client.gather(futures)
    scoring_counts = [p["scoring_rows"] for p in sorted(parts, key=lambda p: p["partition"])]
    sample = dask_features.sample_partitions(scoring_counts, dask.train_sample_customers)
    with step(f"features: the train stage's sample, partitions 0-{sample[-1]}"):
        training = dask_features.collect(url, TRAINING_PARTS, sample)
        scoring_frame = dask_features.collect(url, SCORING_PARTS, sample)
        backtest = (dask_features.collect(url, BACKTEST_PARTS, sample)
                    if any(p["backtest_rows"] for p in parts) else None)
        btyd = [c for c in (FREQUENCY, RECENCY, AGE, MONETARY) if c in scoring_frame]
        population = dask_features.collect(url, SCORING_PARTS, list(range(n)),
                                           [CUSTOMER_ID, AS_OF, *btyd])
    summary = features_summary(training, scoring_frame, plan.cutoffs, plan.as_of, plan,
                               config.horizon_days)
    summary |= {"engine": "dask", "partitions": n,
                "training_rows_all": sum(p["training_rows"] for p in parts),
                "scoring_rows_all": sum(scoring_counts),
                "sample_partitions": len(sample), "sample_customers": len(scoring_frame)}
    write_outputs(out_dir, training, scoring_frame, features.catalogue_markdown(config),
                  summary, backtest)
    write_table(population, out_dir / BTYD_POPULATION)
    logger.info("features: %d training rows over %d customers on dask (%d in the train "
                "stage's sample) -> %s", summary["training_rows_all"], sum(scoring_counts),
                len(scoring_frame), url)
    return summary


def score_stage(settings: Settings, fitted, stamp: dict, horizon: int, effect=None) -> dict:
    """Scores and reasons of every partition (dask_engine.scoring) under dask.data_url;
    `effect` is the train stage's manager effect (None: not estimated)."""
    url, config = _url(settings), settings.pipeline.score
    n = Layout(url).manifest()["partitions"]
    parts = list(range(n))
    with dask_client(settings.pipeline.dask) as client:
        fitted_remote = client.scatter(fitted, broadcast=True)
        with step(f"score: {n} partitions on dask"):
            done = client.gather(client.map(dask_scoring.score_partition, [url] * n, parts,
                                            [fitted_remote] * n, [horizon] * n, [stamp] * n,
                                            [effect] * n, pure=False))
        rows = sum(d["rows"] for d in done)
        explained = 0
        if not fitted.fallback:
            ids = dask_scoring.reason_ids(url, parts, config.reasons_top_value,
                                          config.reasons_top_risk)
            with step(f"score: reasons for {rows if ids is None else len(ids):,} accounts"):
                references = dask_scoring.global_references(url, parts, fitted)
                refs = client.scatter(references, broadcast=True)
                ids_remote = client.scatter(ids, broadcast=True)
                result = client.gather(client.map(
                    dask_scoring.explain_partition, [url] * n, parts, [fitted_remote] * n,
                    [ids_remote] * n, [refs] * n, [settings.model.reasons.top_k] * n,
                    pure=False))
                explained = sum(r["explained"] for r in result)
    logger.info("score: %d customers in %d partitions, %d with reasons -> %s", rows, n,
                explained, url)
    return {"rows": rows, "explained": explained}


def collected_scores(settings: Settings) -> pd.DataFrame:
    """The score columns of every customer, without the reasons (what tiering needs),
    collected from the partitions to this process."""
    url = _url(settings)
    n = Layout(url).manifest()["partitions"]
    columns = [c for c in scoring.COLUMNS if c != REASONS]
    scores = dask_scoring.collect_scores(url, list(range(n)), columns)
    if scores[CUSTOMER_ID].duplicated().any():
        raise DataError(f"{url}: a customer is in two partitions: re-run `keyaccounts "
                        "partition` and the stages after it")
    return scores



"""`keyaccounts features`: validated Parquet in; training set, scoring frame and catalogue out.

Reads paths.validated_dir/<table>.parquet (transactions required, the other tables used when
present), stacks features and labels over the training cutoffs, builds the scoring frame at
the latest as-of (configs/features.yaml as_of, else the end of the data) and writes
training_set.parquet, scoring_frame.parquet, feature_catalogue.md and features_summary.json
to paths.features_dir. A history too short for one label window, or for a backtest fold,
is said in one warning and does not stop the stage: the training set is then empty (or short)
and the train stage falls back to the BTYD models, and the backtest gets its own training set
at the longest shorter horizon that has a fold (features_io.BACKTEST_SET). Stops with
`DataError` when fewer than features.yaml min_customers customers have an order by the last
training cutoff (the scoring date without one). File I/O lives in `pipeline.features_io`, the
features in `features`.
"""

import features
from pipeline.config import Settings
from pipeline.errors import DataError
from pipeline.features_io import (
    features_summary,
    load_tables,
    plan_cutoffs,
    require_customers,
    write_outputs,
)
from pipeline.progress import logger, step, track

__all__ = ["main"]


def main(settings: Settings, **overrides) -> None:
    """Build and write the features of the training cutoffs and of the scoring date."""
    config = settings.features.model_copy(update=overrides) if overrides else settings.features
    if settings.pipeline.engine == "dask":  # the same features per partition on a cluster
        from pipeline.dask_engine.run import features_stage

        features_stage(settings, config)
        return
    paths = settings.pipeline.paths
    out_dir = settings.path(paths.features_dir)
    with step("features: reading validated tables"):
        tables = load_tables(settings.path(paths.validated_dir))
    plan = plan_cutoffs(tables, config, settings.model.min_train_cutoffs)
    require_customers(tables, plan.cutoffs, config, plan.as_of)
    extra = (f", {len(plan.backtest_cutoffs)} backtest cutoffs at "
             f"{plan.backtest_horizon_days} days," if plan.backtest_cutoffs else "")
    try:
        with step(
            f"features: {len(plan.cutoffs)} training cutoffs ({plan.step} apart){extra} and "
            f"the scoring frame at {plan.as_of.date()}"
        ):
            built = features.build_all(
                tables,
                plan.cutoffs,
                plan.as_of,
                config,
                backtest_horizon_days=plan.backtest_horizon_days,
                backtest_cutoffs=plan.backtest_cutoffs,
                progress=lambda c: track(c, "features: cutoff", len(c)),
            )
    except ValueError as error:
        raise DataError(str(error)) from error
    summary = features_summary(built.training, built.scoring, plan.cutoffs, plan.as_of, plan,
                               config.horizon_days)
    write_outputs(out_dir, built.training, built.scoring, features.catalogue_markdown(config),
                  summary, built.backtest)
    logger.info(
        "features: %d training rows, %d scoring rows, %d features -> %s",
        len(built.training),
        len(built.scoring),
        summary["n_features"],
        out_dir,
    )

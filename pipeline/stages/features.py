"""`keyaccounts features`: validated Parquet in; training set, scoring frame and catalogue out.

Reads paths.validated_dir/<table>.parquet (transactions required, the other tables used when
present), stacks features and labels over the training cutoffs, builds the scoring frame at
the latest as-of (configs/features.yaml as_of, else the end of the data) and writes
training_set.parquet, scoring_frame.parquet, feature_catalogue.md and features_summary.json
to paths.features_dir. Stops with `DataError` when the data is too short for one label
window, or when fewer than features.yaml min_customers customers have an order by the last
training cutoff. File I/O lives in `pipeline.features_io`, the features in `features`.
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
    paths = settings.pipeline.paths
    out_dir = settings.path(paths.features_dir)
    with step("features: reading validated tables"):
        tables = load_tables(settings.path(paths.validated_dir))
    as_of, cutoffs = plan_cutoffs(tables, config)
    require_customers(tables, cutoffs, config)
    try:
        with step(
            f"features: {len(cutoffs)} training cutoffs and the scoring frame at {as_of.date()}"
        ):
            training, scoring = features.build_datasets(
                tables,
                cutoffs,
                as_of,
                config,
                progress=lambda c: track(c, "features: cutoff", len(c)),
            )
    except ValueError as error:
        raise DataError(str(error)) from error
    summary = features_summary(training, scoring, cutoffs, as_of)
    write_outputs(out_dir, training, scoring, features.catalogue_markdown(config), summary)
    logger.info(
        "features: %d training rows, %d scoring rows, %d features -> %s",
        len(training),
        len(scoring),
        summary["n_features"],
        out_dir,
    )

"""Point-in-time customer features: pure functions, DataFrame in, DataFrame out, no I/O.

`build(tables, as_of, config)` computes the features of every customer known at `as_of`
from rows dated on or before it; `build_training_set` stacks features and labels over many
cutoffs; `build_scoring_frame` builds the latest as-of. `CATALOGUE` explains every feature.
"""

from features.builder import (
    CutoffPlan,
    Datasets,
    build,
    build_all,
    build_datasets,
    build_scoring_frame,
    build_training_set,
    coverage_warnings,
    cutoff_step,
    end_of_data,
    feature_columns,
    plan_cutoffs,
    scoring_as_of,
    training_cutoffs,
)
from features.catalogue import CATALOGUE, catalogue, catalogue_markdown, describe
from features.labels import build_labels

__all__ = [
    "CATALOGUE",
    "CutoffPlan",
    "Datasets",
    "build",
    "build_all",
    "build_datasets",
    "build_labels",
    "build_scoring_frame",
    "build_training_set",
    "catalogue",
    "catalogue_markdown",
    "describe",
    "coverage_warnings",
    "cutoff_step",
    "end_of_data",
    "feature_columns",
    "plan_cutoffs",
    "scoring_as_of",
    "training_cutoffs",
]

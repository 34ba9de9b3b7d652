"""Names of the files the stages write and read: the one place each is spelled.

The folders are configured (configs/pipeline.yaml `paths`); the names inside them are fixed
here, as dvc.yaml's `outs`, `metrics` and `plots` list them. Grouped by the stage that writes
them; the functions name the files of a family (one per table, per backtest table, per as-of).
"""

__all__ = [
    "GENERATE_MARKER", "GROUND_TRUTH", "MANAGER_TRUTH", "DEFECTS", "GENERATE_SUMMARY", "table_file",
    "VALIDATION_SUMMARY", "VALIDATION_REPORT", "DATA_DOCS",
    "TRAINING_SET", "SCORING_FRAME", "BACKTEST_SET", "FEATURE_CATALOGUE", "FEATURES_SUMMARY",
    "FITTED_MODELS", "MANAGER_EFFECT", "MODEL_INFO", "FEATURE_LIST", "DRIFT_REFERENCE", "BACKTEST_TABLES",
    "backtest_table", "SELECTION", "BACKTEST_SUMMARY_MD", "BTYD_PARAMS",
    "GAIN_CURVE", "CALIBRATION_CURVE", "importance_plot",
    "BACKTEST_METRICS", "BACKTEST_REPORT_DIR", "BACKTEST_REPORT", "GAIN_PLOT",
    "CALIBRATION_PLOT", "DECILES_PLOT", "csv_file",
    "SCORES", "SCORES_CSV", "SCORED_FRAME", "DRIFT_JSON", "DRIFT_HTML",
    "TIERS", "PREVIOUS_TIERS", "MOVEMENT", "MOVEMENT_MATRIX", "SHORTFALL", "BOOKS",
    "TIER_SUMMARY", "HISTORY", "history_file", "BOOKS_MANIFEST",
    "PARTITIONED_DIR", "PARTITIONS_MANIFEST", "partition_file", "TRAINING_PARTS",
    "SCORING_PARTS", "BACKTEST_PARTS", "SCORES_PARTS", "REASONS_INPUT_PARTS", "BTYD_POPULATION",
]

# generate: paths.raw_dir (one file per table, the marker) and paths.truth_dir
GENERATE_MARKER = "generated_by_keyaccounts.json"
GROUND_TRUTH = "ground_truth.parquet"
MANAGER_TRUTH = "manager_truth.parquet"  # with and without a manager (config manager_truth)
DEFECTS = "defects.parquet"
GENERATE_SUMMARY = "generate_summary.json"


def table_file(table: str) -> str:
    """A table's Parquet file: raw (generated), validated and quarantined ("contacts.parquet"),
    the published rows."""
    return f"{table}.parquet"


# validate: the report folder
VALIDATION_SUMMARY = "validation_summary.json"
VALIDATION_REPORT = "index.html"
DATA_DOCS = "data_docs"  # GX's Data Docs folder inside the report folder (its own index.html)

# features: paths.features_dir
TRAINING_SET = "training_set.parquet"
SCORING_FRAME = "scoring_frame.parquet"
BACKTEST_SET = "backtest_training_set.parquet"  # when the history is too short at horizon_days
FEATURE_CATALOGUE = "feature_catalogue.md"  # also an MLflow artifact of the training run
FEATURES_SUMMARY = "features_summary.json"

# train: paths.artifacts_dir (read by evaluate, score and guard)
FITTED_MODELS = "fitted_models.joblib"
MANAGER_EFFECT = "manager_effect.joblib"  # models.manager_effect.ManagerEffect (DR-learner)
MODEL_INFO = "model_info.json"
FEATURE_LIST = "features.json"
DRIFT_REFERENCE = "drift_reference.json"  # also the MLflow artifact of the training run
BACKTEST_TABLES = ("metrics", "summary", "grades", "predictions")


def backtest_table(name: str) -> str:
    """The train stage's backtest table `name` (BACKTEST_TABLES): "backtest_summary.parquet"."""
    return f"backtest_{name}.parquet"


# train: MLflow artifacts of the training run
SELECTION = "selection.json"
BACKTEST_SUMMARY_MD = "backtest_summary.md"
BTYD_PARAMS = "btyd_params.json"
GAIN_CURVE = "gain_curve.png"
CALIBRATION_CURVE = "calibration_curve.png"  # and DECILES_PLOT, as evaluate draws it


def importance_plot(kind: str) -> str:
    """The feature importance plot of the `kind` ("value", "churn") model."""
    return f"importance_{kind}.png"


# evaluate: paths.metrics_dir, paths.reports_dir/backtest, paths.plots_dir
BACKTEST_METRICS = "backtest.json"
BACKTEST_REPORT_DIR = "backtest"
BACKTEST_REPORT = "report.md"
GAIN_PLOT = "gain.png"
CALIBRATION_PLOT = "calibration.png"
DECILES_PLOT = "deciles.png"


def csv_file(name: str) -> str:
    """A table's CSV file: the data of a `dvc plots` image ("gain.csv"), the published rows."""
    return f"{name}.csv"


# score: paths.scores_dir; guard: guard.report_dir
SCORES = "scores.parquet"
SCORES_CSV = "scores.csv"
SCORED_FRAME = "scored_frame.parquet"  # the features the score stage scored, for the guard
DRIFT_JSON = "drift.json"
DRIFT_HTML = "drift.html"

# tier: paths.tiers_dir
TIERS = "tiers.parquet"
PREVIOUS_TIERS = "previous_tiers.parquet"
MOVEMENT = "movement.parquet"
MOVEMENT_MATRIX = "movement_matrix.parquet"
SHORTFALL = "shortfall.parquet"
BOOKS = "books.parquet"
TIER_SUMMARY = "tier_summary.json"
HISTORY = "history"  # the folder of one tiers file per as-of (`history_file`)


def history_file(stamp: str) -> str:
    """The tiers of one as-of in HISTORY: "tiers_<YYYY-MM-DD>[_<run>].parquet" ("*": a glob)."""
    return f"tiers_{stamp}.parquet"


# publish: the books folder's manifest
BOOKS_MANIFEST = "books.csv"


# engine: dask, under pipeline.yaml dask.data_url (pipeline.dask_engine)
PARTITIONED_DIR = "partitioned"  # partition: <table>/part-<k>.parquet, managers.parquet
PARTITIONS_MANIFEST = "partitions.json"  # partitions, tables and rows of the partitioning
TRAINING_PARTS = "training_set"  # features: one training-set file per partition
SCORING_PARTS = "scoring_frame"  # features: one scoring-frame file per partition
BACKTEST_PARTS = "backtest_training_set"  # features: the shorter horizon's, when there is one
SCORES_PARTS = "partition_scores"  # score: one scores file per partition
REASONS_INPUT_PARTS = "reasons_input"  # score: the explained features, for the reference
# features (engine dask), in paths.features_dir: every customer's BTYD summary columns at the
# scoring date, what the train stage fits the BTYD step on
BTYD_POPULATION = "btyd_population.parquet"


def partition_file(k: int) -> str:
    """The file of partition k in a partitioned dataset: "part-00007.parquet"."""
    return f"part-{int(k):05d}.parquet"

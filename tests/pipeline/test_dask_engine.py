"""Parity of the Dask engine with the local engine on a LocalCluster (a few thousand
customers of the generator): the same features exactly, the same scores within 1e-9
(relative) and the same reasons, the same tiers' inputs; and the partitioned layout."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import features
from features.contract import CONTACTS, CUSTOMER_ID, CUSTOMERS, CUTOFF, TRANSACTIONS
from models.columns import CHURN_PROBABILITY, EXPECTED_VALUE, REASONS, VALUE_AT_RISK
from models.training import fit_models
from pipeline import scoring
from pipeline.config import load_settings
from pipeline.dask_engine import run
from pipeline.dask_engine.features import collect
from pipeline.dask_engine.layout import Layout, partition_of
from pipeline.dask_engine.scoring import collect_scores
from pipeline.features_io import load_tables, plan_cutoffs
from pipeline.files import (
    BACKTEST_PARTS,
    BTYD_POPULATION,
    PARTITIONED_DIR,
    SCORING_PARTS,
    TRAINING_PARTS,
    partition_file,
    table_file,
)
from pipeline.storage import read_table
from tests.integration.small_project import edit_yaml

REPO = Path(__file__).resolve().parents[2]
N_CUSTOMERS, N_PARTITIONS = 3000, 6
SCORE_RTOL = 1e-9  # the stated tolerance of the scores (they come out equal in practice)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """Generated tables typed as validated ones, configs with engine: dask (2 workers)."""
    from pipeline.synthetic import write_dataset

    root = tmp_path_factory.mktemp("dask_project")
    shutil.copytree(REPO / "configs", root / "configs")
    edit_yaml(root / "configs" / "pipeline.yaml", {
        "engine": "dask", "dask.partitions": N_PARTITIONS, "dask.n_workers": 2,
        "dask.memory_limit": "1GiB", "dask.train_sample_customers": 1000,
        "score.reasons_top_value": 150, "score.reasons_top_risk": 150})
    edit_yaml(root / "configs" / "features.yaml", {"n_cutoffs": 6})
    settings = load_settings(root / "configs")
    config = settings.generate.model_copy(update={
        "n_customers": N_CUSTOMERS, "truth_months": 0, "truth_n_sims": 2, "chunk_size": 1000})
    write_dataset(config, root / "raw", root / "truth")
    validated = root / "data" / "validated"
    validated.mkdir(parents=True)
    for table in (TRANSACTIONS, CONTACTS, CUSTOMERS, "managers"):
        frame = pd.read_parquet(root / "raw" / table_file(table))
        for column in frame.columns:
            if column.endswith("_date"):
                frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
        frame.to_parquet(validated / table_file(table), index=False)
    return root


@pytest.fixture(scope="module")
def both(project):
    """The local engine's datasets, and the Dask engine's after partition + features."""
    settings = load_settings(project / "configs")
    tables = load_tables(settings.path(settings.pipeline.paths.validated_dir))
    plan = plan_cutoffs(tables, settings.features, settings.model.min_train_cutoffs)
    local = features.build_all(tables, plan.cutoffs, plan.as_of, settings.features,
                               backtest_horizon_days=plan.backtest_horizon_days,
                               backtest_cutoffs=plan.backtest_cutoffs)
    run.partition_stage(settings)
    summary = run.features_stage(settings, settings.features)
    return settings, tables, plan, local, summary


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = [CUSTOMER_ID, CUTOFF] if CUTOFF in frame else [CUSTOMER_ID]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def _url(settings) -> str:
    return str(settings.path(Path(settings.pipeline.dask.data_url)))


def test_partition_of_is_stable_and_in_range():
    ids = pd.Series(["C0000001", "C0000002", "00042", "x"])
    parts = partition_of(ids, 7)
    assert parts.tolist() == partition_of(ids.tolist(), 7).tolist()  # list or Series alike
    assert ((parts >= 0) & (parts < 7)).all()
    # SipHash with pandas' fixed key: pinned, so a layout written today reads tomorrow
    assert partition_of(["C0000001", "00042"], 1000).tolist() == [956, 875]


def test_every_customer_in_one_partition_with_all_its_rows_in_order(both):
    settings, tables, *_ = both
    layout = Layout(_url(settings))
    parts = []
    for k in range(N_PARTITIONS):
        frame = layout.read_frame(layout.part(f"{PARTITIONED_DIR}/{TRANSACTIONS}", k))
        assert (partition_of(frame[CUSTOMER_ID], N_PARTITIONS) == k).all()
        parts.append(frame)
    merged = pd.concat(parts, ignore_index=True)
    assert len(merged) == len(tables.transactions)
    # rows of a customer keep their input order: the stable sort restores the input exactly
    order = partition_of(tables.transactions[CUSTOMER_ID], N_PARTITIONS).argsort(kind="stable")
    pd.testing.assert_frame_equal(merged, tables.transactions.iloc[order].reset_index(drop=True))
    manifest = layout.manifest()
    assert manifest["rows"][TRANSACTIONS] == len(tables.transactions)
    assert manifest["partitions"] == N_PARTITIONS


def _differences(left: pd.DataFrame, right: pd.DataFrame) -> dict[str, float]:
    """Columns whose values are not bit-identical, with their largest relative difference."""
    out = {}
    for column in right.columns:
        a, b = left[column], right[column]
        if a.equals(b):
            continue
        x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
        scale = np.maximum(np.abs(x), np.abs(y))
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(scale > 0, np.abs(x - y) / scale, 0.0)
        out[column] = float(np.nanmax(rel))
    return out


def test_features_exactly_equal_on_both_engines(both):
    """Bit-identical, float sums included: features.tables.COLLECT_ENGINE keeps polars from
    adding a customer's rows in batches whose bounds depend on the size of the frame (with
    polars' streaming engine 0.1% of the training rows differed in the last bit)."""
    settings, _, plan, local, summary = both
    url = _url(settings)
    parts = list(range(N_PARTITIONS))
    assert summary["cutoffs"] == [str(c.date()) for c in plan.cutoffs]
    frames = [(TRAINING_PARTS, local.training), (SCORING_PARTS, local.scoring)]
    if local.backtest is not None:
        frames.append((BACKTEST_PARTS, local.backtest))
    for name, frame in frames:
        dask_frame = collect(url, name, parts)
        assert len(dask_frame) == len(frame) > N_CUSTOMERS // 2
        left, right = _sorted(dask_frame), _sorted(frame)
        assert not _differences(left, right), f"{name}: {_differences(left, right)}"
        pd.testing.assert_frame_equal(left, right, check_exact=True)


def test_scoring_frame_bit_identical(both):
    settings, _, _, local, _ = both
    dask_frame = collect(_url(settings), SCORING_PARTS, list(range(N_PARTITIONS)))
    pd.testing.assert_frame_equal(_sorted(dask_frame), _sorted(local.scoring),
                                  check_exact=True)


def test_btyd_population_is_every_customer(both):
    settings, _, _, local, _ = both
    population = read_table(settings.path(settings.pipeline.paths.features_dir)
                            / BTYD_POPULATION)
    expected = _sorted(local.scoring)[population.columns]
    pd.testing.assert_frame_equal(_sorted(population), expected, check_exact=True)


@pytest.fixture(scope="module")
def scored(both):
    """Models fitted once on the local training set; the local scores (reasons for the top
    accounts) and the Dask engine's."""
    settings, _, plan, local, _ = both
    tiny = {"n_estimators": 30, "num_leaves": 7, "n_jobs": 1}
    config = settings.model.model_copy(update={
        "value": settings.model.value.model_copy(
            update={"params": settings.model.value.params.model_copy(update=tiny)}),
        "churn": settings.model.churn.model_copy(
            update={"params": settings.model.churn.params.model_copy(update=tiny)})})
    horizon = settings.features.horizon_days
    fitted = fit_models(local.training, config, horizon, population=local.scoring)
    stamp = scoring.make_stamp("1", "run", "1", "run")
    out, prepared = scoring.score_table(local.scoring, fitted, horizon, stamp)
    score = settings.pipeline.score
    rows = scoring.reason_rows(out, score.reasons_top_value, score.reasons_top_risk)
    out = scoring.finish(scoring.add_reasons(out, prepared, fitted, rows,
                                             settings.model.reasons.top_k))
    run.score_stage(settings, fitted, stamp, horizon)
    dask_scores = collect_scores(_url(settings), list(range(N_PARTITIONS)))
    return settings, out, dask_scores


def test_scores_and_reasons_match_the_local_engine(scored):
    _, local, dask_scores = scored
    local, dask_scores = _sorted(local), _sorted(dask_scores)
    assert len(dask_scores) == len(local)
    for column in (EXPECTED_VALUE, CHURN_PROBABILITY, VALUE_AT_RISK):
        np.testing.assert_allclose(dask_scores[column], local[column], rtol=SCORE_RTOL,
                                   atol=1e-12)
    # the reasons were explained per partition against the global reference: same texts
    assert (local[REASONS] != "").sum() >= 150
    pd.testing.assert_series_equal(dask_scores[REASONS], local[REASONS])
    other = [c for c in local.columns if c not in (EXPECTED_VALUE, CHURN_PROBABILITY,
                                                   VALUE_AT_RISK)]
    pd.testing.assert_frame_equal(dask_scores[other], local[other])


def test_tiering_reads_the_collected_score_columns(scored):
    settings, local, _ = scored
    collected = run.collected_scores(settings)
    assert REASONS not in collected
    expected = _sorted(local).drop(columns=REASONS)
    pd.testing.assert_frame_equal(_sorted(collected), expected, rtol=SCORE_RTOL)


def test_missing_partitioning_is_a_clear_error(tmp_path):
    from pipeline.errors import DataError

    with pytest.raises(DataError, match="keyaccounts partition"):
        Layout(str(tmp_path)).manifest()


def test_partition_files_are_named_by_number(both):
    settings, *_ = both
    folder = Path(_url(settings)) / PARTITIONED_DIR / CUSTOMERS
    assert sorted(p.name for p in folder.iterdir()) == [partition_file(k)
                                                       for k in range(N_PARTITIONS)]
    assert all(pq.ParquetFile(p).metadata.num_rows > 0 for p in folder.iterdir())




def test_engine_defaults_to_local_and_dask_settings_are_checked(tmp_path):
    from pipeline.config import PipelineConfig, load_config_file
    from pipeline.errors import ConfigError

    shipped = load_config_file(REPO / "configs" / "pipeline.yaml", PipelineConfig)
    assert shipped.engine == "local"  # dvc.yaml's pipeline runs on one machine
    assert shipped.dask.scheduler_address is None and shipped.dask.n_workers <= 2
    bad = tmp_path / "pipeline.yaml"
    bad.write_text("engine: dask\ndask:\n  memory_limit: lots\n")
    with pytest.raises(ConfigError, match="memory_limit"):
        load_config_file(bad, PipelineConfig)
    bad.write_text("engine: spark\n")
    with pytest.raises(ConfigError, match="engine"):
        load_config_file(bad, PipelineConfig)

"""The manager's effect through the stages: train fits and saves it and logs it to MLflow,
score adds each customer's gain, tier ranks by it (rank_by uplift), publish carries it; and a
project without manager contacts skips it with the reason, never an error."""

import json

import joblib
import numpy as np
import pandas as pd
import pytest

from models.columns import GAIN_COLUMNS, GAIN_NOTE, IN_OVERLAP, MANAGER_GAIN
from models.manager_effect import ManagerEffect
from pipeline.config import load_settings
from pipeline.files import MANAGER_EFFECT, MODEL_INFO
from pipeline.publishing.summary import EFFECT_TABLE
from pipeline.tracking.names import MANAGER_EFFECT_PREFIX, MANAGER_EFFECT_TAG
from tests.pipeline.conftest import END, _edit, make_project

REGIONS = ("north", "south", "east")


def _with_managers(root) -> None:
    """Give the tiny project a manager history: about a third of the customers, more often
    the larger ones (confounded), get a regional manager from a random date on, who visits
    every 45 days; the customers table holds only today's manager; three managers of 12."""
    validated = root / "data" / "validated"
    customers = pd.read_parquet(validated / "customers.parquet")
    tx = pd.read_parquet(validated / "transactions.parquet")
    rng = np.random.default_rng(7)
    spend = np.log1p(tx.groupby("customer_id")["amount"].sum().reindex(
        customers["customer_id"]).fillna(0).to_numpy())
    chance = 0.15 + 0.35 / (1 + np.exp(-(spend - np.median(spend))))
    visits, current = [], []
    for cid, region, managed in zip(customers["customer_id"], customers["region"],
                                    rng.random(len(customers)) < chance):
        manager = f"M-{region}"
        if not managed:
            current.append(None)
            continue
        start = pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(rng.uniform(0, 900)))
        stop = END if rng.random() < 0.7 else start + pd.Timedelta(days=int(rng.uniform(200, 500)))
        visits += [(cid, day, "visit", manager, "none")
                   for day in pd.date_range(start, min(stop, END), freq="45D")]
        current.append(manager if stop >= END else None)
    contacts = pd.read_parquet(validated / "contacts.parquet")
    extra = pd.DataFrame(visits, columns=contacts.columns).astype(contacts.dtypes.to_dict())
    pd.concat([contacts, extra], ignore_index=True).to_parquet(
        validated / "contacts.parquet", index=False)
    customers.assign(current_manager_id=current).to_parquet(
        validated / "customers.parquet", index=False)
    pd.DataFrame({"manager_id": [f"M-{r}" for r in REGIONS], "region": list(REGIONS),
                  "capacity": 12, "active": True}).to_parquet(
        validated / "managers.parquet", index=False)


def _small_effect(root, rank_by: str = "uplift") -> None:
    _edit(root / "configs" / "model.yaml", {"manager_effect": {
        "enabled": True, "n_estimators": 20, "n_bootstrap": 5, "overlap": 0.2}})
    _edit(root / "configs" / "tiers.yaml", {"policy": {"rank_by": rank_by}})


@pytest.fixture(scope="module")
def managed_project(tmp_path_factory):
    """The tiny project with manager contacts after features, train, score, tier, publish."""
    from pipeline.stages import features, publish, score, tier, train

    root = make_project(tmp_path_factory.mktemp("managed"))
    _with_managers(root)
    _small_effect(root)
    settings = load_settings(root / "configs")
    for stage in (features, train, score, tier, publish):
        stage.main(settings)
    return root, settings


def _read(settings, folder: str, name: str) -> pd.DataFrame:
    return pd.read_parquet(settings.path(getattr(settings.pipeline.paths, folder)) / name)


def test_train_saves_the_effect_and_logs_it_to_mlflow(managed_project):
    import mlflow

    from pipeline import tracking

    root, settings = managed_project
    artifacts = settings.path(settings.pipeline.paths.artifacts_dir)
    effect = joblib.load(artifacts / MANAGER_EFFECT)
    assert isinstance(effect, ManagerEffect) and effect.estimated, effect.reason
    summary = effect.summary
    assert summary["ate_lower"] <= summary["ate"] <= summary["ate_upper"]
    assert 0 < summary["overlap_share"] <= 1 and 0 < summary["treated_share"] < 1
    info = json.loads((artifacts / MODEL_INFO).read_text())
    assert info["manager_effect"]["ate"] == pytest.approx(summary["ate"])
    tracking.configure(settings.pipeline.tracking, settings.root)
    run = mlflow.MlflowClient().get_run(info["run_id"])
    assert run.data.tags[MANAGER_EFFECT_TAG] == "estimated"
    assert summary["churn_ate_lower"] <= summary["churn_ate"] <= summary["churn_ate_upper"]
    for key in ("ate", "ate_lower", "ate_upper", "top_gain", "top_gain_lower", "top_gain_upper",
                "overlap_share", "treated_share", "churn_ate", "churn_ate_lower",
                "churn_ate_upper"):
        assert run.data.metrics[f"{MANAGER_EFFECT_PREFIX}.{key}"] == pytest.approx(summary[key])
    assert run.data.params["model.manager_effect.n_bootstrap"] == "5"
    assert not list(artifacts.glob("*.tmp*"))  # replaced atomically with the others


def test_score_adds_the_gain_of_every_customer(managed_project):
    _, settings = managed_project
    scores = _read(settings, "scores_dir", "scores.parquet")
    assert set(GAIN_COLUMNS) <= set(scores.columns)
    inside = scores[IN_OVERLAP].astype(bool)
    assert inside.any() and (~inside).any()
    assert scores.loc[inside, MANAGER_GAIN].notna().all()
    assert scores.loc[~inside, MANAGER_GAIN].isna().all()  # not extrapolated
    assert (scores.loc[inside, GAIN_NOTE] == "").all()
    assert scores.loc[~inside, GAIN_NOTE].str.startswith("no estimate").all()
    assert scores["manager_propensity"].between(0, 1).all()


def test_tier_ranks_by_the_gain_within_capacity(managed_project):
    _, settings = managed_project
    tiers = _read(settings, "tiers_dir", "tiers.parquet").sort_values("rank")
    inside = tiers[IN_OVERLAP].astype(bool).to_numpy()
    assert not (~inside[:-1] & inside[1:]).any()  # no account outside overlap above one inside
    gains = tiers.loc[inside, MANAGER_GAIN].to_numpy()
    assert (np.diff(gains) <= 0).all()
    strategic = tiers[tiers["tier"] == "strategic"]
    assert len(strategic) and strategic.groupby("region").size().le(12).all()
    assert strategic["manager_id"].notna().all()


def test_publish_carries_the_gain_and_the_value_of_a_manager(managed_project):
    from openpyxl import load_workbook

    _, settings = managed_project
    out = settings.path(settings.pipeline.paths.publish_dir)
    book = load_workbook(out / "key_accounts.xlsx", read_only=True)
    header = next(book["north"].iter_rows(values_only=True))
    assert {"Manager gain", "Manager gain from", "Manager gain to"} <= set(header)
    summary = [r[0] for r in book["Summary"].iter_rows(values_only=True) if r and r[0]]
    assert EFFECT_TABLE in summary
    page = (out / "key_accounts.html").read_text()
    assert "one more manager adds" in page
    rows = pd.read_parquet(out / "key_accounts.parquet")
    assert rows[MANAGER_GAIN].notna().sum() == _read(
        settings, "scores_dir", "scores.parquet")[IN_OVERLAP].sum()


def test_when_it_is_not_estimated_every_stage_skips_it_with_the_reason(trained_project,
                                                                         tmp_path, caplog):
    """tests/pipeline/conftest.py's project trains with the default config, where the effect
    is off (the other reasons, e.g. contacts without a manager_id, are
    tests/models/test_manager_effect_wiring.py's)."""
    import shutil

    import mlflow

    from pipeline import tracking
    from pipeline.stages import publish, score, tier

    root = tmp_path / "p"
    shutil.copytree(trained_project, root)
    _edit(root / "configs" / "tiers.yaml", {"policy": {"rank_by": "uplift"}})
    settings = load_settings(root / "configs")
    artifacts = settings.path(settings.pipeline.paths.artifacts_dir)
    effect = joblib.load(artifacts / MANAGER_EFFECT)
    assert not effect.estimated and effect.reason == (
        "not estimated: model.manager_effect.enabled is false")
    info = json.loads((artifacts / MODEL_INFO).read_text())
    assert info["manager_effect"] == {"reason": effect.reason}
    tracking.configure(settings.pipeline.tracking, settings.root)
    run = mlflow.MlflowClient().get_run(info["run_id"])
    assert run.data.tags[MANAGER_EFFECT_TAG] == effect.reason
    assert not any(k.startswith(MANAGER_EFFECT_PREFIX) for k in run.data.metrics)
    with caplog.at_level("INFO", logger="keyaccounts"):
        score.main(settings)
        tier.main(settings)
        publish.main(settings)
    assert f"score: manager gain {effect.reason}" in caplog.text
    assert "ranked by expected value instead" in caplog.text
    scores = _read(settings, "scores_dir", "scores.parquet")
    assert scores[MANAGER_GAIN].isna().all() and (scores[GAIN_NOTE] == effect.reason).all()
    tiers = _read(settings, "tiers_dir", "tiers.parquet").sort_values("rank")
    assert (np.diff(tiers["expected_value"].to_numpy()) <= 0).all()
    page = (settings.path(settings.pipeline.paths.publish_dir) / "key_accounts.html").read_text()
    assert "The manager&#39;s effect is not shown: not estimated" in page

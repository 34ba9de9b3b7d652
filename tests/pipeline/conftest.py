"""A tiny trained project shared by the train/evaluate/score stage tests.

Hand-simulated validated tables (a few hundred customers buying as Poisson processes until
they drop out, ids with leading zeros), the repo's configs made small (180-day horizon,
10 training cutoffs, 20-tree LightGBM, 2 backtest folds) and a tracking store in tmp_path;
then the features, train and evaluate stages run once per session.
"""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
END = pd.Timestamp("2024-12-31")


def _edit(path: Path, changes: dict) -> None:
    content = yaml.safe_load(path.read_text()) or {}

    def merge(into: dict, new: dict) -> None:
        for key, value in new.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value

    merge(content, changes)
    path.write_text(yaml.safe_dump(content, sort_keys=False))


def simulate_tables(n_customers: int = 300, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Validated-shape transactions, customers and contacts."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2022-01-01")
    days = (END - start).days
    orders, contacts = [], []
    for i in range(n_customers):
        cid = f"C{i:05d}"
        t, stop = rng.uniform(0, days * 0.6), 0.0
        stop = min(t + rng.exponential(700), days)
        rate, size = rng.gamma(1.5, 1 / 40), np.exp(rng.normal(5, 0.8))
        while t <= stop:
            amount = size * np.exp(rng.normal(0, 0.3))
            orders.append((cid, start + pd.Timedelta(days=int(t)), amount))
            t += rng.exponential(1 / rate)
        if i % 3 == 0:
            contacts.append((cid, start + pd.Timedelta(days=int(rng.uniform(0, days)))))
    tx = pd.DataFrame(orders, columns=["customer_id", "order_date", "amount"])
    tx.insert(1, "order_id", [f"O{k:07d}" for k in range(len(tx))])
    tx = tx.assign(category="tools", quantity=1, channel="web")
    tx["customer_id"] = tx["customer_id"].astype("str")
    ids = sorted(tx["customer_id"].unique())
    customers = pd.DataFrame({
        "customer_id": pd.Series(ids, dtype="str"),
        "region": [["north", "south", "east"][int(c[1:]) % 3] for c in ids],
        "industry": "retail", "size": 50,
        "created_date": tx.groupby("customer_id")["order_date"].min().reindex(ids).to_numpy(),
        "current_manager_id": None, "current_tier": None,
    })
    ct = pd.DataFrame(contacts, columns=["customer_id", "contact_date"]).assign(
        channel="call", manager_id=None, outcome="none")
    ct = ct[ct["customer_id"].isin(ids)]
    return {"transactions": tx, "customers": customers, "contacts": ct}


def make_project(root: Path) -> Path:
    """Configs and validated tables of a tiny project under `root`; returns root."""
    shutil.copytree(REPO / "configs", root / "configs")
    _edit(root / "configs" / "features.yaml", {"horizon_days": 180, "n_cutoffs": 10,
                                               "windows_days": [90, 180]})
    tiny = {"n_estimators": 20, "num_leaves": 7, "min_child_samples": 10, "n_jobs": 1}
    _edit(root / "configs" / "model.yaml", {
        "min_train_cutoffs": 2, "train_window_cutoffs": 4,
        "value": {"params": tiny}, "churn": {"params": tiny},
        "btyd_features": False,
        "backtest": {"n_folds": 2, "fold_step": "1m",
                     "baselines": ["last_period", "rfm", "avg_spend_retention"]}})
    _edit(root / "configs" / "pipeline.yaml", {
        "tracking": {"tracking_uri": f"sqlite:///{root / 'mlflow.db'}"},
        "score": {"reasons_top_value": 10, "reasons_top_risk": 10}})
    validated = root / "data" / "validated"
    validated.mkdir(parents=True)
    for name, frame in simulate_tables().items():
        frame.to_parquet(validated / f"{name}.parquet", index=False)
    return root


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny project after `features`, `train` (twice: the second run meets a champion)
    and `evaluate`; returns its root."""
    from pipeline.config import load_settings
    from pipeline.stages import evaluate, features, train

    root = make_project(tmp_path_factory.mktemp("project"))
    settings = load_settings(root / "configs")
    features.main(settings)
    train.main(settings)
    train.main(settings)
    evaluate.main(settings)
    return root

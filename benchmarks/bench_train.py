"""Benchmark training both models (value + churn) at scale: 500k customers x 12 cutoffs.

The training set is synthetic but has the production shape: ~6M rows, 57 numeric features
(float32, heavy-tailed spend-like columns, NaN where a feature is unknown), 3 categoricals,
labels with real signal, 12 month-end cutoffs. BTYD features are off (they are fitted per
cutoff by models.btyd and benchmarked there). Each case runs in a fresh process (wall time
and peak RSS include building the frame, reported separately).

    python benchmarks/bench_train.py [--customers 500000] [--cutoffs 12] [--objective tweedie]
        [--max-train-rows 1000000 all]

By default the training set is sampled to configs/model.yaml's max_train_rows (1M rows, the
shipped setting); `--max-train-rows all` fits on every row.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from benchmarks.harness import measure, print_table

N_NUMERIC = 57


def make_training_set(n_customers: int, n_cutoffs: int, seed: int = 0) -> pd.DataFrame:
    """A stacked training set of the production shape with learnable labels."""
    from features.contract import CUSTOMER_ID, CUTOFF, LABEL_CHURNED, LABEL_SPEND

    rng = np.random.default_rng(seed)
    n = n_customers * n_cutoffs
    latent = rng.normal(size=n).astype(np.float32)  # customer activity at the cutoff
    columns = {}
    for j in range(N_NUMERIC):
        noise = rng.normal(size=n).astype(np.float32)
        weight = np.float32(1.0 / (1 + j % 7))
        x = weight * latent + noise
        if j % 3 == 0:
            x = np.exp(x, dtype=np.float32)  # spend-like
        if j % 10 == 9:
            x[rng.random(n) < 0.2] = np.nan
        columns[f"f{j:02d}"] = x
    frame = pd.DataFrame(columns)
    cutoffs = pd.date_range("2024-11-30", periods=n_cutoffs, freq="ME")
    frame.insert(
        0,
        CUSTOMER_ID,
        pd.array(np.tile(np.arange(n_customers), n_cutoffs).astype(str), dtype="str"),
    )
    frame.insert(1, CUTOFF, np.repeat(cutoffs.to_numpy(), n_customers))
    frame["cust_region"] = pd.Categorical.from_codes(
        rng.integers(0, 5, n), [f"r{i}" for i in range(5)]
    )
    frame["cust_industry"] = pd.Categorical.from_codes(
        rng.integers(0, 8, n), [f"i{i}" for i in range(8)]
    )
    frame["cust_size_band"] = pd.Categorical.from_codes(
        rng.integers(0, 5, n), [f"s{i}" for i in range(5)]
    )
    p_buy = 1 / (1 + np.exp(-(latent + 0.3)))
    buys = rng.random(n) < p_buy
    frame[LABEL_SPEND] = np.where(buys, np.exp(6 + latent + rng.normal(0, 0.7, n)), 0.0)
    frame[LABEL_CHURNED] = ~buys
    return frame


def train_case(n_customers: int, n_cutoffs: int, objective: str, max_rows: int | None) -> dict:
    """Build the frame, then fit_models with the configured parameters (timed separately)."""
    from models.config import ModelConfig
    from models.training import fit_models

    started = time.perf_counter()
    frame = make_training_set(n_customers, n_cutoffs)
    built = time.perf_counter() - started
    config = ModelConfig(
        btyd_features=False, value_objective=objective, train_window_cutoffs=n_cutoffs,
        max_train_rows=max_rows,
    )
    started = time.perf_counter()
    fitted = fit_models(frame, config, horizon_days=365)
    fit_seconds = time.perf_counter() - started
    return {
        "rows": len(frame),
        "fitted_rows": min(len(frame), max_rows or len(frame)),
        "features": len(fitted.features),
        "build_s": round(built, 1),
        "fit_s": round(fit_seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument("--cutoffs", type=int, default=12)
    parser.add_argument(
        "--objective", nargs="+", default=["tweedie"], choices=["tweedie", "hurdle"]
    )
    parser.add_argument(
        "--max-train-rows", nargs="+", default=["1000000"],
        help="rows the models are fitted on (sampled, seeded); 'all' = every row",
    )
    args = parser.parse_args()
    rows = []
    cases = [(o, None if m == "all" else int(m)) for o in args.objective
             for m in args.max_train_rows]
    for objective, max_rows in cases:
        result = measure(train_case, args.customers, args.cutoffs, objective, max_rows)
        detail = result["detail"] or {}
        rows.append(
            [
                f"value ({objective}) + churn",
                f"{args.customers:,} x {args.cutoffs}",
                f"{detail.get('rows', 0):,}",
                f"{detail.get('fitted_rows', 0):,}",
                detail.get("features", ""),
                detail.get("build_s", ""),
                detail.get("fit_s", ""),
                round(result["seconds"], 1),
                round(result["peak_mb"]),
                result["error"] or ("ok" if detail.get("fit_s", 1e9) <= 600 else "over 10 min"),
            ]
        )
    print_table(
        "Training both models (budget: 10 minutes)",
        [
            "case",
            "customers x cutoffs",
            "rows",
            "fitted rows",
            "features",
            "build s",
            "fit s",
            "total s",
            "peak MB",
            "status",
        ],
        rows,
    )


if __name__ == "__main__":
    main()

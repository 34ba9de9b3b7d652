"""Fit BG/NBD + Gamma-Gamma on simulated customers (100k and 1M) and time fit and predict.

Customers are simulated from the BG/NBD and Gamma-Gamma models over up to 4 years, in whole
days (as the feature builder writes them), so identical (x, t_x, T) rows exist as in real data.
Each size runs in a fresh process (peak MB = that process, simulation included).

    python benchmarks/bench_btyd.py
"""

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import measure, print_table  # noqa: E402


def simulate(n: int, seed: int = 0) -> pd.DataFrame:
    from models.btyd import AGE, FREQUENCY, MONETARY, RECENCY

    rng = np.random.default_rng(seed)
    T = np.floor(rng.uniform(0, 1461, n))
    lam = rng.gamma(0.8, 1 / 40.0, n)
    p = rng.beta(0.9, 3.0, n)
    potential = rng.poisson(lam * T)
    x = np.minimum(potential, rng.geometric(p))
    tx = np.where(x > 0, np.floor(T * rng.beta(np.maximum(x, 1), potential - x + 1)), 0.0)
    nu = rng.gamma(4.0, 1 / 15.0, n)
    m = np.where(x > 0, rng.gamma(6.0 * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1), 0.0)
    return pd.DataFrame({FREQUENCY: x.astype(float), RECENCY: tx, AGE: T, MONETARY: m})


def run(n: int) -> dict:
    from models.btyd import BetaGeoModel, GammaGammaModel

    frame = simulate(n)
    t0 = time.perf_counter()
    bg = BetaGeoModel(horizon=365.0).fit(frame)
    t1 = time.perf_counter()
    gg = GammaGammaModel().fit(frame)
    t2 = time.perf_counter()
    spend = gg.expected_spend(bg, frame)
    alive = bg.prob_alive(frame)
    none = bg.prob_no_purchase(frame, 365.0)
    t3 = time.perf_counter()
    assert np.isfinite(spend).all() and np.isfinite(alive).all() and np.isfinite(none).all()
    return {
        "bgnbd_s": t1 - t0,
        "gg_s": t2 - t1,
        "predict_s": t3 - t2,
        "params": {k: round(v, 3) for k, v in {**bg.params_, **gg.params_}.items()},
    }


def main() -> None:
    rows = []
    for n in (100_000, 1_000_000):
        result = measure(run, n)
        if result["error"]:
            rows.append([f"{n:,}", "error", result["error"], "", "", ""])
            continue
        d = result["detail"]
        fit_both = d["bgnbd_s"] + d["gg_s"]
        rows.append(
            [f"{n:,}", d["bgnbd_s"], d["gg_s"], fit_both, d["predict_s"], result["peak_mb"]]
        )
        print(f"{n:,}: fitted {d['params']} (truth r=0.8 alpha=40 a=0.9 b=3 p=6 q=4 v=15)")
    print_table(
        "BG/NBD + Gamma-Gamma (simulated customers, whole days)",
        [
            "customers",
            "fit BG/NBD s",
            "fit Gamma-Gamma s",
            "fit both s",
            "predict s (spend, P(alive), P(none))",
            "peak MB",
        ],
        rows,
    )


if __name__ == "__main__":
    main()

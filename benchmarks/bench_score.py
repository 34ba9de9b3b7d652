"""Time and peak memory of scoring, with and without the reasons, on a project's trained models.

Takes a finished project (after `make demo`: data/features/scoring_frame.parquet and
artifacts/fitted_models.joblib), tiles its scoring frame to each size (customer ids made
unique) and runs what the score stage runs: scores (pipeline.scoring.score_table), then the
reasons of every row (pipeline.scoring.add_reasons). Each size runs in a fresh process.

    python benchmarks/bench_score.py [--project DIR] [n_customers ...]   # default 100000 500000
"""

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.harness import measure, print_table  # noqa: E402


def run(project: str, n: int) -> dict:
    import joblib
    import numpy as np
    import pandas as pd

    from features.contract import CUSTOMER_ID
    from pipeline import scoring
    from pipeline.config import load_settings

    settings = load_settings(Path(project) / "configs")
    paths = settings.pipeline.paths
    frame = pd.read_parquet(settings.path(paths.features_dir) / "scoring_frame.parquet")
    fitted = joblib.load(settings.path(paths.artifacts_dir) / "fitted_models.joblib")
    copies = -(-n // len(frame))
    tiled = pd.concat([frame] * copies, ignore_index=True).iloc[:n]
    tiled[CUSTOMER_ID] = tiled[CUSTOMER_ID].astype(str) + "-" + pd.Series(
        np.repeat(np.arange(copies), len(frame))[:n].astype(str))
    horizon = settings.features.horizon_days
    started = time.perf_counter()
    scores, prepared = scoring.score_table(tiled, fitted, horizon,
                                           {"value": "b", "churn": "b", "run_id": "bench"})
    score_s = time.perf_counter() - started
    started = time.perf_counter()
    scores = scoring.add_reasons(scores, prepared, fitted, scores.index,
                                 settings.model.reasons.top_k)
    reasons_s = time.perf_counter() - started
    return {"score_s": score_s, "reasons_s": reasons_s,
            "with_reasons": int((scores["reasons"] != "").sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default=str(REPO), help="a project after `make demo`")
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 500_000])
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        out = measure(run, args.project, n)
        if out["error"]:
            rows.append([f"{n:,}", "error", out["error"], "", "", ""])
            continue
        d = out["detail"]
        rows.append([f"{n:,}", round(d["score_s"], 1), round(d["reasons_s"], 1),
                     f"{1000 * d['reasons_s'] / n:.2f}", f"{d['with_reasons']:,}",
                     round(out["peak_mb"])])
    print_table("Scoring with reasons (trained demo models, scoring frame tiled)",
                ["customers", "score s", "reasons s", "reasons ms/customer",
                 "customers with reasons", "peak MB"], rows)


if __name__ == "__main__":
    main()

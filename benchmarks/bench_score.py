"""Time and peak memory of scoring without reasons, and of the reasons, on a project's models.

Takes a finished project (after `make demo`: data/features/scoring_frame.parquet and
training_set.parquet, artifacts/fitted_models.joblib) and runs what the score stage runs, each
case in a fresh process (peak MB is that process's, reading the inputs included):

- score: the scoring frame tiled to `--score` customers (ids made unique), scored without
  reasons (pipeline.scoring.score_table; target 60 s for 1M);
- reasons: `--reasons` customers scored, then the reasons of every one of them
  (pipeline.scoring.add_reasons; target 30 s for 50k), twice: on the scoring frame tiled
  (copies of the same customers: rows on the same paths through the trees share their
  TreeSHAP, see models/reasons.py, so tiling flatters the reasons) and on as many distinct
  rows, the training set's customers at its latest cutoffs (each cutoff scored at its date).

    python benchmarks/bench_score.py [--project DIR] [--score N] [--reasons N]
"""

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.harness import measure, print_table  # noqa: E402


def _load(project: str):
    import joblib

    from pipeline.config import load_settings

    settings = load_settings(Path(project) / "configs")
    paths = settings.pipeline.paths
    fitted = joblib.load(settings.path(paths.artifacts_dir) / "fitted_models.joblib")
    _threads(fitted, settings.model.value.params.n_jobs)
    return settings, settings.path(paths.features_dir), fitted


def _threads(fitted, n_jobs: int) -> None:
    """Score with the threads configs/model.yaml asks for now (the project's models may
    have been trained with fewer: predict and pred_contrib use the fitted n_jobs)."""
    from lightgbm import LGBMModel

    seen: set[int] = set()

    def visit(obj, depth: int) -> None:
        if depth > 5 or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, LGBMModel):
            obj.set_params(n_jobs=n_jobs)
        elif hasattr(obj, "n_jobs") and isinstance(getattr(obj, "n_jobs"), int):
            obj.n_jobs = n_jobs
        children = (vars(obj).values() if hasattr(obj, "__dict__")
                    else obj if isinstance(obj, (list, tuple)) else ())
        for child in children:
            visit(child, depth + 1)

    visit(fitted, 0)


def _tiled(features: Path, n: int):
    """The scoring frame tiled to n rows, customer ids made unique."""
    import numpy as np
    import pandas as pd

    from features.contract import CUSTOMER_ID

    frame = pd.read_parquet(features / "scoring_frame.parquet")
    copies = -(-n // len(frame))
    tiled = pd.concat([frame] * copies, ignore_index=True).iloc[:n]
    tiled[CUSTOMER_ID] = tiled[CUSTOMER_ID].astype(str) + "-" + pd.Series(
        np.repeat(np.arange(copies), len(frame))[:n].astype(str))
    return [tiled]


def _distinct(features: Path, n: int):
    """n distinct rows: the training set's customers at its latest cutoffs, one frame per
    cutoff (as_of = the cutoff), labels dropped, ids made unique."""
    import pandas as pd

    from features.contract import AS_OF, CUSTOMER_ID, CUTOFF, LABEL_CHURNED, LABEL_SPEND

    training = pd.read_parquet(features / "training_set.parquet")
    frames, left = [], n
    for cutoff in sorted(training[CUTOFF].unique(), reverse=True):
        if left <= 0:
            break
        rows = training[training[CUTOFF] == cutoff].head(left)
        rows = rows.drop(columns=[CUTOFF, LABEL_SPEND, LABEL_CHURNED]).assign(**{AS_OF: cutoff})
        rows[CUSTOMER_ID] = rows[CUSTOMER_ID].astype(str) + f"-{pd.Timestamp(cutoff).date()}"
        frames.append(rows.reset_index(drop=True))
        left -= len(rows)
    if left > 0:
        raise SystemExit(f"the training set has fewer than {n:,} rows: ask for fewer --reasons")
    return frames


def _score(settings, fitted, frames):
    """(scores, prepared, {"seconds", "cpu"}) of the frames, scored one by one and stacked."""
    import pandas as pd

    from pipeline import scoring

    stamp = scoring.make_stamp("bench", "bench", "bench", "bench")
    horizon = settings.features.horizon_days
    started, cpu = time.perf_counter(), time.process_time()
    parts = [scoring.score_table(f, fitted, horizon, stamp) for f in frames]
    seconds = {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu}
    scores = pd.concat([s for s, _ in parts], ignore_index=True)
    prepared = pd.concat([p for _, p in parts], ignore_index=True)
    return scores, prepared, seconds


def run_score(project: str, n: int) -> dict:
    settings, features, fitted = _load(project)
    return _score(settings, fitted, _tiled(features, n))[2]


def run_reasons(project: str, n: int, rows: str) -> dict:
    from pipeline import scoring

    settings, features, fitted = _load(project)
    frames = _tiled(features, n) if rows == "tiled" else _distinct(features, n)
    scores, prepared, _ = _score(settings, fitted, frames)
    distinct = len(prepared[fitted.features].drop_duplicates())
    started, cpu = time.perf_counter(), time.process_time()
    scores = scoring.add_reasons(scores, prepared, fitted, scores.index,
                                 settings.model.reasons.top_k)
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "distinct": distinct, "with_reasons": int((scores["reasons"] != "").sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default=str(REPO), help="a project after `make demo`")
    parser.add_argument("--score", type=int, default=1_000_000, help="customers to score")
    parser.add_argument("--reasons", type=int, default=50_000, help="customers to explain")
    args = parser.parse_args()
    cases = [("score, no reasons", args.score, "60 s", run_score, ()),
             ("reasons, scoring frame tiled", args.reasons, "30 s", run_reasons, ("tiled",)),
             ("reasons, distinct rows", args.reasons, "30 s", run_reasons, ("distinct",))]
    table = []
    for what, n, target, fn, extra in cases:
        out = measure(fn, args.project, n, *extra)
        if out["error"]:
            table.append([what, f"{n:,}", "", "error", out["error"], "", "", target])
            continue
        d = out["detail"]
        rows = (f"{d['distinct']:,} distinct, {d['with_reasons']:,} with reasons"
                if "distinct" in d else "all")
        table.append([what, f"{n:,}", rows, round(d["seconds"], 1), round(d["cpu"], 1),
                      f"{1000 * d['seconds'] / n:.3f}", round(out["peak_mb"]), target])
    # CPU seconds well under twice the seconds: the two cores were not all ours (busy machine)
    print_table("Scoring and reasons (the project's trained models; 2 cores)",
                ["case", "customers", "rows", "seconds", "CPU s", "ms per customer", "peak MB",
                 "target"], table)


if __name__ == "__main__":
    main()

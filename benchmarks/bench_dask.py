"""Benchmark the Dask engine at a scale the local engine cannot hold in 8 GB.

2.5M customers (~51M transaction lines, ~10M contacts) written by the generator in chunks of
50,000 customers (no ground truth beyond the end date), typed as the validate stage types
them (dates as datetime64[ns], one row group at a time), then the stages run one at a time
as the `keyaccounts` CLI in a project of their own with `engine: dask`: partition, features
(12 monthly cutoffs), train (on one machine, on the train stage's sample of customers),
score (reasons for the top accounts) and tier. Each stage is a fresh process; its peak memory
is the largest sum of the resident memory (RSS) of that process and all its children (the
LocalCluster's nanny and worker processes), sampled every 0.2 s with psutil; the load average
of the machine is sampled alongside. The same features stage then runs on the local engine
(`engine: local`) on the first N customers of the same generator, for the comparison.

    python benchmarks/bench_dask.py                      # the full run (about an hour)
    python benchmarks/bench_dask.py --customers 100000   # a quick one
    python benchmarks/bench_dask.py --only generate      # just the data
"""

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from benchmarks.harness import print_table

REPO = Path(__file__).resolve().parents[1]
DATA = Path("/tmp/bench_dask")
TABLES = ("transactions", "contacts", "customers", "managers")
CAP_GB = 8.0


def generate(n_customers: int, out: Path) -> dict:
    """The generator's raw tables for `n_customers`, written chunk by chunk, then typed as
    validated tables (dates as datetime64[ns]) one row group at a time."""
    from pipeline.config import load_settings
    from pipeline.synthetic import write_dataset

    config = load_settings(REPO / "configs").generate.model_copy(
        update={"n_customers": n_customers, "truth_months": 0, "truth_n_sims": 2})
    raw, validated = out / "raw", out / "validated"
    write_dataset(config, raw, out / "truth")
    validated.mkdir(parents=True, exist_ok=True)
    rows = {}
    for table in TABLES:
        source = pq.ParquetFile(raw / f"{table}.parquet")
        writer = None
        for group in range(source.metadata.num_row_groups):
            frame = source.read_row_group(group).to_pandas()
            for column in frame.columns:
                if column.endswith("_date"):
                    frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
            batch = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(validated / f"{table}.parquet", batch.schema)
            writer.write_table(batch.cast(writer.schema))
            rows[table] = rows.get(table, 0) + len(frame)
        writer.close()
    shutil.rmtree(raw)
    return rows


def project(root: Path, data: Path, engine: str, partitions: int, sample: int,
            memory_limit: str) -> Path:
    """The configs of a benchmark project at `root` reading `data`/validated."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(REPO / "configs", root / "configs")
    (root / "data").mkdir()
    (root / "data" / "validated").symlink_to(data / "validated")

    def edit(name: str, changes: dict) -> None:
        path = root / "configs" / f"{name}.yaml"
        content = yaml.safe_load(path.read_text())
        for dotted, value in changes.items():
            *parents, key = dotted.split(".")
            node = content
            for parent in parents:
                node = node.setdefault(parent, {})
            node[key] = value
        path.write_text(yaml.safe_dump(content, sort_keys=False))

    edit("pipeline", {"engine": engine, "dask.partitions": partitions,
                      "dask.train_sample_customers": sample, "dask.memory_limit": memory_limit,
                      "dask.n_workers": 2, "dask.threads_per_worker": 1,
                      "tracking.tracking_uri": f"sqlite:///{root / 'mlflow.db'}",
                      "score.reasons_top_value": 5000, "score.reasons_top_risk": 5000})
    edit("features", {"n_cutoffs": 12})
    edit("model", {"value.params.n_jobs": 1, "churn.params.n_jobs": 1,
                   "backtest.n_folds": 2, "max_train_rows": 300_000})
    return root


def run_stage(root: Path, stage: str) -> dict:
    """Run `keyaccounts <stage>` in `root`; wall time, peak RSS of the process tree, peak
    load average, exit code."""
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DVC_NO_ANALYTICS": "1"}
    log = open(root / f"{stage}.log", "w")
    started = time.perf_counter()
    child = subprocess.Popen([str(Path(sys.executable).parent / "keyaccounts"), stage],
                             cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    peak, load, stop = [0], [0.0], threading.Event()

    def sample() -> None:
        parent = psutil.Process(child.pid)
        while not stop.is_set():
            try:
                tree = [parent, *parent.children(recursive=True)]
                total = 0
                for p in tree:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                peak[0] = max(peak[0], total)
            except psutil.Error:
                pass
            load[0] = max(load[0], os.getloadavg()[0])
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = child.wait()
    stop.set()
    sampler.join()
    log.close()
    return {"seconds": time.perf_counter() - started, "peak_gb": peak[0] / 2**30,
            "load": load[0], "code": code}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2_500_000)
    parser.add_argument("--local-customers", type=int, default=250_000)
    parser.add_argument("--partitions", type=int, default=64)
    parser.add_argument("--sample", type=int, default=60_000)
    parser.add_argument("--memory-limit", default="2.75GiB")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--only", choices=["generate", "dask", "local"])
    args = parser.parse_args()
    big, small = args.data / f"c{args.customers}", args.data / f"c{args.local_customers}"
    if args.only in (None, "generate"):
        for where, n in ((big, args.customers), (small, args.local_customers)):
            if not (where / "validated" / "managers.parquet").exists():
                started = time.perf_counter()
                rows = generate(n, where)
                print(f"generated {n:,} customers: {rows} in {time.perf_counter() - started:.0f} s",
                      flush=True)
    rows = []
    if args.only in (None, "dask"):
        root = project(args.data / "project_dask", big, "dask", args.partitions, args.sample,
                       args.memory_limit)
        for stage in ("partition", "features", "train", "score", "tier"):
            result = run_stage(root, stage)
            rows.append(["dask", f"{args.customers:,}", stage, result["seconds"],
                         result["peak_gb"], result["load"], result["code"]])
            print(rows[-1], flush=True)
            if result["code"]:
                break
    if args.only in (None, "local"):
        root = project(args.data / "project_local", small, "local", args.partitions,
                       args.sample, args.memory_limit)
        result = run_stage(root, "features")
        rows.append(["local", f"{args.local_customers:,}", "features", result["seconds"],
                     result["peak_gb"], result["load"], result["code"]])
        print(rows[-1], flush=True)
    if rows:
        print_table(f"Dask engine vs local engine (cap {CAP_GB:.0f} GB for the process tree, "
                    f"{os.cpu_count()} cores)",
                    ["engine", "customers", "stage", "wall s", "peak RSS GB (tree)",
                     "max load avg (1 min)", "exit"], rows)


if __name__ == "__main__":
    main()

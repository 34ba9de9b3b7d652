"""Benchmark the feature builder at scale: 500k customers, ~10M transaction lines, ~2M contacts.

With `--generated DIR`, the data is the output of `keyaccounts generate --customers 500000
--out-dir DIR` (DIR/raw/*.parquet, dates converted to datetime64 as validation does);
otherwise a numpy/polars frame of the same shape (4 years, heavy-tailed activity, returns,
several lines per order). The data is written once to Parquet under /tmp; each case then runs
in a fresh process that reads the Parquet files and builds (i) the features at one cutoff and
(ii) a 12-cutoff training set. Wall time and peak memory (RSS) include reading the Parquet files.

    keyaccounts generate --customers 500000 --out-dir /tmp/gen500k
    python benchmarks/bench_features.py --generated /tmp/gen500k
    python benchmarks/bench_features.py [--customers 500000] [--lines 10000000]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import polars as pl

from benchmarks.harness import measure, print_table

DATA = Path("/tmp/bench_features")
START, END = np.datetime64("2022-11-01"), np.datetime64("2026-10-31")


def make_data(n_customers: int, n_lines: int, n_contacts: int, seed: int = 7) -> None:
    """Write transactions, contacts and customers Parquet files of the requested size."""
    rng = np.random.default_rng(seed)
    days = int((END - START).astype(int)) + 1  # END included
    ids = pl.Series(np.arange(n_customers)).cast(pl.String).str.zfill(7)
    ids = pl.select(pl.lit("C") + ids).to_series()
    activity = rng.lognormal(0.0, 1.0, n_customers)
    activity /= activity.sum()
    n_orders = n_lines // 2
    cust = rng.choice(n_customers, size=n_orders, p=activity)
    joined = rng.integers(0, days // 2, n_customers)
    day = joined[cust] + (rng.random(n_orders) * (days - joined[cust])).astype(np.int64)
    lines = rng.integers(1, 4, n_orders)
    order_of_line = np.repeat(np.arange(n_orders), lines)
    amount = np.round(rng.lognormal(5.0, 1.0, len(order_of_line)), 2)
    amount[rng.random(len(order_of_line)) < 0.03] *= -1
    tx = pl.DataFrame(
        {
            "customer_id": ids.gather(cust[order_of_line]),
            "order_id": pl.select(
                pl.lit("O") + pl.Series(order_of_line).cast(pl.String)
            ).to_series(),
            "order_date": (START + day[order_of_line].astype("timedelta64[D]")).astype(
                "datetime64[ms]"
            ),
            "amount": amount,
            "category": pl.Series(
                np.char.add("cat", rng.integers(0, 20, len(order_of_line)).astype(str))
            ),
            "quantity": rng.integers(1, 10, len(order_of_line)),
            "channel": pl.Series(["web", "phone", "field", "edi"]).gather(
                rng.integers(0, 4, len(order_of_line))
            ),
        }
    )
    c_cust = rng.choice(n_customers, size=n_contacts, p=activity)
    c_day = joined[c_cust] + (rng.random(n_contacts) * (days - joined[c_cust])).astype(np.int64)
    channel = rng.integers(0, 3, n_contacts)
    ct = pl.DataFrame(
        {
            "customer_id": ids.gather(c_cust),
            "contact_date": (START + c_day.astype("timedelta64[D]")).astype("datetime64[ms]"),
            "channel": pl.Series(["visit", "call", "email"]).gather(channel),
            "manager_id": pl.Series(["M001", None]).gather(
                (rng.random(n_contacts) < 0.5).astype(int)
            ),
            "outcome": pl.Series(["none", "quote", "order", "complaint"]).gather(
                rng.integers(0, 4, n_contacts)
            ),
        }
    )
    customers = pl.DataFrame(
        {
            "customer_id": ids,
            "region": pl.Series(["north", "south", "east", "west", "central"]).gather(
                rng.integers(0, 5, n_customers)
            ),
            "industry": pl.Series([f"ind{i}" for i in range(8)]).gather(
                rng.integers(0, 8, n_customers)
            ),
            "size": np.round(rng.pareto(1.2, n_customers) * 10 + 1).astype(np.int64),
            "created_date": (START + joined.astype("timedelta64[D]")).astype("datetime64[ms]"),
        }
    )
    DATA.mkdir(parents=True, exist_ok=True)
    tx.write_parquet(DATA / "transactions.parquet")
    ct.write_parquet(DATA / "contacts.parquet")
    customers.write_parquet(DATA / "customers.parquet")


def copy_generated(generated: Path) -> None:
    """Copy the generator's raw tables to DATA with dates as datetime64, as validation writes."""
    import pandas as pd

    DATA.mkdir(parents=True, exist_ok=True)
    for name, date_column in (("transactions", "order_date"), ("contacts", "contact_date"),
                              ("customers", "created_date")):
        frame = pd.read_parquet(generated / "raw" / f"{name}.parquet")
        frame[date_column] = pd.to_datetime(frame[date_column])
        frame.to_parquet(DATA / f"{name}.parquet")


def _tables():
    import pandas as pd

    from features.contract import Tables

    return Tables(
        pd.read_parquet(DATA / "transactions.parquet"),
        pd.read_parquet(DATA / "contacts.parquet"),
        pd.read_parquet(DATA / "customers.parquet"),
    )


def _sizes() -> str:
    """The size of the benchmarked data, read from the Parquet metadata."""
    import pyarrow.parquet as pq

    def rows(name: str) -> int:
        return pq.ParquetFile(DATA / f"{name}.parquet").metadata.num_rows

    return (f"{rows('customers'):,} customers, {rows('transactions'):,} transaction lines, "
            f"{rows('contacts'):,} contacts")


def one_cutoff() -> dict:
    import features
    from features.config import FeaturesConfig

    tables = _tables()
    started = time.perf_counter()
    frame = features.build(tables, features.end_of_data(tables), FeaturesConfig())
    return {
        "build_s": round(time.perf_counter() - started, 1),
        "rows": len(frame),
        "features": len(features.feature_columns(frame)),
    }


def twelve_cutoffs() -> dict:
    import features
    from features.config import FeaturesConfig

    tables = _tables()
    config = FeaturesConfig(n_cutoffs=12, cutoff_step="1m")  # as measured before "auto"
    started = time.perf_counter()
    cutoffs = features.training_cutoffs(features.end_of_data(tables), config)
    frame = features.build_training_set(tables, cutoffs, config)
    return {
        "build_s": round(time.perf_counter() - started, 1),
        "rows": len(frame),
        "features": len(features.feature_columns(frame)),
    }


def stage_work() -> dict:
    import features
    from features.config import FeaturesConfig

    tables = _tables()
    config = FeaturesConfig(n_cutoffs=12, cutoff_step="1m")  # as measured before "auto"
    started = time.perf_counter()
    end = features.end_of_data(tables)
    training, scoring = features.build_datasets(
        tables, features.training_cutoffs(end, config), end, config
    )
    return {
        "build_s": round(time.perf_counter() - started, 1),
        "rows": len(training) + len(scoring),
        "features": len(features.feature_columns(scoring)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--contacts", type=int, default=2_000_000)
    parser.add_argument("--reuse", action="store_true", help="reuse the Parquet files in /tmp")
    parser.add_argument("--generated", type=Path, help="output folder of keyaccounts generate")
    args = parser.parse_args()
    if args.generated:
        copy_generated(args.generated)
        print(f"generated data from {args.generated} copied to {DATA}")
    elif not (args.reuse and (DATA / "transactions.parquet").exists()):
        started = time.perf_counter()
        make_data(args.customers, args.lines, args.contacts)
        print(f"data written to {DATA} in {time.perf_counter() - started:.0f} s")
    rows = []
    for label, fn, limit in (
        ("one cutoff (end of data)", one_cutoff, "10 s, 4 GB"),
        ("12-cutoff training set", twelve_cutoffs, "60 s"),
        ("stage: 12 cutoffs + scoring frame", stage_work, ""),
    ):
        result = measure(fn)
        detail = result["detail"] or {}
        rows.append(
            [
                label,
                result["seconds"],
                detail.get("build_s", result["error"]),
                result["peak_mb"],
                detail.get("rows", ""),
                detail.get("features", ""),
                limit,
            ]
        )
    print_table(
        f"features at scale ({args.generated or 'numpy data'}: {_sizes()})",
        ["case", "wall s (read + build)", "build s", "peak MB", "rows", "features", "target"],
        rows,
    )


if __name__ == "__main__":
    main()

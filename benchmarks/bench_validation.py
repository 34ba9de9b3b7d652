"""Time and peak memory of `keyaccounts validate` on generator-shaped raw files.

Writes synthetic raw Parquet (dates and amounts as strings with 1% defects, as
`keyaccounts generate --defects 0.01` does) for several sizes into a temporary project and
runs the validate stage on it in a fresh process. Usage:

    python benchmarks/bench_validation.py [n_transactions ...]   # default 400000 2000000
"""

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.harness import measure, print_table  # noqa: E402 (after the sys.path entry)


def write_raw(root: Path, n_transactions: int, seed: int = 0) -> None:
    """Four raw tables of generator shape: ~20 transactions and ~4 contacts per customer."""
    rng = np.random.default_rng(seed)
    n_customers = max(n_transactions // 20, 10)
    raw = root / "data" / "raw"
    raw.mkdir(parents=True)
    managers = [f"M{i:03d}" for i in range(max(n_customers // 200, 2))]
    pd.DataFrame(
        {
            "manager_id": managers,
            "region": rng.choice(list("ABCDE"), len(managers)),
            "capacity": 25,
            "active": True,
        }
    ).to_parquet(raw / "managers.parquet")
    ids = np.array([f"C{i:07d}" for i in range(n_customers)])
    pd.DataFrame(
        {
            "customer_id": ids,
            "region": rng.choice(list("ABCDE"), n_customers),
            "industry": rng.choice(list("abcdefgh"), n_customers),
            "size": rng.pareto(1.2, n_customers).astype(int) + 1,
            "created_date": pd.Timestamp("2022-11-01")
            + pd.to_timedelta(rng.integers(0, 1400, n_customers), unit="D"),
            "current_manager_id": np.where(
                rng.random(n_customers) < 0.05, rng.choice(managers, n_customers), None
            ),
            "current_tier": None,
        }
    ).to_parquet(raw / "customers.parquet")

    def dates(n):
        days = pd.Timestamp("2022-11-01") + pd.to_timedelta(rng.integers(0, 1460, n), unit="D")
        return pd.Series(days.strftime("%Y-%m-%d"), dtype="str")

    def defects(frame, date_column, id_pool):
        n = len(frame)
        hit = rng.random(n) < 0.01
        kind = rng.integers(0, 5, n)
        frame.loc[hit & (kind == 0), "customer_id"] = None
        frame.loc[hit & (kind == 1), date_column] = "not a date"
        frame.loc[hit & (kind == 2), date_column] = "2031-06-01"
        frame.loc[hit & (kind == 3), "customer_id"] = "C9999999"
        if "amount" in frame:
            frame.loc[hit & (kind == 4), "amount"] = "n/a"
        duplicates = frame.sample(frac=0.002, random_state=seed)
        return pd.concat([frame, duplicates], ignore_index=True)

    n = n_transactions
    tx = pd.DataFrame(
        {
            "customer_id": pd.Series(ids[rng.integers(0, n_customers, n)], dtype="str"),
            "order_id": pd.Series([f"O{i}" for i in range(n)], dtype="str"),
            "order_date": dates(n),
            "amount": pd.Series(rng.lognormal(6, 1, n).round(2).astype(str), dtype="str"),
            "category": rng.choice(["tools", "fasteners", "cables", "safety", "chemicals"], n),
            "quantity": rng.integers(1, 20, n),
            "channel": rng.choice(["web", "phone", "field", "edi"], n),
        }
    )
    defects(tx, "order_date", ids).to_parquet(raw / "transactions.parquet")
    m = n // 5
    contacts = pd.DataFrame(
        {
            "customer_id": pd.Series(ids[rng.integers(0, n_customers, m)], dtype="str"),
            "contact_date": dates(m),
            "channel": rng.choice(["visit", "call", "email"], m),
            "manager_id": rng.choice(managers, m),
            "outcome": rng.choice(["none", "quote", "order"], m),
        }
    )
    defects(contacts, "contact_date", ids).to_parquet(raw / "contacts.parquet")


def run_validate(root: str) -> dict:
    from pipeline.config import load_settings
    from pipeline.stages import validate

    validate.main(load_settings(Path(root) / "configs"))
    return {}


def main(sizes: list[int]) -> None:
    rows = []
    for n in sizes:
        root = Path(tempfile.mkdtemp(prefix="bench_validation_"))
        try:
            shutil.copytree(REPO / "configs", root / "configs")
            write_raw(root, n)
            result = measure(run_validate, str(root))
            rows.append(
                [
                    f"{n:,}",
                    f"{n // 20:,}",
                    result["seconds"],
                    result["peak_mb"],
                    result["error"] or "ok",
                ]
            )
        finally:
            shutil.rmtree(root, ignore_errors=True)
    print_table(
        "keyaccounts validate (4 tables, 1% defects, GX sample <= 1M rows)",
        ["transactions", "customers", "seconds", "peak MB", "status"],
        rows,
    )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [400_000, 2_000_000])

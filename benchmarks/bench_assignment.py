"""Time the manager assignment (min-cost flow) on synthetic strategic accounts and managers.

    python benchmarks/bench_assignment.py

Accounts have log-normal expected values, 60% have a current manager (half of them in their
own region), managers have capacities of 80-130; each case runs in a fresh process.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import measure, print_table  # noqa: E402

CASES = [(10_000, 100, 5), (100_000, 1_000, 5), (100_000, 1_000, 1)]


def run(n_accounts: int, n_managers: int, n_regions: int) -> dict:
    """Build one synthetic case and assign it; returns the counts shown in the table."""
    import time

    import numpy as np
    import pandas as pd

    from models.assignment import assign_managers
    from models.tier_policy import AssignmentPolicy

    rng = np.random.default_rng(0)
    regions = np.array([f"R{i}" for i in range(n_regions)])
    managers = pd.DataFrame({"manager_id": [f"M{i:04d}" for i in range(n_managers)],
                             "region": rng.choice(regions, n_managers),
                             "capacity": rng.integers(80, 131, n_managers), "active": True})
    account_region = rng.choice(regions, n_accounts)
    same = managers.groupby("region")["manager_id"].apply(list).to_dict()
    current = [
        (rng.choice(same[r]) if rng.random() < 0.5 else rng.choice(managers["manager_id"]))
        if rng.random() < 0.6 and r in same else None for r in account_region]
    accounts = pd.DataFrame({"customer_id": [f"C{i:07d}" for i in range(n_accounts)],
                             "region": account_region,
                             "expected_value": rng.lognormal(9, 1.2, n_accounts),
                             "current_manager_id": current})
    started = time.perf_counter()
    result = assign_managers(accounts, managers, AssignmentPolicy())
    solve = time.perf_counter() - started
    books = result.books
    per_slot = books["expected_value"] / books["capacity"]
    return {"solve_s": solve, "kept": int(result.assignments["kept_manager"].sum()),
            "unassigned": int(result.shortfall["unassigned"].sum()),
            "cv": float(per_slot.std() / per_slot.mean())}


def main() -> None:
    rows = []
    for n_accounts, n_managers, n_regions in CASES:
        out = measure(run, n_accounts, n_managers, n_regions)
        if out["error"]:
            rows.append([n_accounts, n_managers, n_regions, "error", out["error"], "", "", ""])
            continue
        d = out["detail"]
        rows.append([f"{n_accounts:,}", f"{n_managers:,}", n_regions, round(d["solve_s"], 2),
                     round(out["seconds"], 2), round(out["peak_mb"]), f"{d['kept']:,}",
                     f"{d['unassigned']:,}", round(d["cv"], 3)])
    print_table("Manager assignment (OR-Tools min-cost flow)",
                ["accounts", "managers", "regions", "solve s", "total s (incl. data)",
                 "peak MB", "kept current manager", "over capacity", "CV of value per slot"],
                rows)


if __name__ == "__main__":
    main()

"""Time and peak memory of `keyaccounts generate` at demo size and at 500k customers.

Run: python benchmarks/bench_generate.py [n_customers ...]   (default: 20000 500000)
Each size runs in a fresh process (benchmarks.harness.measure) writing to a temporary folder.
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import measure, print_table  # noqa: E402

__all__ = ["generate_case"]


def generate_case(n_customers: int) -> dict:
    """Generate `n_customers` with the repo's configs/generate.yaml otherwise."""
    from pipeline.config import load_settings
    from pipeline.synthetic import write_dataset

    settings = load_settings(Path(__file__).resolve().parents[1] / "configs")
    config = settings.generate.model_copy(update={"n_customers": n_customers})
    with tempfile.TemporaryDirectory() as folder:
        summary = write_dataset(config, Path(folder) / "raw", Path(folder) / "truth")
    return {**summary["rows"], "truth_rows": summary["truth_rows"],
            "truth_rel_se": summary["truth_relative_se_of_total_max"]}


def main(sizes: list[int]) -> None:
    rows = []
    for n in sizes:
        r = measure(generate_case, n)
        d = r["detail"] or {}
        rows.append([f"{n:,}", r["seconds"], r["peak_mb"], f"{d.get('transactions', 0):,}",
                     f"{d.get('contacts', 0):,}", f"{d.get('truth_rows', 0):,}",
                     f"{100 * d.get('truth_rel_se', 0):.3f}%", r["error"] or ""])
    print_table("keyaccounts generate",
                ["customers", "seconds", "peak MB", "transactions", "contacts", "truth rows",
                 "truth rel. SE of total", "error"], rows)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [20_000, 500_000])

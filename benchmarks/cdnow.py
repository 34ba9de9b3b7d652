"""The CDNOW 1/10 sample as a user's transactions export (for benchmarks/bench_quality.py).

The sample of Fader, Hardie and Lee (2005): 2,357 customers of the online CD shop CDNOW who
made their first purchase in Q1 1997, with every purchase until 30 June 1998 (6,919 lines).
It ships inside the `lifetimes` wheel (MIT licence; a dev dependency, pyproject.toml) as
lifetimes/datasets/CDNOW_sample.txt: whitespace-separated customer id (5 digits), the
customer's index in the sample, date YYYYMMDD, number of CDs, amount in dollars. The file
is located with importlib.util.find_spec, which does not run the package: lifetimes is
never imported (its import may break with this project's numpy and pandas).

`write_export` writes it as a CSV in its own terms (column names CustomerID, CustomerIndex,
Date, CDs, Dollars, integer YYYYMMDD dates), optionally truncated at a date, and
benchmarks/cdnow_data.yaml maps it for `keyaccounts validate` the way a user maps an
export: nothing else is changed for it.

    python benchmarks/cdnow.py exports/cdnow_transactions.csv [--until 1997-09-30]
"""

import argparse
import importlib.util
from datetime import date
from pathlib import Path

import pandas as pd

__all__ = ["COLUMNS", "DATA_CONFIG", "END", "read_sample", "sample_path", "transactions",
           "write_export"]

COLUMNS = ("CustomerID", "CustomerIndex", "Date", "CDs", "Dollars")
DATA_CONFIG = Path(__file__).with_name("cdnow_data.yaml")  # the configs/data.yaml of the export
END = date(1998, 6, 30)  # the last day the sample covers


def sample_path() -> Path:
    """lifetimes/datasets/CDNOW_sample.txt of the installed lifetimes wheel (not imported)."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the CDNOW sample ships in the lifetimes wheel: install the dev extra "
                         "(pip install -c constraints.txt -e '.[dev]')")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "CDNOW_sample.txt"
    if not path.is_file():
        raise SystemExit(f"{path} not found in the installed lifetimes package")
    return path


def read_sample(path: Path | None = None) -> pd.DataFrame:
    """The sample with the export's column names: ids as text (leading zeros kept), Date an
    integer YYYYMMDD, CDs an integer, Dollars a float."""
    return pd.read_csv(path or sample_path(), sep=r"\s+", header=None, names=list(COLUMNS),
                       dtype={"CustomerID": str, "CustomerIndex": str, "Date": "int64",
                              "CDs": "int64", "Dollars": "float64"})


def write_export(target: Path, until: date | None = None) -> Path:
    """Write the sample as a CSV export at `target` (rows dated on or before `until` only,
    when given); returns `target`."""
    sample = read_sample()
    if until is not None:
        sample = sample[sample["Date"] <= int(until.strftime("%Y%m%d"))]
    target.parent.mkdir(parents=True, exist_ok=True)
    sample.to_csv(target, index=False)
    return target


def transactions(sample: pd.DataFrame) -> pd.DataFrame:
    """The sample in contract terms (customer_id, order_date, amount), for comparing the
    pipeline's scores with what happened."""
    return pd.DataFrame({
        "customer_id": sample["CustomerID"].astype("str"),
        "order_date": pd.to_datetime(sample["Date"].astype(str), format="%Y%m%d"),
        "amount": sample["Dollars"].astype(float),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("--until", type=date.fromisoformat, default=None)
    args = parser.parse_args()
    print(write_export(args.target, args.until))


if __name__ == "__main__":
    main()

"""The Dask engine's settings: configs/pipeline.yaml `dask` (used when `engine: dask`)."""

from pydantic import Field, field_validator

from features.config import StrictModel

__all__ = ["DaskConfig"]


class DaskConfig(StrictModel):
    """Where the Dask engine runs and how it lays out the data.

    scheduler_address: None (the default) starts a LocalCluster on this machine with
    `n_workers` worker processes of `threads_per_worker` threads, each limited to
    `memory_limit` (Dask's spelling: "3GiB", "2.5GB"; a worker past it is paused, then
    restarted). An address ("tcp://scheduler:8786") connects to a running cluster instead and
    the three local settings are ignored. `dashboard_address` is the LocalCluster's dashboard
    (":0" = any free port; the link is logged).

    data_url: where the partitioned tables, features and scores are written, a folder
    relative to the project root or any fsspec URL ("s3://bucket/keyaccounts"); every worker
    must be able to read and write it (a local folder only works on one machine).
    partitions: how many hash partitions of customer_id every table is split into; a
    partition holds all rows of its customers in every table, and is the unit of work
    (aim for 20,000-100,000 customers per partition).

    train_sample_customers: the train stage (backtest, model selection and the final fit)
    runs on one machine, on the training rows of a seeded sample of at most this many
    customers (drawn by the hash of customer_id, so the same customers on every run; None =
    every customer, which needs the whole training set in memory).
    """

    scheduler_address: str | None = None
    n_workers: int = Field(2, ge=1)
    threads_per_worker: int = Field(1, ge=1)
    memory_limit: str = "3GiB"
    dashboard_address: str = ":0"
    data_url: str = "data/dask"
    partitions: int = Field(16, ge=1, le=100_000)
    train_sample_customers: int | None = Field(200_000, gt=0)

    @field_validator("memory_limit")
    @classmethod
    def _parse_memory(cls, value: str) -> str:
        from dask.utils import parse_bytes

        try:
            parse_bytes(value)
        except (ValueError, TypeError) as error:
            raise ValueError(f"not a memory size such as 3GiB or 2500MB: {error}") from error
        return value

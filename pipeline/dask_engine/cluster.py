"""The Dask cluster of a run: a LocalCluster by default, or a running scheduler by address."""

from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.config.dask import DaskConfig
from pipeline.progress import logger

__all__ = ["dask_client"]


@contextmanager
def dask_client(config: DaskConfig) -> Iterator["distributed.Client"]:  # noqa: F821
    """A `distributed.Client` for the run, closed (with its LocalCluster) at the end.

    config.scheduler_address set: connect to that scheduler (the workers are the cluster's;
    they need this package and its pinned dependencies installed). Else a LocalCluster of
    config.n_workers processes x threads_per_worker threads, each limited to memory_limit.
    The dashboard's address is logged either way."""
    from distributed import Client, LocalCluster

    if config.scheduler_address:
        client = Client(config.scheduler_address)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=config.n_workers,
                               threads_per_worker=config.threads_per_worker,
                               memory_limit=config.memory_limit, processes=True,
                               dashboard_address=config.dashboard_address)
        client = Client(cluster)
    try:
        where = config.scheduler_address or (
            f"LocalCluster {config.n_workers} workers x {config.threads_per_worker} threads, "
            f"{config.memory_limit} each")
        logger.info("dask: %s; dashboard %s", where, client.dashboard_link)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

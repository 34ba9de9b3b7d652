"""The Dask engine (configs/pipeline.yaml `engine: dask`): the same pure feature and scoring
functions as the local engine, run per hash partition of the customers on a Dask cluster.

layout: the validated tables split into hash partitions of customer_id (Parquet, local or
fsspec URL). cluster: the LocalCluster or the connection to a scheduler. features: the
features of every partition at the cutoffs planned once for the whole data. scoring: scores
and reasons per partition against one global reference; the score columns collected for the
tier stage. run: the stages' glue. Nothing is imported or started at import time.
"""

__all__ = ["cluster", "features", "layout", "run", "scoring"]

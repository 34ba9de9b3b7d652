"""Hash partitions of the validated tables by customer_id, as Parquet files.

`<data_url>/partitioned/<table>/part-<k>.parquet` holds the rows of `table` whose customer's
partition is k (`partition_of`), in their input order; every table of a partition holds the
same customers, so one partition's tables are a complete, smaller input of the pure feature
functions. The managers table has no customer: it is copied whole to
`<data_url>/partitioned/managers.parquet`. The partition of a customer is a stable hash of its
id (pandas' SipHash with its fixed key, the same on every machine and run) modulo the number
of partitions. The data URL is a folder or any fsspec URL.
"""

import json
import posixpath
import uuid
from collections.abc import Iterable

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.contract import CONTACTS, CUSTOMER_ID, CUSTOMERS, MANAGERS, TRANSACTIONS, Tables
from pipeline.errors import DataError
from pipeline.files import (
    PARTITIONED_DIR,
    PARTITIONS_MANIFEST,
    partition_file,
    table_file,
)

__all__ = [
    "PARTITIONED_TABLES",
    "Layout",
    "partition_of",
    "read_partition",
    "write_partitions",
]

PARTITIONED_TABLES = (TRANSACTIONS, CONTACTS, CUSTOMERS)  # the tables keyed by customer


def partition_of(ids: Iterable, n_partitions: int) -> np.ndarray:
    """The partition (0..n_partitions-1) of each customer id: SipHash of the id's text."""
    values = np.asarray(pd.Series(ids, dtype=object).astype(str), dtype=object)
    hashed = pd.util.hash_array(values, categorize=False)
    return (hashed % np.uint64(n_partitions)).astype(np.int64)


class Layout:
    """Paths of a partitioned data set under `url` (a folder or an fsspec URL)."""

    def __init__(self, url: str):
        self.url = str(url)
        self.fs, self.root = fsspec.core.url_to_fs(self.url)

    def path(self, *parts: str) -> str:
        return posixpath.join(self.root, *parts)

    def dataset(self, name: str) -> str:
        """The folder of one partitioned dataset ("partitioned/transactions", "scores")."""
        return self.path(name)

    def part(self, name: str, k: int) -> str:
        return self.path(name, partition_file(k))

    def exists(self, path: str) -> bool:
        return self.fs.exists(path)

    def manifest(self) -> dict:
        """The partitioning's manifest (partitions, tables, rows), DataError when absent."""
        path = self.path(PARTITIONED_DIR, PARTITIONS_MANIFEST)
        if not self.fs.exists(path):
            raise DataError(f"{self.url}: no partitioned tables; run `keyaccounts partition` "
                            "first (engine: dask)")
        with self.fs.open(path, "rb") as handle:
            return json.load(handle)

    def write_frame(self, frame: pd.DataFrame, path: str) -> None:
        """Write `frame` to `path` through a temporary name, renamed into place."""
        tmp = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
        self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
        with self.fs.open(tmp, "wb") as handle:
            frame.to_parquet(handle, index=False)
        self.fs.mv(tmp, path)

    def read_frame(self, path: str, columns: list[str] | None = None) -> pd.DataFrame:
        with self.fs.open(path, "rb") as handle:
            return pd.read_parquet(handle, columns=columns)


def write_partitions(sources: dict[str, str], url: str, n_partitions: int,
                     batch_rows: int = 1_000_000) -> dict:
    """Split the validated tables `sources` (table -> Parquet file) into `n_partitions` hash
    partitions of customer_id under `url`/partitioned, streaming `batch_rows` rows at a time
    (memory stays at a batch, whatever the table's size). The new partitioning is written
    beside the old one and swapped in at the end. Returns the manifest: partitions and rows
    per table."""
    if TRANSACTIONS not in sources:
        raise DataError("the transactions table is required to partition the data")
    layout = Layout(url)
    final = layout.path(PARTITIONED_DIR)
    staging = f"{final}.tmp-{uuid.uuid4().hex[:8]}"
    fs = layout.fs
    manifest = {"partitions": n_partitions, "rows": {}, "tables": []}
    for table in PARTITIONED_TABLES:
        if table not in sources:
            continue
        source = pq.ParquetFile(sources[table])
        schema = source.schema_arrow.remove_metadata()
        pandas_meta = source.schema_arrow.metadata or {}
        meta = {k: v for k, v in pandas_meta.items() if k == b"pandas"}
        schema = schema.with_metadata(meta) if meta else schema
        fs.makedirs(posixpath.join(staging, table), exist_ok=True)
        handles = [fs.open(posixpath.join(staging, table, partition_file(k)), "wb")
                   for k in range(n_partitions)]
        writers = [pq.ParquetWriter(h, schema) for h in handles]
        rows = 0
        try:
            for batch in source.iter_batches(batch_size=batch_rows):
                ids = batch.column(batch.schema.get_field_index(CUSTOMER_ID)).to_pylist()
                parts = partition_of(ids, n_partitions)
                order = np.argsort(parts, kind="stable")  # input order kept in a partition
                bounds = np.searchsorted(parts[order], np.arange(n_partitions + 1))
                table_batch = pa.Table.from_batches([batch]).cast(schema)
                for k in range(n_partitions):
                    lo, hi = bounds[k], bounds[k + 1]
                    if hi > lo:
                        writers[k].write_table(table_batch.take(pa.array(order[lo:hi])))
                rows += batch.num_rows
        finally:
            for writer, handle in zip(writers, handles):
                writer.close()
                handle.close()
        manifest["rows"][table] = rows
        manifest["tables"].append(table)
    if MANAGERS in sources:
        managers = pq.read_table(sources[MANAGERS])
        with fs.open(posixpath.join(staging, table_file(MANAGERS)), "wb") as handle:
            pq.write_table(managers, handle)
        manifest["rows"][MANAGERS] = managers.num_rows
        manifest["tables"].append(MANAGERS)
    with fs.open(posixpath.join(staging, PARTITIONS_MANIFEST), "w") as handle:
        handle.write(json.dumps(manifest, indent=2))
    if fs.exists(final):
        fs.rm(final, recursive=True)
    fs.mv(staging, final, recursive=True)
    return manifest


def read_partition(url: str, k: int, tables: Iterable[str]) -> Tables:
    """The tables of partition k (a table of `tables` not partitioned is None; managers is
    the whole table)."""
    layout = Layout(url)
    wanted = set(tables)

    def read(table: str) -> pd.DataFrame | None:
        if table not in wanted:
            return None
        if table == MANAGERS:
            return layout.read_frame(layout.path(PARTITIONED_DIR, table_file(MANAGERS)))
        return layout.read_frame(layout.part(posixpath.join(PARTITIONED_DIR, table), k))

    return Tables(read(TRANSACTIONS), read(CONTACTS), read(CUSTOMERS), read(MANAGERS))

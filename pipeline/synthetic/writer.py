"""Write the synthetic data set chunk by chunk, with bounded memory.

Customers are simulated in chunks of `chunk_size`; each chunk's tables are appended to
Parquet files with `pyarrow.parquet.ParquetWriter`, so memory holds one chunk at a time.
Chunk k draws its history from `default_rng([seed, k, 0])`, its ground-truth continuations
from `[seed, k, 1]` and its defects from `[seed, k, 2]`: the same seed and configuration give
byte-identical files.
"""

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.contract import (
    ACTIVE,
    AMOUNT,
    AS_OF,
    CAPACITY,
    CATEGORY,
    CHANNEL,
    CONTACT_DATE,
    CONTACTS,
    CREATED_DATE,
    CURRENT_MANAGER_ID,
    CURRENT_TIER,
    CUSTOMER_ID,
    CUSTOMERS,
    HORIZON_DAYS,
    INDUSTRY,
    MANAGER_ID,
    MANAGERS,
    ORDER_DATE,
    ORDER_ID,
    OUTCOME,
    QUANTITY,
    REGION,
    SIZE,
    TRANSACTIONS,
)
from pipeline.config.generate import GENERATED_TABLES, GenerateConfig
from pipeline.files import DEFECTS as DEFECTS_FILE
from pipeline.files import GENERATE_SUMMARY as SUMMARY_FILE
from pipeline.files import GROUND_TRUTH as TRUTH_FILE
from pipeline.files import MANAGER_TRUTH, table_file
from pipeline.storage import StagedFiles, write_text
from pipeline.synthetic.defects import inject
from pipeline.synthetic.history import customer_ids, manager_ids, simulate_chunk
from pipeline.synthetic.population import REGIONS, draw_managers, tier_thresholds
from pipeline.synthetic.truth import (
    MANAGER_TRUTH_COLUMNS,
    as_of_dates,
    manager_truth_frame,
    truth_frame,
    week_of,
)

__all__ = ["DEFECTS_FILE", "SUMMARY_FILE", "TRUTH_FILE", "schemas", "write_dataset"]

_S, _D, _F, _I = pa.string(), pa.date32(), pa.float64(), pa.int64()


def schemas(with_defects: bool) -> dict[str, pa.Schema]:
    """Arrow schemas of the raw files; with defects, dates and amounts are text."""
    date, amount = (_S, _S) if with_defects else (_D, _F)
    return {
        TRANSACTIONS: pa.schema([(CUSTOMER_ID, _S), (ORDER_ID, _S), (ORDER_DATE, date),
                                 (AMOUNT, amount), (CATEGORY, _S), (QUANTITY, _I),
                                 (CHANNEL, _S)]),
        CONTACTS: pa.schema([(CUSTOMER_ID, _S), (CONTACT_DATE, date), (CHANNEL, _S),
                             (MANAGER_ID, _S), (OUTCOME, _S)]),
        CUSTOMERS: pa.schema([(CUSTOMER_ID, _S), (REGION, _S), (INDUSTRY, _S),
                              (SIZE, _I), (CREATED_DATE, _D), (CURRENT_MANAGER_ID, _S),
                              (CURRENT_TIER, _S)]),
        MANAGERS: pa.schema([(MANAGER_ID, _S), (REGION, _S), (CAPACITY, _I), (ACTIVE, pa.bool_())]),
        # as_of as a timestamp so that pandas reads it as datetime64, like the cutoffs
        "truth": pa.schema([(CUSTOMER_ID, _S), (AS_OF, pa.timestamp("ms")),
                            (HORIZON_DAYS, _I),
                            ("true_expected_spend", _F), ("true_expected_spend_se", _F),
                            ("true_prob_no_purchase", _F), ("true_prob_no_purchase_se", _F),
                            ("true_alive", pa.bool_())]),
        "defects": pa.schema([("table", _S), ("row", _I), ("kind", _S)]),
        "manager_truth": pa.schema(
            [(CUSTOMER_ID, _S), (AS_OF, pa.timestamp("ms")), (HORIZON_DAYS, _I)]
            + [(name, _F) for name in MANAGER_TRUTH_COLUMNS[3:11]]
            + [("true_managed", pa.bool_()), ("true_movable_share", _F),
               ("true_dissatisfied", pa.bool_()), ("true_alive", pa.bool_())]),
    }


def _arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    arrays = [pa.array(frame[f.name], from_pandas=True).cast(f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def write_dataset(config: GenerateConfig, raw_dir: Path, truth_dir: Path,
                  progress: Callable[[Iterable[int], str, int], Iterable[int]] | None = None
                  ) -> dict:
    """Simulate `config.n_customers` customers and write raw tables, truth and defect list.

    Only the tables of `config.tables` are written (the others are simulated all the same:
    contacts drive dropout whether or not the export has them); a file of another table
    left in `raw_dir` by an earlier run is removed, so the folder holds one data set.
    Returns a summary (rows per table, defects per kind, ground-truth precision) that is
    also written to truth_dir/generate_summary.json. Every file is written to a temporary in
    its folder and all are renamed into place at the end: a failed or killed run leaves the
    files of the run before.
    """
    raw_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    with_defects = config.defect_rate > 0
    schema = schemas(with_defects)
    thresholds = tier_thresholds(config)
    managers = draw_managers(config)
    as_ofs = as_of_dates(config)
    weeks = {d: week_of(config, d) for d in as_ofs}
    n_chunks = -(-config.n_customers // config.chunk_size)
    with StagedFiles() as staged:  # every file, or none, replaced at the end
        chunked = [t for t in (TRANSACTIONS, CONTACTS, CUSTOMERS) if t in config.tables]
        writers = {t: pq.ParquetWriter(staged.path(raw_dir / table_file(t)), schema[t])
                   for t in chunked}
        writers["truth"] = pq.ParquetWriter(staged.path(truth_dir / TRUTH_FILE), schema["truth"])
        if config.manager_truth:  # with and without a manager, at end_date
            writers["manager_truth"] = pq.ParquetWriter(
                staged.path(truth_dir / MANAGER_TRUTH), schema["manager_truth"])
            manager_rows = 0
        rows = {t: 0 for t in chunked}
        truth_rows = orders = 0
        load = np.zeros(len(managers.region), np.int64)
        total = {d: 0.0 for d in as_ofs}
        variance = {d: 0.0 for d in as_ofs}
        defects = []
        chunks = range(n_chunks)
        try:
            for k in progress(chunks, "generate: chunk", n_chunks) if progress else chunks:
                first = k * config.chunk_size
                n = min(config.chunk_size, config.n_customers - first)
                result = simulate_chunk(config, k, first, n, thresholds, managers,
                                        first_order=orders,
                                        snapshot_weeks=tuple(weeks.values()))
                orders += len(result.transactions)
                load += np.bincount(result.population.manager[result.population.manager >= 0],
                                    minlength=len(load))
                tables = {TRANSACTIONS: result.transactions, CONTACTS: result.contacts,
                          CUSTOMERS: result.customers}
                tables = {t: tables[t] for t in chunked}
                if with_defects:
                    rng = np.random.default_rng([config.seed, k, 2])
                    size = config.n_customers  # numbers no customer has:
                    unknown = customer_ids(rng.integers(size, 3 * size, 1000), size)
                    for t in (TRANSACTIONS, CONTACTS):
                        if t not in tables:
                            continue
                        tables[t], found = inject(tables[t], t, config.defect_rate, rng, unknown)
                        found.insert(0, "table", t)
                        found["row"] += rows[t]
                        defects.append(found)
                for t, frame in tables.items():
                    writers[t].write_table(_arrow(frame, schema[t]))
                    rows[t] += len(frame)
                rng = np.random.default_rng([config.seed, k, 1])
                ids = customer_ids(result.population.number, config.n_customers)
                for d, w in weeks.items():
                    truth = truth_frame(rng, config, result.population_at(w), ids,
                                        result.snapshots[w], d, config.truth_n_sims)
                    total[d] += truth["true_expected_spend"].sum()
                    variance[d] += (truth["true_expected_spend_se"] ** 2).sum()
                    writers["truth"].write_table(_arrow(truth, schema["truth"]))
                    truth_rows += len(truth)
                if config.manager_truth:  # its own stream [seed, k, 3]: the others unchanged
                    d = config.end_date
                    frame = manager_truth_frame([config.seed, k, 3], config,
                                                result.population_at(weeks[d]), ids,
                                                result.snapshots[weeks[d]], d,
                                                config.manager_truth_n_sims)
                    writers["manager_truth"].write_table(_arrow(frame, schema["manager_truth"]))
                    manager_rows += len(frame)
        finally:
            for writer in writers.values():
                writer.close()
        mgr = pd.DataFrame({
            MANAGER_ID: manager_ids(len(load)),
            REGION: np.array(REGIONS, dtype=object)[managers.region],
            # a random draw can hand a manager a few accounts more than planned: capacity covers it
            CAPACITY: np.maximum(managers.capacity, load),
            ACTIVE: managers.active,
        })
        if MANAGERS in config.tables:
            pq.write_table(_arrow(mgr, schema[MANAGERS]),
                           staged.path(raw_dir / table_file(MANAGERS)))
            rows[MANAGERS] = len(mgr)
        defect_frame = (pd.concat(defects, ignore_index=True) if defects
                        else pd.DataFrame({"table": [], "row": [], "kind": []}))
        pq.write_table(_arrow(defect_frame, schema["defects"]),
                       staged.path(truth_dir / DEFECTS_FILE))
        rel_se = {str(d): float(np.sqrt(variance[d]) / total[d]) if total[d] else 0.0 for d in as_ofs}
        summary = {
            "seed": config.seed, "n_customers": config.n_customers, "rows": rows,
            "truth_rows": truth_rows, "truth_as_of": [str(d) for d in as_ofs],
            "truth_n_sims": config.truth_n_sims,
            "truth_relative_se_of_total_max": max(rel_se.values(), default=0.0),
            "truth_relative_se_of_total": rel_se,
            "defects": {f"{t}.{kind}": int(v) for (t, kind), v
                        in defect_frame.groupby(["table", "kind"]).size().items()},
        }
        if config.manager_truth:
            summary["manager_truth_rows"] = manager_rows
        write_text(json.dumps(summary, indent=2), staged.path(truth_dir / SUMMARY_FILE))
        staged.commit()
    for table in GENERATED_TABLES:  # an earlier run's table this data set does not have
        if table not in config.tables:
            (raw_dir / table_file(table)).unlink(missing_ok=True)
    return summary

"""The score stage on Dask: scores per partition, reasons per partition against one global
reference, the score columns collected for tiering.

Pass 1 (a task per partition) scores the partition's scoring frame (`pipeline.scoring.
score_table`: every row's scores come from that row alone) and writes its scores and the
explained inputs. The client then picks the accounts that get reasons over all customers
(`scoring.reason_rows` on the collected expected_value and value_at_risk) and builds the
reference of "typical" one column at a time over every partition
(`models.reasons.compact_reference`: three numbers per column). Pass 2 (a task per
partition with accounts to explain) explains them against that reference and rewrites the
partition's scores: the reasons are those of the whole frame.
"""

import numpy as np
import pandas as pd

from features.contract import CUSTOMER_ID
from models.columns import EXPECTED_VALUE, REASONS, VALUE_AT_RISK
from models.reasons import compact_reference
from models.training import FittedModels
from pipeline import scoring
from pipeline.dask_engine.layout import Layout
from pipeline.files import REASONS_INPUT_PARTS, SCORES_PARTS, SCORING_PARTS

__all__ = ["collect_scores", "explain_partition", "global_references", "reason_ids",
           "score_partition"]

_CHURN_INPUT = REASONS_INPUT_PARTS + "_churn"


def score_partition(url: str, k: int, fitted: FittedModels, horizon: int, stamp: dict,
                    effect=None) -> dict:
    """Score partition k (`effect`: the manager effect, as scoring.score_table); write its
    scores (reasons "") and the inputs the reasons explain."""
    layout = Layout(url)
    frame = layout.read_frame(layout.part(SCORING_PARTS, k))
    out, prepared = scoring.score_table(frame, fitted, horizon, stamp, effect)
    layout.write_frame(scoring.finish(out), layout.part(SCORES_PARTS, k))
    if not fitted.fallback:
        own = fitted.churn_input is not None  # its input is prepared from the whole frame
        layout.write_frame(prepared if own else prepared[fitted.features],
                           layout.part(REASONS_INPUT_PARTS, k))
        if own:
            layout.write_frame(fitted.churn_input.prepare(prepared),
                               layout.part(_CHURN_INPUT, k))
    return {"partition": k, "rows": len(out)}


def collect_scores(url: str, parts: list[int], columns: list[str] | None = None
                   ) -> pd.DataFrame:
    """The scores of `parts`, concatenated: only `columns` when given (tiering needs a few
    columns per customer, not the reasons)."""
    layout = Layout(url)
    frames = [layout.read_frame(layout.part(SCORES_PARTS, k), columns=columns) for k in parts
              if layout.exists(layout.part(SCORES_PARTS, k))]
    return pd.concat(frames, ignore_index=True)


def reason_ids(url: str, parts: list[int], top_value: int | None, top_risk: int | None
               ) -> set[str] | None:
    """The customers that get reasons, over all partitions (`scoring.reason_rows`); None =
    every customer."""
    if top_value is None or top_risk is None:
        return None
    scores = collect_scores(url, parts, [CUSTOMER_ID, EXPECTED_VALUE, VALUE_AT_RISK])
    rows = scoring.reason_rows(scores, top_value, top_risk)
    return set(scores.loc[rows, CUSTOMER_ID])


def _reference(url: str, name: str, parts: list[int], columns: list[str] | None = None,
               batch: int = 8) -> dict:
    """Per numeric column of the partitioned dataset `name`, its compact reference over every
    partition, reading `batch` columns of every customer at a time."""
    layout = Layout(url)
    present = [k for k in parts if layout.exists(layout.part(name, k))]
    empty = layout.read_frame(layout.part(name, present[0])).iloc[:0]
    numeric = [str(c) for c in (columns if columns is not None else empty.columns)
               if pd.api.types.is_numeric_dtype(empty[c].dtype)]
    out = {}
    for start in range(0, len(numeric), batch):
        group = numeric[start:start + batch]
        frames = [layout.read_frame(layout.part(name, k), columns=group) for k in present]
        for column in group:
            out[column] = compact_reference(np.concatenate(
                [f[column].to_numpy(dtype=float, na_value=np.nan) for f in frames]))
        del frames
    return out


def global_references(url: str, parts: list[int], fitted: FittedModels) -> dict:
    """{"value": ..., "churn": ...}: per explained column, its compact reference over every
    partition, read one column at a time (memory: one column of every customer)."""
    value = _reference(url, REASONS_INPUT_PARTS, parts, fitted.features)
    churn = _reference(url, _CHURN_INPUT, parts) if fitted.churn_input is not None else value
    return {"value": value, "churn": churn}


def explain_partition(url: str, k: int, fitted: FittedModels, ids: set[str] | None,
                      references: dict, top_k: int) -> dict:
    """Fill in the reasons of partition k's accounts in `ids` (every one when None) against
    the global `references`, and rewrite its scores."""
    layout = Layout(url)
    out = layout.read_frame(layout.part(SCORES_PARTS, k))
    rows = out.index if ids is None else out.index[out[CUSTOMER_ID].isin(ids)]
    if not len(rows):
        return {"partition": k, "explained": 0}
    prepared = layout.read_frame(layout.part(REASONS_INPUT_PARTS, k))
    out = scoring.add_reasons(out, prepared, fitted, rows, top_k, references=references)
    layout.write_frame(scoring.finish(out), layout.part(SCORES_PARTS, k))
    return {"partition": k, "explained": int((out[REASONS] != "").sum())}

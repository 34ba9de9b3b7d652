"""A synthetic B2B customer base with a known truth (`keyaccounts generate`).

Customers are firms (region, industry, heavy-tailed size, arrival date) with a latent
purchase rate and order value, seasonality, category preferences and returns. They drop out
over time; neglect and complaints raise the dropout hazard, a dedicated manager's contacts
lower it and lift purchasing for a few weeks (see `process` for the exact model). Managers
belong to regions and carry a limited number of strategic accounts.

Modules: `population` (who), `process` (the weekly step), `history` (a chunk's tables),
`truth` (Monte Carlo ground truth), `defects` (export faults), `writer` (chunked Parquet),
`marker` (which raw files generate wrote, so it never overwrites an export), `presets`
(bases of other shapes: consumer, short_history, seasonal, new_customers).
"""

from pipeline.synthetic.defects import DEFECT_KINDS, inject
from pipeline.synthetic.history import ChunkResult, simulate_chunk
from pipeline.synthetic.population import draw_managers, tier_thresholds
from pipeline.synthetic.truth import (
    as_of_dates,
    expected_continuations,
    realised_continuations,
    truth_frame,
)
from pipeline.synthetic.writer import DEFECTS_FILE, SUMMARY_FILE, TRUTH_FILE, write_dataset

__all__ = [
    "DEFECTS_FILE", "DEFECT_KINDS", "SUMMARY_FILE", "TRUTH_FILE", "ChunkResult", "as_of_dates",
    "draw_managers", "expected_continuations", "inject", "realised_continuations",
    "simulate_chunk", "tier_thresholds", "truth_frame", "write_dataset",
]

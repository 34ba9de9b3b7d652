"""The summary sheet of the workbook: pure tables built from the tier stage's outputs."""

import pandas as pd

from features.contract import CUSTOMER_ID, REGION
from models.tiering import EXPECTED_VALUE, RETENTION, TIER, VALUE_AT_RISK

__all__ = ["summary_tables", "workbook_notes"]

_TOTALS = ["accounts", EXPECTED_VALUE, VALUE_AT_RISK, "retention"]


def summary_tables(tiers: pd.DataFrame, moves: pd.DataFrame, matrix: pd.DataFrame,
                   books: pd.DataFrame, shortfall: pd.DataFrame,
                   names: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """Title -> table of the summary sheet, in order: accounts, expected value, value at risk
    and retention flags per tier (tiers in the order of `names`) and per tier and region (then
    by region), then the movement, the movement matrix (`matrix` with its "previous tier"
    column), the manager capacity per region (`shortfall`) and the manager books."""
    by = (tiers.groupby([TIER, REGION]).agg(accounts=(CUSTOMER_ID, "size"),
                                            expected_value=(EXPECTED_VALUE, "sum"),
                                            value_at_risk=(VALUE_AT_RISK, "sum"),
                                            retention=(RETENTION, "sum"))
          .reset_index())
    by["_order"] = by[TIER].map({n: i for i, n in enumerate(names)})
    by = by.sort_values(["_order", REGION]).drop(columns="_order")
    totals = by.groupby(TIER, sort=False)[_TOTALS].sum().reset_index()
    return {"Accounts and expected value per tier": totals,
            "Per tier and region": by,
            "Movement since the last run": moves,
            "Movement matrix (previous tier in rows, tier now in columns)": matrix,
            "Manager capacity per region": shortfall,
            "Manager books": books}


def workbook_notes(summary: dict) -> list[str]:
    """The notes under the summary tables: the movement basis, then the tier stage's notes
    (`summary` is tier_summary.json)."""
    return [f"Movement compared with {summary['movement_basis']}.", *summary["notes"]]

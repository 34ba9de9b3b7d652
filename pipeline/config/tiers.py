"""configs/tiers.yaml: the tier policy, manager assignment and what gets published."""

from typing import Literal

from pydantic import Field

from models.tier_policy import TierPolicy
from pipeline.config.base import StrictModel

__all__ = ["PublishConfig", "TiersConfig"]


class PublishConfig(StrictModel):
    """What the publish stage writes into paths.publish_dir, and the CRM table.

    `crm_url`: any SQLAlchemy URL; None means a SQLite file `crm.db` in paths.publish_dir. A
    relative sqlite path is resolved against the project root.
    """

    sheets_by: Literal["region", "manager"] = "region"
    workbook_name: str = "key_accounts.xlsx"
    report_name: str = "key_accounts.html"
    rows_name: str = "key_accounts"
    crm_url: str | None = None
    crm_table: str = Field(default="key_accounts", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    at_risk_rows: int = Field(default=25, ge=0)


class TiersConfig(StrictModel):
    """Capacity-aware tiers, hysteresis, assignment (`policy`) and the manager lists (`publish`)."""

    policy: TierPolicy = TierPolicy()
    publish: PublishConfig = PublishConfig()

"""configs/tiers.yaml: the tier policy, manager assignment and what gets published."""

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from features.config import StrictModel
from models.tier_policy import TierPolicy
from pipeline.secrets import password_in_url

__all__ = ["CrmConfig", "CrmTablesConfig", "PublishConfig", "TiersConfig"]

_TABLE_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class CrmTablesConfig(StrictModel):
    """Names of the three CRM tables (pipeline/publishing/crm.py declares their columns)."""

    scores: str = Field(default="customer_scores", pattern=_TABLE_NAME)
    current: str = Field(default="current_scores", pattern=_TABLE_NAME)
    runs: str = Field(default="scoring_runs", pattern=_TABLE_NAME)


class CrmConfig(StrictModel):
    """Where the publish stage writes the CRM tables, and how it reaches the database.

    `url`: a SQLAlchemy URL WITHOUT a password (refused on load: configs/ is committed and DVC
    copies stage params into dvc.lock); a relative sqlite path is resolved against the project
    root; None means a SQLite file `crm.db` in paths.publish_dir. The environment variable named
    by `url_env` (default KEYACCOUNTS_CRM_URL), when set, replaces `url` whole, password
    included; else the password comes from the variable `password_env` or the first line of
    `password_file` (a file outside the repository). `enabled: false` publishes files only.
    """

    enabled: bool = True
    url: str | None = "sqlite:///data/crm/crm.db"
    url_env: str | None = "KEYACCOUNTS_CRM_URL"
    password_env: str | None = "KEYACCOUNTS_CRM_PASSWORD"
    password_file: Path | None = None
    tables: CrmTablesConfig = CrmTablesConfig()
    retries: int = Field(default=3, ge=0, le=20)
    retry_wait_seconds: float = Field(default=2.0, ge=0)
    lock_timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _no_password(cls, url: str | None) -> str | None:
        if password_in_url(url):
            raise ValueError(
                "the URL holds a password, which would end up in git and dvc.lock: remove it "
                "and set the environment variable KEYACCOUNTS_CRM_URL (the whole URL) or "
                "KEYACCOUNTS_CRM_PASSWORD instead")
        return url


class PublishConfig(StrictModel):
    """What the publish stage writes into paths.publish_dir, and the CRM tables (`crm`).

    `sheets_by`: the sheets of the overall workbook (the sales director's): one per region, or
    one per manager plus "Unassigned". `books: per_manager` also writes into the folder
    `books_folder` one workbook and one HTML page per manager (only that manager's accounts)
    and per region (the region lead's: every account of the region); `single` writes only the
    overall files. `at_risk_rows` and `kept_rows` cap the HTML lists of at-risk strategic
    accounts and of incumbents that kept their slot below a candidate moved to the next tier.
    """

    sheets_by: Literal["region", "manager"] = "region"
    books: Literal["per_manager", "single"] = "per_manager"
    books_folder: str = Field(default="books", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
    workbook_name: str = "key_accounts.xlsx"
    report_name: str = "key_accounts.html"
    rows_name: str = "key_accounts"
    crm: CrmConfig = CrmConfig()
    at_risk_rows: int = Field(default=25, ge=0)
    kept_rows: int = Field(default=25, ge=0)


class TiersConfig(StrictModel):
    """Capacity-aware tiers, hysteresis, assignment (`policy`) and the manager lists (`publish`)."""

    policy: TierPolicy = TierPolicy()
    publish: PublishConfig = PublishConfig()

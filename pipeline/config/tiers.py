"""configs/tiers.yaml: the tier policy, manager assignment and what gets published."""

from typing import Literal

from pipeline.config.base import StrictModel

__all__ = ["TiersConfig"]


class TiersConfig(StrictModel):
    """Capacity-aware tiers, hysteresis and the manager lists."""

    rank_by: Literal["expected_value", "value_at_risk", "mix"] = "expected_value"

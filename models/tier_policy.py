"""The tier policy as typed, immutable settings (the `policy:` section of configs/tiers.yaml).

A policy says how accounts are ranked (`rank_by`), which bars put an account into each tier
(`thresholds_by`: a percentile of the ranking score among all scored customers, or the score
itself in currency), how far an account already in a tier may fall before it loses it
(`keep_bar`, the hysteresis), when an account is flagged for retention, and how strategic
accounts are spread over managers (`assignment`). The strategic tier is special: besides its
bar it is limited by the capacity of the active managers of each region.
"""

from typing import Literal

from pydantic import Field, model_validator

from features.config import StrictModel
from models.columns import EXPECTED_VALUE, RankBy

__all__ = [
    "TierBar",
    "StrategicTier",
    "RetentionRule",
    "AssignmentPolicy",
    "TierPolicy",
]


class TierBar(StrictModel):
    """A tier below strategic: enter at `min_bar`, keep it while above `keep_bar`."""

    name: str = Field(min_length=1)
    min_bar: float = Field(ge=0)
    keep_bar: float = Field(ge=0)

    @model_validator(mode="after")
    def _keep_below_entry(self) -> "TierBar":
        if self.keep_bar > self.min_bar:
            raise ValueError(f"tier {self.name!r}: keep_bar ({self.keep_bar}) must not be "
                             f"above min_bar ({self.min_bar})")
        return self


class StrategicTier(TierBar):
    """The capacity-bound top tier; `capacity_without_managers` applies when no managers
    table is given (then the strategic accounts get no manager assignment)."""

    name: str = "strategic"
    min_bar: float = Field(default=0.9, ge=0)
    keep_bar: float = Field(default=0.8, ge=0)
    capacity_without_managers: int = Field(default=200, ge=0)


class RetentionRule(StrictModel):
    """Flag an account for retention, whatever its tier, when both hold: its expected value
    is in the top share (percentile >= `min_value_percentile`) and its churn probability is
    at least `min_churn_probability`."""

    min_value_percentile: float = Field(default=0.75, ge=0, le=1)
    min_churn_probability: float = Field(default=0.5, ge=0, le=1)


class AssignmentPolicy(StrictModel):
    """How strategic accounts are spread over the managers of their region.

    `continuity_bonus`: what keeping an account with its current manager is worth against
    balancing the books, in units of the account's value weight times a full book (see
    models.assignment): 1 or more keeps every relationship that fits in the book, 0.5 keeps it
    unless that puts it half a book higher than the balance would, 0 ignores relationships.
    `value_bands`: accounts of a region are grouped into this many bands of expected value;
    more bands balance the books more finely (and cost more arcs: bands x slots).
    """

    continuity_bonus: float = Field(default=0.5, ge=0)
    value_bands: int = Field(default=20, ge=1, le=100)


class TierPolicy(StrictModel):
    """Ranking, bars, hysteresis, retention and assignment: everything that decides a tier.

    `rank_by` (models.tiering.rank_score): expected_value, value_at_risk, mix
    (`(1 - mix_weight) * expected_value + mix_weight * value_at_risk`), uplift (the manager's
    estimated gain; accounts without an estimate, outside overlap, rank below every account
    with one) or value_uplift (`(1 - uplift_weight) * percentile(expected_value) +
    uplift_weight * percentile(manager_gain)`, an account without an estimate at the gain's
    percentile 0)."""

    rank_by: RankBy = EXPECTED_VALUE
    mix_weight: float = Field(default=0.5, ge=0, le=1)
    uplift_weight: float = Field(default=0.5, ge=0, le=1)
    thresholds_by: Literal["percentile", "value"] = "percentile"
    strategic: StrategicTier = StrategicTier()
    tiers: tuple[TierBar, ...] = (
        TierBar(name="key", min_bar=0.75, keep_bar=0.65),
        TierBar(name="growth", min_bar=0.4, keep_bar=0.3),
    )
    fallback_tier: str = "self-service"
    retention: RetentionRule = RetentionRule()
    assignment: AssignmentPolicy = AssignmentPolicy()

    @model_validator(mode="after")
    def _check_order(self) -> "TierPolicy":
        names = [self.strategic.name, *(t.name for t in self.tiers), self.fallback_tier]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be distinct, got {names}")
        bars = [self.strategic.min_bar, *(t.min_bar for t in self.tiers)]
        if any(upper < lower for upper, lower in zip(bars, bars[1:])):
            raise ValueError(f"min_bar must not increase from strategic down, got {bars}")
        if self.thresholds_by == "percentile" and max(
            [self.strategic.min_bar, *(t.min_bar for t in self.tiers)]
        ) > 1:
            raise ValueError("with thresholds_by: percentile, bars are shares between 0 and 1")
        return self

    @property
    def tier_names(self) -> tuple[str, ...]:
        """Every tier, best first, ending with the fallback tier."""
        return (self.strategic.name, *(t.name for t in self.tiers), self.fallback_tier)

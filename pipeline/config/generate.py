"""configs/generate.yaml: the synthetic B2B customer base of `keyaccounts generate`.

The behaviour parameters are the true model of the synthetic world (see
`pipeline.synthetic.process` for how each one enters the weekly simulation). The presets of
`keyaccounts generate --preset NAME` (`pipeline.synthetic.presets`) are overrides of it.

`behaviour.manager_uplift` (default None: the demo) switches on a heterogeneous manager
effect (`ManagerUpliftConfig`), and `manager_truth` (default False) writes the ground truth
with and without a dedicated manager; the "manager_effect" preset sets both. With their
defaults the generated files are byte-identical to those written before the keys existed.
"""

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from features.config import StrictModel

__all__ = ["GENERATED_TABLES", "BehaviourConfig", "GenerateConfig", "ManagerUpliftConfig"]

# the tables generate can write (features.contract.TABLES); transactions is always written
GENERATED_TABLES = ("transactions", "contacts", "customers", "managers")


class ManagerUpliftConfig(StrictModel):
    """A heterogeneous, partly negative manager effect and a confounded assignment (the
    "manager_effect" preset; `behaviour.manager_uplift`, None in the demo).

    How it differs from the demo's process, where every manager contact lifts purchasing by
    contact_lift, multiplies the dropout hazard by manager_effect and resets the neglect clock,
    so that a manager helps every account in proportion to its size:

    - movable wallet share: each account draws w ~ Beta with mean
      logit^-1(logit(movable_mean) + movable_size_slope * z), z = the account's standardised
      log size (a large firm buys from several suppliers, so more of its wallet can move; a
      small loyal buyer already gives its supplier all it has). A manager contact lifts
      purchasing by strength * contact_lift * w / movable_mean (the demo's lift on average)
      and multiplies the hazard by manager_effect ** (strength * w / movable_mean) (capped
      at the third power): near no effect for w near 0.
    - dissatisfied accounts (dissatisfied_share, independent of w): the manager neither lifts
      nor retains them, and each of the manager's contacts is a complaint with probability
      strength * dissatisfied_complaint_prob (others: strength * complaint_prob). A complaint
      multiplies the hazard by complaint_effect and, while remembered, purchasing by
      1 - complaint_spend_drop (for every account, managed or not): more contact, more
      complaints, less spend.
    - bought_elsewhere (off by default; bench_uplift turns it on): the movable share is what
      the account buys from competitors today (the share-of-wallet view of B2B sales: a
      firm's need in our categories grows with its size and industry, and what it does not
      buy from us it buys elsewhere). Without a manager it then buys max(1 - w,
      wallet_floor) / (1 - movable_mean) times the demo's rate from us, and a manager
      contact lifts that by the lift above divided by the same factor, so the extra spend a
      manager wins is unchanged (need x lift) but an account that buys little from us for
      its size is the one with wallet to win. Off, the account's spend with us says nothing
      about w and w is visible only through size (the mean) and the manager's past results.
    - strength scales all of the manager's effects; 0 means the manager changes nothing (no
      lift, no retention, no complaints, and manager contacts do not reset the neglect clock).
    - assignment "yearly_review" (default): at the start, P(manager) = logit^-1(
      assignment_slope * (log latent value - c)), c set so that strategic_share of the
      accounts are managed; then every 52 weeks the firm reviews its book: the strategic_share
      of the arrived accounts with the highest log(1 + last year's booked revenue: the net
      amounts of the transactions table over the 52 weeks before) + review_noise *
      N(0, 1) + review_stickiness (when managed now) keep or get a manager, the others lose
      theirs; an account arriving between reviews has no manager until the next one (in
      the demo it gets one half a year after arrival, drawn on its latent value: under the
      reviews that would be an assignment no feature can explain). "by_revenue": the initial draw only, then gained_share of the managed accounts
      get their manager at a uniform week of the history and former_share (times the
      assignment probability) of the unmanaged had one that left at a uniform week.
      "top_value": the demo's rule (a manager for managed_given_eligible of the top-value
      accounts at random and never for the others, so no account below the threshold is
      comparable) with the re-assignments of "by_revenue". Either way assignment follows
      value: a naive managed-versus-unmanaged comparison is biased; the re-assignments are
      the natural experiments, and under "yearly_review" they depend on observed revenue.
      Under "yearly_review" the ground truth at an as-of date continues the assignment of
      that date (no later review happens in the continuations).
    """

    strength: float = Field(1.0, ge=0.0, le=3.0)
    movable_mean: float = Field(0.3, gt=0.0, lt=1.0)
    movable_concentration: float = Field(2.0, gt=0.0)
    movable_size_slope: float = Field(1.0)
    dissatisfied_share: float = Field(0.15, ge=0.0, le=1.0)
    dissatisfied_complaint_prob: float = Field(0.5, ge=0.0, le=1.0)
    complaint_spend_drop: float = Field(0.4, ge=0.0, le=1.0)
    assignment: Literal["yearly_review", "by_revenue", "top_value"] = "yearly_review"
    assignment_slope: float = Field(1.5, gt=0.0)
    review_noise: float = Field(1.0, ge=0.0)
    review_stickiness: float = Field(1.0, ge=0.0)
    gained_share: float = Field(0.3, ge=0.0, le=1.0)
    former_share: float = Field(0.3, ge=0.0, le=1.0)
    # share of wallet: the movable part w of an account's need is bought from competitors,
    # so without a manager the account buys (1 - w) / (1 - movable_mean) of the demo's rate
    # from us (its own share floored at wallet_floor); the manager's lift wins back part of
    # w, the same extra spend as without it. False: the account buys its whole need from us
    bought_elsewhere: bool = False
    wallet_floor: float = Field(0.1, gt=0.0, le=1.0)


class BehaviourConfig(StrictModel):
    """The latent customer process: purchases, contacts, complaints and dropout (per week)."""

    initial_share: float = Field(0.55, gt=0.0, le=1.0)
    base_rate: float = Field(0.15, gt=0.0)
    base_order_value: float = Field(250.0, gt=0.0)
    order_value_sigma: float = Field(0.7, gt=0.0)
    return_rate: float = Field(0.04, ge=0.0, lt=1.0)
    seasonality: float = Field(0.25, ge=0.0, lt=1.0)
    season_cycles: int = Field(2, ge=1, le=4)  # waves a year (2: highs in spring and autumn)
    season_peak_day: int = Field(75, ge=1, le=366)  # day of the year of the (first) high
    base_hazard: float = Field(0.0018, gt=0.0, lt=1.0)
    neglect_effect: float = Field(1.5, ge=0.0)
    manager_effect: float = Field(0.45, gt=0.0, le=1.0)
    manager_memory_weeks: int = Field(8, ge=1)
    complaint_effect: float = Field(3.0, ge=1.0)
    complaint_memory_weeks: int = Field(13, ge=1)
    complaint_prob: float = Field(0.07, ge=0.0, le=1.0)
    contact_lift: float = Field(0.5, ge=0.0)
    lift_weeks: int = Field(3, ge=1)
    manager_contact_rate: float = Field(0.3, gt=0.0, le=0.5)
    other_contact_rate: float = Field(0.02, ge=0.0, le=1.0)
    strategic_share: float = Field(0.03, gt=0.0, lt=0.5)
    managed_given_eligible: float = Field(0.6, gt=0.0, le=1.0)
    key_share: float = Field(0.10, ge=0.0, lt=1.0)
    growth_share: float = Field(0.30, ge=0.0, lt=1.0)
    manager_capacity_min: int = Field(20, ge=1)
    manager_capacity_max: int = Field(40, ge=1)
    # None: the demo's homogeneous manager effect; see ManagerUpliftConfig
    manager_uplift: ManagerUpliftConfig | None = None


class GenerateConfig(StrictModel):
    """Size, history, seed, defects and ground truth of the generated data set."""

    seed: int = 42
    n_customers: int = Field(20_000, gt=0)
    start_date: date = date(2022, 11, 1)
    end_date: date = date(2026, 10, 31)
    defect_rate: float = Field(0.0, ge=0.0, le=0.15)
    truth_horizon_days: int = Field(365, gt=0)
    truth_months: int = Field(24, ge=0)
    truth_n_sims: int = Field(16, ge=2)
    chunk_size: int = Field(50_000, ge=100)
    # also write, at end_date, each customer's truth with and without a dedicated manager
    # (pipeline.files.MANAGER_TRUTH), from manager_truth_n_sims paired continuations
    manager_truth: bool = False
    manager_truth_n_sims: int = Field(64, ge=2)
    # the raw tables written; the others are simulated (they drive the process) but not
    # exported, e.g. [transactions] for a web shop's export without CRM or customer master
    tables: tuple[Literal["transactions", "contacts", "customers", "managers"], ...] = (
        GENERATED_TABLES)
    behaviour: BehaviourConfig = BehaviourConfig()

    @field_validator("tables")
    @classmethod
    def _transactions_written(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "transactions" not in value:
            raise ValueError("must include transactions, the one table every export has")
        return tuple(t for t in GENERATED_TABLES if t in value)  # in contract order, once

    @model_validator(mode="after")
    def _check_dates(self) -> "GenerateConfig":
        if self.end_date <= self.start_date:
            raise ValueError("end_date must be after start_date")
        return self

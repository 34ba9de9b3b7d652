"""Who the customers and managers are: firm attributes and the latent customer parameters.

Every draw comes from a `numpy.random.Generator` passed in; the thresholds that split the
latent value into tiers come from a fixed pilot sample of the same distribution, so a
customer's tier does not depend on which chunk it was simulated in.
"""

from dataclasses import dataclass

import numpy as np

from features.contract import INDUSTRY, REGION, SIZE
from pipeline.config.generate import BehaviourConfig, GenerateConfig
from pipeline.synthetic import uplift

__all__ = [
    "CATEGORIES", "INDUSTRIES", "MANAGER_DELAY_WEEKS", "REGIONS", "TIERS", "Managers",
    "Population",
    "draw_managers", "contact_bits", "draw_population", "revenue_offset", "tier_thresholds",
]

REGIONS = ("north", "south", "east", "west", "central")
REGION_P = np.array([0.24, 0.22, 0.20, 0.18, 0.16])
# industry: (share, purchase-rate multiplier, log order-value offset)
_INDUSTRY = {
    "metalworking": (0.18, 1.2, 0.2), "construction": (0.16, 0.9, 0.3),
    "automotive": (0.12, 1.3, 0.1), "food": (0.12, 1.1, -0.3), "chemicals": (0.10, 0.8, 0.5),
    "electronics": (0.12, 1.0, 0.0), "logistics": (0.10, 0.9, -0.2), "healthcare": (0.10, 0.7, 0.1),
}
INDUSTRIES = tuple(_INDUSTRY)
_IND_P = np.array([v[0] for v in _INDUSTRY.values()])
_IND_RATE = np.array([v[1] for v in _INDUSTRY.values()])
_IND_VALUE = np.array([v[2] for v in _INDUSTRY.values()])
CATEGORIES = ("fasteners", "tools", "electrical", "safety", "hydraulics", "consumables")
# per industry Dirichlet concentration over categories: preferences differ by industry
_CAT_ALPHA = np.array([
    [4, 3, 1, 1, 2, 2], [3, 4, 1, 2, 1, 2], [4, 2, 2, 1, 3, 1], [1, 1, 1, 3, 1, 5],
    [1, 1, 2, 4, 2, 3], [2, 2, 5, 1, 1, 2], [1, 2, 1, 3, 1, 4], [1, 1, 2, 4, 1, 4],
], dtype=float)
UNIT_PRICE = np.array([12.0, 85.0, 40.0, 30.0, 150.0, 8.0])
TIERS = ("strategic", "key", "growth", "self-service")
_SIZE_REF = 30.0
NEVER = np.iinfo(np.int32).max
MANAGER_DELAY_WEEKS = 26  # a managed account arriving during the history gets its manager then


@dataclass
class Population:
    """Latent parameters of a chunk of customers (numpy arrays, one entry per customer)."""

    number: np.ndarray        # global customer number (the id's digits)
    region: np.ndarray        # index into REGIONS
    industry: np.ndarray      # index into INDUSTRIES
    size: np.ndarray          # employees
    created_week: np.ndarray  # week index of arrival; <= 0 for customers older than the history
    lam: np.ndarray           # base purchases per week while alive
    log_mu: np.ndarray        # mean log order value
    mean_net_value: np.ndarray  # expected net amount per expected purchase (net of returns)
    h0: np.ndarray            # base weekly dropout hazard
    cat_cum: np.ndarray       # cumulative category preferences, shape (n, len(CATEGORIES))
    tier: np.ndarray          # index into TIERS
    managed_from: np.ndarray  # week from which a dedicated manager looks after the account
    manager: np.ndarray       # index into the managers table, -1 when none
    p_mgr: np.ndarray         # weekly probability of a manager contact while managed
    p_other: np.ndarray       # weekly probability of another (non-manager) contact
    eligible: np.ndarray      # latent value high enough for a dedicated manager
    bits: dict[str, np.ndarray]  # contact probabilities as uint32 thresholds (contact_bits)
    # behaviour.manager_uplift only (None in the demo): see pipeline.synthetic.uplift
    movable: np.ndarray | None = None         # movable wallet share in [0, 1]
    dissatisfied: np.ndarray | None = None    # a manager's contacts raise complaints
    lift: np.ndarray | None = None            # purchase lift after a manager contact
    manager_hazard: np.ndarray | None = None  # hazard x this while a manager contact counts
    managed_until: np.ndarray | None = None   # week the manager left (NEVER: still there)
    history_manager: np.ndarray | None = None  # the manager of the contacts (former ones too)

    def __len__(self) -> int:
        return len(self.number)


@dataclass
class Managers:
    """The account managers: region index, capacity and whether they take accounts."""

    region: np.ndarray
    capacity: np.ndarray
    active: np.ndarray


_TWO32 = 4294967296.0


def contact_bits(p_mgr: np.ndarray, p_other: np.ndarray,
                 complaint_prob: float) -> dict[str, np.ndarray]:
    """Contact probabilities as uint32 thresholds for comparisons with raw random bits.

    One 32-bit draw per customer and week decides the contact: a manager contact when it
    falls below p_mgr (0.3 p_mgr after an unnoticed dropout), another contact when it falls
    in the top p_other of the range (so at most one contact a week), and a complaint in the
    lowest / highest complaint_prob share of those ranges.
    """
    def bits(p: np.ndarray) -> np.ndarray:
        return np.minimum(np.asarray(p, np.float64) * _TWO32, _TWO32 - 1).astype(np.uint32)

    return {
        "mgr_alive": bits(p_mgr), "mgr_dead": bits(0.3 * p_mgr),
        "mgr_complaint": bits(complaint_prob * p_mgr),
        "other": bits(1.0 - p_other), "other_complaint": bits(1.0 - complaint_prob * p_other),
    }


def _base(rng: np.random.Generator, n: int, b: BehaviourConfig) -> dict[str, np.ndarray]:
    region = rng.choice(len(REGIONS), size=n, p=REGION_P)
    industry = rng.choice(len(INDUSTRIES), size=n, p=_IND_P)
    size = np.minimum(np.floor(rng.lognormal(3.3, 1.3, n)) + 1, 200_000).astype(np.int64)
    rel = size / _SIZE_REF
    lam = b.base_rate * rel**0.25 * _IND_RATE[industry] * rng.gamma(2.0, 0.5, n)
    log_mu = (np.log(b.base_order_value) + 0.35 * np.log(rel) + _IND_VALUE[industry]
              + rng.normal(0.0, 0.5, n))
    mean_value = np.exp(log_mu + b.order_value_sigma**2 / 2)
    # a return takes back U(0.2, 1) of an order's value, so 0.6 of it on average
    mean_net_value = mean_value * (1.0 - 0.6 * b.return_rate)
    h0 = b.base_hazard * rng.gamma(3.0, 1 / 3, n) * rel**-0.15
    return dict(region=region, industry=industry, size=size, lam=lam, log_mu=log_mu,
                mean_net_value=mean_net_value, h0=h0, value=lam * mean_net_value)


def tier_thresholds(config: GenerateConfig) -> np.ndarray:
    """Weekly latent value above which a customer is eligible / key / growth (descending)."""
    b = config.behaviour
    rng = np.random.default_rng([config.seed, 1_000_000_007])
    value = _base(rng, 100_000, b)["value"]
    eligible = b.strategic_share / b.managed_given_eligible
    shares = np.array([eligible, eligible + b.key_share, eligible + b.key_share + b.growth_share])
    return np.quantile(value, 1.0 - np.minimum(shares, 1.0))


def draw_managers(config: GenerateConfig) -> Managers:
    """Managers per region sized so that their capacity fits the strategic share of customers."""
    b = config.behaviour
    rng = np.random.default_rng([config.seed, 1_000_000_009])
    mean_cap = (b.manager_capacity_min + b.manager_capacity_max) / 2
    region, active = [], []
    for r, share in enumerate(REGION_P):
        expected = config.n_customers * share * b.strategic_share
        n_active = max(1, int(np.ceil(expected / (0.85 * mean_cap))))
        n_inactive = int(rng.random() < 0.3)
        region += [r] * (n_active + n_inactive)
        active += [True] * n_active + [False] * n_inactive
    capacity = rng.integers(b.manager_capacity_min, b.manager_capacity_max + 1, len(region))
    return Managers(np.array(region), capacity.astype(np.int64), np.array(active))


def draw_population(rng: np.random.Generator, first_number: int, n: int, n_weeks: int,
                    config: GenerateConfig, thresholds: np.ndarray,
                    managers: Managers) -> Population:
    """Draw `n` customers numbered from `first_number`, with tiers and managers."""
    b = config.behaviour
    base = _base(rng, n, b)
    initial = rng.random(n) < b.initial_share
    created_week = np.where(initial, -rng.integers(0, 52 * 8, n), rng.integers(1, n_weeks, n))
    cat = rng.gamma(_CAT_ALPHA[base[INDUSTRY]] * 1.5)
    cat_cum = np.cumsum(cat / cat.sum(axis=1, keepdims=True), axis=1)
    value = base["value"]
    eligible = value >= thresholds[0]
    u = b.manager_uplift
    if u is not None and u.assignment != "top_value":
        propensity = uplift.assignment_probability(value, revenue_offset(config), u.assignment_slope)
    else:
        propensity = eligible * b.managed_given_eligible
    managed = (rng.random(n) < propensity) if u is not None else (
        eligible & (rng.random(n) < b.managed_given_eligible))
    tier = np.where(managed, 0, np.where(value >= thresholds[1], 1,
                                         np.where(value >= thresholds[2], 2, 3)))
    tier = np.where(eligible & ~managed, 1, tier)
    # accounts arriving during the history get their manager after half a year
    managed_from = np.where(managed, np.where(created_week <= 0, 0,
                                              created_week + MANAGER_DELAY_WEEKS), NEVER)
    manager = np.full(n, -1)
    for r in range(len(REGIONS)):
        pool = np.flatnonzero((managers.region == r) & managers.active)
        pick = managed & (base[REGION] == r)
        manager[pick] = rng.choice(pool, size=int(pick.sum()))
    p_mgr = np.clip(b.manager_contact_rate * 2 * rng.beta(2.0, 2.0, n), 0.0, 0.95)
    p_other = np.minimum(b.other_contact_rate * np.array([1.0, 2.5, 1.2, 0.6])[tier], 1.0 - p_mgr)
    bits, extra = contact_bits(p_mgr, p_other, b.complaint_prob), {}
    if u is not None:
        extra = _uplift_fields(rng, u, b, base, created_week, managed_from, managed, propensity,
                               n_weeks, managers, manager)
        managed_from = extra.pop("managed_from")
        base["lam"] = extra.pop("lam")
        bits["mgr_complaint"] = contact_bits(p_mgr, p_other, extra.pop("complaint"))["mgr_complaint"]
    return Population(
        number=np.arange(first_number, first_number + n), region=base[REGION],
        industry=base[INDUSTRY], size=base[SIZE], created_week=created_week.astype(np.int32),
        lam=base["lam"], log_mu=base["log_mu"], mean_net_value=base["mean_net_value"],
        h0=base["h0"].astype(np.float32), cat_cum=cat_cum, tier=tier,
        managed_from=managed_from.astype(np.int32),
        manager=manager, p_mgr=p_mgr.astype(np.float32), p_other=p_other.astype(np.float32),
        eligible=eligible, bits=bits, **extra,
    )


def revenue_offset(config: GenerateConfig) -> float:
    """The offset of manager_uplift's assignment by revenue: strategic_share of the pilot
    sample (tier_thresholds' customers) is managed on average."""
    b = config.behaviour
    rng = np.random.default_rng([config.seed, 1_000_000_007])
    value = _base(rng, 100_000, b)["value"]
    return uplift.assignment_offset(value, b.strategic_share, b.manager_uplift.assignment_slope)


def _uplift_fields(rng, u, b: BehaviourConfig, base, created_week, managed_from, managed,
                   propensity, n_weeks: int, managers: Managers, manager: np.ndarray) -> dict:
    """The manager_uplift latents and re-assignments (drawn after every draw of the demo)."""
    movable, dissatisfied = uplift.draw_latents(rng, base[SIZE], u)
    lift, hazard, complaint = uplift.effect_sizes(movable, dissatisfied, b.contact_lift,
                                                  b.manager_effect, b.complaint_prob, u)
    lam = base["lam"]
    if u.bought_elsewhere:
        own = uplift.own_share(movable, u)
        lam, lift = lam * own, lift / own
    if u.assignment == "yearly_review":  # the history's reviews re-assign
        managed_until = np.full(len(managed), NEVER, np.int32)
        former = np.zeros(len(managed), bool)
        # an account arriving during the history waits for the next review, which reads its
        # booked revenue: a manager half a year after arrival drawn on the latent value
        # (the demo's rule) would be a confounder that no feature shows
        managed_from = np.where(created_week > 0, NEVER, managed_from)
    else:
        managed_from, managed_until, former = uplift.reassign(
            rng, managed, propensity, created_week, managed_from, n_weeks, u, NEVER)
    history_manager = manager.copy()
    for r in range(len(REGIONS)):
        pool = np.flatnonzero((managers.region == r) & managers.active)
        pick = former & (base[REGION] == r)
        history_manager[pick] = rng.choice(pool, size=int(pick.sum()))
    return dict(lam=lam, movable=movable, dissatisfied=dissatisfied, lift=lift,
                manager_hazard=hazard,
                managed_until=managed_until, history_manager=history_manager,
                managed_from=managed_from, complaint=complaint)

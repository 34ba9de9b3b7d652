"""Simulate the observed history of one chunk of customers: the four tables of the contract.

`simulate_chunk` is pure: a config, a chunk index and the shared managers/thresholds in,
DataFrames and the latent population (plus state snapshots for the ground truth) out. Its
random numbers come from `numpy.random.default_rng([seed, chunk_index, 0])` only, so a chunk's
output depends on nothing but the seed, the config and the chunk's place.
"""

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from features.contract import (
    AMOUNT,
    CATEGORY,
    CHANNEL,
    CONTACT_DATE,
    CREATED_DATE,
    CURRENT_MANAGER_ID,
    CURRENT_TIER,
    CUSTOMER_ID,
    INDUSTRY,
    MANAGER_ID,
    ORDER_DATE,
    ORDER_ID,
    OUTCOME,
    QUANTITY,
    REGION,
    SIZE,
)
from pipeline.config.generate import GenerateConfig
from pipeline.synthetic.population import (
    CATEGORIES,
    INDUSTRIES,
    REGIONS,
    TIERS,
    UNIT_PRICE,
    Managers,
    Population,
    draw_population,
)
from pipeline.synthetic.process import State, advance, behaviour_season, initial_state, intensity
from pipeline.synthetic.uplift import review, review_weeks

__all__ = ["ChunkResult", "customer_ids", "manager_ids", "n_weeks", "simulate_chunk"]

TX_CHANNELS = np.array(["web", "phone", "field", "edi"])
TX_CHANNEL_P = np.array([0.45, 0.25, 0.10, 0.20])
CONTACT_CHANNELS = np.array(["visit", "call", "email"])
OUTCOMES = np.array(["none", "quote", "order", "complaint"])


@dataclass
class ChunkResult:
    """The tables of one chunk, its latent population and states at the truth weeks."""

    transactions: pd.DataFrame
    contacts: pd.DataFrame
    customers: pd.DataFrame
    population: Population
    snapshots: dict[int, State] = field(default_factory=dict)
    # manager_uplift's yearly reviews: (managed_from, managed_until) at each snapshot week
    assignments: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def population_at(self, week: int) -> Population:
        """The population with the manager assignment of snapshot `week` (the final one
        unless the yearly reviews changed it since)."""
        if week not in self.assignments:
            return self.population
        start, until = self.assignments[week]
        return replace(self.population, managed_from=start, managed_until=until)


def n_weeks(config: GenerateConfig) -> int:
    """Number of simulated weeks; the last one is cut at end_date."""
    return (config.end_date - config.start_date).days // 7 + 1


def id_width(n_customers: int) -> int:
    return max(7, len(str(3 * n_customers)))


def customer_ids(numbers: np.ndarray, n_customers: int) -> np.ndarray:
    """'C' + zero-padded number, e.g. C0000123 (object array of str)."""
    width = id_width(n_customers)
    return np.array([f"C{k:0{width}d}" for k in numbers.tolist()], dtype=object)


def manager_ids(n_managers: int) -> np.ndarray:
    width = max(3, len(str(n_managers)))
    return np.array([f"M{k + 1:0{width}d}" for k in range(n_managers)], dtype=object)


def _days(config: GenerateConfig, week: np.ndarray, day: np.ndarray) -> np.ndarray:
    return np.datetime64(config.start_date, "D") + 7 * week + day


def simulate_chunk(config: GenerateConfig, chunk_index: int, first_number: int, n: int,
                   thresholds: np.ndarray, managers: Managers, first_order: int = 0,
                   snapshot_weeks: tuple[int, ...] = ()) -> ChunkResult:
    """Simulate `n` customers numbered from `first_number` over the whole history.

    Order ids are numbered from `first_order` so that they stay unique across chunks.
    """
    b = config.behaviour
    rng = np.random.default_rng([config.seed, chunk_index, 0])
    weeks = n_weeks(config)
    pop = draw_population(rng, first_number, n, weeks, config, thresholds, managers)
    state = initial_state(rng, pop)
    seasons = behaviour_season(config.start_date, np.arange(weeks), b)
    snapshots: dict[int, State] = {}
    reviews = review_weeks(weeks, b.manager_uplift) if b.manager_uplift is not None else ()
    # the reviews read booked revenue (purchases less returns, the amounts the transactions
    # table holds) of the last 52 weeks, so the amounts are drawn as the weeks go, from their
    # own stream (the demo, without reviews, draws them at the end as before)
    yearly = np.zeros((52, n)) if reviews else None
    amounts = _Amounts(np.random.default_rng([config.seed, chunk_index, 2]), pop,
                       b.order_value_sigma) if reviews else None
    assignments: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    buys, rets, contacts = [], [], []
    for t in range(weeks):
        arrived = pop.created_week <= t
        state.since_contact[pop.created_week == t] = 0  # onboarding contact on arrival
        if t in reviews:
            _review(rng, pop, t, yearly.sum(axis=0), arrived, managers, b)
        if t in snapshot_weeks:
            snapshots[t] = state.copy()
            if reviews:
                assignments[t] = (pop.managed_from.copy(), pop.managed_until.copy())
        rate = intensity(pop, state, seasons[t], b) * arrived
        for store, mean in ((buys, rate), (rets, rate * b.return_rate)):
            count = rng.poisson(mean)
            who = np.flatnonzero(count)
            store.append((np.repeat(who, count[who]), t))
        if amounts is not None:
            yearly[t % 52] = amounts.week(buys[-1][0], rets[-1][0], n)
        alive = state.alive.copy()
        manager, other, complaint_mgr, complaint_other = advance(rng, pop, state, t, arrived, b)
        contacts.append((np.flatnonzero(manager), np.flatnonzero(other),
                         complaint_mgr[manager], complaint_other[other], alive, t))
    if reviews:
        _after_reviews(pop, weeks - 1)
    ids = customer_ids(pop.number, config.n_customers)
    tx = _transactions(rng, config, pop, ids, buys, rets, first_order,
                       None if amounts is None else amounts.all())
    ct = _contacts(rng, config, pop, ids, contacts, managers)
    cu = _customers(config, pop, ids, managers)
    return ChunkResult(tx, ct, cu, pop, snapshots, assignments)


def _review(rng, pop: Population, t: int, revenue: np.ndarray, arrived: np.ndarray,
            managers: Managers, b) -> None:
    """The firm's yearly review (manager_uplift assignment "yearly_review"), in place."""
    pools = [np.flatnonzero((managers.region == r) & managers.active)
             for r in range(len(REGIONS))]
    review(rng, t, revenue, arrived, pop.managed_from, pop.managed_until, pop.history_manager,
           pop.region, pools, b.strategic_share, b.manager_uplift)


def _after_reviews(pop: Population, last_week: int) -> None:
    """Today's manager and tier after the reviews: a manager only where one looks after the
    account now (its contacts keep naming the one it had), strategic exactly then."""
    now = (pop.managed_from <= last_week) & (last_week < pop.managed_until)
    # arrived late: its manager starts after the history (NEVER: no manager at all)
    future = (pop.managed_from > last_week) & (pop.managed_from < np.iinfo(np.int32).max)
    current = now | (future & (pop.managed_until > last_week))
    pop.manager = np.where(current, pop.history_manager, -1)
    pop.tier = np.where(current, 0, np.where(pop.tier == 0, 1, pop.tier))


def _flatten(store: list) -> tuple[np.ndarray, np.ndarray]:
    cust = np.concatenate([c for c, _ in store]) if store else np.zeros(0, int)
    week = np.concatenate([np.full(len(c), t) for c, t in store]) if store else np.zeros(0, int)
    return cust, week


class _Amounts:
    """Order and return amounts drawn week by week (the yearly reviews read booked revenue).

    Same distribution as `_transactions` draws at the end: an order is worth
    exp(log_mu + sigma N(0, 1)), a return takes back U(0.2, 1) of such an amount."""

    def __init__(self, rng: np.random.Generator, pop: Population, sigma: float):
        self.rng, self.log_mu, self.sigma = rng, pop.log_mu, sigma
        self.buys: list[np.ndarray] = []
        self.rets: list[np.ndarray] = []

    def _draw(self, who: np.ndarray) -> np.ndarray:
        return np.exp(self.log_mu[who] + self.sigma * self.rng.standard_normal(len(who)))

    def week(self, buyers: np.ndarray, returners: np.ndarray, n: int) -> np.ndarray:
        """Draw the week's amounts; each customer's booked revenue of the week."""
        bought = self._draw(buyers)
        returned = -self.rng.uniform(0.2, 1.0, len(returners)) * self._draw(returners)
        self.buys.append(bought)
        self.rets.append(returned)
        return (np.bincount(buyers, weights=bought, minlength=n)
                + np.bincount(returners, weights=returned, minlength=n))

    def all(self) -> np.ndarray:
        """Every amount in `_transactions`' order: the purchases, then the returns."""
        return np.concatenate(self.buys + self.rets) if self.buys else np.zeros(0)


def _transactions(rng, config, pop, ids, buys, rets, first_order,
                  amounts: np.ndarray | None = None) -> pd.DataFrame:
    """The transactions table; `amounts` (from `_Amounts`) when drawn during the weeks."""
    b = config.behaviour
    bc, bw = _flatten(buys)
    rc, rw = _flatten(rets)
    cust = np.concatenate([bc, rc])
    week = np.concatenate([bw, rw])
    is_return = np.r_[np.zeros(len(bc), bool), np.ones(len(rc), bool)]
    day = _days(config, week, rng.integers(0, 7, len(cust)))
    if amounts is None:
        value = np.exp(pop.log_mu[cust] + b.order_value_sigma * rng.standard_normal(len(cust)))
        value = np.where(is_return, -rng.uniform(0.2, 1.0, len(cust)) * value, value)
    else:
        value = amounts
    category = np.minimum((rng.random(len(cust))[:, None] > pop.cat_cum[cust]).sum(axis=1),
                          len(CATEGORIES) - 1)
    unit = UNIT_PRICE[category] * rng.lognormal(0.0, 0.3, len(cust))
    quantity = np.maximum(1, np.round(np.abs(value) / unit)).astype(np.int64)
    channel = rng.choice(len(TX_CHANNELS), size=len(cust), p=TX_CHANNEL_P)
    keep = day <= np.datetime64(config.end_date, "D")
    order = np.lexsort((day, cust))
    order = order[keep[order]]
    numbers = np.arange(first_order, first_order + len(order))
    return pd.DataFrame({
        CUSTOMER_ID: pd.array(ids[cust[order]], dtype="str"),
        ORDER_ID: pd.array([f"O{k:010d}" for k in numbers.tolist()], dtype="str"),
        ORDER_DATE: day[order],
        AMOUNT: np.round(value[order], 2),
        CATEGORY: pd.array(np.array(CATEGORIES, dtype=object)[category[order]], dtype="str"),
        QUANTITY: np.where(is_return[order], -quantity[order], quantity[order]),
        CHANNEL: pd.array(TX_CHANNELS.astype(object)[channel[order]], dtype="str"),
    })


def _contacts(rng, config, pop, ids, weekly, managers: Managers) -> pd.DataFrame:
    mgr_ids = manager_ids(len(managers.region))
    cust, week, by_manager, complaint, alive = [], [], [], [], []
    for manager, other, complaint_mgr, complaint_other, alive_now, t in weekly:
        both = np.r_[manager, other]
        cust.append(both)
        week.append(np.full(len(both), t))
        by_manager.append(np.r_[np.ones(len(manager), bool), np.zeros(len(other), bool)])
        complaint.append(np.r_[complaint_mgr, complaint_other])
        alive.append(alive_now[both])
    cust, week = np.concatenate(cust), np.concatenate(week)
    by_manager, complaint = np.concatenate(by_manager), np.concatenate(complaint)
    alive = np.concatenate(alive)
    m = len(cust)
    day = _days(config, week, rng.integers(0, 7, m))
    channel = np.where(by_manager, rng.choice(3, size=m, p=[0.3, 0.4, 0.3]),
                       rng.choice(3, size=m, p=[0.0, 0.5, 0.5]))
    outcome = rng.choice(3, size=m, p=[0.55, 0.25, 0.20])
    outcome = np.where(complaint, 3, np.where(alive, outcome, 0))
    # a former manager's contacts name that manager (manager_uplift's re-assignments)
    who = pop.manager if pop.history_manager is None else pop.history_manager
    manager_id = np.where(by_manager, mgr_ids[np.maximum(who[cust], 0)], None)
    keep = day <= np.datetime64(config.end_date, "D")
    order = np.lexsort((day, cust))
    order = order[keep[order]]
    return pd.DataFrame({
        CUSTOMER_ID: pd.array(ids[cust[order]], dtype="str"),
        CONTACT_DATE: day[order],
        CHANNEL: pd.array(CONTACT_CHANNELS.astype(object)[channel[order]], dtype="str"),
        MANAGER_ID: pd.array(manager_id[order], dtype="str"),
        OUTCOME: pd.array(OUTCOMES.astype(object)[outcome[order]], dtype="str"),
    })


def _customers(config, pop, ids, managers: Managers) -> pd.DataFrame:
    mgr_ids = manager_ids(len(managers.region))
    created = np.datetime64(config.start_date, "D") + 7 * pop.created_week.astype(np.int64)
    return pd.DataFrame({
        CUSTOMER_ID: pd.array(ids, dtype="str"),
        REGION: pd.array(np.array(REGIONS, dtype=object)[pop.region], dtype="str"),
        INDUSTRY: pd.array(np.array(INDUSTRIES, dtype=object)[pop.industry], dtype="str"),
        SIZE: pop.size.astype(np.int64),
        CREATED_DATE: created,
        CURRENT_MANAGER_ID: pd.array(
            np.where(pop.manager >= 0, mgr_ids[np.maximum(pop.manager, 0)], None), dtype="str"),
        CURRENT_TIER: pd.array(np.array(TIERS, dtype=object)[pop.tier], dtype="str"),
    })

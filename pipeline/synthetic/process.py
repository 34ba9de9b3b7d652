"""The weekly customer process: purchases, returns, contacts, complaints and dropout.

Time moves in weeks (week t starts on start_date + 7 t days); every step is vectorised over
customers. In week t, for each arrived customer:

1. purchases ~ Poisson(lam * season(t) * lift * alive), lift = 1 + contact_lift when a
   manager contacted the customer in the last `lift_weeks` weeks; returns are a separate
   Poisson stream with rate return_rate times that intensity (amount -U(0.2, 1) x an order
   value). Each event falls on a uniform day of the week, so counts on disjoint sets of days
   are independent Poisson counts (which makes the ground truth exact for partial weeks).
2. contacts: one uniform draw per customer and week decides, so there is at most one
   contact a week: a dedicated manager (from `managed_from`) contacts with probability
   p_mgr (0.3 p_mgr after an unnoticed dropout); otherwise an alive customer may have
   another contact (service call or email, no manager) with probability p_other. A
   contact of an alive customer is a complaint with probability complaint_prob.
3. dropout at the end of the week with hazard
   h0 * (1 + neglect_effect * min(weeks since any contact, 104) / 52)
      * (manager_effect if a manager contact in the last manager_memory_weeks)
      * (complaint_effect if a complaint in the last complaint_memory_weeks),
   after which the customer buys nothing. Purchases do not feed back into the state, so
   the state (alive, weeks since contact / manager contact / complaint) is all the future
   depends on.

With `behaviour.manager_uplift` (None in the demo) the manager's effects are per account
(ManagerUpliftConfig): lift = pop.lift, the manager factor of the hazard = pop.manager_hazard,
a remembered complaint multiplies purchasing by 1 - complaint_spend_drop, a manager leaves
at pop.managed_until, and with strength 0 manager contacts do not reset the neglect clock.
"""

from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from pipeline.config.generate import BehaviourConfig
from pipeline.synthetic.population import Population

__all__ = ["State", "advance", "behaviour_season", "initial_state", "intensity", "season",
           "subset"]

FAR = np.int16(999)


@dataclass
class State:
    """Latent state of each customer at the start of a week."""

    alive: np.ndarray
    since_contact: np.ndarray
    since_manager: np.ndarray
    since_complaint: np.ndarray

    def take(self, index: np.ndarray) -> "State":
        return State(*(getattr(self, f)[index] for f in ("alive", "since_contact",
                                                         "since_manager", "since_complaint")))

    def copy(self) -> "State":
        return State(self.alive.copy(), self.since_contact.copy(), self.since_manager.copy(),
                     self.since_complaint.copy())


def season(start: date, t: np.ndarray | int, amplitude: float, cycles: int = 2,
           peak_day: int = 75) -> np.ndarray:
    """Multiplier of the purchase rate in week t: 1 + amplitude * cos(2 pi cycles (d - peak_day)
    / 365.25) on the week's middle day of the year d, and half the rate over Christmas (from
    20 December). The default (2 cycles, peak on day 75) has highs in March and September and
    lows in June and December; 1 cycle with a peak in November puts the most spend in Q4."""
    day0 = np.datetime64(start, "D") + 7 * np.asarray(t)
    doy = (day0 - day0.astype("datetime64[Y]")).astype(int) + 3
    wave = 1.0 + amplitude * np.cos(2 * np.pi * (doy - peak_day) / (365.25 / cycles))
    return wave * np.where(doy >= 354, 0.5, 1.0)


def behaviour_season(start: date, t: np.ndarray | int, b: BehaviourConfig) -> np.ndarray:
    """`season` with the seasonality settings of `b`."""
    return season(start, t, b.seasonality, b.season_cycles, b.season_peak_day)


def initial_state(rng: np.random.Generator, pop: Population) -> State:
    """State at week 0: everyone alive, older customers with some time since their last contact."""
    n = len(pop)
    old = pop.created_week <= 0
    since_contact = np.where(old, rng.integers(0, 40, n), 0).astype(np.int16)
    since_manager = np.where(pop.managed_from <= 0, 0, FAR).astype(np.int16)
    return State(np.ones(n, bool), since_contact, since_manager, np.full(n, FAR, np.int16))


def intensity(pop: Population, state: State, season_t: float, b: BehaviourConfig) -> np.ndarray:
    """Expected purchases of each customer in a week (0 once dropped out)."""
    lifted = state.since_manager < b.lift_weeks
    if pop.lift is None:
        return pop.lam * (season_t + (season_t * b.contact_lift) * lifted) * state.alive
    complained = state.since_complaint < b.complaint_memory_weeks
    drop = 1.0 - b.manager_uplift.complaint_spend_drop * complained
    return pop.lam * season_t * (1.0 + pop.lift * lifted) * drop * state.alive


_TWO32 = 4294967296.0


def advance(rng: np.random.Generator, pop: Population, state: State, t: int,
            arrived: np.ndarray | None, b: BehaviourConfig, clock: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Contacts and dropout of week t; updates `state` in place (`arrived` None = everyone).

    Returns the masks (manager contact, other contact, complaint in the manager contact,
    complaint in the other contact) of the week. `clock` (the truth with and without a
    manager): each path's remaining Exp(1) budget of cumulative hazard, updated in place; the
    customer drops out in the week the budget runs out (the same distribution as the weekly
    draw, but two arms given the same budgets drop out in the order of their hazards), and
    the weekly draw is made all the same, so both arms use the same random numbers.
    """
    n = len(state.alive)
    raw = rng.bit_generator.random_raw(n).view(np.uint32)
    u, u_hazard = raw[0::2], raw[1::2]
    th = pop.bits
    alive = state.alive
    managed = pop.managed_from <= t
    if pop.managed_until is not None:
        managed &= t < pop.managed_until
    if arrived is not None:
        managed &= arrived
        alive = alive & arrived
    manager = managed & ((u < th["mgr_dead"]) | (alive & (u < th["mgr_alive"])))
    other = alive & (u >= th["other"])
    complaint_mgr = manager & alive & (u < th["mgr_complaint"])
    complaint_other = other & (u >= th["other_complaint"])
    counted = manager | other
    if b.manager_uplift is not None and b.manager_uplift.strength == 0:
        counted = other  # a manager who changes nothing does not end neglect either
    for name, event in (("since_contact", counted), ("since_manager", manager),
                        ("since_complaint", complaint_mgr | complaint_other)):
        since = getattr(state, name)
        since += 1
        np.minimum(since, FAR, out=since)
        np.multiply(since, ~event, out=since)
    sc = np.minimum(state.since_contact, 104).astype(np.float32)
    hazard = pop.h0 * (np.float32(1.0) + np.float32(b.neglect_effect / 52.0) * sc)
    if pop.manager_hazard is None:
        hazard *= np.float32(1.0) + np.float32(b.manager_effect - 1.0) * (
            state.since_manager < b.manager_memory_weeks)
    else:
        hazard *= np.where(state.since_manager < b.manager_memory_weeks, pop.manager_hazard,
                           np.float32(1.0))
    hazard *= np.float32(1.0) + np.float32(b.complaint_effect - 1.0) * (
        state.since_complaint < b.complaint_memory_weeks)
    if clock is not None:
        clock += np.log1p(-np.minimum(hazard.astype(np.float64), 1.0 - 1e-12)) * alive
        state.alive = state.alive & ~(alive & (clock <= 0))
        return manager, other, complaint_mgr, complaint_other
    hazard *= np.float32(_TWO32)
    state.alive = state.alive & ~(alive & (u_hazard < hazard))
    return manager, other, complaint_mgr, complaint_other


def subset(pop: Population, index: np.ndarray) -> Population:
    """The customers at `index` (repeated indices give independent copies for simulation)."""
    fields = {k: v[index] for k, v in vars(pop).items() if k != "bits" and v is not None}
    return replace(pop, **fields, bits={k: v[index] for k, v in pop.bits.items()})

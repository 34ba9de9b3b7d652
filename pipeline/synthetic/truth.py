"""Ground truth: each customer's true expected spend and probability of buying nothing.

For an as-of date d and horizon H, the truth is E[net spend in (d, d+H]] and
P(no purchase in (d, d+H]) given the latent state at the start of the simulation week that
contains d, computed by Monte Carlo continuations of the same weekly process
(`pipeline.synthetic.process`, contact policy and its effects included).

The continuations are Rao-Blackwellised: only the contact / complaint / dropout path is
sampled; given a path, purchases are Poisson, so the expected spend is the summed intensity
times the expected net order value and the probability of no purchase is
exp(-summed intensity). Events fall on uniform days of a week, so a week that the window
covers for k of its 7 days contributes k/7 of its intensity, exactly. Purchases on days of
the as-of week up to d are independent of those after it (Poisson splitting); contacts on
those days are the only information the truth does not condition on.

The standard errors are those of the mean over `n_sims` continuations. `realised_continuations`
simulates the full events (counts, days, order values, returns) instead; the tests use it to
check the truth against realised spend.

`manager_truth_frame` (written only with `manager_truth`) is the truth of a decision: at the
scoring date, each customer's expected spend and probability of no purchase over the horizon
with a dedicated manager from that date on, and without one (a current manager leaves then;
the memory of the last contacts fades as in the process), and their differences, the true
manager effect. Both arms run the same continuations with common random numbers (the same
generator seed, and the same number of draws each week): the same contact and complaint
draws, and dropout when the same Exp(1) budget of cumulative hazard runs out (so the arm
with the lower hazard drops out later on every path), so the difference comes from the
manager alone and its standard error (of the mean of the per-continuation differences) is
far smaller than that of two independent means.
"""

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from features.contract import AS_OF, CUSTOMER_ID, HORIZON_DAYS
from pipeline.config.generate import BehaviourConfig, GenerateConfig
from pipeline.synthetic.population import NEVER, Population
from pipeline.synthetic.process import State, advance, behaviour_season, intensity, subset

__all__ = [
    "MANAGER_TRUTH_COLUMNS", "TRUTH_COLUMNS", "as_of_dates", "expected_continuations",
    "manager_continuations", "manager_truth_frame", "realised_continuations", "truth_frame",
    "week_of", "with_manager",
]

TRUTH_COLUMNS = (
    CUSTOMER_ID, AS_OF, HORIZON_DAYS, "true_expected_spend", "true_expected_spend_se",
    "true_prob_no_purchase", "true_prob_no_purchase_se", "true_alive",
)

# the truth with and without a dedicated manager (manager_truth_frame); effect = with - without
MANAGER_TRUTH_COLUMNS = (
    CUSTOMER_ID, AS_OF, HORIZON_DAYS,
    "true_spend_with_manager", "true_spend_without_manager",
    "true_manager_effect_spend", "true_manager_effect_spend_se",
    "true_prob_no_purchase_with_manager", "true_prob_no_purchase_without_manager",
    "true_manager_effect_prob_no_purchase", "true_manager_effect_prob_no_purchase_se",
    "true_managed", "true_movable_share", "true_dissatisfied", "true_alive",
)


def as_of_dates(config: GenerateConfig) -> list[date]:
    """end_date and the `truth_months` month ends before it (on or after start_date)."""
    end = pd.Timestamp(config.end_date)
    last = end if end.is_month_end else end - pd.offsets.MonthEnd(1)
    skip = int(end == last)  # end_date itself is a month end: count the months before it
    dates = {config.end_date} | {(last - pd.offsets.MonthEnd(k)).date()
                                 for k in range(skip, config.truth_months + skip)}
    return sorted(d for d in dates if d >= config.start_date)


def week_of(config: GenerateConfig, as_of: date) -> int:
    return (as_of - config.start_date).days // 7


def _window_fractions(config: GenerateConfig, as_of: date, horizon: int) -> list[tuple[int, float]]:
    """(week, share of its 7 days inside (as_of, as_of + horizon]) for every week touched."""
    out = []
    t = week_of(config, as_of)
    first, last = as_of + timedelta(days=1), as_of + timedelta(days=horizon)
    while True:
        ws = config.start_date + timedelta(days=7 * t)
        if ws > last:
            return out
        days = (min(ws + timedelta(days=6), last) - max(ws, first)).days + 1
        out.append((t, max(days, 0) / 7.0))
        t += 1


def _repeat(pop: Population, state: State, n_sims: int) -> tuple[Population, State]:
    index = np.repeat(np.arange(len(pop)), n_sims)
    return subset(pop, index), state.take(index)


def expected_continuations(rng: np.random.Generator, config: GenerateConfig, pop: Population,
                           state: State, as_of: date, horizon: int, n_sims: int,
                           paired: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per customer and continuation (shape n x n_sims): expected net spend and probability of
    no purchase in (as_of, as_of + horizon], given the sampled contact/dropout path.

    `paired`: dropout by an Exp(1) budget of cumulative hazard per path (`process.advance`'s
    clock), for arms compared with common random numbers."""
    b: BehaviourConfig = config.behaviour
    rep, st = _repeat(pop, state, n_sims)
    cum = np.zeros(len(rep))
    clock = rng.standard_exponential(len(rep)) if paired else None
    for t, share in _window_fractions(config, as_of, horizon):
        cum += intensity(rep, st, float(behaviour_season(config.start_date, t, b)), b) * share
        advance(rng, rep, st, t, None, b, clock)
    shape = (len(pop), n_sims)
    return (cum * rep.mean_net_value).reshape(shape), np.exp(-cum).reshape(shape)


def realised_continuations(rng: np.random.Generator, config: GenerateConfig, pop: Population,
                           state: State, as_of: date, horizon: int, n_sims: int
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Per customer and continuation: realised net spend and whether nothing was bought, from
    fully simulated events (the same process as the history)."""
    b = config.behaviour
    rep, st = _repeat(pop, state, n_sims)
    spend = np.zeros(len(rep))
    bought = np.zeros(len(rep), bool)
    for t, share in _window_fractions(config, as_of, horizon):
        rate = intensity(rep, st, float(behaviour_season(config.start_date, t, b)), b)
        for sign, mean in ((1.0, rate), (-1.0, rate * b.return_rate)):
            # events fall on uniform days: each lands inside the window with probability share
            count = rng.binomial(rng.poisson(mean), share)
            who = np.repeat(np.arange(len(rep)), count)
            value = np.exp(rep.log_mu[who] + b.order_value_sigma * rng.standard_normal(len(who)))
            if sign < 0:
                value = -rng.uniform(0.2, 1.0, len(who)) * value
            else:
                bought |= count > 0
            spend += np.bincount(who, weights=value, minlength=len(rep))
        advance(rng, rep, st, t, None, b)
    shape = (len(pop), n_sims)
    return spend.reshape(shape), (~bought).reshape(shape)


def truth_frame(rng: np.random.Generator, config: GenerateConfig, pop: Population,
                ids: np.ndarray, state: State, as_of: date, n_sims: int) -> pd.DataFrame:
    """Ground truth at `as_of` for the customers of `pop` created on or before it."""
    horizon = config.truth_horizon_days
    known = np.flatnonzero(pop.created_week <= week_of(config, as_of))
    alive = state.alive[known]
    spend = np.zeros(len(known))
    spend_se = np.zeros(len(known))
    prob = np.ones(len(known))
    prob_se = np.zeros(len(known))
    live = known[alive]
    if len(live):
        s, p = expected_continuations(rng, config, subset(pop, live), state.take(live), as_of,
                                      horizon, n_sims)
        spend[alive], prob[alive] = s.mean(axis=1), p.mean(axis=1)
        spend_se[alive] = s.std(axis=1, ddof=1) / np.sqrt(n_sims)
        prob_se[alive] = p.std(axis=1, ddof=1) / np.sqrt(n_sims)
    return pd.DataFrame({
        CUSTOMER_ID: pd.array(ids[known], dtype="str"),
        AS_OF: np.full(len(known), np.datetime64(as_of, "D")),
        HORIZON_DAYS: np.full(len(known), horizon, dtype=np.int64),
        "true_expected_spend": spend, "true_expected_spend_se": spend_se,
        "true_prob_no_purchase": prob, "true_prob_no_purchase_se": prob_se,
        "true_alive": alive,
    })


def with_manager(pop: Population, managed: bool) -> Population:
    """`pop` with a dedicated manager in every week (`managed`) or in none, from now on."""
    start = np.zeros_like(pop.managed_from) if managed else np.full_like(pop.managed_from, NEVER)
    return replace(pop, managed_from=start, managed_until=None)


def manager_continuations(seed: list[int] | int, config: GenerateConfig, pop: Population,
                          state: State, as_of: date, horizon: int, n_sims: int,
                          common: bool = True) -> tuple[np.ndarray, ...]:
    """Per customer and continuation (n x n_sims): spend with, spend without, P(no purchase)
    with, P(no purchase) without a manager. Both arms draw from `default_rng(seed)`
    (common random numbers); `common` False gives the second arm other draws (the tests
    compare the two)."""
    out = []
    for arm, entropy in ((True, seed), (False, seed if common else [*np.atleast_1d(seed), 99])):
        rng = np.random.default_rng(entropy)
        out.append(expected_continuations(rng, config, with_manager(pop, arm), state, as_of,
                                          horizon, n_sims, paired=True))
    (spend_1, none_1), (spend_0, none_0) = out
    return spend_1, spend_0, none_1, none_0


def manager_truth_frame(seed: list[int] | int, config: GenerateConfig, pop: Population,
                        ids: np.ndarray, state: State, as_of: date, n_sims: int,
                        common: bool = True) -> pd.DataFrame:
    """The truth with and without a manager at `as_of` (MANAGER_TRUTH_COLUMNS) for the
    customers of `pop` created on or before it; a customer already gone has 0 spend, a
    probability of no purchase of 1 and no effect in both arms."""
    horizon = config.truth_horizon_days
    week = week_of(config, as_of)
    known = np.flatnonzero(pop.created_week <= week)
    alive = state.alive[known]
    live = known[alive]
    cols = {name: np.zeros(len(known)) for name in MANAGER_TRUTH_COLUMNS[3:11]}
    for name in ("true_prob_no_purchase_with_manager", "true_prob_no_purchase_without_manager"):
        cols[name][:] = 1.0
    if len(live):
        s1, s0, p1, p0 = manager_continuations(seed, config, subset(pop, live), state.take(live),
                                               as_of, horizon, n_sims, common)
        root = np.sqrt(n_sims)
        for prefix, one, zero in (("true_spend", s1, s0), ("true_prob_no_purchase", p1, p0)):
            cols[f"{prefix}_with_manager"][alive] = one.mean(axis=1)
            cols[f"{prefix}_without_manager"][alive] = zero.mean(axis=1)
        effect = {"spend": s1 - s0, "prob_no_purchase": p1 - p0}
        for name, diff in effect.items():
            cols[f"true_manager_effect_{name}"][alive] = diff.mean(axis=1)
            cols[f"true_manager_effect_{name}_se"][alive] = diff.std(axis=1, ddof=1) / root
    until = pop.managed_until[known] if pop.managed_until is not None else NEVER
    managed = (pop.managed_from[known] <= week) & (week < until)
    missing = np.full(len(known), np.nan)
    return pd.DataFrame({
        CUSTOMER_ID: pd.array(ids[known], dtype="str"),
        AS_OF: np.full(len(known), np.datetime64(as_of, "D")),
        HORIZON_DAYS: np.full(len(known), horizon, dtype=np.int64),
        **cols,
        "true_managed": managed,
        "true_movable_share": missing if pop.movable is None else pop.movable[known],
        "true_dissatisfied": (np.zeros(len(known), bool) if pop.dissatisfied is None
                              else pop.dissatisfied[known]),
        "true_alive": alive,
    })[list(MANAGER_TRUTH_COLUMNS)]

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
"""

from datetime import date, timedelta

import numpy as np
import pandas as pd

from features.contract import AS_OF, CUSTOMER_ID, HORIZON_DAYS
from pipeline.config.generate import BehaviourConfig, GenerateConfig
from pipeline.synthetic.population import Population
from pipeline.synthetic.process import State, advance, behaviour_season, intensity, subset

__all__ = [
    "TRUTH_COLUMNS", "as_of_dates", "expected_continuations", "realised_continuations",
    "truth_frame", "week_of",
]

TRUTH_COLUMNS = (
    CUSTOMER_ID, AS_OF, HORIZON_DAYS, "true_expected_spend", "true_expected_spend_se",
    "true_prob_no_purchase", "true_prob_no_purchase_se", "true_alive",
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
                           state: State, as_of: date, horizon: int, n_sims: int
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Per customer and continuation (shape n x n_sims): expected net spend and probability of
    no purchase in (as_of, as_of + horizon], given the sampled contact/dropout path."""
    b: BehaviourConfig = config.behaviour
    rep, st = _repeat(pop, state, n_sims)
    cum = np.zeros(len(rep))
    for t, share in _window_fractions(config, as_of, horizon):
        cum += intensity(rep, st, float(behaviour_season(config.start_date, t, b)), b) * share
        advance(rng, rep, st, t, None, b)
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

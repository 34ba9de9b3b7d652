"""The heterogeneous manager effect of `behaviour.manager_uplift` (ManagerUpliftConfig).

Pure array functions that `population.draw_population` calls when the setting is on (the
demo never calls them, so its random streams are untouched): the assignment probability by
latent value (revenue), the per-account latents (movable wallet share, dissatisfied) and the
per-account effect sizes they give (lift, hazard multiplier, complaint probability of a
manager contact), and the re-assignments over the history: drawn once (`reassign`) or made
by the firm's yearly review of last year's revenue (`review`, called by the history).
"""

import numpy as np

from pipeline.config.generate import ManagerUpliftConfig

__all__ = [
    "SIZE_LOG_MEAN", "SIZE_LOG_SD", "assignment_offset", "assignment_probability",
    "draw_latents", "effect_sizes", "own_share", "reassign", "review", "review_weeks",
]

SIZE_LOG_MEAN, SIZE_LOG_SD = 3.3, 1.3  # the lognormal of firm size (population._base)
_MAX_EXPONENT = 3.0  # the strongest retention: manager_effect ** 3


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def assignment_probability(value: np.ndarray, offset: float, slope: float) -> np.ndarray:
    """P(manager) = logit^-1(slope * (log value - offset)): the firm's rule by revenue."""
    return 1.0 / (1.0 + np.exp(-slope * (np.log(np.maximum(value, 1e-12)) - offset)))


def assignment_offset(pilot_value: np.ndarray, share: float, slope: float) -> float:
    """The offset c for which the mean assignment probability over `pilot_value` is `share`
    (bisection: the mean is decreasing in c)."""
    logv = np.log(np.maximum(pilot_value, 1e-12))
    low, high = float(logv.min()) - 50.0 / slope, float(logv.max()) + 50.0 / slope
    for _ in range(100):
        mid = (low + high) / 2
        if assignment_probability(pilot_value, mid, slope).mean() > share:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def draw_latents(rng: np.random.Generator, size: np.ndarray,
                 u: ManagerUpliftConfig) -> tuple[np.ndarray, np.ndarray]:
    """Movable wallet share w ~ Beta(m c, (1 - m) c) with logit m = logit(movable_mean) +
    movable_size_slope * standardised log size, and the dissatisfied flag."""
    z = (np.log(size) - SIZE_LOG_MEAN) / SIZE_LOG_SD
    mean = 1.0 / (1.0 + np.exp(-(_logit(u.movable_mean) + u.movable_size_slope * z)))
    mean = np.clip(mean, 1e-3, 1 - 1e-3)
    c = u.movable_concentration
    movable = rng.beta(mean * c, (1.0 - mean) * c)
    dissatisfied = rng.random(len(size)) < u.dissatisfied_share
    return movable, dissatisfied


def effect_sizes(movable: np.ndarray, dissatisfied: np.ndarray, contact_lift: float,
                 manager_effect: float, complaint_prob: float, u: ManagerUpliftConfig
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per account: purchase lift after a manager contact, hazard multiplier while a manager
    contact is remembered, and the probability that a manager contact is a complaint."""
    ratio = u.strength * movable / u.movable_mean
    lift = np.where(dissatisfied, 0.0, contact_lift * ratio)
    hazard = np.where(dissatisfied, 1.0, manager_effect ** np.minimum(ratio, _MAX_EXPONENT))
    complaint = u.strength * np.where(dissatisfied, u.dissatisfied_complaint_prob, complaint_prob)
    return lift, hazard.astype(np.float32), np.minimum(complaint, 1.0)


def own_share(movable: np.ndarray, u: ManagerUpliftConfig) -> np.ndarray:
    """With `bought_elsewhere`: the account's purchase rate with us relative to the demo's,
    max(1 - w, wallet_floor) / (1 - movable_mean) (the rest of its need goes to competitors)."""
    return np.maximum(1.0 - movable, u.wallet_floor) / (1.0 - u.movable_mean)


def reassign(rng: np.random.Generator, managed: np.ndarray, propensity: np.ndarray,
             created_week: np.ndarray, managed_from: np.ndarray, n_weeks: int,
             u: ManagerUpliftConfig, never: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Re-assignments over the history: (managed_from, managed_until, former).

    gained_share of the managed accounts get their manager at a uniform week between their
    arrival and the end of the history; of the unmanaged, former_share x the assignment
    probability had a manager from their start (or half a year after arrival) until a
    uniform week at least 13 weeks later and before the end (`former`; no manager today).
    """
    n = len(managed)
    start = np.maximum(created_week, 0) + 1
    gained = managed & (rng.random(n) < u.gained_share) & (start < n_weeks)
    week = start + np.floor(rng.random(n) * np.maximum(n_weeks - start, 1)).astype(np.int64)
    managed_from = np.where(gained, week, managed_from)
    begin = np.where(created_week <= 0, 0, created_week + 26)
    former = (~managed & (rng.random(n) < u.former_share * propensity)
              & (begin + 13 < n_weeks))
    end = begin + 13 + np.floor(rng.random(n) * np.maximum(n_weeks - begin - 13, 1)).astype(
        np.int64)
    managed_from = np.where(former, begin, managed_from)
    managed_until = np.where(former, end, never)
    return managed_from.astype(np.int32), managed_until.astype(np.int32), former


def review_weeks(n_weeks: int, u: ManagerUpliftConfig) -> tuple[int, ...]:
    """The weeks of the yearly reviews (assignment "yearly_review"): every 52 weeks from 52."""
    if u.assignment != "yearly_review":
        return ()
    return tuple(range(52, n_weeks, 52))


def review(rng: np.random.Generator, t: int, revenue: np.ndarray, arrived: np.ndarray,
           managed_from: np.ndarray, managed_until: np.ndarray, manager: np.ndarray,
           region: np.ndarray, pools: list[np.ndarray], share: float,
           u: ManagerUpliftConfig) -> None:
    """The firm's yearly review at week t, in place: the accounts with the highest
    log(1 + last year's revenue) (booked: purchases less returns, as the transactions table
    holds them) + review_noise * N(0, 1) + review_stickiness (when managed
    now) keep or get a manager, `share` of the arrived accounts; the others lose theirs.
    A newly managed account keeps its earlier manager, or gets one of its region's."""
    now = (managed_from <= t) & (t < managed_until)
    score = (np.log1p(np.maximum(revenue, 0.0)) + u.review_noise * rng.standard_normal(len(now))
             + u.review_stickiness * now)
    score = np.where(arrived, score, -np.inf)
    k = int(round(share * arrived.sum()))
    chosen = np.zeros(len(now), bool)
    if k > 0:
        chosen[np.argsort(-score, kind="stable")[:k]] = True
    gained, lost = chosen & ~now, now & ~chosen
    managed_from[gained], managed_until[gained] = t, np.iinfo(managed_until.dtype).max
    managed_until[lost] = t
    for r, pool in enumerate(pools):
        pick = gained & (manager < 0) & (region == r)
        manager[pick] = rng.choice(pool, size=int(pick.sum()))

"""Training cutoffs: the step between two cutoffs (a duration), the dates it gives, and the
horizon a backtest can score when the history is too short for the configured one.

A step is "<n>d", "<n>w" or "<n>m" (days, weeks, months) or "auto". Cutoffs lie on a calendar
grid, so that runs on consecutive days (and the backtests they are compared on) keep the same
dates: month ends for "m", Sundays (the ISO week's end) for "w", and for "d" every n-th day
counted from 1970-01-01.

"auto" is weekly for a history of a year (365 days) or less and monthly for longer. Every
cutoff of the stack gives one training row per known customer, and a cutoff can only be used
once its whole label window is observed: a short history leaves few such windows (a year
with a 91-day horizon has 9 month ends, 39 week ends), so short histories need the denser
cutoffs to have enough training rows and time folds. A long history has enough month ends,
and weekly cutoffs there would multiply the rows about 4.3-fold with rows that differ little
from the neighbouring month end's (the label windows overlap but for a week).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import pandas as pd

__all__ = [
    "months_alias",
    "AUTO_WEEKLY_MAX_DAYS",
    "DURATION_PATTERN",
    "STEP_PATTERN",
    "Step",
    "backtest_horizon",
    "history_days",
    "resolve_step",
    "step_cutoffs",
]

DURATION_PATTERN = r"^[1-9][0-9]*[dwm]$"  # a step as a duration: 7d, 2w, 3m
STEP_PATTERN = r"^(auto|[1-9][0-9]*[dwm])$"  # a duration or "auto"
AUTO_WEEKLY_MAX_DAYS = 365  # "auto": weekly cutoffs up to this many days of history
_EPOCH = pd.Timestamp("1970-01-01")


@dataclass(frozen=True)
class Step:
    """A step between two cutoffs: `count` days, weeks or months."""

    count: int
    unit: Literal["d", "w", "m"]

    @classmethod
    def parse(cls, text: str) -> "Step":
        """'3m' -> Step(3, 'm'); ValueError for "auto" or anything else."""
        match = re.fullmatch(r"([1-9][0-9]*)([dwm])", str(text).strip())
        if match is None:
            raise ValueError(f"a step is '<n>d', '<n>w' or '<n>m' (e.g. 7d, 1w, 3m), got {text!r}")
        return cls(int(match[1]), match[2])  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    def anchor(self, date) -> pd.Timestamp:
        """The latest grid date on or before `date`."""
        date = pd.Timestamp(date).normalize()
        if self.unit == "m":
            return date if date.is_month_end else date - pd.offsets.MonthEnd(1)
        if self.unit == "w":
            return date - pd.Timedelta(days=(date.day_of_week + 1) % 7)  # back to a Sunday
        return date - pd.Timedelta(days=(date - _EPOCH).days % self.count)

    def back(self, anchored: pd.Timestamp, k: int) -> pd.Timestamp:
        """The grid date `k` steps before the grid date `anchored`."""
        if k == 0:
            return anchored
        if self.unit == "m":
            return anchored - pd.offsets.MonthEnd(k * self.count)
        days = self.count * (7 if self.unit == "w" else 1)
        return anchored - pd.Timedelta(days=k * days)

    def before(self, date, k: int = 1) -> pd.Timestamp:
        """`date` moved back by `k` steps as a duration, not onto the grid: months keep the
        day of the month (a month end stays a month end), days and weeks subtract days."""
        date = pd.Timestamp(date)
        if self.unit == "m":
            if date.is_month_end:
                return date - pd.offsets.MonthEnd(k * self.count)
            return date - pd.DateOffset(months=k * self.count)
        return date - pd.Timedelta(days=k * self.count * (7 if self.unit == "w" else 1))


def history_days(first, last) -> int:
    """Days of history from the first order date to `last` (the end of the label windows)."""
    return int((pd.Timestamp(last).normalize() - pd.Timestamp(first).normalize()).days)


def resolve_step(step: str, history: int | None) -> Step:
    """The step of `step` ("auto" or a duration) for a history of `history` days: "auto" is
    one week up to AUTO_WEEKLY_MAX_DAYS days (365 included), one month beyond or when the
    history is unknown (None)."""
    if step != "auto":
        return Step.parse(step)
    weekly = history is not None and history <= AUTO_WEEKLY_MAX_DAYS
    return Step(1, "w") if weekly else Step(1, "m")


def step_cutoffs(latest, step: Step, count: int | None, min_date=None) -> list[pd.Timestamp]:
    """Up to `count` grid dates of `step` (every one back to `min_date` when None), oldest
    first, the latest on or before `latest`; none before `min_date` (when given)."""
    if count is None and min_date is None:
        raise ValueError("step_cutoffs needs a count or a min_date")
    anchored = step.anchor(latest)
    floor = None if min_date is None else pd.Timestamp(min_date)
    cutoffs = []
    while count is None or len(cutoffs) < count:
        cutoff = step.back(anchored, len(cutoffs))
        if floor is not None and cutoff < floor:
            break
        cutoffs.append(cutoff)
    return cutoffs[::-1]


def backtest_horizon(
    cutoffs: Iterable,
    history_end,
    horizon: int,
    min_cutoffs: int,
    candidates: Iterable[int] = (182, 91, 60, 30),
    max_cutoffs: int | None = None,
) -> int | None:
    """The longest horizon, of `horizon` and the `candidates` shorter than it, at which a
    rolling-origin backtest has one fold; None when none has.

    `cutoffs` are the candidate cutoff dates over the whole history (any label window; e.g.
    `step_cutoffs(history_end, ...)`), `history_end` the end of the label windows. At horizon
    h the labelled cutoffs are those c with c + h <= history_end (the latest `max_cutoffs` of
    them when given, as the training set keeps them); the latest one, T, is the fold, and it
    needs `min_cutoffs` labelled cutoffs c with c + h <= T to train on: labels observed by T
    (models.backtest.fold_train_cutoffs). Fewer than min_cutoffs + 1 labelled cutoffs can
    therefore never do, and the two windows (c, c + h] and (T, T + h] make the test need
    about 2h of history on top of the training cutoffs.
    """
    end = pd.Timestamp(history_end)
    dates = sorted({pd.Timestamp(c) for c in cutoffs})
    for h in sorted({horizon, *(c for c in candidates if c < horizon)}, reverse=True):
        window = pd.Timedelta(days=h)
        labelled = [c for c in dates if c + window <= end]
        if max_cutoffs is not None:
            labelled = labelled[-max_cutoffs:]
        if not labelled:
            continue
        fold = labelled[-1]
        if sum(c + window <= fold for c in labelled) >= min_cutoffs:
            return h
    return None


def months_alias(data, old: str, new: str):
    """Config data with the old key `old: n` (months) read as `new: "<n>m"`: the step keys
    became durations (cutoff_step_months -> cutoff_step, fold_step_months -> fold_step).
    Giving both, or a number that is not a positive integer, is a ValueError naming the fix."""
    if not isinstance(data, dict) or old not in data:
        return data
    data = dict(data)
    months = data.pop(old)
    if new in data:
        raise ValueError(f"{old} is the old name of {new}: keep only {new} "
                         f"({old}: {months} is {new}: {months}m)")
    if isinstance(months, bool) or not isinstance(months, int) or months <= 0:
        raise ValueError(f"{old} must be a positive integer, got {months!r}; better, write "
                         f"{new}: <n>m (or <n>w, <n>d)")
    data[new] = f"{months}m"
    return data

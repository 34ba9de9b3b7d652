"""features.cutoffs: the cutoff step as a duration, "auto" on the history's length, the grid
dates, and the horizon a backtest falls back to on a short history."""

import pandas as pd
import pydantic
import pytest

import features
from features.config import FeaturesConfig
from features.cutoffs import Step, backtest_horizon, history_days, resolve_step, step_cutoffs


def ts(*dates: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(d) for d in dates]


def test_a_step_is_days_weeks_or_months():
    assert Step.parse("7d") == Step(7, "d") and str(Step.parse("3m")) == "3m"
    for bad in ("auto", "0w", "1y", "3", "m", "1.5m", " 2 w"):
        with pytest.raises(ValueError, match="<n>d"):
            Step.parse(bad)


def test_grid_dates_are_month_ends_sundays_or_every_nth_day():
    assert Step(1, "m").anchor("2024-03-15") == pd.Timestamp("2024-02-29")
    assert Step(1, "m").anchor("2024-03-31") == pd.Timestamp("2024-03-31")
    assert Step(1, "w").anchor("2024-03-15") == pd.Timestamp("2024-03-10")  # Fri -> Sun
    assert Step(1, "w").anchor("2024-03-10") == pd.Timestamp("2024-03-10")  # a Sunday
    assert Step(1, "d").anchor("2024-03-15") == pd.Timestamp("2024-03-15")
    # every 10th day from 1970-01-01: 19797 days to 2024-03-15, so back 7 days
    assert Step(10, "d").anchor("2024-03-15") == pd.Timestamp("2024-03-08")


def test_auto_is_weekly_up_to_exactly_a_year_of_history():
    assert history_days("2023-01-01", "2024-01-01") == 365
    assert resolve_step("auto", 365) == Step(1, "w")  # a year or less: weekly
    assert resolve_step("auto", 366) == Step(1, "m")
    assert resolve_step("auto", 30) == Step(1, "w")
    assert resolve_step("auto", None) == Step(1, "m")  # unknown history: monthly
    assert resolve_step("2w", 10_000) == Step(2, "w")  # an explicit step is kept


def test_training_cutoffs_follow_the_history_at_the_365_day_boundary():
    config = FeaturesConfig(horizon_days=91, n_cutoffs=3)
    # 2023-01-01 .. 2024-01-01: 365 days of history -> weekly; label windows end by 2024-01-01
    weekly = features.training_cutoffs("2024-01-01", config, min_date="2023-01-01")
    assert weekly == ts("2023-09-17", "2023-09-24", "2023-10-01")  # Sundays, + 91 <= Jan 1st
    assert all(c.day_of_week == 6 for c in weekly)
    # one more day of history -> monthly (month ends)
    monthly = features.training_cutoffs("2024-01-02", config, min_date="2023-01-01")
    assert monthly == ts("2023-07-31", "2023-08-31", "2023-09-30")  # + 91 <= Jan 2nd
    assert features.cutoff_step(config, "2024-01-01", "2023-01-01") == Step(1, "w")
    assert features.cutoff_step(config, "2024-01-02", "2023-01-01") == Step(1, "m")


def test_auto_n_cutoffs_takes_every_cutoff_back_to_the_first_order_up_to_max_cutoffs():
    config = FeaturesConfig(horizon_days=30)
    every = features.training_cutoffs("2024-07-01", config, min_date="2024-01-01")
    # weekly (182 days): Sundays from the first on or after Jan 1st to the last with + 30 days
    assert every[0] == pd.Timestamp("2024-01-07") and every[-1] == pd.Timestamp("2024-05-26")
    assert len(every) == 21
    capped = config.model_copy(update={"max_cutoffs": 5})
    assert features.training_cutoffs("2024-07-01", capped, min_date="2024-01-01") == every[-5:]
    # a history shorter than the label window: no cutoff at all
    assert features.training_cutoffs("2024-01-20", config, min_date="2024-01-01") == []


def test_step_cutoffs_needs_a_count_or_a_floor():
    assert step_cutoffs("2024-03-31", Step(1, "m"), 2) == ts("2024-02-29", "2024-03-31")
    assert step_cutoffs("2024-03-31", Step(1, "m"), None, "2024-01-15") == ts(
        "2024-01-31", "2024-02-29", "2024-03-31"
    )
    with pytest.raises(ValueError, match="count or a min_date"):
        step_cutoffs("2024-03-31", Step(1, "m"), None)


def test_old_cutoff_step_months_key_is_read_as_months():
    assert FeaturesConfig.model_validate({"cutoff_step_months": 3}).cutoff_step == "3m"
    with pytest.raises(pydantic.ValidationError, match="keep only cutoff_step"):
        FeaturesConfig.model_validate({"cutoff_step_months": 3, "cutoff_step": "1m"})
    with pytest.raises(pydantic.ValidationError, match="cutoff_step_months must be"):
        FeaturesConfig.model_validate({"cutoff_step_months": "3m"})
    with pytest.raises(pydantic.ValidationError, match="cutoff_step"):
        FeaturesConfig(cutoff_step="weekly")
    with pytest.raises(pydantic.ValidationError, match="positive integer"):
        FeaturesConfig(n_cutoffs=0)
    assert FeaturesConfig().n_cutoffs == "auto" and FeaturesConfig().cutoff_step == "auto"


# 273 days of history, 2024-01-01 .. 2024-09-30, Sundays
SUNDAYS = pd.date_range("2024-01-07", "2024-09-29", freq="W-SUN")
END = pd.Timestamp("2024-09-30")


def test_a_273_day_history_backtests_at_91_days():
    # 273 days: no cutoff has labels at all; 182 days: 13 labelled Sundays (to 03-31) but
    # none has its window end by 03-31 - 182; 91 days: fold 06-30, trains on 13 by 03-31
    assert backtest_horizon(SUNDAYS, END, 273, min_cutoffs=3) == 91
    assert backtest_horizon(SUNDAYS, END, 91, min_cutoffs=3) == 91  # the horizon itself fits
    assert backtest_horizon(SUNDAYS, END, 273, min_cutoffs=14) == 60
    assert backtest_horizon(SUNDAYS, END, 273, min_cutoffs=3, candidates=(182,)) is None
    assert backtest_horizon([], END, 91, min_cutoffs=1) is None


def test_backtest_horizon_needs_min_cutoffs_observed_by_the_fold():
    # labelled at 91 days: the Sundays to 06-30; fold 06-30 trains on those to 03-31 (13):
    # 13 needed -> 91 fits, 14 -> not; the cap keeps the latest labelled ones only: 3 by
    # 03-31 and the 13 Sundays after it to the fold are 16
    assert backtest_horizon(SUNDAYS, END, 91, 13, candidates=()) == 91
    assert backtest_horizon(SUNDAYS, END, 91, 14, candidates=()) is None
    assert backtest_horizon(SUNDAYS, END, 91, 3, candidates=(), max_cutoffs=16) == 91
    assert backtest_horizon(SUNDAYS, END, 91, 3, candidates=(), max_cutoffs=15) is None
    # a candidate longer than the horizon is never tried
    assert backtest_horizon(SUNDAYS, END, 30, 3, candidates=(182, 91)) == 30

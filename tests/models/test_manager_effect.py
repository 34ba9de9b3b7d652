"""models.manager_effect: the treatment, the confounders and the gain on the project's frames."""

import numpy as np
import pandas as pd
import pytest

from features.contract import CUSTOMER_ID, CUTOFF, LABEL_MANAGER_DAYS, LABEL_SPEND
from features.names import (
    CTC_DAYS_SINCE_MANAGER_VISIT,
    CTC_HAS_MANAGER,
    CUST_SIZE_EMPLOYEES,
    TXN_SPEND_TOTAL,
    txn_spend_in,
)
from models.columns import BTYD_EXPECTED_SPEND, IN_OVERLAP, MANAGER_GAIN
from models.config import ManagerEffectConfig
from models.manager_effect import (
    REVIEW_MIN_ACCOUNTS,
    TREATMENT,
    assignment_window,
    confounders,
    fit_manager_effect,
    manager_gain,
    review_month_advice,
    review_month_hint,
    treatment,
)
from models.uplift import DRLearner


def _training_set(n_customers: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Two cutoffs of the same customers; managers go to big spenders (confounded); a
    manager adds 100 to next year's spend."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(3, 1, n_customers)
    rows = []
    for k, cutoff in enumerate(pd.to_datetime(["2025-06-30", "2025-12-31"])):
        spend = size * 50 * rng.lognormal(0, 0.3, n_customers)
        managed = rng.random(n_customers) < 1 / (1 + np.exp(-(np.log(spend) - 7.5)))
        rows.append(pd.DataFrame({
            CUSTOMER_ID: [f"C{i}" for i in range(n_customers)], CUTOFF: cutoff,
            TXN_SPEND_TOTAL: spend, txn_spend_in(90): spend / 4,
            CUST_SIZE_EMPLOYEES: size, BTYD_EXPECTED_SPEND: spend * 0.9,
            CTC_HAS_MANAGER: managed.astype(float),
            CTC_DAYS_SINCE_MANAGER_VISIT: np.where(managed, 10.0, np.nan),
            LABEL_SPEND: spend + 100 * managed + rng.normal(0, 50, n_customers),
            LABEL_MANAGER_DAYS: np.where(managed, 12.0, np.nan), TREATMENT: managed * 1.0,
        }))
    return pd.concat(rows, ignore_index=True)


def test_every_feature_is_a_confounder_but_not_the_labels_or_the_treatment():
    # the contact features describe who had a manager before the cutoff: the decision after
    # it is what is measured, so they are adjusted for
    train = _training_set(50)
    assert confounders(train) == [TXN_SPEND_TOTAL, txn_spend_in(90), CUST_SIZE_EMPLOYEES,
                                  BTYD_EXPECTED_SPEND, CTC_HAS_MANAGER,
                                  CTC_DAYS_SINCE_MANAGER_VISIT]


@pytest.mark.parametrize(("days", "expected"), [
    (0.0, 1.0), (1.0, 1.0), (182.0, 1.0),  # the first manager contact within the window
    (182.5, 0.0), (183.0, 0.0), (365.0, 0.0),  # a later one: a later decision, not this one
    (np.nan, 0.0),  # none over the horizon: no manager
])
def test_the_treatment_is_a_first_manager_contact_within_the_window(days, expected):
    assert treatment(pd.Series([days]), window_days=182).iloc[0] == expected


def test_the_treatment_keeps_the_index_and_leaves_no_row_out():
    days = pd.Series([5.0, np.nan, 300.0, 182.0], index=[10, 11, 12, 13])
    got = treatment(days, 182)
    assert got.index.tolist() == [10, 11, 12, 13] and got.tolist() == [1.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize(("days", "horizon", "expected"), [
    (None, 365, 182), (None, 90, 45), (None, 1, 1),  # unset: half the horizon, at least a day
    (91, 365, 91), (400, 365, 365),  # set: as set, never beyond the horizon
])
def test_the_assignment_window_is_half_the_horizon_unless_set(days, horizon, expected):
    config = ManagerEffectConfig(assigned_within_days=days)
    assert assignment_window(config, horizon) == expected


def test_the_gain_of_a_manager_is_recovered_and_published_per_customer():
    # the past manager columns here copy the decision itself: left out, as if no account's
    # manager had changed at the cutoff would leave no overlap at all
    train = _training_set().drop(columns=[CTC_HAS_MANAGER, CTC_DAYS_SINCE_MANAGER_VISIT])
    learner = fit_manager_effect(train, DRLearner(n_bootstrap=5, n_estimators=60,
                                                  learning_rate=0.1))
    low, high = learner.ate_interval(level=0.95)
    assert low <= 100 <= high
    naive = (train.loc[train[TREATMENT] == 1, LABEL_SPEND].mean()
             - train.loc[train[TREATMENT] == 0, LABEL_SPEND].mean())
    assert naive > 300  # the plain comparison mostly measures the account's size
    scoring = train[train[CUTOFF] == train[CUTOFF].max()].drop(columns=[LABEL_SPEND])
    gain = manager_gain(learner, scoring)
    assert gain[CUSTOMER_ID].tolist() == scoring[CUSTOMER_ID].tolist()
    assert gain.loc[gain[IN_OVERLAP], MANAGER_GAIN].between(0, 200).mean() > 0.9


def test_rows_without_the_treatment_say_how_to_build_them():
    train = _training_set(50).drop(columns=[TREATMENT])
    with pytest.raises(ValueError, match="training_rows"):
        fit_manager_effect(train, DRLearner())
    missing = _training_set(50).assign(**{TREATMENT: np.nan})
    with pytest.raises(ValueError, match="missing values: build the rows with training_rows"):
        fit_manager_effect(missing, DRLearner())


def _first_contacts(dates: list[str], has_manager: float = 0.0) -> pd.DataFrame:
    """One account per date, unmanaged at the 2024-06-30 cutoff (and, the same first contact
    seen again, at 2024-03-31), its first manager contact on that date."""
    frames = []
    for cutoff in pd.to_datetime(["2024-03-31", "2024-06-30"]):
        days = (pd.to_datetime(dates) - cutoff).days.astype(float)
        frames.append(pd.DataFrame({CUSTOMER_ID: [f"C{i}" for i in range(len(dates))],
                                    CUTOFF: cutoff, CTC_HAS_MANAGER: has_manager,
                                    LABEL_MANAGER_DAYS: days}))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize(("peak", "expected"), [
    ("2024-11-", 10), ("2024-12-", 11), ("2025-01-", 12),  # the month before, across the year
])
def test_a_review_shows_as_the_month_before_the_new_managers_first_calls(peak, expected):
    spread = [f"2024-{m:02d}-15" for m in range(7, 10)] * 6  # 18 over July to September
    dates = [f"{peak}{d:02d}" for d in range(1, 23)] + spread  # 22 of 40 in one month
    month, share, accounts = review_month_hint(_first_contacts(dates))
    assert (month, accounts) == (expected, 40) and share == pytest.approx(22 / 40)


def test_no_review_month_without_a_peak_or_with_few_accounts():
    even = [f"2024-{m:02d}-{d:02d}" for m in range(7, 13) for d in (3, 9, 15, 21, 27)]
    month, share, accounts = review_month_hint(_first_contacts(even))  # 5 of 30 a month
    assert month is None and accounts == 30 and share == pytest.approx(1 / 6)
    few = [f"2024-11-{d:02d}" for d in range(1, REVIEW_MIN_ACCOUNTS)]
    assert review_month_hint(_first_contacts(few)) == (None, 0.0, REVIEW_MIN_ACCOUNTS - 1)
    unknown = _first_contacts([f"2024-11-{d:02d}" for d in range(1, 29)], has_manager=np.nan)
    assert review_month_hint(unknown)[0] == 10  # no contact at all before: no manager either
    managed = _first_contacts([f"2024-11-{d:02d}" for d in range(1, 29)], has_manager=1.0)
    assert review_month_hint(managed)[0] is None  # already managed: not a new manager
    assert review_month_hint(managed.drop(columns=CTC_HAS_MANAGER)) == (None, 0.0, 0)


@pytest.mark.parametrize(("configured", "hint", "words"), [
    (None, 10, "set manager_effect.decision_month: 10 (now null)"),
    (3, 10, "at the end of October, set manager_effect.decision_month: 10 (now 3)"),
    (10, 10, ""), (None, None, ""), (4, None, ""),
])
def test_the_train_log_says_which_decision_month_the_contacts_suggest(configured, hint, words):
    advice = review_month_advice(configured, hint, 0.54)
    assert (words in advice) and bool(advice) == bool(words)
    if words:
        assert "54% of the newly managed accounts had their first manager contact in November" \
            in advice

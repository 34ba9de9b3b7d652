"""Cutoffs, the stacked training set, the scoring frame, and the point-in-time guarantees.

The hypothesis tests draw random histories around a cutoff and check that rows dated after
it never change a feature, and that labels only read (T, T+H]. Their `@example`s put rows on
the cutoff T, on T+1, on both edges of each window (30 and 365 days, the trend's 90 and 180,
the contact look-backs, the season's next quarter) and of the label window (T+1, T+H, T+H+1).
How many examples are drawn is the hypothesis profile's (tests/conftest.py: more in CI).
Rows dated elsewhere are pinned on tiny frames in test_boundaries.py.
"""

import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import features
from features.config import FeaturesConfig
from features.contract import Tables
from features.cutoffs import Step
from tests.features.conftest import AS_OF, customers


def test_training_cutoffs_are_month_ends_with_full_label_windows():
    config = FeaturesConfig(horizon_days=365, n_cutoffs=3)
    assert features.training_cutoffs("2026-10-31", config) == [
        pd.Timestamp("2025-08-31"),
        pd.Timestamp("2025-09-30"),
        pd.Timestamp("2025-10-31"),
    ]
    # a day short of the month end: the previous month end is the latest full window
    assert features.training_cutoffs("2026-10-30", config)[-1] == pd.Timestamp("2025-09-30")
    quarterly = FeaturesConfig(horizon_days=30, n_cutoffs=2, cutoff_step_months=3)
    assert features.training_cutoffs("2024-12-31", quarterly) == [
        pd.Timestamp("2024-08-31"),
        pd.Timestamp("2024-11-30"),
    ]
    assert features.training_cutoffs("2024-12-31", quarterly, min_date="2024-09-01") == [
        pd.Timestamp("2024-11-30")
    ]


def test_end_of_data_and_scoring_as_of(all_tables, config):
    assert features.end_of_data(all_tables) == pd.Timestamp("2024-08-01")
    assert features.scoring_as_of(all_tables, config) == pd.Timestamp("2024-08-01")
    fixed = config.model_copy(update={"as_of": pd.Timestamp("2024-06-30").date()})
    assert features.scoring_as_of(all_tables, fixed) == AS_OF
    assert features.build_scoring_frame(all_tables, fixed)["as_of"].eq(AS_OF).all()


def test_training_set_stacks_cutoffs(all_tables, config):
    cutoffs = [pd.Timestamp("2024-03-31"), AS_OF]
    training = features.build_training_set(all_tables, cutoffs, config)
    assert list(training.columns[:3]) == ["customer_id", "cutoff", "as_of"]
    assert list(training.columns[-3:]) == ["future_spend", "churned",
                                           "future_manager_contact_days"]
    assert training.groupby("cutoff").size().to_dict() == {cutoffs[0]: 1, cutoffs[1]: 3}
    latest = training[training["cutoff"] == AS_OF].drop(
        columns=["cutoff", "future_spend", "churned", "future_manager_contact_days"]
    )
    pd.testing.assert_frame_equal(
        latest.reset_index(drop=True), features.build(all_tables, AS_OF, config)
    )


def test_datasets_match_separate_builds(all_tables, config):
    training, scoring = features.build_datasets(
        all_tables, [AS_OF], pd.Timestamp("2024-08-01"), config
    )
    pd.testing.assert_frame_equal(
        training, features.build_training_set(all_tables, [AS_OF], config)
    )
    pd.testing.assert_frame_equal(scoring, features.build(all_tables, "2024-08-01", config))


def test_feature_columns(all_tables, config):
    training = features.build_training_set(all_tables, [AS_OF], config)
    columns = features.feature_columns(training)
    assert (
        "customer_id" not in columns and "future_spend" not in columns and "cutoff" not in columns
    )
    assert columns == list(features.catalogue(config))


def test_plan_of_a_short_history_has_no_training_cutoff_and_a_shorter_backtest(all_tables):
    # 2023-07-15 .. 2024-08-01 (383 days: monthly): no month end has a 400-day window; at
    # 182 days the fold 2024-01-31 has 1 cutoff observed by then (07-31), at 91 days the
    # fold 2024-04-30 has the six month ends 07-31 .. 12-31: 91 days is the longest that fits
    config = FeaturesConfig(horizon_days=400)
    plan = features.plan_cutoffs(all_tables, config, min_train_cutoffs=3)
    assert plan.cutoffs == [] and plan.step == Step(1, "m")
    assert plan.as_of == pd.Timestamp("2024-08-01") == plan.labels_end
    assert plan.backtest_horizon_days == 91
    assert plan.backtest_cutoffs == features.training_cutoffs(
        plan.labels_end, config.model_copy(update={"horizon_days": 91}), "2023-07-15"
    )
    assert plan.backtest_cutoffs[0] == pd.Timestamp("2023-07-31")
    assert plan.backtest_cutoffs[-1] == pd.Timestamp("2024-04-30")
    assert plan.short_history == (
        "short history: data from 2023-07-15 to 2024-08-01 (383 days) leaves no cutoff with a "
        "full 400-day label window: the training set is empty and the models fall back to "
        "BG/NBD + Gamma-Gamma; the backtest scores a 91-day horizon instead of 400 days, the "
        "longest with a fold; add history or shorten horizon_days"
    )
    # one cutoff at 365 days: too few to train on, same backtest
    one = features.plan_cutoffs(all_tables, FeaturesConfig(horizon_days=365), 3)
    assert one.cutoffs == [pd.Timestamp("2023-07-31")] and one.backtest_horizon_days == 91
    assert "leaves 1 cutoff(s) with a full 365-day label window" in one.short_history
    # a horizon with a fold: nothing to say, no second training set
    fits = features.plan_cutoffs(all_tables, FeaturesConfig(horizon_days=30), 3)
    assert fits.backtest_horizon_days == 30 and fits.backtest_cutoffs == []
    assert fits.short_history == ""
    # not even 30 days leave a fold when 12 cutoffs must be observed by it
    none = features.plan_cutoffs(all_tables, FeaturesConfig(horizon_days=400), 12)
    assert none.backtest_horizon_days is None and none.backtest_cutoffs == []
    assert none.short_history.endswith("no backtest horizon fits either; add history or "
                                       "shorten horizon_days")


def test_build_all_without_cutoffs_gives_an_empty_training_set_of_the_same_columns(all_tables):
    config = FeaturesConfig(horizon_days=400)
    built = features.build_all(all_tables, [], AS_OF, config, backtest_horizon_days=91,
                               backtest_cutoffs=[pd.Timestamp("2024-03-31")])
    full = features.build_training_set(all_tables, [AS_OF], config)
    assert len(built.training) == 0
    pd.testing.assert_series_equal(built.training.dtypes, full.dtypes)
    pd.testing.assert_frame_equal(built.scoring, features.build(all_tables, AS_OF, config))
    # the backtest's set: labels over 91 days, the features of the same cutoff
    shorter = config.model_copy(update={"horizon_days": 91})
    pd.testing.assert_frame_equal(
        built.backtest,
        features.build_training_set(all_tables, [pd.Timestamp("2024-03-31")], shorter),
    )
    assert features.build_all(all_tables, [AS_OF], AS_OF, config).backtest is None
    training, _ = features.build_datasets(all_tables, [], AS_OF, config)
    assert training.empty and list(training.columns) == list(full.columns)


# ---- point in time, property based ----------------------------------------------------

CUTOFF = pd.Timestamp("2024-06-30")
CUSTOMERS = ["C1", "C2", "007"]
HORIZON = 90
CONFIG = FeaturesConfig(horizon_days=HORIZON, windows_days=(30, 365))

transaction_row = st.tuples(
    st.sampled_from(CUSTOMERS),
    st.sampled_from(["o1", "o2", "o3"]),
    st.integers(min_value=-500, max_value=-1),  # days relative to the cutoff
    st.sampled_from([-30.0, 0.0, 12.5, 40.0, 300.0]),
    st.sampled_from(["a", "b"]),
)
contact_row = st.tuples(
    st.sampled_from(CUSTOMERS),
    st.integers(min_value=-500, max_value=-1),
    st.sampled_from(["visit", "call", "email"]),
    st.sampled_from(["M1", None]),
    st.sampled_from(["order", "complaint", "none"]),
)


def tx_frame(rows, offset):
    frame = pd.DataFrame(rows, columns=["customer_id", "order_id", "day", "amount", "category"])
    frame["order_date"] = CUTOFF + pd.to_timedelta(frame["day"] + offset, unit="D")
    return frame.drop(columns="day")


def contact_frame(rows, offset):
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "channel", "manager_id", "outcome"])
    frame["contact_date"] = CUTOFF + pd.to_timedelta(frame["day"] + offset, unit="D")
    return frame.drop(columns="day")


def tables(past_tx, future_tx, past_ct, future_ct) -> Tables:
    """Past rows dated <= CUTOFF (offset +1 puts day -1 on the cutoff), future rows after it."""
    tx = pd.concat([tx_frame(past_tx, 1), tx_frame(future_tx, 501)], ignore_index=True)
    ct = pd.concat([contact_frame(past_ct, 1), contact_frame(future_ct, 501)], ignore_index=True)
    ct["manager_id"] = ct["manager_id"].astype("str")
    return Tables(
        tx.sample(frac=1.0, random_state=len(tx)),
        ct,
        customers().assign(customer_id=["C1", "C2", "007", "C9"]),
    )


def training_features(t: Tables) -> pd.DataFrame:
    """Features through the training-set path, which sees the whole history."""
    frame = features.build_training_set(t, [CUTOFF], CONFIG)
    return frame.drop(columns=["future_spend", "churned", "future_manager_contact_days"])


def past(day: int) -> int:
    """The drawn day that puts a past row on CUTOFF + day (day <= 0; offset +1)."""
    return day - 1


def future(day: int) -> int:
    """The drawn day that puts a future row on CUTOFF + day (1 <= day <= 500; offset 501)."""
    return day - 501


EDGES = (0, -29, -30, -89, -90, -179, -180, -274, -275, -364, -365)  # windows 30/90/365
PAST_EDGES = [
    (("C1", "C2", "007")[i % 3], f"o{i % 3 + 1}", past(d), (12.5, 40.0, -30.0)[i % 3], "ab"[i % 2])
    for i, d in enumerate(EDGES)
]
CONTACT_EDGES = [
    (("C1", "C2", "007")[i % 3], past(d), ("visit", "call", "email")[i % 3],
     ("M1", None)[i % 2], ("order", "complaint", "none")[i % 3])
    for i, d in enumerate((0, -29, -30, -364, -365))
]


@given(
    past_tx=st.lists(transaction_row, min_size=1, max_size=12),
    future_a=st.lists(transaction_row, max_size=8),
    future_b=st.lists(transaction_row, max_size=8),
    past_ct=st.lists(contact_row, max_size=6),
    future_ct_a=st.lists(contact_row, max_size=5),
    future_ct_b=st.lists(contact_row, max_size=5),
)
@example(  # every window edge and the cutoff in the past; T+1 and T+500 in the future
    past_tx=PAST_EDGES,
    future_a=[("C1", "o1", future(1), 40.0, "a")],
    future_b=[("C2", "o2", future(1), -30.0, "b"), ("007", "o3", future(500), 300.0, "a")],
    past_ct=CONTACT_EDGES,
    future_ct_a=[("C1", future(1), "visit", "M1", "complaint")],
    future_ct_b=[("007", future(1), "call", None, "order"),
                 ("C2", future(2), "email", "M1", "none")],
)
@example(  # one order on T, the same order id again on T+1, a contact on T+1 only
    past_tx=[("C1", "o1", past(0), 12.5, "a")],
    future_a=[("C1", "o1", future(1), 12.5, "a")],
    future_b=[],
    past_ct=[],
    future_ct_a=[("007", future(1), "call", None, "order")],
    future_ct_b=[],
)
def test_rows_after_the_cutoff_never_change_a_feature(
    past_tx, future_a, future_b, past_ct, future_ct_a, future_ct_b
):
    # future rows are dated cutoff+1 .. cutoff+500: adding, removing or changing any of them
    # (future_a vs future_b vs none) must leave every feature at the cutoff as it is
    a = tables(past_tx, future_a, past_ct, future_ct_a)
    b = tables(past_tx, future_b, past_ct, future_ct_b)
    none = tables(past_tx, [], past_ct, [])
    expected = features.build(none, CUTOFF, CONFIG)
    for variant in (a, b):
        pd.testing.assert_frame_equal(features.build(variant, CUTOFF, CONFIG), expected, rtol=1e-9)
        got = training_features(variant).drop(columns="cutoff")
        pd.testing.assert_frame_equal(got, expected, rtol=1e-9)


EARLIER = CUTOFF - pd.Timedelta(days=45)  # stacked with CUTOFF, as the pipeline does


def window_frame(rows) -> pd.DataFrame:
    """Rows moved into the label window (T, T+H]: day -500..-1 becomes T+1..T+H."""
    return tx_frame([r[:2] + (r[2] % HORIZON,) + r[3:] for r in rows], 1)


def training_labels(tx: pd.DataFrame) -> pd.DataFrame:
    """Labels at CUTOFF through the pipeline's path: the stacked training set (labels_at)."""
    t = Tables(tx, None, customers().assign(customer_id=["C1", "C2", "007", "C9"]))
    frame = features.build_training_set(t, [EARLIER, CUTOFF], CONFIG)
    at = frame[frame["cutoff"] == CUTOFF]
    return at[["customer_id", "future_spend", "churned"]].reset_index(drop=True)


def in_window(day: int) -> int:
    """The drawn day that window_frame puts on CUTOFF + day (1 <= day <= HORIZON)."""
    return day - 1 - HORIZON


def later(day: int) -> int:
    """The drawn day that puts a later row on CUTOFF + HORIZON + day (1 <= day <= 500)."""
    return day - 501


@given(
    past_tx=st.lists(transaction_row, max_size=10),
    window_tx=st.lists(transaction_row, max_size=8),
    later_a=st.lists(transaction_row, max_size=6),
    later_b=st.lists(transaction_row, max_size=6),
    other_past=st.lists(transaction_row, max_size=6),
    extra=transaction_row,
)
@example(  # on T (out), T+1 and T+H (in), T+H+1 (out); one more order on T+1
    past_tx=[("C1", "o1", past(0), 40.0, "a")],
    window_tx=[("C1", "o2", in_window(1), 12.5, "a"), ("C2", "o1", in_window(HORIZON), -30.0, "b")],
    later_a=[("C2", "o3", later(1), 300.0, "a")],
    later_b=[],
    other_past=[("007", "o1", past(0), 300.0, "b")],
    extra=("007", "o2", in_window(1), 40.0, "a"),
)
@example(  # a zero amount on T+H is no order; a return on T+H+1 is outside
    past_tx=[],
    window_tx=[("007", "o1", in_window(HORIZON), 12.5, "b")],
    later_a=[("007", "o1", later(1), -30.0, "b")],
    later_b=[("C1", "o2", later(1), 40.0, "a")],
    other_past=[("C2", "o3", past(0), 12.5, "a")],
    extra=("C2", "o2", in_window(HORIZON), 0.0, "a"),
)
def test_labels_read_only_the_label_window(past_tx, window_tx, later_a, later_b, other_past, extra):
    def frame(past, window, later):
        # past rows on or before T, window rows in (T, T+H], later rows after T+H
        return pd.concat(
            [tx_frame(past, 1), window_frame(window), tx_frame(later, 501 + HORIZON)],
            ignore_index=True,
        )

    first = training_labels(frame(past_tx, window_tx, later_a))
    # the customers table makes C1, C2 and 007 known at T whatever the transactions
    assert first["customer_id"].tolist() == sorted(CUSTOMERS)
    ids = first["customer_id"].tolist()
    # adding, removing or changing rows outside (T, T+H] changes no label at T
    second = training_labels(frame(past_tx + other_past, window_tx, later_b))
    pd.testing.assert_frame_equal(first, second, rtol=1e-9)

    def expected(window):
        spend = [sum(r[3] for r in window if r[0] == c) for c in ids]
        churned = [not any(r[3] > 0 for r in window if r[0] == c) for c in ids]
        return spend, churned

    spend, churned = expected(window_tx)
    assert first["future_spend"].tolist() == pytest.approx(spend)
    assert first["churned"].tolist() == churned
    # one more row inside the window changes its customer's labels, and only those
    third = training_labels(frame(past_tx, window_tx + [extra], later_a))
    spend, churned = expected(window_tx + [extra])
    assert third["future_spend"].tolist() == pytest.approx(spend)
    assert third["churned"].tolist() == churned
    others = third["customer_id"] != extra[0]
    pd.testing.assert_frame_equal(third[others], first[others], rtol=1e-9)
    # build_labels is a wrapper over the same labels_at
    tx = frame(past_tx + other_past, window_tx, later_b)
    pd.testing.assert_frame_equal(features.build_labels(tx, CUTOFF, HORIZON, ids), first, rtol=1e-9)

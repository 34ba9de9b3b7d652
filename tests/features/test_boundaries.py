"""Rows exactly on every edge: the cutoff T and T+1, each window's first and last day, the
trend's two spans, the contact windows and look-backs, the season's year and quarters, the
label window, the size bands. One customer per edge, so each assertion names the edge it
pins. Windows are (T - w, T]: day T - w + 1 is the first day in, day T - w the last out.

Also the leak-proof training path: the feature functions never see a row after the cutoff
(a spy on what they are given), and a contact or a transaction dated T + 1 changes no
training feature of cutoff T, only its labels.
"""

import numpy as np
import pandas as pd
import polars as pl
import pytest

import features
import features.builder as builder
from features.config import FeaturesConfig
from features.contacts import contact_features
from features.contract import Tables
from features.tables import D, known_codes, prepare, to_day
from features.transactions import transaction_features

T = pd.Timestamp("2024-06-30")
CONFIG = FeaturesConfig(horizon_days=30)  # windows 30/90/180/365, trend 90, look-backs 365
DAY = pd.Timedelta(days=1)


def tx(rows) -> pd.DataFrame:
    """(customer, days from T, amount[, category]) -> a transactions table."""
    rows = [r if len(r) == 4 else (*r, "a") for r in rows]
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "amount", "category"])
    frame["order_date"] = T + pd.to_timedelta(frame["day"], unit="D")
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    return frame.drop(columns="day")


def ct(rows) -> pd.DataFrame:
    """(customer, days from T, channel, manager, outcome) -> a contacts table."""
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "channel", "manager_id", "outcome"])
    frame["contact_date"] = T + pd.to_timedelta(frame["day"], unit="D")
    return frame.drop(columns="day")


def at_t(tables: Tables, config: FeaturesConfig = CONFIG) -> pd.DataFrame:
    return features.build(tables, T, config).set_index("customer_id")


# ---- transaction windows -------------------------------------------------------------------


def test_every_transaction_window_counts_its_first_day_and_not_the_day_before():
    rows = []
    for w in CONFIG.windows_days:
        rows += [(f"in{w}", -(w - 1), 10.0), (f"out{w}", -w, 10.0)]
    rows.append(("onT", 0, 10.0))
    for layout in (at_t(Tables(tx(rows))), training_at_t(Tables(tx(rows)))):
        for w in CONFIG.windows_days:
            assert layout.loc[f"in{w}", f"txn_orders_{w}d"] == 1, w
            assert layout.loc[f"in{w}", f"txn_spend_{w}d"] == 10, w
            assert layout.loc[f"out{w}", f"txn_orders_{w}d"] == 0, w
            assert layout.loc[f"out{w}", f"txn_spend_{w}d"] == 0, w
            # the cutoff day is the window's last day
            assert layout.loc["onT", f"txn_orders_{w}d"] == 1, w
            assert layout.loc["onT", f"txn_spend_{w}d"] == 10, w


def test_trend_spans_meet_at_t_minus_the_trend_window():
    tw = CONFIG.trend_window_days
    rows = [
        ("recent_first", -(tw - 1), 10.0),  # first day of (T - tw, T]
        ("recent_last", 0, 10.0),  # the cutoff
        ("previous_last", -tw, 10.0),  # last day of (T - 2tw, T - tw]
        ("previous_first", -(2 * tw - 1), 10.0),
        ("neither", -2 * tw, 10.0),  # before both spans
        ("both", -tw, 10.0),
        ("both", -(tw - 1), 30.0),
    ]
    frame = at_t(Tables(tx(rows)))
    trend = frame[f"txn_spend_trend_{tw}d"]
    assert trend["recent_first"] == 1.0 and trend["recent_last"] == 1.0
    assert trend["previous_last"] == -1.0 and trend["previous_first"] == -1.0
    assert trend["neither"] == 0.0  # nothing in either span: 0, not NaN
    assert trend["both"] == pytest.approx((30 - 10) / (30 + 10))


def test_season_year_and_next_quarter_edges():
    # year = T - 365; the year is (T - 365, T]; the coming quarter a year ago (year, year + 90]
    rows = [
        ("year_first", -364, 10.0),  # in the year and in the next quarter
        ("year_out", -365, 10.0),  # a day too old: no spend in the year
        ("year_out", -10, 10.0),
        ("quarter_last", -275, 10.0),  # year + 90: still the next quarter
        ("quarter_out", -274, 10.0),  # year + 91
        # quarter edges year + 91 | year + 92: the two orders fall in different quarters
        ("split", -274, 10.0),
        ("split", -273, 10.0),
        ("same", -275, 10.0),
        ("same", -274, 10.0),  # both in the first quarter (year, year + 91]
        # the third edge, year + round(273.75) = year + 274: T - 91 | T - 90
        ("split3", -91, 10.0),
        ("split3", -90, 10.0),
    ]
    frame = at_t(Tables(tx(rows)))
    share = frame["txn_season_next_quarter_share"]
    assert share["year_first"] == 1.0 and share["quarter_last"] == 1.0
    assert share["quarter_out"] == 0.0
    assert share["year_out"] == 0.0  # only the order of T - 10 is in the year
    assert frame.loc["split", "txn_season_strength"] == 0.5
    assert frame.loc["same", "txn_season_strength"] == 1.0
    assert frame.loc["split3", "txn_season_strength"] == 0.5


def test_categories_and_btyd_on_the_cutoff_day():
    rows = [("A", -10, 10.0, "a"), ("A", 0, 30.0, "b"), ("A", 1, 50.0, "c")]
    a = at_t(Tables(tx(rows))).loc["A"]
    assert a["txn_categories"] == 2  # b on T counts, c on T + 1 does not
    assert a["txn_category_hhi"] == pytest.approx((10**2 + 30**2) / 40**2)
    assert [a["btyd_frequency"], a["btyd_recency"], a["btyd_T"], a["btyd_monetary"]] == [
        1, 10, 10, 30,
    ]
    once = at_t(Tables(tx([("B", 0, 20.0)]))).loc["B"]
    assert once["btyd_frequency"] == 0 and once["btyd_monetary"] == 0  # no repeat: 0, not NaN


# ---- contact windows -----------------------------------------------------------------------


def test_contact_windows_and_lookbacks_count_their_first_day_only():
    rows = []
    for w in CONFIG.windows_days:
        rows += [(f"in{w}", -(w - 1), "call", None, "none"),
                 (f"out{w}", -w, "call", None, "none")]
    lookback = CONFIG.contact_lookback_days
    manager = CONFIG.manager_lookback_days
    rows += [
        ("complaint_in", -(lookback - 1), "email", None, "complaint"),
        ("complaint_out", -lookback, "email", None, "complaint"),
        ("complaint_out", -1, "email", None, "order"),
        ("manager_in", -(manager - 1), "email", "M1", "none"),
        ("manager_out", -manager, "email", "M1", "none"),
        ("onT", 0, "visit", "M1", "order"),
        ("onT", 1, "visit", "M1", "complaint"),  # T + 1: never seen
    ]
    contacts = ct(rows)
    ids = sorted(set(contacts["customer_id"]))
    tables = Tables(tx([(c, -400, 1.0) for c in ids]), contacts)
    for frame in (at_t(tables), training_at_t(tables)):
        for w in CONFIG.windows_days:
            assert frame.loc[f"in{w}", f"ctc_call_{w}d"] == 1, w
            assert frame.loc[f"out{w}", f"ctc_call_{w}d"] == 0, w
            assert frame.loc["onT", f"ctc_visit_{w}d"] == 1, w
        assert frame.loc["complaint_in", f"ctc_complaints_{lookback}d"] == 1
        assert frame.loc["complaint_out", f"ctc_complaints_{lookback}d"] == 0
        # conversion over the look-back: the order of T - 1 alone, not the old complaint
        assert frame.loc["complaint_out", f"ctc_order_conversion_{lookback}d"] == 1.0
        assert frame.loc["complaint_in", f"ctc_order_conversion_{lookback}d"] == 0.0
        assert frame.loc["manager_in", "ctc_has_manager"] == 1
        assert frame.loc["manager_out", "ctc_has_manager"] == 0
        on_t = frame.loc["onT"]
        assert on_t["ctc_days_since_last_contact"] == 0
        assert on_t["ctc_days_since_manager_visit"] == 0
        assert on_t[f"ctc_complaints_{lookback}d"] == 0  # the complaint of T + 1 is unseen
        assert on_t[f"ctc_order_conversion_{lookback}d"] == 1.0


# ---- the cutoff itself: known customers, size bands ------------------------------------------


def test_customers_created_on_the_cutoff_are_known_the_day_after_are_not():
    customers = pd.DataFrame({
        "customer_id": ["onT", "afterT", "edge10", "edge50", "edge1000"],
        "created_date": [T, T + DAY, T - DAY, T - DAY, T - DAY],
        "size": [None, None, 10.0, 50.0, 1000.0],
    })
    frame = at_t(Tables(tx([("buyer", 1, 5.0)]), customers=customers))
    assert sorted(frame.index) == ["edge10", "edge1000", "edge50", "onT"]  # buyer only at T + 1
    assert frame.loc["onT", "cust_relationship_days"] == 0
    # a band's lower edge belongs to it: 10 -> "10-49", 50 -> "50-249", 1000 -> "1000+"
    bands = frame["cust_size_band"].astype(object)
    assert [bands["edge10"], bands["edge50"], bands["edge1000"]] == ["10-49", "50-249", "1000+"]
    prep = prepare(Tables(tx([("buyer", 1, 5.0)]), customers=customers), CONFIG)
    assert len(known_codes(prep, to_day(T))) == 4 and len(known_codes(prep, to_day(T + DAY))) == 6


def test_labels_window_is_t_plus_one_to_t_plus_h():
    h = CONFIG.horizon_days
    rows = [
        ("onT", 0, 10.0),
        ("first", 1, 10.0),  # T + 1: the window's first day
        ("last", h, 10.0),  # T + H: its last
        ("after", h + 1, 10.0),  # T + H + 1: outside
        ("zero", -5, 10.0),
        ("zero", 3, 0.0),  # a zero amount is no order
    ]
    ids = ["after", "first", "last", "onT", "zero"]
    customers = pd.DataFrame({"customer_id": ids, "created_date": [T - DAY] * 5})
    training = features.build_training_set(Tables(tx(rows), customers=customers), [T], CONFIG)
    labels = training.set_index("customer_id")
    assert labels["future_spend"].to_dict() == {
        "after": 0.0, "first": 10.0, "last": 10.0, "onT": 0.0, "zero": 0.0,
    }
    assert labels["churned"].to_dict() == {
        "after": True, "first": False, "last": False, "onT": True, "zero": True,
    }


# ---- the leak-proof training path ------------------------------------------------------------


def training_at_t(tables: Tables, cutoffs=(T - pd.Timedelta(days=30), T)) -> pd.DataFrame:
    """The features of cutoff T through the stacked training set (labels dropped)."""
    frame = features.build_training_set(tables, list(cutoffs), CONFIG)
    labels = ["cutoff", "future_spend", "churned", "future_manager_contact_days"]
    at = frame[frame["cutoff"] == T].drop(columns=labels)
    return at.set_index("customer_id")


def leak_tables(extra_tx=(), extra_ct=()) -> Tables:
    rows = [("A", -40, 100.0, "a"), ("A", -3, 20.0, "b"), ("A", 0, 5.0, "a"), ("B", -200, 7.0)]
    contacts = [("A", -10, "visit", "M1", "order"), ("B", -1, "call", None, "complaint")]
    return Tables(tx(rows + list(extra_tx)), ct(contacts + list(extra_ct)))


@pytest.mark.parametrize("extra_tx, extra_ct", [
    ([], [("A", 1, "visit", "M1", "complaint"), ("B", 1, "email", None, "order")]),
    ([("A", 1, 50.0, "c"), ("B", 1, -7.0)], []),
    ([("A", 1, 50.0, "c")], [("A", 1, "call", "M2", "order")]),
], ids=["contact", "transaction", "both"])
def test_rows_dated_the_day_after_the_cutoff_change_no_training_feature(extra_tx, extra_ct):
    base = leak_tables()
    later = leak_tables(extra_tx, extra_ct)
    for cutoffs in ([T], [T - pd.Timedelta(days=30), T]):
        without, with_later = training_at_t(base, cutoffs), training_at_t(later, cutoffs)
        pd.testing.assert_frame_equal(with_later, without)
    pd.testing.assert_frame_equal(
        training_at_t(later).drop(columns="as_of"), at_t(later).drop(columns="as_of")
    )
    # the labels do read T + 1
    labels = features.build_training_set(later, [T], CONFIG).set_index("customer_id")
    if extra_tx:
        assert labels.loc["A", "future_spend"] == 50.0 and not labels.loc["A", "churned"]
    else:
        assert labels["future_spend"].eq(0).all() and labels["churned"].all()
    # the first manager contact after T: day T + 1 is 1 day later; B's has no manager
    manager_days = labels["future_manager_contact_days"]
    if extra_ct:
        assert manager_days.loc["A"] == 1.0
    else:  # A's manager contact at T - 10 is before the window
        assert np.isnan(manager_days.loc["A"])
    assert np.isnan(manager_days.loc["B"])


def test_feature_functions_see_no_row_after_the_cutoff(monkeypatch):
    seen = []

    def spy(function):
        def wrapper(prep, T_day, config):
            seen.append((function.__name__, T_day, _latest(prep)))
            return function(prep, T_day, config)
        return wrapper

    for name in ("transaction_features", "contact_features"):
        monkeypatch.setattr(builder, name, spy(getattr(builder, name)))
    tables = leak_tables([("A", 1, 50.0), ("A", 40, 9.0)], [("A", 1, "visit", "M1", "order")])
    cutoffs = [T - pd.Timedelta(days=30), T]
    features.build_training_set(tables, cutoffs, CONFIG)
    features.build(tables, T, CONFIG)
    features.build_all(tables, cutoffs, T, CONFIG, backtest_horizon_days=10,
                       backtest_cutoffs=cutoffs)
    assert {name for name, _, _ in seen} == {"transaction_features", "contact_features"}
    assert len(seen) == 2 * (2 + 1 + 1 + 2 + 2)
    for name, day, latest in seen:
        assert latest <= day, (name, day, latest)
    # the cutoff day itself is kept
    assert {latest for name, day, latest in seen if day == to_day(T)} == {to_day(T)}


def _latest(prep) -> int:
    days = [int(prep.daily.get_column(D).max())]
    if prep.contacts is not None and prep.contacts.height:
        days.append(int(prep.contacts.get_column(D).max()))
    if prep.category_rows is not None and len(prep.category_rows.day):
        days.append(int(prep.category_rows.day.max()))
    return max(days)


def test_prepared_upto_keeps_what_prepare_upto_keeps():
    tables = leak_tables([("A", 1, 50.0, "c")], [("A", 1, "visit", "M1", "order")])
    full = prepare(tables, CONFIG)
    for day in (to_day(T) - 1, to_day(T), to_day(T) + 1):
        cut, direct = builder.prepared_upto(full, day), prepare(tables, CONFIG, upto=day)
        for name in ("daily", "contacts"):
            pd.testing.assert_frame_equal(rows_by_id(cut, getattr(cut, name)),
                                          rows_by_id(direct, getattr(direct, name)), obj=name)
        assert cut.end_day == direct.end_day
        np.testing.assert_array_equal(np.sort(cut.category_rows.day),
                                      np.sort(direct.category_rows.day))
        assert cut.category_rows.amount.sum() == direct.category_rows.amount.sum()


def rows_by_id(prep, frame: pl.DataFrame) -> pd.DataFrame:
    """Prepared rows with the customer id for the code (codes differ between two prepares)."""
    ids = prep.ids.gather(frame.get_column("_c")).to_list()
    out = frame.drop("_c").to_pandas().assign(id=ids)
    return out.sort_values(["id", D]).reset_index(drop=True)


def test_feature_functions_on_the_full_history_read_nothing_after_the_cutoff():
    # the functions' own guard, without the builder's slicing in front of it
    day = to_day(T)
    base = prepare(leak_tables(), CONFIG)
    later = prepare(leak_tables([("A", 1, 50.0, "c"), ("B", 1, 9.0, "a")],
                                [("A", 1, "call", "M2", "complaint")]), CONFIG)
    assert later.daily.get_column(D).max() > day
    for function in (transaction_features, contact_features):
        got = by_id(later, function(later, day, CONFIG))
        expected = by_id(base, function(base, day, CONFIG))
        pd.testing.assert_frame_equal(got, expected, obj=function.__name__)
    a = by_id(later, transaction_features(later, day, CONFIG)).loc["A"]
    assert a["txn_days_since_last_order"] == 0 and a["txn_categories"] == 2
    assert a["txn_spend_30d"] == 25


def by_id(prep, frame: pl.DataFrame) -> pd.DataFrame:
    """A feature function's rows keyed by customer id (codes differ between two prepares)."""
    ids = prep.ids.gather(frame.get_column("_c")).to_list()
    return frame.drop("_c").to_pandas().set_axis(ids).sort_index()

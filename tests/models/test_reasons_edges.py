"""Reasons on their edges: a contribution exactly on the materiality floor, a churn
probability exactly on its threshold, a value exactly on a plain limit (good_at_most,
bad_from), values tied at the median, features without a side, top_k, zero contributions.
Contributions are binary fractions so that "exactly" is exact."""

import numpy as np
import pandas as pd

from models.reasons import explain, factors


class Model:
    """Fixed contributions per column (the same for every row) and a bias of 0."""

    def __init__(self, **contributions):
        self.contributions_ = contributions

    def contributions(self, rows: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(0.0, index=rows.index, columns=[*rows.columns, "bias"])
        return out.assign(**self.contributions_)


SPEND = "txn_spend_365d"
CONTACT = "ctc_days_since_last_contact"
LAST_ORDER = "txn_days_since_last_order"
GAP = "txn_gap_mean_days"


def frame(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=[f"r{i}" for i in range(n)])


def test_a_contribution_exactly_on_the_floor_is_material():
    # floor = max(min_contribution 0.125, min_share 0.25 x largest 1.0) = 0.25
    X = frame(**{SPEND: [100.0, 0.0, 0.0], CONTACT: [10.0, 200.0, 200.0],
                 "ctc_complaints_365d": [0.0, 1.0, 1.0]})
    rules = dict(min_contribution=0.125, min_share=0.25, top_k=5)
    up = explain(X, Model(**{SPEND: 1.0, CONTACT: 0.25, "ctc_complaints_365d": 0.125}), None,
                 rows=["r0"], **rules)
    assert up.loc["r0", "value_up"] == (
        "100 spent in the last 365 days; last contact 10 days ago")
    down = explain(X, Model(**{SPEND: -1.0, CONTACT: -0.25, "ctc_complaints_365d": -0.125}),
                   None, rows=["r1"], **rules)
    assert down.loc["r1", "value_down"] == (
        "nothing spent in the last 365 days; last contact 200 days ago")
    churn = explain(X, None, Model(**{SPEND: 1.0, CONTACT: 0.25, "ctc_complaints_365d": 0.125}),
                    rows=["r1"], churn_probability=pd.Series({"r1": 0.5}), **rules)
    assert churn.loc["r1", "churn_up"] == (
        "nothing spent in the last 365 days; last contact 200 days ago")
    # the floor is the larger of the two rules: with min_share 0.5 the 0.25 is not material
    strict = explain(X, Model(**{SPEND: 1.0, CONTACT: 0.25}), None, rows=["r0"],
                     min_contribution=0.125, min_share=0.5)
    assert strict.loc["r0", "value_up"] == "100 spent in the last 365 days"


def test_a_churn_probability_exactly_on_the_threshold_gets_its_section():
    X = frame(**{SPEND: [0.0, 100.0, 100.0]})
    churn = Model(**{SPEND: 1.0})
    on = explain(X, None, churn, rows=["r0"], churn_probability=pd.Series({"r0": 0.125}),
                 min_churn_probability=0.125)
    assert on.loc["r0", "churn_up"] == "nothing spent in the last 365 days"
    below = explain(X, None, churn, rows=["r0"], churn_probability=pd.Series({"r0": 0.124}),
                    min_churn_probability=0.125)
    assert below.loc["r0", "churn_up"] == ""


def test_a_value_exactly_on_a_plain_limit():
    # r0 was contacted 90 days ago (RECENT_DAYS: still good news) and ordered 30 days ago,
    # 1.5 times its usual gap of 20 (OVERDUE_RATIO: bad news); the others are far worse
    X = frame(**{CONTACT: [90.0, 300.0, 400.0], LAST_ORDER: [30.0, 300.0, 400.0],
                 GAP: [20.0, 400.0, 400.0]})
    out = explain(X, Model(**{CONTACT: 0.5, LAST_ORDER: 0.5}), None, rows=["r0"])
    assert out.loc["r0", "value_up"] == "last contact 90 days ago"
    inside = X.assign(**{LAST_ORDER: [29.0, 300.0, 400.0]})
    out = explain(inside, Model(**{CONTACT: 0.5, LAST_ORDER: 0.25}), None, rows=["r0"])
    assert out.loc["r0", "value_up"] == "last contact 90 days ago; last order 29 days ago"


def test_values_tied_at_the_median_take_the_side_of_the_rest():
    # three of four spent nothing: a 0 sits below the mid-rank of the reference, bad news
    X = frame(**{SPEND: [0.0, 0.0, 0.0, 100.0]})
    up = explain(X, Model(**{SPEND: 0.5}), None, rows=["r0", "r3"])
    assert up["value_up"].tolist() == ["", "100 spent in the last 365 days"]
    down = explain(X, Model(**{SPEND: -0.5}), None, rows=["r0"])
    assert down.loc["r0", "value_down"] == "nothing spent in the last 365 days"


def test_a_feature_without_a_side_reads_both_ways_and_top_k_holds():
    X = frame(cust_region=pd.Categorical(["south", "north"]), **{SPEND: [100.0, 0.0]})
    up = explain(X, Model(cust_region=0.5, **{SPEND: 1.0}), None, rows=["r0"])
    assert up.loc["r0", "value_up"] == "100 spent in the last 365 days; region south"
    one = explain(X, Model(cust_region=0.5, **{SPEND: 1.0}), None, rows=["r0"], top_k=1)
    assert one.loc["r0", "value_up"] == "100 spent in the last 365 days"


def test_factors_list_no_zero_contribution():
    X = frame(**{SPEND: [100.0], CONTACT: [10.0]})
    out = factors(Model(**{SPEND: 0.5, CONTACT: 0.0}), X, top_k=3)
    assert out[["direction", "feature"]].values.tolist() == [["up", SPEND]]
    assert np.isclose(out["contribution"], 0.5).all()

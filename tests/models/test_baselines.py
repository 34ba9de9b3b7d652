import numpy as np
import pandas as pd
import pytest

from features.contract import CUTOFF, LABEL_CHURNED, LABEL_SPEND
from models.baselines import (
    LABEL_FREE,
    AvgSpendRetentionValue,
    LastPeriodChurn,
    LastPeriodValue,
    RFMChurn,
    RFMValue,
    fit_baseline,
    fit_label_free,
    make_baseline,
    pnbd_predictions,
    spend_window,
)


def _tiny() -> pd.DataFrame:
    return pd.DataFrame(
        {
            CUTOFF: pd.Timestamp("2024-12-31"),
            "txn_days_since_last_order": [10.0, 200.0, 40.0, 400.0, 5.0],
            "txn_orders": [5.0, 1.0, 3.0, 2.0, 9.0],
            "txn_spend_total": [500.0, 50.0, 300.0, 80.0, 2000.0],
            "txn_tenure_days": [365.0, 20.0, 730.0, 500.0, 1000.0],
            "txn_spend_90d": [100.0, 0.0, 50.0, 0.0, 400.0],
            "txn_spend_365d": [400.0, 50.0, 150.0, 0.0, 1500.0],
            "txn_orders_365d": [4.0, 1.0, 2.0, 0.0, 7.0],
            LABEL_SPEND: [300.0, 0.0, 100.0, 0.0, 1800.0],
            LABEL_CHURNED: [False, True, False, True, False],
        }
    )


def test_spend_window_picks_longest_window_within_the_horizon():
    columns = ["txn_spend_30d", "txn_spend_90d", "txn_spend_365d", "txn_orders_90d"]
    assert spend_window(columns, 365) == 365
    assert spend_window(columns, 180) == 90
    assert spend_window(columns, 10) == 30
    with pytest.raises(ValueError, match="transactions family"):
        spend_window(["x"], 365)


def test_last_period_value_is_last_horizon_spend_scaled():
    frame = _tiny()
    out = LastPeriodValue(horizon_days=365).fit(frame, frame[LABEL_SPEND]).predict(frame)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, frame["txn_spend_365d"])
    out = LastPeriodValue(horizon_days=180).fit(frame, frame[LABEL_SPEND]).predict(frame)
    np.testing.assert_allclose(out, frame["txn_spend_90d"] * 2)


def test_last_period_value_reads_the_window_of_window_days_scaled_to_the_horizon():
    # a backtest at 90 days judging the rule a 365-day horizon publishes: the 365-day window
    frame = _tiny()
    rule = make_baseline("last_period", 90, "value", window_days=365)
    out = rule.fit(frame, frame[LABEL_SPEND]).predict(frame)
    np.testing.assert_allclose(out, frame["txn_spend_365d"] * 90 / 365)
    assert rule.inputs(frame.columns) == ["txn_spend_365d", "txn_orders_365d"]
    plain = make_baseline("last_period", 90, "value").fit(frame, frame[LABEL_SPEND])
    np.testing.assert_allclose(plain.predict(frame), frame["txn_spend_90d"])


def test_last_period_value_never_predicts_a_negative_spend():
    frame = _tiny().assign(txn_spend_365d=[400.0, -120.0, 0.0, -0.5, 10.0])  # net returns
    out = LastPeriodValue(horizon_days=365).fit(frame, frame[LABEL_SPEND]).predict(frame)
    np.testing.assert_array_equal(out, [400.0, 0.0, 0.0, 0.0, 10.0])


def test_fit_label_free_fits_without_labels_and_refuses_the_rules_that_learn_from_them():
    frame = _tiny().drop(columns=[LABEL_SPEND, LABEL_CHURNED])
    rule = fit_label_free("last_period", "value", 365, frame)
    np.testing.assert_allclose(rule.predict(frame), frame["txn_spend_365d"])
    for name, kind in (("last_period", "churn"), ("rfm", "value"), ("rfm", "churn"),
                       ("avg_spend_retention", "value")):
        assert (name, kind) not in LABEL_FREE
        with pytest.raises(ValueError, match="learns from the labels"):
            fit_label_free(name, kind, 365, frame)


def test_last_period_churn_is_the_rate_of_the_same_order_count():
    frame = _tiny()
    model = LastPeriodChurn(horizon_days=365).fit(frame, frame[LABEL_CHURNED])
    # orders in the last 365 days: 4, 1, 2, 0, 7 (capped at 5); churned only with 0 and 1
    assert model.rates_[0] == 1.0 and model.rates_[1] == 1.0 and model.rates_[2] == 0.0
    assert model.rates_[3] == pytest.approx(0.4)  # unseen -> overall rate 2/5
    p = model.predict_proba(frame)
    np.testing.assert_allclose(p[:, 1], [0, 1, 0, 1, 0])
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(frame), [0, 1, 0, 1, 0])
    np.testing.assert_array_equal(model.classes_, [0, 1])


def test_rfm_scores_are_quintiles_within_the_cutoff():
    scores = RFMValue().scores(_tiny())
    # recency 10, 200, 40, 400, 5 days: most recent scores 5
    assert list(scores["R"]) == [4, 2, 3, 1, 5]
    assert list(scores["F"]) == [4, 1, 3, 2, 5]
    assert list(scores["M"]) == [4, 1, 3, 2, 5]


def test_rfm_predicts_cell_means_and_falls_back_to_overall():
    frame = pd.concat([_tiny()] * 30, ignore_index=True)  # 30 rows per cell
    out = RFMValue(min_cell_rows=20).fit(frame, frame[LABEL_SPEND]).predict(frame)
    np.testing.assert_allclose(out, frame[LABEL_SPEND])
    sparse = RFMValue(min_cell_rows=1000).fit(frame, frame[LABEL_SPEND]).predict(frame)
    np.testing.assert_allclose(sparse, frame[LABEL_SPEND].mean())
    churn = RFMChurn(min_cell_rows=20).fit(frame, frame[LABEL_CHURNED]).predict_proba(frame)
    np.testing.assert_allclose(churn[:, 1], frame[LABEL_CHURNED])


def test_avg_spend_x_horizon_x_retention():
    frame = _tiny()
    model = AvgSpendRetentionValue(horizon_days=365).fit(
        frame, frame[LABEL_SPEND], churned=frame[LABEL_CHURNED])
    assert model.retention_ == pytest.approx(0.6)
    out = model.predict(frame)
    # 500 / 365 days * 365 * 0.6; tenure 20 days is floored at 30
    assert out[0] == pytest.approx(500 * 0.6)
    assert out[1] == pytest.approx(50 / 30 * 365 * 0.6)
    assert make_baseline("avg_spend_retention", 365, "churn") is None  # no churn view
    with pytest.raises(ValueError, match="churned="):
        AvgSpendRetentionValue().fit(frame, frame[LABEL_SPEND])


def test_baselines_take_the_labels_in_y_and_never_from_x():
    frame = _tiny()
    bare = frame.drop(columns=[LABEL_SPEND, LABEL_CHURNED])
    labels = (frame[LABEL_SPEND], frame[LABEL_CHURNED])
    for name in ("last_period", "rfm", "avg_spend_retention"):
        with_labels = fit_baseline(name, "value", 365, frame, *labels).predict(frame)
        without = fit_baseline(name, "value", 365, bare, *labels).predict(bare)
        np.testing.assert_array_equal(with_labels, without)
    # another y, another fit: the labels in X are not read
    flipped = fit_baseline("last_period", "churn", 365, frame, labels[0], ~labels[1])
    np.testing.assert_allclose(flipped.predict_proba(frame)[:, 1], [1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match="0/1"):
        LastPeriodChurn().fit(frame, labels[0])
    with pytest.raises(ValueError, match="pass a DataFrame"):
        LastPeriodValue().fit(frame.to_numpy(), labels[0])


def test_btyd_baseline_gives_spend_and_probability(training_set):
    frame = training_set[training_set[CUTOFF] == training_set[CUTOFF].max()]
    labels = (frame[LABEL_SPEND], frame[LABEL_CHURNED])
    value = fit_baseline("btyd", "value", 365, frame, *labels).predict(frame)
    churn = fit_baseline("btyd", "churn", 365, frame, *labels).predict_proba(frame)[:, 1]
    assert value.shape == churn.shape == (len(frame),)
    assert (value >= 0).all()
    assert ((churn >= 0) & (churn <= 1)).all()


def test_pnbd_baseline_is_pareto_nbd_and_gamma_gamma_fitted_per_cutoff(training_set):
    from models.btyd import GammaGammaModel, ParetoNBDModel

    frame = training_set[training_set[CUTOFF] >= sorted(training_set[CUTOFF].unique())[-2]]
    labels = (frame[LABEL_SPEND], frame[LABEL_CHURNED])
    value = fit_baseline("pnbd", "value", 365, frame, *labels).predict(frame)
    churn = fit_baseline("pnbd", "churn", 365, frame, *labels).predict_proba(frame)[:, 1]
    np.testing.assert_allclose(value, pnbd_predictions(frame, 365)["expected_spend"])
    for cutoff, rows in frame.groupby(CUTOFF):  # each cutoff's own fit, by hand
        at = (frame[CUTOFF] == cutoff).to_numpy()
        pnbd = ParetoNBDModel(horizon=365).fit(rows)
        spend = (pnbd.conditional_expected_transactions(rows, 365)
                 * GammaGammaModel().fit(rows).expected_order_value(rows))
        np.testing.assert_allclose(value[at], spend, rtol=1e-6)
        np.testing.assert_allclose(churn[at], pnbd.prob_no_purchase(rows, 365), rtol=1e-6)
    btyd = fit_baseline("btyd", "value", 365, frame, *labels).predict(frame)
    assert not np.allclose(value, btyd)  # another purchase process, other numbers


def _at(training_set, which: int) -> pd.DataFrame:
    cutoffs = sorted(training_set[CUTOFF].unique())
    return training_set[training_set[CUTOFF] == cutoffs[which]]


def test_btyd_transformer_stores_its_parameters_and_never_refits(training_set):
    from models.baselines import BTYD_OUTPUTS, BTYDTransformer, add_btyd

    latest = _at(training_set, -1)
    step = BTYDTransformer(horizon_days=365).fit(latest)
    params = step.params_
    assert set(params["bgnbd"]) == {"r", "alpha", "a", "b"}
    assert set(params["gamma_gamma"]) == {"p", "q", "v"}
    assert params["n_customers"] == len(latest)
    assert params["fitted_on"] == f"{pd.Timestamp(latest[CUTOFF].iloc[0]):%Y-%m-%d}"
    # on the population it was fitted on: what the per-cutoff fit gives
    whole = step.transform(latest)
    expected = add_btyd(latest, 365)
    np.testing.assert_array_equal(whole[list(BTYD_OUTPUTS)], expected[list(BTYD_OUTPUTS)])
    assert not any(c in latest.columns for c in BTYD_OUTPUTS)  # input left alone
    # five rows alone get the values they get inside the whole frame, not a refit on five
    five = latest.iloc[[0, 7, 70, 150, 300]]
    alone = step.transform(five)
    np.testing.assert_array_equal(alone[list(BTYD_OUTPUTS)], whole.loc[five.index,
                                                                       list(BTYD_OUTPUTS)])
    refit = add_btyd(five, 365)["btyd_expected_spend"].to_numpy()
    assert not np.allclose(refit, alone["btyd_expected_spend"].to_numpy())
    # an older cutoff's rows are scored with the stored parameters too
    older = _at(training_set, 0)
    stale = older.assign(btyd_expected_spend=-1.0)  # replaced, not kept
    np.testing.assert_array_equal(step.transform(stale)["btyd_expected_spend"],
                                  step.transform(older)["btyd_expected_spend"])
    assert step.params_ == params


def test_btyd_transformer_fits_on_one_date_only(training_set):
    from models.baselines import BTYDTransformer

    with pytest.raises(ValueError, match="one date; the frame has 2 values of 'cutoff'"):
        BTYDTransformer().fit(pd.concat([_at(training_set, 0), _at(training_set, 1)]))
    with pytest.raises(ValueError, match="btyd_frequency"):
        BTYDTransformer().fit(_tiny())

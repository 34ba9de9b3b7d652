import numpy as np
import pandas as pd
import pytest

from features.contract import AS_OF, CUSTOMER_ID, CUTOFF
from models.config import ModelConfig
from models.selection import Selection
from models.training import (
    fit_models,
    labelled_cutoffs,
    model_features,
    predict,
    value_at_risk,
)

SMALL = {"n_estimators": 20, "num_leaves": 7, "min_child_samples": 10, "n_jobs": 1}


def _config(**extra) -> ModelConfig:
    return ModelConfig.model_validate(
        {
            "btyd_features": False,
            "train_window_cutoffs": 4,
            "value": {"params": SMALL},
            "churn": {"params": SMALL},
            **extra,
        }
    )


def _scoring(training_set):
    latest = training_set[training_set[CUTOFF] == training_set[CUTOFF].max()]
    return latest.drop(columns=[CUTOFF]).assign(**{AS_OF: latest[CUTOFF]})


def test_model_features_skip_ids_dates_and_labels(training_set):
    features = model_features(training_set)
    assert CUSTOMER_ID not in features and CUTOFF not in features
    assert "future_spend" not in features and "churned" not in features
    assert "cust_region" in features and "txn_orders" in features


def test_labelled_cutoffs_drop_truncated_label_windows(training_set):
    cutoffs = sorted(training_set[CUTOFF].unique())
    end = cutoffs[-1] + pd.Timedelta(days=300)  # the latest label windows run past the end
    kept = labelled_cutoffs(training_set, 365, end_of_data=end)
    assert kept and kept[-1] <= end - pd.Timedelta(days=365)
    assert len(labelled_cutoffs(training_set, 365)) == len(cutoffs)


def test_fit_models_uses_the_latest_window_and_predicts(training_set):
    fitted = fit_models(training_set, _config(value_objective="hurdle"), 365)
    assert not fitted.fallback and fitted.objective == "hurdle"
    assert (
        fitted.train_cutoffs == sorted(pd.Timestamp(c) for c in training_set[CUTOFF].unique())[-4:]
    )
    scores = predict(fitted, _scoring(training_set))
    assert list(scores.columns) == [
        CUSTOMER_ID,
        "expected_value",
        "churn_probability",
        "value_at_risk",
    ]
    assert (scores["expected_value"] >= 0).all() and scores["churn_probability"].between(0, 1).all()
    assert (scores["value_at_risk"] >= 0).all()
    assert scores[CUSTOMER_ID].tolist() == _scoring(training_set)[CUSTOMER_ID].tolist()


def test_short_history_falls_back_to_btyd_and_says_so(training_set):
    end = training_set[CUTOFF].max() + pd.Timedelta(days=60)  # only old cutoffs fully labelled
    latest_two = training_set[
        training_set[CUTOFF] >= training_set[CUTOFF].max() - pd.DateOffset(months=12)
    ]
    fitted = fit_models(latest_two, _config(min_train_cutoffs=5), 365, end_of_data=end)
    assert fitted.fallback and fitted.value_candidate == fitted.churn_candidate == "btyd"
    assert "short history" in fitted.message and "min_train_cutoffs" in fitted.message
    assert "falls back to BG/NBD + Gamma-Gamma" in fitted.message  # no backtest chose
    empty = fit_models(training_set.iloc[:0], _config(), 365)
    assert empty.fallback


def test_fallback_predicts_with_btyd(training_set):
    fitted = fit_models(training_set.iloc[:0], _config(), 365)
    scores = predict(fitted, _scoring(training_set))
    assert np.isfinite(scores["expected_value"]).all()
    assert scores["churn_probability"].between(0, 1).all()


def test_sample_rows_caps_the_training_set(training_set):
    from models.training import sample_rows

    sampled = sample_rows(training_set, 100, random_state=0)
    assert len(sampled) == 100 and sampled.index.is_monotonic_increasing
    assert sample_rows(training_set, None, 0) is training_set
    fitted = fit_models(training_set, _config(max_train_rows=500), 365)
    assert "500 rows (of" in fitted.message


def test_value_at_risk_is_churn_times_the_current_spend_run_rate():
    frame = pd.DataFrame({"txn_spend_90d": [900.0, 90.0, np.nan, -50.0],
                          "txn_spend_365d": [3650.0, 0.0, 10.0, 0.0]})
    churn = [0.5, 0.1, 0.9, 0.2]
    # horizon 365: the 365-day window as is
    assert value_at_risk(churn, frame, 365, [1, 1, 1, 1]).tolist() == pytest.approx(
        [1825.0, 0.0, 9.0, 0.0])
    # horizon 180: the 90-day window (the longest <= 180) doubled; returns net below 0 -> 0
    assert value_at_risk(churn, frame, 180, [1, 1, 1, 1]).tolist() == pytest.approx(
        [900.0, 18.0, 0.0, 0.0])
    # no spend window: the expected value stands in
    assert value_at_risk(churn, frame[[]], 365, [10, 20, 30, 40]).tolist() == pytest.approx(
        [5.0, 2.0, 27.0, 8.0])


def _btyd_config():
    return _config(btyd_features=True)


def test_final_models_carry_a_btyd_step_and_score_each_row_alone(training_set):
    from models.baselines import BTYD_OUTPUTS

    population = _scoring(training_set)
    fitted = fit_models(training_set, _btyd_config(), 365, population=population)
    assert fitted.btyd is not None and fitted.btyd.params_["n_customers"] == len(population)
    assert "BTYD step fitted on" in fitted.message
    assert set(BTYD_OUTPUTS) <= set(fitted.features)
    full = fitted.predict(population)
    rows = population.iloc[[2, 40, 41, 200, 333]]
    alone = fitted.predict(rows)
    columns = ["expected_value", "churn_probability", "value_at_risk"]
    np.testing.assert_array_equal(alone[columns], full.loc[rows.index, columns])
    pd.testing.assert_frame_equal(fitted.prepare(rows), fitted.prepare(population).loc[rows.index])
    # with the same rows inside another population, still the same scores
    others = population.iloc[:10].assign(btyd_T=lambda f: f["btyd_T"] * 3)
    mixed = fitted.predict(pd.concat([rows, others], ignore_index=True))
    np.testing.assert_array_equal(mixed[columns].iloc[:5], alone[columns])


def test_without_a_population_the_btyd_step_is_fitted_on_the_latest_cutoff(training_set):
    from models.training import fit_btyd

    fitted = fit_models(training_set, _btyd_config(), 365)
    latest = training_set[CUTOFF].max()
    assert fitted.btyd.params_["fitted_on"] == f"{latest:%Y-%m-%d}"
    assert fitted.btyd.params_ == fit_btyd(training_set, 365).params_


def test_models_saved_without_their_btyd_step_refuse_to_score(training_set):
    fitted = fit_models(training_set, _btyd_config(), 365)
    fitted.btyd = None  # as pickled before the step was stored
    with pytest.raises(ValueError, match="carry no fitted BTYD step.*keyaccounts train"):
        fitted.predict(_scoring(training_set))


def test_input_columns_are_the_feature_columns_before_the_btyd_step(training_set):
    from models.training import input_columns, prepare_frame

    columns = input_columns(_scoring(training_set))
    assert columns == [c for c in model_features(training_set)]
    prepared = prepare_frame(training_set, _btyd_config(), 365)
    assert input_columns(prepared) == columns
    assert "btyd_frequency" in columns and "btyd_expected_spend" not in columns


def test_an_empty_training_set_falls_back_and_still_scores(training_set):
    # what the features stage writes when no cutoff has a full label window (history <=
    # horizon): no rows, the columns of a full one; the scoring frame is still there
    from models.backtest import backtest

    empty = training_set.iloc[:0]
    fitted = fit_models(empty, _config(), 365)
    assert fitted.fallback and fitted.value is None and "0 cutoff(s)" in fitted.message
    scores = predict(fitted, _scoring(training_set))
    assert len(scores) == (training_set[CUTOFF] == training_set[CUTOFF].max()).sum()
    assert scores["expected_value"].notna().all() and scores["churn_probability"].between(0, 1).all()
    result = backtest(empty, _config(), 365)
    assert result.metrics.empty and any("no fold" in m for m in result.messages)


def test_a_short_history_publishes_the_label_free_candidate_the_backtest_chose(training_set):
    from models.backtest import backtest

    result = backtest(training_set, _config(backtest={"n_folds": 3, "fold_step": "2m"}), 365,
                      label_free=True)
    population = _scoring(training_set)
    short = _config(min_train_cutoffs=50)  # more cutoffs than the training set has
    fitted = fit_models(training_set, short, 365, population=population,
                        selection=result.selection)
    assert fitted.fallback and fitted.value is not None and fitted.churn is not None
    for kind in ("value", "churn"):
        assert getattr(fitted, f"{kind}_candidate") == result.selection[kind].published
        assert fitted.selection[kind]["published"] == result.selection[kind].published
    assert f"value: {result.selection['value'].published}" in fitted.message
    scores = predict(fitted, population)
    assert (scores["expected_value"] >= 0).all() and np.isfinite(scores["expected_value"]).all()
    assert scores["churn_probability"].between(0, 1).all()


@pytest.mark.parametrize("published, weights", [
    ("lgbm_hurdle", {}),  # needs labels at the horizon
    ("rfm", {}),  # a label mean
    ("blend", {"btyd": 0.5, "rfm": 0.5}),  # a blend with a member that needs labels
])
def test_a_short_history_never_publishes_a_candidate_that_needs_labels(training_set, published,
                                                                      weights):
    pick = Selection("value", "normalized_gini", [1], {published: 0.6}, published, None, None,
                     published, weights=weights)
    fitted = fit_models(training_set, _config(min_train_cutoffs=50), 365,
                        population=_scoring(training_set), selection={"value": pick})
    assert fitted.fallback and fitted.value_candidate == "btyd"
    assert "BG/NBD + Gamma-Gamma" in fitted.message

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import nnls
from sklearn.base import BaseEstimator

from features.contract import CUTOFF, LABEL_CHURNED, LABEL_SPEND
from models import backtest as backtest_module
from models.backtest import backtest
from models.baselines import fit_baseline
from models.config import ModelConfig
from models.reasons import explain, explainable
from models.selection import (
    BLEND,
    BaselineChurn,
    BaselineValue,
    Blend,
    PairedFold,
    beats,
    blend_weights,
    compare,
    paired_standard_error,
)
from models.training import fit_models
from models.value import ValueModel

SMALL = {"n_estimators": 20, "num_leaves": 7, "min_child_samples": 10, "n_jobs": 1}


def _config(**update) -> ModelConfig:
    return ModelConfig.model_validate({
        "btyd_features": False, "train_window_cutoffs": 4, "min_train_cutoffs": 2,
        "backtest": {"baselines": ["last_period", "rfm", "avg_spend_retention"], "n_folds": 3,
                     "fold_step": "2m"},
        "value": {"params": SMALL}, "churn": {"params": SMALL}, **update})


def test_beats_follows_the_metric_direction_and_never_lets_a_tie_or_nan_win():
    assert beats(0.7, 0.6, "normalized_gini") and not beats(0.6, 0.7, "normalized_gini")
    assert beats(0.10, 0.20, "brier") and not beats(0.20, 0.10, "brier")  # lower is better
    assert not beats(0.6, 0.6, "normalized_gini")  # a tie does not beat
    # not by more than the margin (binary fractions: the boundary is exact)
    assert not beats(0.75, 0.5, "normalized_gini", margin=0.25)
    assert beats(0.75, 0.5, "normalized_gini", margin=0.125)
    assert not beats(math.nan, 0.1, "pr_auc") and not beats(None, 0.1, "pr_auc")
    assert beats(0.1, math.nan, "pr_auc") and beats(0.1, None, "pr_auc")


def test_blend_weights_are_non_negative_and_recover_a_mix():
    rng = np.random.default_rng(0)
    P = rng.gamma(2.0, 100.0, size=(500, 3))
    y = 0.7 * P[:, 0] + 0.3 * P[:, 2]
    w = blend_weights(P, y, "value")
    assert w == pytest.approx([0.7, 0.0, 0.3], abs=1e-6)
    # a member that hurts gets 0, never a negative weight
    w = blend_weights(np.column_stack([y, -y]), y, "value")
    assert (w >= 0).all() and w == pytest.approx([1.0, 0.0])
    # churn: a mixture of probabilities, weights summing to 1
    p = rng.random((400, 2))
    churned = (rng.random(400) < p[:, 0]).astype(float)
    w = blend_weights(p, churned, "churn")
    assert w.sum() == pytest.approx(1.0) and (w >= 0).all() and w[0] > w[1]
    # nothing to fit: equal weights
    assert blend_weights(np.full((1, 2), np.nan), np.ones(1), "value") == pytest.approx([0.5, 0.5])
    assert blend_weights(np.zeros((10, 2)), np.ones(10), "churn") == pytest.approx([0.5, 0.5])


def _metrics(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["fold", "model", "metric", "value"])


def test_compare_ranks_on_the_folds_every_candidate_was_scored_on():
    # the blend has no first fold: everyone is compared on folds 1 and 2, where the
    # baseline is best although lgbm's mean over all three folds is higher
    m = _metrics([
        (0, "lgbm_tweedie", "normalized_gini", 0.95), (1, "lgbm_tweedie", "normalized_gini", 0.60),
        (2, "lgbm_tweedie", "normalized_gini", 0.60),
        (0, "last_period", "normalized_gini", 0.50), (1, "last_period", "normalized_gini", 0.65),
        (2, "last_period", "normalized_gini", 0.65),
        (1, BLEND, "normalized_gini", 0.64), (2, BLEND, "normalized_gini", 0.62),
        (0, "lgbm_tweedie", "top10_capture", 0.99),
    ])
    s = compare(m, "value", "normalized_gini", ["lgbm_tweedie", BLEND, "last_period"],
                ["last_period"])
    assert s.folds == [1, 2] and s.cutoffs == []  # no cutoff column here
    assert list(s.scores) == ["last_period", BLEND, "lgbm_tweedie"]
    assert s.winner == s.published == "last_period" and s.runner_up == BLEND
    assert s.best_baseline == "last_period" and not s.forced
    assert s.margin("lgbm_tweedie") == pytest.approx(0.05)
    assert "last_period publishes" in s.text
    # an explicit setting publishes the loser, and says so
    forced = compare(m, "value", "normalized_gini", ["lgbm_tweedie", BLEND, "last_period"],
                     ["last_period"], publish="lgbm_tweedie")
    assert forced.published == "lgbm_tweedie" and forced.winner == "last_period" and forced.forced
    assert "forced" in forced.text and forced.margin("last_period") == pytest.approx(-0.05)


def test_compare_breaks_ties_in_the_candidates_order_and_follows_the_direction():
    m = _metrics([(0, "lgbm_churn", "brier", 0.2), (0, "rfm", "brier", 0.2),
                  (0, "btyd", "brier", 0.1)])
    s = compare(m, "churn", "brier", ["lgbm_churn", "rfm", "btyd"], ["rfm", "btyd"])
    assert list(s.scores) == ["btyd", "lgbm_churn", "rfm"]  # lower is better; tie keeps order
    assert compare(m, "churn", "pr_auc", ["lgbm_churn"], []) is None


@pytest.fixture
def blend_fits(monkeypatch) -> list[int]:
    """The number of rows of each blend_weights fit in models.backtest (equal weights)."""
    sizes = []

    def recording(P, y, kind, power=1.5):
        sizes.append(len(P))
        return np.full(P.shape[1], 1.0 / P.shape[1])

    monkeypatch.setattr(backtest_module, "blend_weights", recording)
    return sizes


def test_the_blend_is_never_scored_on_a_fold_it_was_fitted_on(blend_fits):
    sizes = blend_fits
    rng = np.random.default_rng(1)
    folds = []
    for k, n in enumerate((100, 200, 300)):
        fold = pd.DataFrame({CUTOFF: pd.Timestamp("2024-01-31") + pd.offsets.MonthEnd(k),
                             LABEL_SPEND: rng.gamma(1, 10, n), "a_value": rng.random(n),
                             "b_value": rng.random(n)})
        fold.attrs["fold"] = k
        folds.append(fold)
    rows = []
    final = backtest_module._blend(folds, ["a", "b"], "value", rows)
    # fold 1 from fold 0's 100 rows, fold 2 from folds 0-1's 300, the final blend from all 600
    assert sizes == [100, 300, 600]
    assert {r[0] for r in rows} == {1, 2} and all(r[2] == BLEND for r in rows)
    assert "blend_value" not in folds[0] and "blend_value" in folds[2]
    assert final == {"a": 0.5, "b": 0.5}


def test_a_churn_blend_judged_on_the_active_base_is_fitted_on_its_active_rows(blend_fits):
    fitted = blend_fits
    rng = np.random.default_rng(2)
    folds = []
    for k, (n, active) in enumerate(((100, 30), (200, 50), (300, 70))):
        fold = pd.DataFrame({CUTOFF: pd.Timestamp("2024-01-31") + pd.offsets.MonthEnd(k),
                             LABEL_CHURNED: rng.integers(0, 2, n), "a_churn": rng.random(n),
                             "b_churn": rng.random(n)})
        fold.attrs.update(fold=k, active=np.arange(n) < active)
        folds.append(fold)
    backtest_module._blend(folds, ["a", "b"], "churn", [], active_only=True)
    assert fitted == [30, 80, 150]  # the active rows of the earlier folds, then of all
    assert len(folds[2]["blend_churn"]) == 300  # scored on every row
    fitted.clear()
    backtest_module._blend(folds, ["a", "b"], "churn", [])
    assert fitted == [100, 300, 600]


def _value_folds(seed: int) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    folds = []
    for k, n in enumerate((150, 200, 250)):
        a, b = rng.gamma(1, 10, n), rng.gamma(2, 5, n)
        fold = pd.DataFrame({CUTOFF: pd.Timestamp("2024-01-31") + pd.offsets.MonthEnd(k),
                             LABEL_SPEND: 0.6 * a + 0.4 * b + rng.gamma(1, 2, n),
                             "a_value": a, "b_value": b})
        fold.attrs["fold"] = k
        folds.append(fold)
    return folds


def test_a_scale_free_blend_does_not_depend_on_the_members_units():
    # the label-free value blend of a short history: its weights apply to each member divided
    # by its fold mean, so a member that grows faster with the horizon keeps its part
    plain, grown = _value_folds(4), _value_folds(4)
    for fold in grown:
        fold["a_value"] *= 7.0  # the same ranking in other units
    w_plain = backtest_module._blend(plain, ["a", "b"], "value", [], scale_free=True)
    w_grown = backtest_module._blend(grown, ["a", "b"], "value", [], scale_free=True)
    assert w_plain == pytest.approx(w_grown, rel=1e-6) and sum(w_plain.values()) == pytest.approx(1)
    for p, g in zip(plain[1:], grown[1:]):  # the same ranking in other units
        ratio = g["blend_value"] / p["blend_value"]
        np.testing.assert_allclose(ratio, ratio.iloc[0], rtol=1e-9)
    # fold 2's blend: the mix fitted on folds 0-1, at the level of its members' mixed means
    mix = backtest_module._blend(_value_folds(4)[:2], ["a", "b"], "value", [], scale_free=True)
    means = plain[2][["a_value", "b_value"]].mean().to_numpy()
    np.testing.assert_allclose(plain[2]["blend_value"].mean(),
                               np.array([mix["a"], mix["b"]]) @ means, rtol=1e-9)
    unscaled = backtest_module._blend(_value_folds(4), ["a", "b"], "value", [])
    assert unscaled != pytest.approx(w_plain)  # the default blend weights the raw members


class _Const(BaseEstimator):
    def __init__(self, factor=1.0):
        self.factor = factor

    def predict(self, X):
        return self.factor * np.asarray(X["m"], dtype=float)


def test_blend_scale_free_mixes_members_divided_by_their_means_at_the_given_level():
    X = pd.DataFrame({"m": [1.0, 2.0, 3.0, 6.0]})  # mean 3
    a, b = _Const(1.0), _Const(10.0)  # the same ranking, means 3 and 30
    blend = Blend([a, b], [0.3, 0.1], ["a", "b"], scale_free=True).fit(X)
    # mix 0.75 / 0.25 of m / 3 and 10 m / 30, at the mixed level 0.75 * 3 + 0.25 * 30 = 9.75
    np.testing.assert_allclose(blend.predict(X), X["m"] / 3 * 9.75)
    assert Blend([a, b], [0.3, 0.1], ["a", "b"]).fit().predict(X) == pytest.approx(
        0.3 * X["m"] + 0.1 * 10 * X["m"])
    with pytest.raises(ValueError, match="needs the rows"):
        Blend([a, b], [0.3, 0.1], ["a", "b"], scale_free=True).fit()


@pytest.fixture(scope="module")
def last_period_world(training_set):
    """A base whose next year's spend is exactly last year's: nothing beats last_period."""
    return training_set.assign(**{LABEL_SPEND: training_set["txn_spend_365d"]})


def test_a_baseline_that_wins_the_backtest_is_what_train_publishes(last_period_world):
    # with the blend, the blend leans on last_period and is at least as good
    blended = backtest(last_period_world, _config(), 365).selection["value"]
    assert set(blended.scores) >= {"lgbm_tweedie", "lgbm_hurdle", BLEND, "last_period", "rfm"}
    assert not beats(blended.scores["last_period"], blended.scores[BLEND], "normalized_gini")
    assert max(blended.weights, key=blended.weights.get) == "last_period"
    config = _config(selection={"blend": False})
    result = backtest(last_period_world, config, 365)
    value = result.selection["value"]
    assert BLEND not in value.scores
    assert value.winner == value.published == "last_period"
    assert value.scores["last_period"] > value.scores["lgbm_tweedie"]
    assert len(value.cutoffs) == 3 and value.cutoffs == sorted(value.cutoffs)  # no blend: all
    assert len(blended.cutoffs) == 2 and blended.cutoffs == value.cutoffs[1:]
    fitted = fit_models(last_period_world, config, 365, selection=result.selection)
    assert fitted.value_candidate == "last_period" and isinstance(fitted.value, BaselineValue)
    latest = last_period_world[last_period_world[CUTOFF] == last_period_world[CUTOFF].max()]
    scores = fitted.predict(latest)
    np.testing.assert_allclose(scores["expected_value"], latest["txn_spend_365d"])
    # a rule's reasons name its inputs: last year's spend, the right way round
    assert explainable(fitted.value) is fitted.value
    X = fitted.prepare(latest)
    contributions = fitted.value.contributions(X)
    assert set(contributions.columns[(contributions != 0).any()]) <= {
        "txn_spend_365d", "txn_orders_365d", "bias"}
    out = explain(X, fitted.value, None)
    top = X["txn_spend_365d"].idxmax()
    assert out.loc[top, "value_up"].startswith(f"{X.loc[top, 'txn_spend_365d']:,.0f} spent in "
                                               "the last 365 days")
    nothing = X.index[X["txn_spend_365d"] == 0][0]
    assert "spent" in out.loc[nothing, "value_down"] and out.loc[nothing, "value_up"] == ""
    assert fitted.selection["value"]["published"] == "last_period"
    # forcing LightGBM publishes it, and the selection says it was forced
    forced = backtest(last_period_world, _config(selection={"publish": "lgbm", "blend": False}),
                      365)
    assert forced.selection["value"].published == "lgbm_tweedie"
    assert forced.selection["value"].forced


def test_blend_and_baseline_wrappers_predict_like_their_members(training_set):
    X = training_set[training_set[CUTOFF] == training_set[CUTOFF].max()]
    train = training_set[training_set[CUTOFF] < training_set[CUTOFF].max()]
    labels = (train[LABEL_SPEND], train[LABEL_CHURNED])
    last = fit_baseline("last_period", "value", 365, train, *labels)
    last_churn = fit_baseline("last_period", "churn", 365, train, *labels)
    value_b, churn_b = BaselineValue(last, "last_period").fit(X), BaselineChurn(last_churn).fit(X)
    features = ["txn_days_since_last_order", "txn_orders", "txn_spend_365d", "txn_spend_90d"]
    lgbm = ValueModel(**SMALL).fit(train[features], train[LABEL_SPEND])

    class Both:  # a value model that reads only its features
        def predict(self, rows):
            return lgbm.predict(rows[features])

        def contributions(self, rows):
            return lgbm.contributions(rows[features])

    blend = Blend([Both(), value_b], [0.8, 0.4], ["lgbm_tweedie", "last_period"],
                  shares=[0.7, 0.3]).fit()
    np.testing.assert_allclose(blend.predict(X), 0.8 * lgbm.predict(X[features])
                               + 0.4 * last.predict(X))
    assert explainable(blend) is blend.members[0]  # 70% of the blend: it speaks for it
    other = Blend([Both(), value_b], [0.8, 0.4], shares=[0.4, 0.6]).fit()
    assert explainable(other) is value_b  # the rule carries more of it
    churn = Blend([churn_b, churn_b], [0.5, 0.5], kind="churn").fit()
    p = churn.predict_proba(X)
    np.testing.assert_allclose(p[:, 1], last_churn.predict_proba(X)[:, 1])
    assert ((p >= 0) & (p <= 1)).all()
    with pytest.raises(AttributeError):
        blend.predict_proba(X)
    assert train[LABEL_CHURNED].notna().all()


def test_value_blend_weights_follow_the_tweedie_deviance_not_least_squares():
    # Spend with a long tail: member a is right within 30% on every account, member b
    # only on the 1% largest (a flat 50 elsewhere). Least squares is ruled by the few large
    # accounts; the deviance weighs each error relative to its level.
    rng = np.random.default_rng(0)
    y = rng.pareto(1.5, 5000) * 100.0
    big = y > np.quantile(y, 0.99)
    P = np.column_stack([y * rng.lognormal(0.0, 0.3, 5000), np.where(big, y, 50.0)])
    w = blend_weights(P, y, "value", power=1.5)

    def deviance(w):  # mean Tweedie deviance, p = 1.5, up to terms free of w
        mu = P @ w
        return np.mean(mu ** 0.5 / 0.5 + y * mu ** -0.5 / 0.5)

    least_squares, _ = nnls(P, y)
    assert deviance(w) < deviance(least_squares) - 1e-3
    assert w[0] / w[1] > 10 * least_squares[0] / least_squares[1]  # a counts for far more
    # the mix is the deviance's minimum (found here by a plain search over the ratio)...
    def profile(r):  # the deviance at the best scale c of the mix (r, 1 - r): c = B / A
        mu = P @ np.array([r, 1 - r])
        return deviance(np.mean(y * mu ** -0.5) / np.mean(mu ** 0.5) * np.array([r, 1 - r]))

    best = min(np.linspace(0.0, 1.0, 2001), key=profile)
    assert w[0] / w.sum() == pytest.approx(best, abs=2e-3)
    # ...and the level is the labels': the blend's total is the actual total
    assert (P @ w).sum() == pytest.approx(y.sum(), rel=1e-9)


def test_churn_blend_weights_minimise_the_log_loss_of_the_mixture():
    rng = np.random.default_rng(3)
    truth = rng.uniform(0.05, 0.95, 4000)
    churned = (rng.random(4000) < truth).astype(float)
    good, flat = truth, np.full(4000, churned.mean())
    w = blend_weights(np.column_stack([flat, good]), churned, "churn")
    assert w.sum() == pytest.approx(1.0) and w[1] > 0.9  # the calibrated member wins
    # a member that is 1 - truth (anti-informative) gets no weight
    w = blend_weights(np.column_stack([1 - good, good]), churned, "churn")
    assert w[1] > 0.95


def _one_fold(scores: dict[str, float], metric: str = "normalized_gini") -> pd.DataFrame:
    return _metrics([(0, name, metric, value) for name, value in scores.items()])


# binary fractions: the boundaries below are exact
SCORES = {"lgbm_tweedie": 0.625, BLEND: 0.5, "last_period": 0.25, "rfm": 0.5625}
ORDER = ["last_period", "rfm", "lgbm_tweedie", BLEND]


def _pick(within_se: float, se: float, scores=SCORES, metric="normalized_gini"):
    weighed = []

    def spread(a, b, folds):
        weighed.append((a, b, tuple(folds)))
        return se

    s = compare(_one_fold(scores, metric), "value", metric, ["lgbm_tweedie", BLEND, "last_period",
                                                             "rfm"], ["last_period", "rfm"],
                simplest_first=ORDER, spread=spread, within_se=within_se)
    return s, weighed


def test_the_simplest_candidate_within_one_standard_error_publishes():
    # lgbm leads rfm (the best baseline) by 0.0625: within 1 SE of 0.125, the rule keeps rfm
    s, weighed = _pick(1.0, 0.125)
    assert s.winner == "lgbm_tweedie" and s.published == "rfm" and s.simpler and not s.forced
    # last_period scores below the best baseline: never weighed, never published
    assert weighed == [("lgbm_tweedie", "rfm", (0,))]
    assert s.standard_errors == {"rfm": 0.125}
    assert "within 1 standard error(s) (0.1250)" in s.text and "rfm publishes" in s.text
    assert s.as_dict()["standard_errors"] == {"rfm": 0.125}


def test_a_lead_of_more_than_the_standard_errors_publishes_the_winner():
    s, _ = _pick(1.0, 0.03125)  # 0.0625 > 2 x 0.03125 would also pass: the margin is strict
    assert s.published == "lgbm_tweedie" and not s.simpler
    # exactly at the margin: a tie does not beat, the simpler candidate stays
    s, _ = _pick(1.0, 0.0625)
    assert s.published == "rfm"
    s, _ = _pick(2.0, 0.03125)
    assert s.published == "rfm"


def test_no_rule_unknown_noise_and_a_baseline_winner_publish_the_best_mean():
    assert _pick(0.0, 1.0)[0].published == "lgbm_tweedie"  # within_se 0: the plain best
    assert _pick(1.0, math.nan)[0].published == "lgbm_tweedie"  # no standard error: no noise
    s, weighed = _pick(1.0, 1.0, {**SCORES, "rfm": 0.75})  # the winner is itself the simplest
    assert s.published == "rfm" and weighed == [] and not s.simpler


def test_the_rule_follows_the_metric_direction():
    # brier: lower is better; btyd is worse than lgbm by 0.0625, within an SE of 0.125
    m = _one_fold({"lgbm_churn": 0.125, "btyd": 0.1875}, "brier")
    s = compare(m, "churn", "brier", ["lgbm_churn", "btyd"], ["btyd"],
                simplest_first=["btyd", "lgbm_churn"], spread=lambda a, b, f: 0.125,
                within_se=1.0)
    assert s.winner == "lgbm_churn" and s.published == "btyd"
    s = compare(m, "churn", "brier", ["lgbm_churn", "btyd"], ["btyd"],
                simplest_first=["btyd", "lgbm_churn"], spread=lambda a, b, f: 0.03,
                within_se=1.0)
    assert s.published == "lgbm_churn"


def _noisy_fold(n: int, rng, shift: float = 0.0):
    actual = rng.gamma(0.5, 100.0, n)
    a = actual * rng.lognormal(0.0, 1.0, n)
    b = actual * rng.lognormal(0.0, 1.0 + shift, n)
    return PairedFold(np.arange(n), actual, a, b)


def test_paired_standard_error_shrinks_with_customers_and_is_zero_for_equal_predictions():
    rng = np.random.default_rng(7)
    small = paired_standard_error([_noisy_fold(1000, rng)], "normalized_gini", 200)
    large = paired_standard_error([_noisy_fold(4000, rng)], "normalized_gini", 200)
    assert small / large == pytest.approx(2.0, rel=0.3)  # 1 / sqrt(n)
    fold = _noisy_fold(500, rng)
    assert paired_standard_error([fold._replace(b=fold.a)], "normalized_gini", 50) == 0.0


def test_paired_standard_error_resamples_customers_across_folds_and_subsamples_big_bases():
    rng = np.random.default_rng(8)
    fold = _noisy_fold(2000, rng)
    one = paired_standard_error([fold], "normalized_gini", 300, seed=1)
    # the same customers twice (two folds of identical rows): the draws are the same customers
    # in both, so the mean of the two equal differences is no less noisy than one
    twice = paired_standard_error([fold, fold], "normalized_gini", 300, seed=1)
    assert twice == pytest.approx(one, rel=1e-9)
    # a subset of 500 customers, scaled by sqrt(500 / 2000), estimates the same error
    sub = paired_standard_error([fold], "normalized_gini", 300, max_customers=500, seed=1)
    assert sub == pytest.approx(one, rel=0.35)
    # churn on the active base reads the mask
    churned = (rng.random(2000) < 0.3).astype(float)
    mask = rng.random(2000) < 0.5
    scores = PairedFold(fold.codes, churned, rng.random(2000), rng.random(2000), mask)
    se = paired_standard_error([scores], "pr_auc_active", 50)
    assert 0 < se < 0.1
    # on the active half only: as noisy as the same scores on that half alone
    half = PairedFold(np.arange(mask.sum()), churned[mask], scores.a[mask], scores.b[mask])
    assert se == pytest.approx(paired_standard_error([half], "pr_auc", 50), rel=0.35)

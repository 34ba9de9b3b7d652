"""models.manager_effect's pipeline wiring: the config, when the effect is not estimated (and
why), the per-account gains with their notes, and the value of one more / one fewer manager."""

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from features.contract import (
    CAPACITY,
    CUSTOMER_ID,
    CUTOFF,
    LABEL_CHURNED,
    LABEL_MANAGER_DAYS,
    LABEL_SPEND,
    REGION,
)
from features.names import CTC_HAS_MANAGER, TXN_SPEND_TOTAL
from models.columns import (
    GAIN_COLUMNS,
    GAIN_LOWER,
    GAIN_NOTE,
    GAIN_NOW,
    GAIN_UPPER,
    IN_OVERLAP,
    MANAGER_CAPACITY,
    MANAGER_GAIN,
    N_MANAGERS,
    ONE_FEWER,
    ONE_MORE,
    PROPENSITY,
)
from models.config import ManagerEffectConfig, ModelConfig
from models.manager_effect import (
    TREATMENT,
    ManagerEffect,
    account_gains,
    decision_cutoffs,
    estimate,
    manager_value_table,
    not_estimated,
    skip_reason,
    training_rows,
)

FAST = ManagerEffectConfig(enabled=True, n_estimators=30, n_bootstrap=5)  # off by default


def _stacked(n_customers: int = 800, effect: float = 100.0, seed: int = 0,
             treated: float | None = None, confounded: bool = False) -> pd.DataFrame:
    """Three labelled cutoffs of the same customers; a manager at random (or every / no
    account with `treated` 1 / 0; `confounded`: more likely the larger the account) adds
    `effect` to the spend over the horizon."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(3, 0.5, n_customers)
    frames = []
    for cutoff in pd.to_datetime(["2024-06-30", "2024-09-30", "2024-12-31"]):
        spend = size * 50 * rng.lognormal(0, 0.2, n_customers)
        chance = (1 / (1 + np.exp(-3 * (np.log(size) - 3))) if confounded
                  else np.full(n_customers, 0.4))
        managed = (rng.random(n_customers) < chance if treated is None
                   else np.full(n_customers, bool(treated)))
        frames.append(pd.DataFrame({
            CUSTOMER_ID: [f"C{i:04d}" for i in range(n_customers)], CUTOFF: cutoff,
            TXN_SPEND_TOTAL: spend,
            LABEL_MANAGER_DAYS: np.where(managed, 20.0, np.nan),
            LABEL_SPEND: spend + effect * managed + rng.normal(0, 30, n_customers),
            LABEL_CHURNED: 0.0}))
    return pd.concat(frames, ignore_index=True)


def test_the_config_block_is_typed_with_defaults_and_bounds():
    config = ModelConfig()
    assert not config.manager_effect.enabled and config.manager_effect.outcome == "spend"
    assert 0 < config.manager_effect.overlap < 0.5 and 0 < config.manager_effect.level < 1
    for bad in ({"overlap": 0.5}, {"level": 1.0}, {"n_bootstrap": -1}, {"outcome": "churn"},
                {"decision_month": 13}, {"decision_month": 0}, {"assigned_within_days": 0},
                {"unknown_key": 1}):
        with pytest.raises(ValidationError):
            ManagerEffectConfig(**bad)


def test_the_repository_config_documents_the_block():
    from pathlib import Path

    import yaml

    text = (Path(__file__).resolve().parents[2] / "configs" / "model.yaml").read_text()
    block = yaml.safe_load(text)["manager_effect"]
    assert ManagerEffectConfig(**block) == ManagerEffectConfig(**block)  # loads, no extra key
    assert set(block) == set(ManagerEffectConfig.model_fields)  # every key written out
    section = text[text.index("manager_effect:"):]
    assert all("#" in line for line in section.splitlines() if line.strip())  # commented


def _rows(treated: list[float]) -> pd.DataFrame:
    return pd.DataFrame({TREATMENT: treated,
                         LABEL_MANAGER_DAYS: [20.0 if t else np.nan for t in treated]})


@pytest.mark.parametrize(("frame", "words"), [
    (pd.DataFrame({TREATMENT: [0.0] * 5}), "no manager contact history"),
    (_rows([0.0] * 5), "no manager contact history"),  # the label names no manager at all
    (_rows([0.0] * 5).assign(**{LABEL_MANAGER_DAYS: 200.0}),
     "no account had a dedicated manager"),
    (_rows([1.0] * 5), "every account had a dedicated manager"),
])
def test_skip_reason_names_what_is_missing(frame, words):
    assert words in skip_reason(frame)


def test_skip_reason_is_none_with_both_arms():
    assert skip_reason(_rows([0.0, 1.0] * 3)) is None


@pytest.mark.parametrize(("config", "frame", "words"), [
    (ManagerEffectConfig(enabled=False), _stacked(50), "enabled is false"),
    (FAST, _stacked(50, treated=0), "no manager contact history"),  # none names a manager
    (FAST, _stacked(50, treated=1), "every account had a dedicated manager"),
    (FAST, _stacked(50).drop(columns=LABEL_MANAGER_DAYS), "no cutoff with a fully observed"),
    (FAST, _stacked(50).assign(**{LABEL_MANAGER_DAYS: np.nan}), "no manager contact history"),
    (FAST.model_copy(update={"decision_month": 1}), _stacked(50), "in month 1"),
    (FAST, _stacked(50).assign(**{LABEL_SPEND: np.nan}), "no cutoff with a fully observed"),
])
def test_estimate_skips_with_a_reason_never_an_error(config, frame, words):
    effect = estimate(frame, config, horizon_days=90)
    assert not effect.estimated and effect.learner is None
    assert effect.reason.startswith("not estimated: ") and words in effect.reason
    assert effect.describe() == effect.reason
    gains = account_gains(effect, frame[frame[CUTOFF] == frame[CUTOFF].max()])
    assert gains[[MANAGER_GAIN, GAIN_LOWER, GAIN_UPPER, PROPENSITY]].isna().all().all()
    assert not gains[IN_OVERLAP].any() and (gains[GAIN_NOTE] == effect.reason).all()


def test_training_rows_are_the_latest_labelled_cutoffs_sampled_down():
    frame = _stacked(100)
    config = FAST.model_copy(update={"window_cutoffs": 2, "max_rows": 150})
    rows, late = training_rows(frame, config, 90, random_state=0)
    assert len(rows) == 150 and set(rows[CUTOFF]) <= set(frame[CUTOFF].unique()[-2:])
    assert late == 0 and set(rows[TREATMENT]) == {0.0, 1.0}


def test_training_rows_read_a_late_first_contact_as_no_manager_and_count_it():
    # horizon 90: the window is 45 days; a first contact on day 45 is this decision's, one on
    # day 46 a later decision's: kept as not managed, never dropped
    frame = _stacked(100)
    contacted = frame.index[frame[LABEL_MANAGER_DAYS].notna()]
    frame.loc[contacted[:7], LABEL_MANAGER_DAYS] = 46.0
    frame.loc[contacted[7:10], LABEL_MANAGER_DAYS] = 45.0
    rows, late = training_rows(frame, FAST, 90)
    assert late == 7 and len(rows) == len(frame)
    assert (rows.loc[contacted[:7], TREATMENT] == 0).all()
    assert (rows.loc[contacted[7:], TREATMENT] == 1).all()
    assert (rows.loc[frame[LABEL_MANAGER_DAYS].isna(), TREATMENT] == 0).all()
    returns = frame.assign(**{LABEL_SPEND: -5.0})
    assert (training_rows(returns, FAST, 90)[0][LABEL_SPEND] == 0).all()  # clipped at 0


@pytest.mark.parametrize(("month", "expected"), [
    (None, ["2024-09-30", "2024-12-31"]), (12, ["2024-12-31"]), (9, ["2024-09-30"]),
    (5, []),
])
def test_decision_cutoffs_are_the_decision_month_ends(month, expected):
    frame = _stacked(10)
    got = decision_cutoffs(frame, 90, month, window_cutoffs=2)
    assert [c.strftime("%Y-%m-%d") for c in got] == expected


def test_estimate_recovers_a_randomised_effect_and_summarises_it():
    frame = _stacked()
    effect = estimate(frame, FAST, horizon_days=90)
    assert effect.estimated and effect.reason == ""
    s = effect.summary
    assert s["ate_lower"] <= 100 <= s["ate_upper"]
    assert s["overlap_share"] > 0.95 and 0.3 < s["treated_share"] < 0.5
    # a constant effect: the ranking's top accounts gain it too, out of sample
    assert s["top_gain_lower"] <= 100 <= s["top_gain_upper"]
    assert s["top_share"] == pytest.approx(s["treated_share"], abs=0.05)
    assert s["rows"] == len(frame) and s["customers"] == 800 and s["cutoffs"] == 3
    assert effect.describe().startswith(f"average {s['ate']:,.1f} extra spend")
    # no ctc_has_manager column here: no newly managed accounts to read a review month from
    assert s["decision_month"] is None and s["review_month_hint"] is None
    assert s["churn_reason"] == "every training row churned or none did"  # churned is all 0
    assert "churn effect not estimated: every training row churned" in effect.describe()
    assert "decision_month" not in effect.describe()
    scoring = frame[frame[CUTOFF] == frame[CUTOFF].max()]
    gains = account_gains(effect, scoring)
    assert list(gains.columns) == [CUSTOMER_ID, *GAIN_COLUMNS]
    assert gains.index.equals(scoring.index)
    inside = gains[IN_OVERLAP]
    assert inside.mean() > 0.95 and (gains.loc[inside, GAIN_NOTE] == "").all()
    assert (gains.loc[inside, GAIN_LOWER] <= gains.loc[inside, GAIN_UPPER]).all()


@pytest.mark.parametrize("confounded", [False, True])
def test_the_average_effect_on_churn_is_recovered_within_its_interval(confounded):
    # a manager lowers the chance of no purchase from 40% to 25%; with confounding the
    # managed are the big spenders, who churn less anyway (the plain comparison overstates)
    frame = _stacked(1500, confounded=confounded, seed=3)
    rng = np.random.default_rng(4)
    managed = frame[LABEL_MANAGER_DAYS].notna().to_numpy()
    big = frame[TXN_SPEND_TOTAL].rank(pct=True).to_numpy()
    base = 0.55 - 0.3 * big if confounded else np.full(len(frame), 0.4)
    frame[LABEL_CHURNED] = (rng.random(len(frame)) < base - 0.15 * managed).astype(float)
    s = estimate(frame, FAST, horizon_days=90).summary
    assert s["churn_ate_lower"] <= -0.15 <= s["churn_ate_upper"]
    assert s["churn_ate_upper"] - s["churn_ate_lower"] < 0.12  # informative
    if confounded:
        naive = (frame.loc[managed, LABEL_CHURNED].mean()
                 - frame.loc[~managed, LABEL_CHURNED].mean())
        assert naive < s["churn_ate_lower"]
    off = estimate(frame, FAST.model_copy(update={"churn_effect": False}), horizon_days=90)
    assert not any(k.startswith("churn") for k in off.summary)


def test_a_churn_fit_that_fails_leaves_the_spend_estimate_and_says_why(monkeypatch):
    from models import manager_effect

    fit = manager_effect.fit_manager_effect

    def refuse_churn(train, learner, outcome=LABEL_SPEND):
        if outcome == LABEL_CHURNED:
            raise ValueError("the arms do not overlap")
        return fit(train, learner, outcome)

    monkeypatch.setattr(manager_effect, "fit_manager_effect", refuse_churn)
    frame = _stacked(300).assign(**{LABEL_CHURNED: [0.0, 1.0] * 450})
    effect = estimate(frame, FAST, horizon_days=90)
    assert effect.estimated and effect.summary["churn_reason"] == "the arms do not overlap"
    assert effect.describe().endswith("; churn effect not estimated: the arms do not overlap")


def test_the_train_log_suggests_the_month_whose_end_new_managers_follow():
    # new managers only after the last cutoff (2024-12-31; earlier ones: managed already):
    # their first calls 20 days later, in January, point at a review at December's end
    frame = _stacked(300)
    last = frame[CUTOFF] == frame[CUTOFF].max()
    frame[CTC_HAS_MANAGER] = np.where(last, 0.0, 1.0)
    effect = estimate(frame, FAST, horizon_days=90)
    s = effect.summary
    assert s["review_month_hint"] == 12 and s["review_month_share"] == 1.0
    assert effect.describe().endswith("set manager_effect.decision_month: 12 (now null)")
    agreed = estimate(frame, FAST.model_copy(update={"decision_month": 12}), horizon_days=90)
    assert agreed.estimated and agreed.summary["review_month_hint"] == 12
    assert "decision_month" not in agreed.describe()


def test_outside_overlap_there_is_no_gain_and_the_note_says_which_way():
    frame = _stacked(600, confounded=True)
    effect = estimate(frame, FAST, horizon_days=90)
    learner = effect.learner
    scoring = frame[frame[CUTOFF] == frame[CUTOFF].max()].reset_index(drop=True)
    # models.uplift's public API only: a learner whose overlap bound no account meets on
    # one side shows what an account outside overlap gets
    strict = ManagerEffect(learner.set_params(overlap=0.45), "", 0.9, effect.summary)
    gains = account_gains(strict, scoring)
    outside = ~gains[IN_OVERLAP]
    assert outside.any()
    assert gains.loc[outside, [MANAGER_GAIN, GAIN_LOWER, GAIN_UPPER]].isna().all().all()
    high = gains[PROPENSITY] > 0.55
    assert (outside & high).any() and (outside & ~high).any()
    assert gains.loc[outside & high, GAIN_NOTE].str.contains("nearly always").all()
    assert gains.loc[outside & ~high, GAIN_NOTE].str.contains("nearly never").all()


def test_no_effect_or_a_frame_without_its_features_gives_reasons():
    frame = _stacked(300)
    assert (account_gains(None, frame)[GAIN_NOTE].str.contains("re-run `keyaccounts train`")
            .all())
    effect = estimate(frame, FAST, horizon_days=90)
    gains = account_gains(effect, frame.drop(columns=TXN_SPEND_TOTAL))
    assert gains[MANAGER_GAIN].isna().all()
    assert gains[GAIN_NOTE].str.contains(TXN_SPEND_TOTAL).all()
    assert not_estimated(frame.iloc[:2], "why")[GAIN_NOTE].tolist() == ["why", "why"]


def test_value_of_one_more_and_one_fewer_manager_per_region():
    gains = pd.Series([50.0, 40.0, 30.0, 20.0, 10.0, -5.0, np.nan, 7.0, 3.0])
    region = pd.Series(["a"] * 7 + ["b"] * 2)
    managers = pd.DataFrame({"manager_id": ["m1", "m2"], REGION: ["a", "a"],
                             CAPACITY: [2, 2]})
    table, curve = manager_value_table(gains, region, managers)
    a = table.set_index(REGION).loc["a"]
    # 2 managers of 2 accounts: 50 + 40 and 30 + 20; the third would take 10 (not -5 or NaN)
    assert a[N_MANAGERS] == 2 and a[MANAGER_CAPACITY] == 2
    assert a[GAIN_NOW] == 140.0 and a[ONE_MORE] == 10.0 and a[ONE_FEWER] == -50.0
    b = table.set_index(REGION).loc["b"]  # no manager: one of the mean capacity overall
    assert b[N_MANAGERS] == 0 and b[MANAGER_CAPACITY] == 2
    assert b[GAIN_NOW] == 0.0 and b[ONE_MORE] == 10.0 and np.isnan(b[ONE_FEWER])
    a_curve = curve[curve[REGION] == "a"]["marginal_value"].to_numpy()
    assert (np.diff(a_curve) <= 0).all() and list(a_curve) == [90.0, 50.0, 10.0]


def test_value_table_is_empty_without_managers_or_gains():
    gains, region = pd.Series([1.0, 2.0]), pd.Series(["a", "a"])
    managers = pd.DataFrame({"manager_id": ["m1"], REGION: ["a"], CAPACITY: [1]})
    assert manager_value_table(gains, region, None)[0].empty
    assert manager_value_table(gains * np.nan, region, managers)[0].empty

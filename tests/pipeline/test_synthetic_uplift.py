"""The generator's heterogeneous manager effect (behaviour.manager_uplift) and its ground truth
with and without a manager: defaults unchanged, no effect when the strength is 0, a
heterogeneous and partly negative effect, common random numbers, a confounded assignment."""

import hashlib
from datetime import date

import numpy as np
import pandas as pd
import pytest

from features.contract import CURRENT_MANAGER_ID, CUSTOMER_ID, MANAGER_ID
from pipeline.config.generate import GenerateConfig
from pipeline.files import GROUND_TRUTH, MANAGER_TRUTH
from pipeline.synthetic import draw_managers, simulate_chunk, tier_thresholds, write_dataset
from pipeline.synthetic.history import customer_ids
from pipeline.synthetic.presets import apply_preset
from pipeline.synthetic.truth import MANAGER_TRUTH_COLUMNS, manager_truth_frame, week_of

# the demo generator's tables for GenerateConfig(n_customers=300, seed=3): the uplift
# settings at their defaults must leave them byte for byte as they were
DEMO_DIGEST = "0b2e2f7adcde4fcc0d4b9a97683062b2636907beadbc098fa3a9f0e8df5777dc"
N_SIMS = 24


def _digest(result) -> str:
    digest = hashlib.sha256()
    for frame in (result.transactions, result.contacts, result.customers):
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _chunk(config: GenerateConfig, weeks: tuple[int, ...] = ()):
    return simulate_chunk(config, 0, 0, config.n_customers, tier_thresholds(config),
                          draw_managers(config), snapshot_weeks=weeks)


def _truth(config: GenerateConfig, common: bool = True, n_sims: int = N_SIMS):
    week = week_of(config, config.end_date)
    result = _chunk(config, (week,))
    ids = customer_ids(result.population.number, config.n_customers)
    frame = manager_truth_frame([config.seed, 0, 3], config, result.population, ids,
                                result.snapshots[week], config.end_date, n_sims, common)
    return frame, result


def _preset(strength: float, n: int = 2500, **behaviour) -> GenerateConfig:
    config = apply_preset(GenerateConfig(), "manager_effect", n_customers=n, seed=13)
    uplift = config.behaviour.manager_uplift.model_copy(update={"strength": strength, **behaviour})
    return config.model_copy(update={
        "behaviour": config.behaviour.model_copy(update={"manager_uplift": uplift})})


@pytest.fixture(scope="module")
def full():
    return _truth(_preset(1.0))


def test_defaults_leave_the_demo_unchanged(tmp_path) -> None:
    config = GenerateConfig(n_customers=300, seed=3)
    assert config.behaviour.manager_uplift is None and not config.manager_truth
    assert _digest(_chunk(config)) == DEMO_DIGEST
    summary = write_dataset(config.model_copy(update={"truth_months": 1}), tmp_path / "raw",
                            tmp_path / "truth")
    assert sorted(p.name for p in (tmp_path / "truth").glob("*.parquet")) == [
        "defects.parquet", GROUND_TRUTH]
    assert "manager_truth_rows" not in summary


def test_the_preset_writes_the_truth_with_and_without_a_manager(tmp_path) -> None:
    config = _preset(1.0, n=400).model_copy(update={"truth_months": 1, "manager_truth_n_sims": 4})
    summary = write_dataset(config, tmp_path / "raw", tmp_path / "truth")
    truth = pd.read_parquet(tmp_path / "truth" / MANAGER_TRUTH)
    assert tuple(truth.columns) == MANAGER_TRUTH_COLUMNS
    assert len(truth) == summary["manager_truth_rows"] > 300
    assert (truth["as_of"] == pd.Timestamp(config.end_date)).all()
    effect = truth["true_spend_with_manager"] - truth["true_spend_without_manager"]
    np.testing.assert_allclose(truth["true_manager_effect_spend"], effect, atol=1e-6)
    gone = ~truth["true_alive"]
    assert gone.any() and (truth.loc[gone, "true_manager_effect_spend"] == 0).all()
    assert (truth.loc[gone, "true_prob_no_purchase_with_manager"] == 1).all()


def test_no_effect_setting_gives_no_difference_within_its_error() -> None:
    frame, _ = _truth(_preset(0.0, n=1500))
    for name in ("spend", "prob_no_purchase"):
        effect = frame[f"true_manager_effect_{name}"]
        # common random numbers: the same paths in both arms, the manager changes nothing
        np.testing.assert_allclose(effect, 0.0, atol=1e-9)
    independent, _ = _truth(_preset(0.0, n=1500), common=False)
    diff = independent["true_manager_effect_spend"]
    se = np.sqrt((independent["true_manager_effect_spend_se"] ** 2).sum())
    assert se > 0 and abs(diff.sum()) < 4 * se, (diff.sum(), se)


def test_the_effect_is_heterogeneous_and_negative_for_dissatisfied_accounts(full) -> None:
    frame, _ = full
    live = frame[frame["true_alive"]]
    effect, se = live["true_manager_effect_spend"], live["true_manager_effect_spend_se"]
    spend = live["true_spend_without_manager"]
    positive, negative = effect > 3 * se, effect < -3 * se
    small = effect.abs() < 0.05 * spend.clip(lower=1.0)
    assert positive.mean() > 0.2 and negative.mean() > 0.05 and small.mean() > 0.1
    dissatisfied = live["true_dissatisfied"]
    assert negative[dissatisfied].mean() > 0.5
    # a satisfied account loses only when little of its wallet moves (the manager's few
    # complaints then outweigh the lift)
    movable = live["true_movable_share"] > 0.3
    assert negative[~dissatisfied & movable].mean() < 0.02
    # larger where more of the wallet can move: relative effect grows with the movable share
    satisfied = live[~dissatisfied & (spend > 100)]
    relative = satisfied["true_manager_effect_spend"] / satisfied["true_spend_without_manager"]
    q = pd.qcut(satisfied["true_movable_share"], 4, labels=False)
    by_quarter = relative.groupby(q).median()
    assert by_quarter.is_monotonic_increasing and by_quarter.iloc[0] < 0.25 * by_quarter.iloc[-1]
    # retention: the manager lowers the chance of no purchase where the wallet can move
    movable = satisfied["true_movable_share"] > 0.5
    assert satisfied.loc[movable, "true_manager_effect_prob_no_purchase"].mean() < 0


def test_stronger_setting_gives_a_larger_effect(full) -> None:
    weak, _ = _truth(_preset(0.5))
    strong, _ = full
    total = {name: f["true_manager_effect_spend"].clip(lower=0).sum()
             for name, f in (("weak", weak), ("strong", strong))}
    assert total["weak"] < 0.75 * total["strong"]


def test_common_random_numbers_sharpen_the_difference(full) -> None:
    frame, _ = full
    independent, _ = _truth(_preset(1.0), common=False)
    live = frame["true_alive"].to_numpy() & (frame["true_spend_without_manager"] > 0).to_numpy()
    # what remains is the with-arm's own path: which weeks the manager calls, the complaints
    for name, median in (("spend", 0.7), ("prob_no_purchase", 0.5)):
        crn = frame.loc[live, f"true_manager_effect_{name}_se"].to_numpy()
        ind = independent.loc[live, f"true_manager_effect_{name}_se"].to_numpy()
        assert np.median(crn / ind) < median
        assert np.sqrt((crn**2).sum()) < 0.85 * np.sqrt((ind**2).sum())
    crn = frame.loc[live, "true_manager_effect_spend_se"].to_numpy()
    ind = independent.loc[live, "true_manager_effect_spend_se"].to_numpy()
    # the same arms' means, up to their errors
    diff = (frame["true_manager_effect_spend"] - independent["true_manager_effect_spend"]).sum()
    assert abs(diff) < 4 * np.sqrt((ind**2).sum() + (crn**2).sum())


def test_assignment_is_confounded_by_value_and_managers_change_over_time(full) -> None:
    frame, result = full
    managed = frame["true_managed"]
    assert 0.015 < managed.mean() < 0.06
    # managed accounts would spend far more than the others even without a manager: a naive
    # managed-versus-unmanaged comparison is biased upwards
    without = frame["true_spend_without_manager"]
    naive = frame.loc[managed, "true_spend_with_manager"].mean() - without[~managed].mean()
    true_effect = frame.loc[managed, "true_manager_effect_spend"].mean()
    assert naive > 2 * true_effect
    # but not only the top accounts: some below the demo's eligibility threshold are managed
    pop = result.population
    assert (pop.managed_from[~pop.eligible] < np.iinfo(np.int32).max).sum() > 5
    # re-assignments: managers leave (contacts by a manager, no manager today) and arrive
    contacts, customers = result.contacts, result.customers
    by_manager = contacts[contacts[MANAGER_ID].notna()]
    current = customers.set_index(CUSTOMER_ID)[CURRENT_MANAGER_ID]
    former = current.reindex(by_manager[CUSTOMER_ID].unique()).isna()
    assert former.sum() > 10
    first = by_manager.groupby(CUSTOMER_ID)["contact_date"].min()
    assert (first > pd.Timestamp("2024-06-01")).sum() > 10


def test_yearly_review_follows_last_years_revenue_and_keeps_tiers_consistent() -> None:
    config = _preset(1.0, n=2000)
    early = week_of(config, date(2024, 6, 30))
    result = _chunk(config, (early,))
    pop, customers = result.population, result.customers
    strategic = customers["current_tier"] == "strategic"
    assert (customers[CURRENT_MANAGER_ID].notna() == strategic).all()
    last = week_of(config, config.end_date)
    now = (pop.managed_from <= last) & (last < pop.managed_until)
    assert abs(now.mean() - config.behaviour.strategic_share) < 0.01
    # the assignment of mid-2024 differs from today's: reviews in 2024 and 2025 moved accounts
    then = result.population_at(early)
    was = (then.managed_from <= early) & (early < then.managed_until)
    assert (was & ~now).sum() > 5 and (now & ~was).sum() > 5
    # today's managed accounts spent far more last year than the others, and more than those
    # who lost their manager
    tx = result.transactions
    year = tx[tx["order_date"] > pd.Timestamp(config.end_date) - pd.Timedelta(days=365)]
    revenue = year.groupby(CUSTOMER_ID)["amount"].sum().reindex(customers[CUSTOMER_ID],
                                                               fill_value=0.0).to_numpy()
    arrived = (pop.created_week <= last) & ~now
    assert np.median(revenue[now]) > 10 * max(np.median(revenue[arrived]), 1.0)
    assert np.median(revenue[now]) > 1.5 * np.median(revenue[was & ~now])


def test_under_yearly_reviews_a_late_arrival_gets_a_manager_only_at_a_review() -> None:
    # the firm decides at its reviews on booked revenue: an account arriving between two
    # reviews is not given a manager half a year later on its (unobserved) latent value
    config = _preset(1.0, n=3000)
    result = _chunk(config)
    pop = result.population
    late = pop.created_week > 0
    started = late & (pop.managed_from < np.iinfo(np.int32).max)
    assert started.sum() > 5
    assert set(np.unique(pop.managed_from[started])) <= {52, 104, 156, 208}
    assert (pop.managed_from[started] >= pop.created_week[started]).all()


def test_the_review_reads_the_booked_revenue_of_the_transactions_table() -> None:
    # without the review's noise and stickiness, the accounts managed after the last review
    # are exactly the top strategic share by the year's net amounts in the transactions
    # table: the firm decides on what its books (and the features) show, not on a latent
    config = _preset(1.0, n=2000, review_noise=0.0, review_stickiness=0.0)
    result = _chunk(config)
    pop, tx = result.population, result.transactions
    last_review = 52 * ((week_of(config, config.end_date)) // 52)
    start = pd.Timestamp(config.start_date)
    window = tx[(tx["order_date"] >= start + pd.Timedelta(days=7 * (last_review - 52)))
                & (tx["order_date"] < start + pd.Timedelta(days=7 * last_review))]
    ids = customer_ids(pop.number, config.n_customers)
    booked = window.groupby(CUSTOMER_ID)["amount"].sum().reindex(ids, fill_value=0.0)
    managed = (pop.managed_from <= last_review) & (last_review < pop.managed_until)
    arrived = pop.created_week <= last_review
    k = int(round(config.behaviour.strategic_share * arrived.sum()))
    top = set(booked[arrived].sort_values(ascending=False).index[:k])
    assert managed.sum() == k and set(ids[managed]) == top


def test_by_revenue_assignment_draws_gained_and_former_managers() -> None:
    config = _preset(1.0, n=2000, assignment="by_revenue")
    result = _chunk(config)
    pop = result.population
    never = np.iinfo(np.int32).max
    former = pop.managed_until < never
    assert former.sum() > 5 and (pop.manager[former] == -1).all()
    assert (pop.history_manager[former] >= 0).all()
    gained = (pop.managed_from > np.maximum(pop.created_week, 0) + 26) & (pop.manager >= 0)
    assert gained.sum() > 5


def test_bought_elsewhere_lowers_spend_with_us_where_the_wallet_can_move() -> None:
    whole = _chunk(_preset(1.0, n=1500)).population
    elsewhere_config = _preset(1.0, n=1500, bought_elsewhere=True)
    elsewhere = _chunk(elsewhere_config).population
    u = elsewhere_config.behaviour.manager_uplift
    # the same draws: only the split of the need between us and competitors differs
    np.testing.assert_array_equal(whole.movable, elsewhere.movable)
    own = np.maximum(1 - whole.movable, u.wallet_floor) / (1 - u.movable_mean)
    np.testing.assert_allclose(elsewhere.lam, whole.lam * own)
    # the manager wins the same extra purchases (need x lift) as when the whole need is ours
    np.testing.assert_allclose(elsewhere.lam * elsewhere.lift, whole.lam * whole.lift)
    # so spend with us per unit of need falls with the movable share: an account that buys
    # little for its size is the one with wallet to win
    q = pd.qcut(whole.movable, 4, labels=False)
    ratio = pd.Series(elsewhere.lam / whole.lam).groupby(q).median()
    assert ratio.is_monotonic_decreasing and ratio.iloc[-1] < 0.6 * ratio.iloc[0]

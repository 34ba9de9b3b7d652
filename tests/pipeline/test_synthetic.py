"""The synthetic customer base: determinism, contract shape, behaviour and ground truth."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from features.contract import (
    AMOUNT,
    CONTACT_DATE,
    CREATED_DATE,
    CUSTOMER_ID,
    MANAGER_ID,
    ORDER_DATE,
    QUANTITY,
)
from pipeline.config.generate import BehaviourConfig, GenerateConfig
from pipeline.synthetic import (
    DEFECT_KINDS,
    as_of_dates,
    draw_managers,
    expected_continuations,
    inject,
    realised_continuations,
    simulate_chunk,
    tier_thresholds,
)
from pipeline.synthetic.process import subset
from pipeline.synthetic.truth import week_of


def _chunk(config: GenerateConfig, n: int | None = None, weeks: tuple[int, ...] = ()):
    n = n or config.n_customers
    return simulate_chunk(config, 0, 0, n, tier_thresholds(config), draw_managers(config),
                          snapshot_weeks=weeks)


@pytest.fixture(scope="module")
def small() -> GenerateConfig:
    return GenerateConfig(n_customers=1500, seed=7)


@pytest.fixture(scope="module")
def chunk(small):
    return _chunk(small)


def test_same_seed_same_tables_other_seed_other_tables(small, chunk) -> None:
    again = _chunk(small)
    other = _chunk(small.model_copy(update={"seed": 8}))
    for name in ("transactions", "contacts", "customers"):
        pd.testing.assert_frame_equal(getattr(chunk, name), getattr(again, name))
    assert not chunk.transactions[AMOUNT].equals(other.transactions[AMOUNT])


def test_ids_are_zero_padded_strings(chunk) -> None:
    ids = chunk.customers[CUSTOMER_ID]
    assert ids.iloc[0] == "C0000000" and ids.iloc[123] == "C0000123"
    assert ids.is_unique and ids.str.fullmatch(r"C\d{7}").all()
    assert chunk.transactions["order_id"].is_unique
    managers = chunk.contacts[MANAGER_ID].dropna()
    assert len(managers) and managers.str.fullmatch(r"M\d{3}").all()


def test_history_has_arrivals_seasonality_returns_and_categories(small, chunk) -> None:
    tx = chunk.transactions
    created = chunk.customers[CREATED_DATE]
    assert (created < pd.Timestamp(small.start_date)).mean() == pytest.approx(0.55, abs=0.05)
    assert created.max() > pd.Timestamp("2026-01-01")  # new customers keep arriving
    assert tx[ORDER_DATE].between(pd.Timestamp(small.start_date), pd.Timestamp(small.end_date)).all()
    assert len(tx) / small.n_customers == pytest.approx(20, rel=0.25)
    month = tx.loc[tx[AMOUNT] > 0, ORDER_DATE].dt.month.value_counts()
    assert (month[3] + month[9]) / (month[6] + month[12]) > 1.3  # March/September highs
    returns = tx[tx[AMOUNT] < 0]
    assert len(returns) / len(tx) == pytest.approx(0.04 / 1.04, rel=0.3)
    assert (returns[QUANTITY] < 0).all() and (tx.loc[tx[AMOUNT] > 0, QUANTITY] > 0).all()
    assert tx["category"].nunique() == 6
    sizes = chunk.customers["size"]
    assert sizes.max() > 20 * sizes.median()  # heavy-tailed


def test_strategic_accounts_have_a_manager_and_more_contacts(chunk) -> None:
    customers = chunk.customers
    strategic = customers["current_tier"] == "strategic"
    assert strategic.mean() == pytest.approx(0.03, abs=0.015)
    assert customers.loc[strategic, "current_manager_id"].notna().all()
    assert customers.loc[~strategic, "current_manager_id"].isna().all()
    per_customer = chunk.contacts.groupby(CUSTOMER_ID).size().reindex(customers[CUSTOMER_ID], fill_value=0)
    assert per_customer[strategic.to_numpy()].mean() > 5 * per_customer[~strategic.to_numpy()].mean()
    assert set(chunk.contacts["channel"]) == {"visit", "call", "email"}
    assert "complaint" in set(chunk.contacts["outcome"])


def test_contacts_carry_real_signal_on_dropout() -> None:
    """Among comparable customers (same latent value stratum, present from the start, the
    manager given at random within the stratum), those with regular manager contact drop out
    less often than those without: checked on the latent state and on the observed data."""
    config = GenerateConfig(
        n_customers=3000, seed=11,
        behaviour=BehaviourConfig(strategic_share=0.3, managed_given_eligible=0.5),
    )
    last = week_of(config, config.end_date)
    result = _chunk(config, weeks=(last,))
    pop = result.population
    ids = result.customers[CUSTOMER_ID].to_numpy()
    year_one = result.contacts[result.contacts[CONTACT_DATE] < pd.Timestamp("2023-11-01")]
    manager_contacts = year_one[year_one[MANAGER_ID].notna()].groupby(CUSTOMER_ID).size()
    regular = pd.Series(ids).map(manager_contacts).fillna(0).to_numpy() >= 6
    without = pd.Series(ids).map(manager_contacts).isna().to_numpy()
    stratum = pop.eligible & (pop.created_week <= 0)
    dropped = ~result.snapshots[last].alive
    last_buy = result.transactions.groupby(CUSTOMER_ID)[ORDER_DATE].max()
    silent = (pd.Series(ids).map(last_buy) < pd.Timestamp("2026-05-01")).fillna(True).to_numpy()
    for outcome in (dropped, silent):
        a, b = outcome[stratum & regular], outcome[stratum & without]
        assert len(a) > 300 and len(b) > 300
        pooled = np.r_[a, b].mean()
        z = (b.mean() - a.mean()) / np.sqrt(pooled * (1 - pooled) * (1 / len(a) + 1 / len(b)))
        assert b.mean() - a.mean() > 0.1 and z > 5, (a.mean(), b.mean(), z)


def test_ground_truth_matches_realised_continuations(small) -> None:
    """The Rao-Blackwellised truth equals the mean of fully realised futures (other seed)."""
    as_of = date(2025, 6, 30)
    week = week_of(small, as_of)
    result = _chunk(small, weeks=(week,))
    state = result.snapshots[week]
    live = np.flatnonzero(state.alive & (result.population.created_week <= week))
    pop, st = subset(result.population, live), state.take(live)
    spend, none = expected_continuations(np.random.default_rng(1), small, pop, st, as_of, 365, 40)
    real, real_none = realised_continuations(np.random.default_rng(2), small, pop, st, as_of, 365, 40)
    for truth, realised in ((spend, real), (none, real_none.astype(float))):
        per_truth, per_real = truth.mean(axis=0), realised.mean(axis=0)  # customer means per sim
        diff = per_real.mean() - per_truth.mean()
        se = np.sqrt(per_truth.var(ddof=1) / truth.shape[1] + per_real.var(ddof=1) / realised.shape[1])
        assert abs(diff) < 3 * se, (per_truth.mean(), per_real.mean(), se)
        assert se < 0.02 * abs(per_truth.mean())  # the check is sharp
    managed = pop.managed_from <= week
    assert managed.sum() > 20
    t, r = spend[managed].mean(axis=0), real[managed].mean(axis=0)
    assert abs(r.mean() - t.mean()) < 3 * np.sqrt(t.var(ddof=1) / 40 + r.var(ddof=1) / 40)


def test_as_of_dates_are_month_ends_and_end_date() -> None:
    dates = as_of_dates(GenerateConfig())
    assert len(dates) == 25 and dates[0] == date(2024, 10, 31) and dates[-1] == date(2026, 10, 31)
    assert all(pd.Timestamp(d).is_month_end for d in dates)


def test_defects_each_kind_at_rate_and_listed_by_row() -> None:
    n, rate = 20_000, 0.02
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        CUSTOMER_ID: pd.array([f"C{k:07d}" for k in range(n)], dtype="str"),
        "order_id": pd.array([f"O{k:010d}" for k in range(n)], dtype="str"),
        ORDER_DATE: pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D"),
        AMOUNT: rng.uniform(-10, 500, n).round(2),
    })
    out, defects = inject(frame, "transactions", rate, np.random.default_rng(1), np.array(["C9999999"], dtype=object))
    assert out[ORDER_DATE].dtype == "str" and out[AMOUNT].dtype == "str"
    counts = defects["kind"].value_counts()
    assert set(counts.index) == set(DEFECT_KINDS["transactions"])
    assert ((counts - n * rate).abs() < 4 * np.sqrt(n * rate)).all()
    assert len(out) == n + counts["duplicate_row"]
    rows = {k: g["row"].to_numpy() for k, g in defects.groupby("kind")}
    assert out[CUSTOMER_ID].iloc[rows["null_id"]].isna().all()
    assert out[CUSTOMER_ID].isna().sum() == counts["null_id"]
    assert pd.to_datetime(out[ORDER_DATE].iloc[rows["bad_date"]], errors="coerce", format="%Y-%m-%d").isna().all()
    assert (pd.to_datetime(out[ORDER_DATE].iloc[rows["future_date"]]) > pd.Timestamp("2030-12-31")).all()
    assert pd.to_numeric(out[AMOUNT].iloc[rows["bad_amount"]], errors="coerce").isna().all()
    dup = rows["duplicate_row"]
    pd.testing.assert_frame_equal(out.iloc[dup].reset_index(drop=True), out.iloc[dup - 1].reset_index(drop=True))
    clean = np.setdiff1d(np.arange(len(out)), defects["row"])
    assert pd.to_numeric(out[AMOUNT].iloc[clean]).notna().all()
    assert pd.to_datetime(out[ORDER_DATE].iloc[clean], format="%Y-%m-%d").max() < pd.Timestamp("2026-01-01")
    assert out["order_id"].iloc[clean].is_unique

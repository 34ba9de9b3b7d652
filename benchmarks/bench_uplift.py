"""Where does a manager add the most? Policies against the true manager effect, on generated data.

    python benchmarks/bench_uplift.py [--customers 20000] [--seeds 1 2] [--wallet elsewhere]

For each seed and effect strength (the "manager_effect" preset at strength 1 and 0.5, and the
no-effect setting, strength 0, once per seed), generate a base (assignment by revenue at the
firm's yearly review, the truth with and without a manager at the scoring date end_date),
estimate the manager's effect exactly as the train stage does (models.manager_effect.estimate
with manager_effect.decision_month = the review's month, n_jobs 1) and give each region's
managers the same number of accounts they look after today, by four rules:

- status quo: the firm's rule, the largest accounts by last year's revenue (txn_spend_365d);
- true value: the largest by the TRUE expected spend over the horizon (a perfect value model);
- uplift: tiers' `rank_by: uplift`, the largest estimated gains; accounts outside overlap get
  no estimate: those the firm has always managed (propensity above 1 - overlap) keep their
  manager first, as today, those it never managed get none;
- optimum: the largest TRUE effects (per region).

Each rule's value is the total TRUE incremental spend (with minus without a manager, from
manager_truth.parquet) of the accounts it picks; "share" is models.uplift.attainable_share:
(policy - status quo) / (optimum - status quo). Qini: of the estimated effect against the
true one, over the accounts in overlap. ATE: the learner's average effect over the training
rows in overlap with its 90% interval, against the true mean effect of the accounts in
overlap at the scoring date; the churn effect (points of the chance of no purchase over the
horizon) likewise against the truth's true_manager_effect_prob_no_purchase. "claimed": the
uplift policy's gain on its accounts in overlap, as the train stage's model card states it:
their number times the out-of-sample average gain of the same share of the training rows in
overlap ranked first
(models.uplift.DRLearner.policy_value), with its 90% interval; "its truth": the true total
effect of the same accounts (with no effect: 0, so the claim must not exclude it); "own
estimates": the sum of the same accounts' own estimated gains, which picking the largest
of noisy estimates inflates (the winner's curse). "share uplift [90%]": the 5%-95% range of the
shares of the policies the bootstrap refits' rankings would pick. "final trees": the number
of final trees the held-out DR loss chose (0 = a constant effect relative to last year's
spend: the ranking is then the status quo's).

--wallet elsewhere (the default) generates with behaviour.manager_uplift.bought_elsewhere:
the movable share of the account's wallet is what it buys from competitors today, so an
account that buys little from us for its size (employees, industry) has the most wallet to
win: the share-of-wallet view B2B sales teams plan with. --wallet whole is the preset as it
is: the account buys its whole need from us, and its movable share shows only through its
size; there even a model fitted on the TRUE effects with every feature does not rank better
than the true expected value (README "The manager's effect"), so no estimator can.

`--strengths 0 --seeds 1 2 3 4 5 6 7 8` measures the calibration with no effect: it ends with
the average effect's z on each base and how many claimed gains exclude 0.

Measured 2026-12-04 (overlap 0.1): the tables in README "The manager's effect" (and the issue
13 note).
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from features.builder import build, build_training_set  # noqa: E402
from features.config import FeaturesConfig  # noqa: E402
from features.contract import AS_OF, CUSTOMER_ID, REGION, Tables  # noqa: E402
from features.names import txn_spend_in  # noqa: E402
from models.columns import IN_OVERLAP, MANAGER_GAIN, PROPENSITY  # noqa: E402
from models.config import ManagerEffectConfig  # noqa: E402
from models.manager_effect import account_gains, estimate  # noqa: E402
from models.uplift import attainable_share, policy_gain, qini, top_by_region  # noqa: E402
from pipeline.config.generate import GenerateConfig  # noqa: E402
from pipeline.files import GROUND_TRUTH, MANAGER_TRUTH, table_file  # noqa: E402
from pipeline.synthetic import write_dataset  # noqa: E402
from pipeline.synthetic.history import n_weeks  # noqa: E402
from pipeline.synthetic.presets import apply_preset  # noqa: E402
from pipeline.synthetic.uplift import review_weeks  # noqa: E402

STRENGTHS = (1.0, 0.5, 0.0)
TRUE_CHURN_EFFECT = "true_manager_effect_prob_no_purchase"  # manager_truth.parquet's column


def _generate(folder: Path, seed: int, strength: float, n: int, **behaviour) -> GenerateConfig:
    config = apply_preset(GenerateConfig(), "manager_effect", n_customers=n, seed=seed,
                          truth_months=0)
    fields = type(config.behaviour.manager_uplift).model_fields
    options = {k: v for k, v in behaviour.items() if k in fields}
    uplift = config.behaviour.manager_uplift.model_copy(update={"strength": strength, **options})
    rest = {k: v for k, v in behaviour.items() if k not in options}
    config = config.model_copy(update={
        "behaviour": config.behaviour.model_copy(update={"manager_uplift": uplift, **rest})})
    write_dataset(config, folder / "raw", folder / "truth")
    return config


def _tables(raw: Path) -> Tables:
    read = {t: pd.read_parquet(raw / table_file(t))
            for t in ("transactions", "contacts", "customers", "managers")}
    return Tables(**read)


def _review_dates(config: GenerateConfig) -> list[pd.Timestamp]:
    start = pd.Timestamp(config.start_date)
    return [start + pd.Timedelta(days=7 * w)
            for w in review_weeks(n_weeks(config), config.behaviour.manager_uplift)]


def _cutoffs(config: GenerateConfig, decision_month: int | None, horizon: int) -> list:
    """The month ends of the pipeline's grid with a full label window: those of the review's
    month only (the others are left out by decision_month anyway), or all of them."""
    start, end = pd.Timestamp(config.start_date), pd.Timestamp(config.end_date)
    ends = pd.date_range(start, end - pd.Timedelta(days=horizon), freq="ME")
    return [c for c in ends if decision_month is None or c.month == decision_month]


def _uplift_score(est: pd.DataFrame, overlap: float) -> pd.Series:
    """The uplift policy's ranking: the estimated gain where the account is in overlap; an
    account the firm has always managed (propensity above 1 - overlap) first, as today; one it
    never managed (below overlap) never."""
    always = est[PROPENSITY] > 1 - overlap
    return est[MANAGER_GAIN].where(~always, np.inf)


DETAILS: dict = {}  # the last run's frames, for a closer look from a notebook


def run(seed: int, strength: float, n: int, decision: str = "review",
        config: ManagerEffectConfig | None = None, **behaviour) -> dict:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generated = _generate(folder, seed, strength, n, **behaviour)
        tables = _tables(folder / "raw")
        truth = pd.read_parquet(folder / "truth" / MANAGER_TRUTH).set_index(CUSTOMER_ID)
        value = pd.read_parquet(folder / "truth" / GROUND_TRUTH)
    end = pd.Timestamp(generated.end_date)
    value = value[value[AS_OF] == end].set_index(CUSTOMER_ID)
    month = _review_dates(generated)[0].month if decision == "review" else None
    config = (config or ManagerEffectConfig()).model_copy(
        update={"enabled": True, "decision_month": month})
    fconfig = FeaturesConfig()
    horizon = fconfig.horizon_days
    train = build_training_set(tables, _cutoffs(generated, month, horizon), fconfig)
    effect = estimate(train, config, horizon, n_jobs=1, random_state=seed)
    if not effect.estimated:
        raise SystemExit(f"seed {seed} strength {strength}: {effect.reason}")
    learner = effect.learner
    score = build(tables, end, fconfig)
    est = account_gains(effect, score).set_index(CUSTOMER_ID)
    ids = truth.index.intersection(est.index)
    est, truth, value = est.loc[ids], truth.loc[ids], value.reindex(ids)
    score = score.set_index(CUSTOMER_ID).loc[ids]
    customers = tables.customers.set_index(CUSTOMER_ID)
    region = customers[REGION].reindex(ids)
    managed = customers["current_manager_id"].reindex(ids).notna()
    capacity = managed.groupby(region).sum().astype(int).to_dict()
    true_effect = truth["true_manager_effect_spend"]
    overlap = config.overlap
    picks = {
        "status_quo": top_by_region(score[txn_spend_in(365)], region, capacity),
        "true_value": top_by_region(value["true_expected_spend"], region, capacity),
        "uplift": top_by_region(_uplift_score(est, overlap), region, capacity),
        "optimum": top_by_region(true_effect, region, capacity),
    }
    gains = {k: policy_gain(p, true_effect) for k, p in picks.items()}
    DETAILS.update(est=est, truth=truth, value=value, score=score, effect=effect,
                   picks=picks, region=region, capacity=capacity, train=train)
    inside = est[IN_OVERLAP].to_numpy(dtype=bool)
    X_score = score.reset_index()[list(learner.feature_names_in_)]
    draws = learner.bootstrap_effects(X_score)
    chosen = (picks["uplift"] & est[IN_OVERLAP]).to_numpy(dtype=bool)
    own = float(est[MANAGER_GAIN][chosen].sum())
    per, per_lo, per_hi = (learner.policy_value(min(1.0, chosen.sum() / inside.sum()), 0.9)
                           if chosen.any() else (0.0, 0.0, 0.0))
    claimed, claimed_lo, claimed_hi = (x * chosen.sum() for x in (per, per_lo, per_hi))
    shares = []
    always = est[PROPENSITY] > 1 - overlap
    for j in range(draws.shape[1]):
        refit = pd.Series(np.where(inside, draws[:, j], np.nan), index=ids)
        pick = top_by_region(refit.where(~always, np.inf), region, capacity)
        shares.append(attainable_share(policy_gain(pick, true_effect), gains["status_quo"],
                                       gains["optimum"]))
    share_lo, share_hi = np.quantile(shares, [0.05, 0.95]) if shares else (np.nan, np.nan)
    s = effect.summary
    return {
        "seed": seed, "strength": strength, **gains,
        "share_true_value": attainable_share(gains["true_value"], gains["status_quo"],
                                             gains["optimum"]),
        "share_uplift": attainable_share(gains["uplift"], gains["status_quo"], gains["optimum"]),
        "qini": qini(true_effect[inside], est[MANAGER_GAIN][inside]) if inside.any() else np.nan,
        "ate": s["ate"], "ate_lo": s["ate_lower"], "ate_hi": s["ate_upper"],
        "true_ate_overlap": float(true_effect[inside].mean()) if inside.any() else np.nan,
        "churn_ate": s.get("churn_ate", np.nan), "churn_lo": s.get("churn_ate_lower", np.nan),
        "churn_hi": s.get("churn_ate_upper", np.nan),
        "true_churn_overlap": float(truth[TRUE_CHURN_EFFECT][inside].mean())
        if inside.any() else np.nan,
        "claimed": claimed, "claimed_lo": float(claimed_lo), "claimed_hi": float(claimed_hi),
        "claimed_own": own,
        "claimed_truth": float(true_effect[chosen].sum()),
        "share_uplift_lo": float(share_lo), "share_uplift_hi": float(share_hi),
        "final_trees": s["final_trees"], "overlap_share": float(inside.mean()),
        "rows": s["rows"], "late": s["late_contact_rows"], "treated_rows": s["treated_share"],
        "optimum_in_overlap": float(est[IN_OVERLAP][picks["optimum"]].mean()),
        "slots": int(sum(capacity.values())), "seconds": time.perf_counter() - started,
    }


def _fmt(x: float, digits: int = 0) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:,.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--strengths", type=float, nargs="+", default=list(STRENGTHS))
    parser.add_argument("--wallet", choices=("elsewhere", "whole"), default="elsewhere",
                        help="bought_elsewhere on (the share-of-wallet generator) or off")
    parser.add_argument("--decision", choices=("review", "every"), default="review",
                        help="decision_month = the review's month, or every month end (null)")
    parser.add_argument("--overlap", type=float, default=ManagerEffectConfig().overlap)
    args = parser.parse_args()
    config = ManagerEffectConfig(overlap=args.overlap)
    rows = []
    for seed in args.seeds:
        for strength in args.strengths:
            r = run(seed, strength, args.customers, decision=args.decision, config=config,
                    bought_elsewhere=args.wallet == "elsewhere")
            rows.append(r)
            print(f"seed {seed} strength {strength}: {r['seconds']:.0f} s", file=sys.stderr)
    print(f"\n{args.customers:,} customers per base, wallet {args.wallet}, decision cutoffs "
          f"{args.decision}, overlap {args.overlap}; values: total true incremental spend over "
          "365 days of the accounts each rule gives a manager (slots = today's managed "
          "accounts)\n")
    print("| seed | strength | slots | status quo | true value | uplift | optimum | share true "
          "value | share uplift [90%] | Qini | ATE est. [90%] | true ATE (overlap) | uplift "
          "claimed [90%] | its truth | own estimates | final trees | rows (late) | overlap | "
          "optimum in overlap | churn effect est. [90%], points | true (overlap) |")
    print("|" + "---|" * 21)
    for r in rows:
        print(f"| {r['seed']} | {r['strength']} | {r['slots']} | {_fmt(r['status_quo'])} | "
              f"{_fmt(r['true_value'])} | {_fmt(r['uplift'])} | {_fmt(r['optimum'])} | "
              f"{_fmt(r['share_true_value'], 2)} | {_fmt(r['share_uplift'], 2)} "
              f"[{_fmt(r['share_uplift_lo'], 2)}, {_fmt(r['share_uplift_hi'], 2)}] | "
              f"{_fmt(r['qini'], 2)} | {_fmt(r['ate'])} [{_fmt(r['ate_lo'])}, "
              f"{_fmt(r['ate_hi'])}] | {_fmt(r['true_ate_overlap'])} | {_fmt(r['claimed'])} "
              f"[{_fmt(r['claimed_lo'])}, {_fmt(r['claimed_hi'])}] | "
              f"{_fmt(r['claimed_truth'])} | {_fmt(r['claimed_own'])} | "
              f"{r['final_trees']} | {r['rows']:,} "
              f"({r['late']:,}) | {r['overlap_share']:.0%} | "
              f"{r['optimum_in_overlap']:.0%} | {_fmt(100 * r['churn_ate'], 1)} "
              f"[{_fmt(100 * r['churn_lo'], 1)}, {_fmt(100 * r['churn_hi'], 1)}] | "
              f"{_fmt(100 * r['true_churn_overlap'], 1)} |")
    null = [r for r in rows if r["strength"] == 0]
    if null:
        # with no effect the average effect's interval should hold 0 on about 90% of bases:
        # z = estimate / its standard error (the 90% interval's half width / 1.645)
        z = [r["ate"] / ((r["ate_hi"] - r["ate_lo"]) / (2 * 1.645)) for r in null]
        beyond = sum(abs(v) > 1.645 for v in z)
        claims = sum(r["claimed_lo"] > 0 or r["claimed_hi"] < 0 for r in null)
        churn = [r["churn_ate"] / ((r["churn_hi"] - r["churn_lo"]) / (2 * 1.645))
                 for r in null]
        print(f"\nno-effect bases ({len(null)}): ATE z {', '.join(f'{v:.2f}' for v in z)} "
              f"(mean {np.mean(z):.2f}; {beyond} of {len(null)} beyond the 90% interval); "
              f"uplift claims excluding 0: {claims} of {len(null)}; churn effect z "
              f"{', '.join(f'{v:.2f}' for v in churn)} (mean {np.mean(churn):.2f}; "
              f"{sum(abs(v) > 1.645 for v in churn)} beyond)")


if __name__ == "__main__":
    main()

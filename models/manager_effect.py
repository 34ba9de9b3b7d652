"""The manager's effect on the project's own frames: what the treatment is, which rows and
features it is estimated on, and the per-account gain of the scoring frame (models.uplift does
the estimation).

The decision is "give this account a dedicated manager for the next horizon, or not", so the
treatment of a training row (an account at a cutoff) is what the firm decided then, read from
the contacts after the cutoff (the label `future_manager_contact_days`): a first manager
contact within `assigned_within_days` (half the horizon unless set) means the firm gave the
account a manager, no manager contact in that window means it did not. Nothing is left out:
an account first contacted later is read as not managed at the decision (intention to treat),
because a later first contact is a later decision, and that decision may react to the
outcome itself. At a yearly review the next review falls inside the horizon and picks the
accounts that grew over it, so the accounts first contacted late are mostly accounts that
grew without a manager; leaving them out (this module's earlier rule) dropped the high
spenders of the unmanaged arm and showed a gain where managers change nothing (with no
effect, over eight bench_uplift bases of the elsewhere wallet, 200 nuisance trees: the
average effect's z had a mean of 1.07 and three of eight claimed gains excluded 0; with
this rule 0.37 and one of eight; with the generator's true assignment the mean z was 0.11).
Half the horizon rather than a quarter: a continuing manager who calls rarely, or not at
all on an account that has quietly stopped buying, would be read as no manager and the
managed arm would lose its dead accounts (a quarter: mean z 1.08 over six bases). What is
left is a small bias of the same sign: managed accounts that die with no manager contact in
the window count as unmanaged. The customers table's current manager describes only today, so
it is never used for past cutoffs.

The natural experiments are the re-assignments: at the firm's yearly account review
(`decision_month`) some accounts gain a manager and some lose theirs, decided on what the
firm saw then, last year's revenue and who had a manager, which the features at that month's
end see. So the effect is fitted on those cutoffs, with every model feature as a confounder:
they all describe the account before the decision (the manager contacts before the cutoff
say who had a manager until then).

The outcome is the training label: spend over the horizon after the cutoff; the gain is then
the extra spend over the horizon a manager given now would bring.

The pipeline's wiring (the train and score stages call these): `estimate` fits the learner
on `training_rows` of the training set, or says in one sentence why it did not (disabled, no
manager contacts, every or no account managed, no overlap), and returns a `ManagerEffect`
(the train stage's artifact); `account_gains` gives each scored customer its gain, interval,
propensity, overlap flag and, where there is no estimate, the reason (`not_estimated`);
`manager_value_table` turns the gains into the value of one more and one fewer manager per
region (models.uplift.manager_value_curve).
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lightgbm.basic import LightGBMError

from features.contract import (
    CAPACITY,
    CUSTOMER_ID,
    CUTOFF,
    LABEL_CHURNED,
    LABEL_MANAGER_DAYS,
    LABEL_SPEND,
    REGION,
)
from features.names import CTC_HAS_MANAGER
from models.columns import (
    ACCOUNTS,
    GAIN_COLUMNS,
    GAIN_LOWER,
    GAIN_NOTE,
    GAIN_NOW,
    GAIN_UPPER,
    IN_OVERLAP,
    MANAGER_CAPACITY,
    MANAGER_GAIN,
    MARGINAL_VALUE,
    N_MANAGERS,
    ONE_FEWER,
    ONE_MORE,
    PROPENSITY,
    TOTAL_VALUE,
)
from models.config import ManagerEffectConfig
from models.training import labelled_cutoffs, model_features, sample_rows
from models.uplift import DRLearner, manager_value_curve

__all__ = ["TREATMENT", "ManagerEffect", "account_gains", "assignment_window", "churn_effect",
           "confounders", "decision_cutoffs", "estimate", "fit_manager_effect", "manager_gain",
           "manager_value_table", "not_estimated", "review_month_hint", "skip_reason",
           "training_rows", "treatment"]

TREATMENT = "had_manager"  # the treatment column `training_rows` adds (1 or 0)


def assignment_window(config: ManagerEffectConfig, horizon_days: int) -> int:
    """The days after a cutoff within which a first manager contact means the firm gave the
    account a manager: `config.assigned_within_days`, half the horizon when unset, never more
    than the horizon (the label sees no further)."""
    days = config.assigned_within_days
    return min(horizon_days, max(1, horizon_days // 2) if days is None else days)


def treatment(manager_days: pd.Series, window_days: int) -> pd.Series:
    """The firm's decision at each row's cutoff from the days to the first manager contact
    after it (LABEL_MANAGER_DAYS, NaN when none over the horizon): 1 within `window_days`
    (inclusive), else 0 (a later first contact is a later decision: the module docstring)."""
    days = manager_days.astype(float).to_numpy()
    return pd.Series(np.where(days <= window_days, 1.0, 0.0), index=manager_days.index)


def confounders(frame: pd.DataFrame) -> list[str]:
    """The feature columns of `frame` the effect is adjusted for: every model feature (they
    all describe the account before the decision; see the module docstring)."""
    return [c for c in model_features(frame) if c != TREATMENT]


def fit_manager_effect(train: pd.DataFrame, learner: DRLearner,
                       outcome: str = LABEL_SPEND) -> DRLearner:
    """`learner` fitted on `training_rows`' frame: treatment TREATMENT, outcome column
    `outcome`, the confounders as features, rows grouped by customer. ValueError when the
    treatment column is absent or has missing values."""
    if TREATMENT not in train.columns:
        raise ValueError(f"the rows have no {TREATMENT} column: build them with training_rows")
    treated = train[TREATMENT].to_numpy(dtype=float)
    if np.isnan(treated).any():
        raise ValueError(f"{TREATMENT} has missing values: build the rows with training_rows")
    return learner.fit(train[confounders(train)], train[outcome].to_numpy(dtype=float),
                       treated.astype(int), groups=train[CUSTOMER_ID].to_numpy())


def manager_gain(learner: DRLearner, frame: pd.DataFrame, level: float = 0.9) -> pd.DataFrame:
    """Per customer of the scoring `frame`: the estimated gain from a dedicated manager with
    its interval, the propensity and the overlap flag (models.uplift.DRLearner.effects),
    indexed like `frame` with its customer_id column first."""
    effects = learner.effects(frame[list(learner.feature_names_in_)], level=level)
    return pd.concat([frame[[CUSTOMER_ID]], effects], axis=1)


@dataclass(frozen=True)
class ManagerEffect:
    """The train stage's estimate of the manager's effect (its artifact, manager_effect.joblib).

    `learner`: the fitted DRLearner, None when nothing was estimated; `reason`: why not ("" when
    estimated); `level`: of the intervals; `summary`: what the MLflow run logs (average effect
    `ate` with `ate_lower` / `ate_upper`; `top_gain` with `top_gain_lower` / `top_gain_upper`:
    the out-of-sample average gain of the accounts the ranking puts first, the `top_share` of
    the rows in overlap that the firm manages there (DRLearner.policy_value), the honest
    claim for the accounts `rank_by: uplift` picks; `overlap_share` of the training rows,
    `treated_share`, `rows`, `late_contact_rows`, `customers`, `cutoffs`, `final_trees`;
    `decision_month` as configured and `review_month_hint` / `review_month_share` from
    `review_month_hint`; `churn_ate` with `churn_ate_lower` / `churn_ate_upper`, the average
    effect on the chance of no purchase over the horizon (`churn_effect`), or `churn_reason`;
    only `reason` when not estimated)."""

    learner: DRLearner | None
    reason: str = ""
    level: float = 0.9
    summary: dict = field(default_factory=dict)

    @property
    def estimated(self) -> bool:
        """Whether there is a fitted learner to score with."""
        return self.learner is not None

    def describe(self) -> str:
        """The estimate in one line (the train stage's log), or the reason there is none."""
        if not self.estimated:
            return self.reason
        s = self.summary
        return (f"average {s['ate']:,.1f} extra spend over the horizon ({s['level']:.0%} "
                f"interval {s['ate_lower']:,.1f} to {s['ate_upper']:,.1f}), "
                f"{s['overlap_share']:.1%} of {s['rows']:,} training rows in overlap, "
                f"{s['treated_share']:.1%} managed; the top {s['top_share']:.1%} of those in "
                f"overlap by estimated gain: {s['top_gain']:,.1f} each out of sample "
                f"({s['top_gain_lower']:,.1f} to {s['top_gain_upper']:,.1f})"
                + _churn_words(s)
                + review_month_advice(s.get("decision_month"), s.get("review_month_hint"),
                                      s.get("review_month_share", 0.0)))


def _churn_words(summary: dict) -> str:
    """The churn effect's part of `describe`: the change in the chance of no purchase over the
    horizon in points, with its interval, or why there is none."""
    if "churn_ate" in summary:
        return (f"; churn (no purchase over the horizon) {100 * summary['churn_ate']:+.1f} "
                f"points ({100 * summary['churn_ate_lower']:+.1f} to "
                f"{100 * summary['churn_ate_upper']:+.1f})")
    if "churn_reason" in summary:
        return f"; churn effect not estimated: {summary['churn_reason']}"
    return ""


def review_month_advice(decision_month: int | None, hint: int | None, share: float) -> str:
    """What the train log adds about `decision_month` from `review_month_hint`: nothing when
    there is no hint or the two agree, else a sentence saying what to set."""
    if hint is None or hint == decision_month:
        return ""
    name = pd.Timestamp(2000, hint, 1).month_name()
    after = pd.Timestamp(2000, hint % 12 + 1, 1).month_name()
    now = "null" if decision_month is None else str(decision_month)
    return (f"; {share:.0%} of the newly managed accounts had their first manager contact in "
            f"{after}: if the firm reviews its accounts at the end of {name}, set "
            f"manager_effect.decision_month: {hint} (now {now})")


def skip_reason(train: pd.DataFrame, n_splits: int = 3) -> str | None:
    """Why the manager's effect cannot be estimated on `training_rows`' frame (None when it
    can): no manager contact at all (no contacts table, or no manager_id in it), or one arm
    (managed / not managed) with fewer than `n_splits` rows."""
    if LABEL_MANAGER_DAYS not in train.columns or not train[LABEL_MANAGER_DAYS].notna().any():
        return ("no manager contact history (the contacts table, with manager_id, is absent or "
                "names no manager)")
    treated = train[TREATMENT].to_numpy(dtype=float)
    if (treated == 1).sum() < n_splits:
        return "no account had a dedicated manager in the training history"
    if (treated == 0).sum() < n_splits:
        return "every account had a dedicated manager in the training history"
    return None


def decision_cutoffs(training_set: pd.DataFrame, horizon_days: int,
                     decision_month: int | None, window_cutoffs: int) -> list[pd.Timestamp]:
    """The labelled cutoffs the effect is fitted on: those in `decision_month` (every one when
    None), the latest `window_cutoffs` of them."""
    cutoffs = labelled_cutoffs(training_set, horizon_days)
    if decision_month is not None:
        cutoffs = [c for c in cutoffs if pd.Timestamp(c).month == decision_month]
    return list(cutoffs)[-window_cutoffs:]


REVIEW_PEAK_SHARE = 0.4  # a month holding this share of new managers' first contacts: a review
REVIEW_MIN_ACCOUNTS = 20  # fewer newly managed accounts than this: no hint


def review_month_hint(training_set: pd.DataFrame) -> tuple[int | None, float, int]:
    """(month, share, accounts): the month at whose end the firm seems to review who gets a
    manager, read from the accounts that gained one: at a cutoff without a manager contact
    over the look-back (CTC_HAS_MANAGER 0) and with one after it (LABEL_MANAGER_DAYS), the
    calendar month of that first contact (each customer and date once). Where one month
    holds at least REVIEW_PEAK_SHARE of them (a twelfth would be spread evenly), the month
    before it is the hint: a review at a month's end is followed by the new managers' first
    calls. `accounts`: how many first contacts were read; month None without a peak or with
    fewer than REVIEW_MIN_ACCOUNTS. On bench_uplift's yearly review at the end of October,
    53-54% of them fell in November; on the demo, where managers are given at any time, the
    largest month held 26%."""
    if not {CTC_HAS_MANAGER, LABEL_MANAGER_DAYS} <= set(training_set.columns):
        return None, 0.0, 0
    new = training_set[(training_set[CTC_HAS_MANAGER].fillna(0) == 0)
                       & training_set[LABEL_MANAGER_DAYS].notna()]
    first = (pd.to_datetime(new[CUTOFF])
             + pd.to_timedelta(new[LABEL_MANAGER_DAYS].astype(float), unit="D"))
    contacts = pd.MultiIndex.from_arrays([new[CUSTOMER_ID].to_numpy(),
                                          first.dt.normalize().to_numpy()]).unique()
    if len(contacts) < REVIEW_MIN_ACCOUNTS:
        return None, 0.0, len(contacts)
    months = pd.Series(pd.DatetimeIndex(contacts.get_level_values(1)).month)
    shares = months.value_counts(normalize=True)
    peak, share = int(shares.idxmax()), float(shares.max())
    if share < REVIEW_PEAK_SHARE:
        return None, share, len(contacts)
    return (peak - 2) % 12 + 1, share, len(contacts)


def training_rows(training_set: pd.DataFrame, config: ManagerEffectConfig, horizon_days: int,
                  random_state: int = 0) -> tuple[pd.DataFrame, int]:
    """(rows, late): the labelled rows of `decision_cutoffs` with the TREATMENT column
    (`treatment` within `assignment_window`), spend clipped at 0 (returns beyond purchases
    count as no spend), sampled down to `config.max_rows` (models.training.sample_rows);
    `late`: how many of them were first contacted by a manager after the window (read as not
    managed at the decision, counted so a run shows how many)."""
    cutoffs = decision_cutoffs(training_set, horizon_days, config.decision_month,
                               config.window_cutoffs)
    if not cutoffs or LABEL_MANAGER_DAYS not in training_set.columns:
        return training_set.iloc[:0].assign(**{TREATMENT: pd.Series(dtype=float)}), 0
    rows = training_set[training_set[CUTOFF].isin(cutoffs) & training_set[LABEL_SPEND].notna()
                        & training_set[LABEL_CHURNED].notna()]
    window = assignment_window(config, horizon_days)
    rows = rows.assign(**{TREATMENT: treatment(rows[LABEL_MANAGER_DAYS], window),
                          LABEL_SPEND: rows[LABEL_SPEND].clip(lower=0)})
    rows = sample_rows(rows, config.max_rows, random_state)
    late = int((rows[LABEL_MANAGER_DAYS] > window).sum())
    return rows, late


def _learner(config: ManagerEffectConfig, columns, n_jobs: int, random_state: int) -> DRLearner:
    final = [c for c in config.final_features if c in columns]
    level = config.level_column if config.level_column in columns else None
    return DRLearner(outcome="tweedie", n_splits=config.n_splits, overlap=config.overlap,
                     n_bootstrap=config.n_bootstrap, n_estimators=config.n_estimators,
                     n_jobs=n_jobs, random_state=random_state, pooled_outcome=True,
                     final_scale="relative", level_column=level,
                     final_features=final or None, select_trees=True)


def estimate(training_set: pd.DataFrame, config: ManagerEffectConfig, horizon_days: int,
             n_jobs: int = 1, random_state: int = 0) -> ManagerEffect:
    """The manager's effect on spend over the horizon, fitted on `training_rows` of the stacked
    `training_set` (a pooled Tweedie outcome model, the effect relative to last year's spend
    and varying with `config.final_features`, its number of trees chosen by held-out DR loss),
    or a ManagerEffect without a learner and with the reason when it is disabled or cannot be
    estimated: never an error."""
    if not config.enabled:
        return ManagerEffect(None, "not estimated: model.manager_effect.enabled is false",
                             config.level)
    train, late = training_rows(training_set, config, horizon_days, random_state)
    if train.empty:
        month = ("" if config.decision_month is None
                 else f" in month {config.decision_month} (manager_effect.decision_month)")
        return ManagerEffect(None, "not estimated: no cutoff with a fully observed label "
                             f"window{month}", config.level)
    reason = skip_reason(train, config.n_splits)
    if reason is not None:
        return ManagerEffect(None, f"not estimated: {reason}", config.level)
    hint, hint_share, _ = review_month_hint(training_set)
    learner = _learner(config, set(confounders(train)), n_jobs, random_state)
    try:
        fit_manager_effect(train, learner)
    except ValueError as error:  # e.g. the arms do not overlap: say so, score without it
        return ManagerEffect(None, f"not estimated: {error}", config.level)
    churn = churn_effect(train, config, n_jobs, random_state) if config.churn_effect else {}
    lower, upper = learner.ate_interval(config.level)
    # the out-of-sample gain per account of the ranking's top accounts, as many of those in
    # overlap as the firm manages there (models.uplift.DRLearner.policy_value)
    inside = learner.overlap_
    share = float(train[TREATMENT].to_numpy(dtype=float)[inside].mean())
    top, top_lower, top_upper = learner.policy_value(max(share, 1 / inside.sum()), config.level)
    summary = {"ate": learner.ate_, "ate_lower": lower, "ate_upper": upper,
               "top_gain": top, "top_gain_lower": top_lower, "top_gain_upper": top_upper,
               "top_share": share,
               "overlap_share": learner.n_overlap_ / learner.n_rows_,
               "treated_share": float(train[TREATMENT].mean()), "rows": int(learner.n_rows_),
               "late_contact_rows": late, "customers": int(train[CUSTOMER_ID].nunique()),
               "cutoffs": int(train[CUTOFF].nunique()), "final_trees": learner.final_trees_,
               "level": config.level,
               "decision_month": config.decision_month, "review_month_hint": hint,
               "review_month_share": hint_share, **churn}
    return ManagerEffect(learner, "", config.level, summary)


def churn_effect(train: pd.DataFrame, config: ManagerEffectConfig, n_jobs: int = 1,
                 random_state: int = 0) -> dict:
    """The manager's average effect on churn (LABEL_CHURNED: no purchase over the horizon) on
    the same rows, by a DR learner with a pooled log-loss outcome model and the spend
    learner's folds, overlap and trees (its per-account final model is fitted but not
    published): {"churn_ate", "churn_ate_lower", "churn_ate_upper"} (a difference of
    probabilities, negative when a manager keeps accounts), or {"churn_reason"} when it
    cannot be fitted (never an error: the spend estimate stands without it)."""
    churned = train[LABEL_CHURNED].to_numpy(dtype=float)
    if len(np.unique(churned)) < 2:
        return {"churn_reason": "every training row churned or none did"}
    learner = _learner(config, set(confounders(train)), n_jobs, random_state).set_params(
        outcome="binary", final_scale="absolute", level_column=None, n_bootstrap=0)
    try:
        fit_manager_effect(train, learner, outcome=LABEL_CHURNED)
    except (ValueError, LightGBMError) as error:
        return {"churn_reason": str(error)}
    lower, upper = learner.ate_interval(config.level)
    return {"churn_ate": learner.ate_, "churn_ate_lower": lower, "churn_ate_upper": upper}


def not_estimated(frame: pd.DataFrame, reason: str) -> pd.DataFrame:
    """The gain columns of `frame`'s customers when there is no estimate: empty gain,
    interval and propensity, not in overlap, `reason` as the note; indexed like `frame`."""
    nan = np.full(len(frame), np.nan)
    return pd.DataFrame({CUSTOMER_ID: frame[CUSTOMER_ID].to_numpy(), MANAGER_GAIN: nan,
                         GAIN_LOWER: nan, GAIN_UPPER: nan, PROPENSITY: nan,
                         IN_OVERLAP: np.zeros(len(frame), dtype=bool),
                         GAIN_NOTE: reason}, index=frame.index)


def account_gains(effect: ManagerEffect | None, frame: pd.DataFrame) -> pd.DataFrame:
    """Per customer of the scoring `frame` (indexed like it): customer_id and GAIN_COLUMNS.
    Outside overlap the gain is empty and the note says which way the account lies (accounts
    like it nearly always / nearly never have a manager); without an estimate every row
    carries the effect's reason; a frame without the learner's features too."""
    if effect is None:
        return not_estimated(frame, "not estimated: no manager effect trained (re-run "
                                    "`keyaccounts train`)")
    if not effect.estimated:
        return not_estimated(frame, effect.reason)
    learner = effect.learner
    missing = [c for c in learner.feature_names_in_ if c not in frame.columns]
    if missing:
        return not_estimated(frame, "not estimated: the scoring frame lacks "
                                    f"{', '.join(missing[:3])} (re-run `keyaccounts train`)")
    out = manager_gain(learner, frame, effect.level)
    high = out[PROPENSITY] > 1 - learner.overlap
    out[GAIN_NOTE] = np.where(
        out[IN_OVERLAP], "",
        np.where(high, "no estimate: accounts like this nearly always have a manager",
                 "no estimate: accounts like this nearly never have a manager"))
    return out[[CUSTOMER_ID, *GAIN_COLUMNS]]


def manager_value_table(gains: pd.Series, region: pd.Series, managers: pd.DataFrame | None
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per region, what its managers are worth by the estimated gains (`gains`, aligned with
    `region`; empty gains take no manager): (table, curve).

    `managers`: the active managers (manager_id, region, capacity); a region's manager takes
    the mean capacity of its managers (of all managers where it has none). `curve` is
    models.uplift.manager_value_curve for 1 .. n + 1 managers (n: the region's managers now);
    `table` has per region: managers (n), capacity_per_manager, gain_now (the gain of the
    accounts n managers would take by the largest estimated gains), one_more_manager (the
    gain the (n + 1)-th would add) and one_fewer_manager (the gain lost without the n-th,
    negative; empty with no manager). Both empty without managers or without any gain."""
    table_columns = [REGION, N_MANAGERS, MANAGER_CAPACITY, GAIN_NOW, ONE_MORE, ONE_FEWER]
    empty = pd.DataFrame(columns=table_columns), pd.DataFrame(
        columns=[REGION, N_MANAGERS, ACCOUNTS, MARGINAL_VALUE, TOTAL_VALUE])
    if managers is None or managers.empty or not gains.notna().any():
        return empty
    capacity = managers[CAPACITY].astype(float)
    overall = max(1, int(round(capacity[capacity > 0].mean()))) if (capacity > 0).any() else 1
    rows, curves = [], []
    region = region.astype(str)
    for name in sorted(set(region)):
        mine = managers[managers[REGION].astype(str) == name]
        n = len(mine)
        held = mine[CAPACITY].astype(float)
        per = max(1, int(round(held.mean()))) if n and (held > 0).any() else overall
        here = region == name
        curve = manager_value_curve(gains[here], region[here], per, n + 1)
        marginal = curve[MARGINAL_VALUE].to_numpy(dtype=float)
        rows.append({REGION: name, N_MANAGERS: n, MANAGER_CAPACITY: per,
                     GAIN_NOW: float(marginal[:n].sum()), ONE_MORE: float(marginal[n]),
                     ONE_FEWER: -float(marginal[n - 1]) if n else np.nan})
        curves.append(curve)
    return pd.DataFrame(rows, columns=table_columns), pd.concat(curves, ignore_index=True)

"""The manager's effect on the project's own frames: what the treatment is, which features
may adjust for it, and the per-account gain of the scoring frame (models.uplift does the
estimation).

The treatment is "had a dedicated manager at the cutoff": the feature `ctc_has_manager`, a
contact by a manager within `manager_lookback_days` before the cutoff (features/contacts.py).
It is reconstructed from the contacts history rather than read from the customers table's
current manager, because that column describes today: at past cutoffs it would call an
account managed that was not yet, or no longer, managed. The stacked training cutoffs then
hold the natural experiments the estimate leans on: accounts that gained or lost a manager
appear at some cutoffs treated and at others not, next to similar accounts that did not
change.

The adjustment features (confounders) are what the firm could have assigned on and what
shaped the account before the manager: the transactions, the BTYD summary and the customer
attributes. The contacts family is left out: manager visits are the treatment itself, and
complaints and conversions after a manager starts are its consequences; adjusting for them
would hide the effect being measured.

The outcome is the training set's label: spend over the horizon after the cutoff (the gain
is then extra spend over the horizon), or churned (the gain is then the change in the
probability of buying nothing: negative is good).

The pipeline's wiring (the train and score stages call these): `estimate` fits the learner
on the latest labelled cutoffs of the training set, or says in one sentence why it did not
(disabled, no manager contacts, every or no account managed, no overlap), and returns a
`ManagerEffect` (the train stage's artifact); `account_gains` gives each scored customer its
gain, interval, propensity, overlap flag and, where there is no estimate, the reason
(`not_estimated`); `manager_value_table` turns the gains into the value of one more and one
fewer manager per region (models.uplift.manager_value_curve).
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.catalogue import lookup
from features.contract import CAPACITY, CUSTOMER_ID, CUTOFF, LABEL_CHURNED, LABEL_SPEND, REGION
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

__all__ = ["TREATMENT", "ManagerEffect", "account_gains", "confounders", "estimate",
           "fit_manager_effect", "manager_gain", "manager_value_table", "not_estimated",
           "skip_reason", "training_rows"]

TREATMENT = CTC_HAS_MANAGER
_ADJUST_FAMILIES = ("transactions", "btyd", "customers")


def _family(column: str) -> str | None:
    try:
        return lookup(column).family
    except KeyError:
        return None  # not a catalogue feature (a BTYD prediction): kept as a confounder


def confounders(frame: pd.DataFrame) -> list[str]:
    """The feature columns of `frame` the effect is adjusted for: every model feature but the
    contacts family (see the module docstring)."""
    return [c for c in model_features(frame)
            if _family(c) in _ADJUST_FAMILIES or _family(c) is None]


def fit_manager_effect(train: pd.DataFrame, learner: DRLearner,
                       outcome: str = LABEL_SPEND) -> DRLearner:
    """`learner` fitted on the stacked training set: treatment `ctc_has_manager`, outcome
    column `outcome`, the confounders as features, rows grouped by customer. ValueError
    naming the fix when the treatment column is absent (no contacts table, or no manager
    in it) or one arm is empty."""
    if TREATMENT not in train.columns:
        raise ValueError(
            f"the training set has no {TREATMENT} column: the manager's effect needs a "
            "contacts table with manager_id (configs/data.yaml) and the contacts feature "
            "family on (configs/features.yaml)")
    treated = train[TREATMENT].to_numpy(dtype=float)
    if np.isnan(treated).any():
        raise ValueError(f"{TREATMENT} has missing values in the training set")
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
    `ate` with `ate_lower` / `ate_upper`, `overlap_share` of the training rows, `treated_share`,
    `rows`, `customers`, `cutoffs`; only `reason` when not estimated)."""

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
                f"{s['treated_share']:.1%} managed")


def skip_reason(train: pd.DataFrame, n_splits: int = 3) -> str | None:
    """Why the manager's effect cannot be estimated on `train` (None when it can): no
    treatment column (no contacts table, or no manager_id in it), or one arm (managed /
    not managed) with fewer than `n_splits` rows."""
    if TREATMENT not in train.columns:
        return ("no manager contact history (the contacts table, with manager_id, is absent or "
                "the contacts family is off)")
    treated = train[TREATMENT].fillna(0).to_numpy(dtype=float) > 0
    if treated.sum() < n_splits:
        return "no account had a dedicated manager in the training history"
    if (~treated).sum() < n_splits:
        return "every account had a dedicated manager in the training history"
    return None


def training_rows(training_set: pd.DataFrame, horizon_days: int, window_cutoffs: int,
                  max_rows: int | None, random_state: int = 0) -> pd.DataFrame:
    """The rows the effect is fitted on: the latest `window_cutoffs` cutoffs whose labels are
    fully observed, labelled rows only, sampled down to `max_rows` (models.training.sample_rows)."""
    cutoffs = labelled_cutoffs(training_set, horizon_days)[-window_cutoffs:]
    if not cutoffs:
        return training_set.iloc[:0]
    rows = training_set[training_set[CUTOFF].isin(cutoffs) & training_set[LABEL_SPEND].notna()
                        & training_set[LABEL_CHURNED].notna()]
    return sample_rows(rows, max_rows, random_state)


def estimate(training_set: pd.DataFrame, config: ManagerEffectConfig, horizon_days: int,
             n_jobs: int = 1, random_state: int = 0) -> ManagerEffect:
    """The manager's effect on spend over the horizon, fitted on `training_rows` of the stacked
    `training_set` (treatment TREATMENT, the confounders, a Tweedie outcome model: spend is
    clipped at 0, returns beyond purchases count as no spend), or a ManagerEffect without a
    learner and with the reason when it is disabled or cannot be estimated: never an error."""
    if not config.enabled:
        return ManagerEffect(None, "not estimated: model.manager_effect.enabled is false",
                             config.level)
    train = training_rows(training_set, horizon_days, config.window_cutoffs, config.max_rows,
                          random_state)
    if train.empty:
        return ManagerEffect(None, "not estimated: no cutoff with a fully observed label "
                             "window", config.level)
    reason = skip_reason(train, config.n_splits)
    if reason is not None:
        return ManagerEffect(None, f"not estimated: {reason}", config.level)
    learner = DRLearner(outcome="tweedie", n_splits=config.n_splits, overlap=config.overlap,
                        n_bootstrap=config.n_bootstrap, n_estimators=config.n_estimators,
                        n_jobs=n_jobs, random_state=random_state)
    train = train.assign(**{LABEL_SPEND: train[LABEL_SPEND].clip(lower=0),
                            TREATMENT: train[TREATMENT].fillna(0)})
    try:
        fit_manager_effect(train, learner)
    except ValueError as error:  # e.g. the arms do not overlap: say so, score without it
        return ManagerEffect(None, f"not estimated: {error}", config.level)
    lower, upper = learner.ate_interval(config.level)
    summary = {"ate": learner.ate_, "ate_lower": lower, "ate_upper": upper,
               "overlap_share": learner.n_overlap_ / learner.n_rows_,
               "treated_share": float(train[TREATMENT].mean()), "rows": int(learner.n_rows_),
               "customers": int(train[CUSTOMER_ID].nunique()),
               "cutoffs": int(train[CUTOFF].nunique()), "level": config.level}
    return ManagerEffect(learner, "", config.level, summary)


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

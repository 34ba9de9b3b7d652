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
"""

import numpy as np
import pandas as pd

from features.catalogue import lookup
from features.contract import CUSTOMER_ID, LABEL_SPEND
from features.names import CTC_HAS_MANAGER
from models.training import model_features
from models.uplift import DRLearner

__all__ = ["TREATMENT", "confounders", "fit_manager_effect", "manager_gain"]

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

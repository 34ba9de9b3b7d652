"""Names of the columns the models write: scores, BTYD predictions, tiers, books, shortfall.

The one place each is spelled; every other module imports it (the input columns are in
features/contract.py, the feature columns in features/names.py).
- scores (one row per customer, models.training.predict and the score stage): expected value
  over the horizon, churn probability, value at risk, the last order and contact dates, the
  reasons and the stamp of the models that scored (version and MLflow run of each);
- BTYD predictions over the horizon (models.btyd), which are features of the LightGBM models
  too when `btyd_features` is on;
- tiers (models.tiering.assign_tiers / decide): ranking score, percentile, ranks, tier, reason,
  retention flag, the tier before, the change since then, the manager kept;
- books per manager and shortfall per capacity pool (models.assignment, models.tiering).
`RankBy` is the choice of the ranking score in configs/tiers.yaml: two of its values are
score columns; `uplift` and `value_uplift` rank by the manager's estimated gain.
"""

from typing import Literal

__all__ = [
    "EXPECTED_VALUE", "CHURN_PROBABILITY", "VALUE_AT_RISK", "SCORE_COLUMNS",
    "LAST_ORDER_DATE", "LAST_CONTACT_DATE", "REASONS",
    "VALUE_VERSION", "VALUE_RUN_ID", "CHURN_VERSION", "CHURN_RUN_ID", "RUN_ID",
    "BTYD_PROB_ALIVE", "BTYD_EXPECTED_ORDERS", "BTYD_EXPECTED_SPEND", "BTYD_PROB_NO_PURCHASE",
    "BTYD_OUTPUTS",
    "PREVIOUS_TIER", "TIER", "RANK_SCORE", "PERCENTILE", "RANK", "REGION_RANK", "TIER_REASON",
    "RETENTION", "CHANGE", "KEPT_MANAGER",
    "ACCOUNTS", "UNASSIGNED", "POOL", "CANDIDATES", "STRATEGIC", "OVERFLOW",
    "MANAGER_GAIN", "GAIN_LOWER", "GAIN_UPPER", "PROPENSITY", "IN_OVERLAP",
    "GAIN_NOTE", "N_MANAGERS", "MARGINAL_VALUE", "TOTAL_VALUE",
    "MANAGER_CAPACITY", "GAIN_NOW", "ONE_MORE", "ONE_FEWER", "GAIN_COLUMNS",
    "UPLIFT", "VALUE_UPLIFT", "RankBy",
]

# scores
EXPECTED_VALUE = "expected_value"
CHURN_PROBABILITY = "churn_probability"
VALUE_AT_RISK = "value_at_risk"
SCORE_COLUMNS = (EXPECTED_VALUE, CHURN_PROBABILITY)  # the two model scores (drift watches them)
LAST_ORDER_DATE = "last_order_date"
LAST_CONTACT_DATE = "last_contact_date"
REASONS = "reasons"
# the stamp of the models that scored; each model has its own version and run
VALUE_VERSION, VALUE_RUN_ID = "value_model_version", "value_run_id"
CHURN_VERSION, CHURN_RUN_ID = "churn_model_version", "churn_run_id"
RUN_ID = "run_id"  # the run that wrote a row (tiers and their history)

# BTYD predictions over the horizon
BTYD_PROB_ALIVE = "btyd_prob_alive"
BTYD_EXPECTED_ORDERS = "btyd_expected_orders"
BTYD_EXPECTED_SPEND = "btyd_expected_spend"
BTYD_PROB_NO_PURCHASE = "btyd_prob_no_purchase"
BTYD_OUTPUTS = (BTYD_PROB_ALIVE, BTYD_EXPECTED_ORDERS, BTYD_EXPECTED_SPEND, BTYD_PROB_NO_PURCHASE)

# tiers
PREVIOUS_TIER = "previous_tier"
TIER = "tier"
RANK_SCORE = "rank_score"
PERCENTILE = "score_percentile"
RANK = "rank"
REGION_RANK = "region_rank"
TIER_REASON = "tier_reason"
RETENTION = "retention_flag"
CHANGE = "change"
KEPT_MANAGER = "kept_manager"

# books (per manager: manager_id, region, capacity, accounts, expected_value) and shortfall
# (per pool or region: candidates, capacity, strategic, overflow; accounts, unassigned)
ACCOUNTS = "accounts"
UNASSIGNED = "unassigned"
POOL = "pool"
CANDIDATES = "candidates"
STRATEGIC = "strategic"  # strategic accounts placed within capacity
OVERFLOW = "overflow"

# the manager's effect (models.uplift): the estimated gain per account with its interval, the
# propensity of having a manager and whether comparable accounts exist; the value of the k-th
# manager of a region (manager_value_curve: region, managers, accounts, marginal, total)
MANAGER_GAIN = "manager_gain"
GAIN_LOWER, GAIN_UPPER = "manager_gain_lower", "manager_gain_upper"
PROPENSITY = "manager_propensity"
IN_OVERLAP = "in_overlap"
GAIN_NOTE = "manager_gain_note"  # why an account has no estimate ("" when it has one)
GAIN_COLUMNS = (MANAGER_GAIN, GAIN_LOWER, GAIN_UPPER, PROPENSITY, IN_OVERLAP, GAIN_NOTE)
N_MANAGERS = "managers"  # the number of managers of a region
MARGINAL_VALUE = "marginal_value"
TOTAL_VALUE = "total_value"
# per region (models.manager_effect.manager_value_table): the accounts one manager takes, the
# estimated gain of the managers it has now, and of one more / one fewer manager
MANAGER_CAPACITY = "capacity_per_manager"
GAIN_NOW = "gain_now"
ONE_MORE, ONE_FEWER = "one_more_manager", "one_fewer_manager"

# rank_by values that rank by the manager's effect (models.tiering.rank_score)
UPLIFT, VALUE_UPLIFT = "uplift", "value_uplift"

RankBy = Literal["expected_value", "value_at_risk", "mix", "uplift", "value_uplift"]

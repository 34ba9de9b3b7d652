"""Names of the feature columns: the one place a feature's name is spelled.

Fixed features are constants; windowed features are families, one function each, that
render the name for a window (and channel): `txn_spend_in(90)` is "txn_spend_90d". The
catalogue (features/catalogue.py) writes its templates with the same functions given the
placeholder, `txn_spend_in("{window}")` = "txn_spend_{window}d", and expands them with the
configured windows and channels, so a name and its catalogue entry cannot drift apart.
`FAMILIES` lists the family functions (tests/test_vocabulary.py renders each with
placeholders to recognise a family name written by hand). Prefixes: txn_ transactions, btyd_ the buy-till-you-die
summary, ctc_ contacts, cust_ customer attributes.
"""

__all__ = [
    "TXN_DAYS_SINCE_LAST_ORDER", "TXN_TENURE_DAYS", "TXN_ORDERS", "TXN_ORDER_DAYS",
    "TXN_SPEND_TOTAL", "TXN_MEAN_ORDER_VALUE", "TXN_ORDER_DAY_SPEND_STD",
    "TXN_ORDER_DAY_SPEND_MAX", "TXN_GAP_MEAN_DAYS", "TXN_GAP_STD_DAYS", "TXN_OVERDUE_RATIO",
    "TXN_RETURN_SHARE", "TXN_CATEGORIES", "TXN_CATEGORY_HHI", "TXN_SEASON_NEXT_QUARTER_SHARE",
    "TXN_SEASON_STRENGTH",
    "BTYD_FREQUENCY", "BTYD_RECENCY", "BTYD_T", "BTYD_MONETARY", "BTYD_SUMMARY",
    "CTC_DAYS_SINCE_LAST_CONTACT", "CTC_DAYS_SINCE_MANAGER_VISIT", "CTC_HAS_MANAGER",
    "CUST_SIZE_EMPLOYEES", "CUST_RELATIONSHIP_DAYS", "CUST_REGION", "CUST_INDUSTRY",
    "CUST_SIZE_BAND",
    "FAMILIES",
    "txn_orders_in", "txn_spend_in", "txn_spend_trend", "ctc_contacts", "ctc_complaints",
    "ctc_order_conversion",
]

# transactions
TXN_DAYS_SINCE_LAST_ORDER = "txn_days_since_last_order"
TXN_TENURE_DAYS = "txn_tenure_days"
TXN_ORDERS = "txn_orders"
TXN_ORDER_DAYS = "txn_order_days"
TXN_SPEND_TOTAL = "txn_spend_total"
TXN_MEAN_ORDER_VALUE = "txn_mean_order_value"
TXN_ORDER_DAY_SPEND_STD = "txn_order_day_spend_std"
TXN_ORDER_DAY_SPEND_MAX = "txn_order_day_spend_max"
TXN_GAP_MEAN_DAYS = "txn_gap_mean_days"
TXN_GAP_STD_DAYS = "txn_gap_std_days"
TXN_OVERDUE_RATIO = "txn_overdue_ratio"
TXN_RETURN_SHARE = "txn_return_share"
TXN_CATEGORIES = "txn_categories"
TXN_CATEGORY_HHI = "txn_category_hhi"
TXN_SEASON_NEXT_QUARTER_SHARE = "txn_season_next_quarter_share"
TXN_SEASON_STRENGTH = "txn_season_strength"

# the buy-till-you-die summary (lifetimes conventions, days), the inputs of BG/NBD and Gamma-Gamma
BTYD_FREQUENCY = "btyd_frequency"
BTYD_RECENCY = "btyd_recency"
BTYD_T = "btyd_T"
BTYD_MONETARY = "btyd_monetary"
BTYD_SUMMARY = (BTYD_FREQUENCY, BTYD_RECENCY, BTYD_T, BTYD_MONETARY)

# contacts
CTC_DAYS_SINCE_LAST_CONTACT = "ctc_days_since_last_contact"
CTC_DAYS_SINCE_MANAGER_VISIT = "ctc_days_since_manager_visit"
CTC_HAS_MANAGER = "ctc_has_manager"

# customers
CUST_SIZE_EMPLOYEES = "cust_size_employees"
CUST_RELATIONSHIP_DAYS = "cust_relationship_days"
CUST_REGION = "cust_region"
CUST_INDUSTRY = "cust_industry"
CUST_SIZE_BAND = "cust_size_band"


def txn_orders_in(window: int | str) -> str:
    """Orders in the last `window` days: "txn_orders_90d"."""
    return f"txn_orders_{window}d"


def txn_spend_in(window: int | str) -> str:
    """Spend in the last `window` days: "txn_spend_90d"."""
    return f"txn_spend_{window}d"


def txn_spend_trend(window: int | str) -> str:
    """Spend trend, the last `window` days against the `window` before: "txn_spend_trend_90d"."""
    return f"txn_spend_trend_{window}d"


def ctc_contacts(channel: str, window: int | str) -> str:
    """Contacts of `channel` in the last `window` days: "ctc_visit_90d"."""
    return f"ctc_{channel}_{window}d"


def ctc_complaints(window: int | str) -> str:
    """Complaints in the last `window` days: "ctc_complaints_180d"."""
    return f"ctc_complaints_{window}d"


def ctc_order_conversion(window: int | str) -> str:
    """Share of the contacts of the last `window` days that ended in an order."""
    return f"ctc_order_conversion_{window}d"


FAMILIES = (txn_orders_in, txn_spend_in, txn_spend_trend, ctc_contacts, ctc_complaints,
            ctc_order_conversion)

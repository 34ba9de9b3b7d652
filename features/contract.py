"""Column names of the data contract and of the frames passed between stages.

Validated tables use these names whatever the source files call them (configs/data.yaml maps
them). Identifiers are strings kept exactly as given.
"""

from dataclasses import dataclass

import pandas as pd

__all__ = [
    "Tables",
    "CUSTOMER_ID", "ORDER_ID", "ORDER_DATE", "AMOUNT", "CATEGORY", "QUANTITY", "CHANNEL",
    "CONTACT_DATE", "MANAGER_ID", "OUTCOME", "REGION", "INDUSTRY", "SIZE", "CREATED_DATE",
    "CURRENT_MANAGER_ID", "CURRENT_TIER", "CAPACITY", "ACTIVE",
    "AS_OF", "CUTOFF", "HORIZON_DAYS", "LABEL_SPEND", "LABEL_CHURNED", "LABEL_MANAGER_DAYS",
    "TRANSACTIONS", "CONTACTS", "CUSTOMERS", "MANAGERS", "TABLES", "COLUMNS",
]

# transactions
CUSTOMER_ID = "customer_id"
ORDER_ID = "order_id"
ORDER_DATE = "order_date"
AMOUNT = "amount"  # a negative amount is a return
CATEGORY = "category"
QUANTITY = "quantity"
CHANNEL = "channel"  # also the channel of a contact

# contacts
CONTACT_DATE = "contact_date"
MANAGER_ID = "manager_id"
OUTCOME = "outcome"  # e.g. "order", "complaint", "none"

# customers
REGION = "region"
INDUSTRY = "industry"
SIZE = "size"
CREATED_DATE = "created_date"
CURRENT_MANAGER_ID = "current_manager_id"
CURRENT_TIER = "current_tier"

# managers (MANAGER_ID, REGION and:)
CAPACITY = "capacity"
ACTIVE = "active"

# frames between stages
AS_OF = "as_of"
CUTOFF = "cutoff"
HORIZON_DAYS = "horizon_days"
LABEL_SPEND = "future_spend"
LABEL_CHURNED = "churned"
# days from the cutoff to the first contact by a manager in the label window (NaN: none);
# the manager's effect reads who the firm gave a manager from it (models.manager_effect)
LABEL_MANAGER_DAYS = "future_manager_contact_days"

# table names, as in configs/data.yaml and the validated Parquet files
TRANSACTIONS = "transactions"
CONTACTS = "contacts"
CUSTOMERS = "customers"
MANAGERS = "managers"
TABLES = (TRANSACTIONS, CONTACTS, CUSTOMERS, MANAGERS)

# the columns of each table in contract order: what a source may map (configs/data.yaml)
COLUMNS: dict[str, tuple[str, ...]] = {
    TRANSACTIONS: (CUSTOMER_ID, ORDER_ID, ORDER_DATE, AMOUNT, CATEGORY, QUANTITY, CHANNEL),
    CONTACTS: (CUSTOMER_ID, CONTACT_DATE, CHANNEL, MANAGER_ID, OUTCOME),
    CUSTOMERS: (CUSTOMER_ID, REGION, INDUSTRY, SIZE, CREATED_DATE, CURRENT_MANAGER_ID,
                CURRENT_TIER),
    MANAGERS: (MANAGER_ID, REGION, CAPACITY, ACTIVE),
}


@dataclass(frozen=True)
class Tables:
    """The validated input tables; only transactions is required, the others may be None."""

    transactions: pd.DataFrame
    contacts: pd.DataFrame | None = None
    customers: pd.DataFrame | None = None
    managers: pd.DataFrame | None = None

"""The tables of the data contract as the validator sees them: column kinds, required columns,
keys and the order tables are checked in (referenced tables first)."""

from dataclasses import dataclass

from features.contract import (
    ACTIVE,
    AMOUNT,
    CAPACITY,
    CATEGORY,
    CHANNEL,
    CONTACT_DATE,
    CONTACTS,
    CREATED_DATE,
    CURRENT_MANAGER_ID,
    CURRENT_TIER,
    CUSTOMER_ID,
    CUSTOMERS,
    INDUSTRY,
    MANAGER_ID,
    MANAGERS,
    ORDER_DATE,
    ORDER_ID,
    OUTCOME,
    QUANTITY,
    REGION,
    SIZE,
    TRANSACTIONS,
)

__all__ = ["CHECK_ORDER", "SPECS", "Kind", "TableSpec"]

# A column's kind decides how it is parsed and typed:
# "id" and "str" -> str, kept exactly; "date" -> datetime64[ns] at day precision;
# "float" -> float64; "int" -> nullable Int64; "count" -> Int64 >= 0; "positive" -> Int64 > 0;
# "bool" -> nullable boolean.
Kind = str


@dataclass(frozen=True)
class TableSpec:
    """One contract table: its canonical columns with their kinds and what must be present.

    `key` is the identifier whose null value makes a row unusable ("null_id"); `unique` says
    the key must not repeat (customers, managers); `required` columns must exist in the
    source; `not_null` columns must hold a value in every accepted row. `dedupe` is the
    default of data.yaml `<table>.dedupe`: "exact_rows" refuses an exact copy of an earlier
    row as duplicate_row, "none" keeps it (contacts have no id of their own, so two calls to
    one customer on one day over one channel are two identical, genuine rows).
    """

    name: str
    columns: dict[str, Kind]
    required: tuple[str, ...]
    key: str
    unique: bool = False
    not_null: tuple[str, ...] = ()
    dedupe: str = "exact_rows"

    def dates(self) -> list[str]:
        """The date columns, in contract order."""
        return [c for c, kind in self.columns.items() if kind == "date"]


SPECS: dict[str, TableSpec] = {
    TRANSACTIONS: TableSpec(
        TRANSACTIONS,
        {
            CUSTOMER_ID: "id",
            ORDER_ID: "id",
            ORDER_DATE: "date",
            AMOUNT: "float",
            CATEGORY: "str",
            QUANTITY: "int",
            CHANNEL: "str",
        },
        required=(CUSTOMER_ID, ORDER_DATE, AMOUNT),
        key=CUSTOMER_ID,
        not_null=(CUSTOMER_ID, ORDER_DATE, AMOUNT),
    ),
    CONTACTS: TableSpec(
        CONTACTS,
        {
            CUSTOMER_ID: "id",
            CONTACT_DATE: "date",
            CHANNEL: "str",
            MANAGER_ID: "id",
            OUTCOME: "str",
        },
        required=(CUSTOMER_ID, CONTACT_DATE, CHANNEL),
        key=CUSTOMER_ID,
        not_null=(CUSTOMER_ID, CONTACT_DATE, CHANNEL),
        dedupe="none",
    ),
    CUSTOMERS: TableSpec(
        CUSTOMERS,
        {
            CUSTOMER_ID: "id",
            REGION: "str",
            INDUSTRY: "str",
            SIZE: "count",
            CREATED_DATE: "date",
            CURRENT_MANAGER_ID: "id",
            CURRENT_TIER: "str",
        },
        required=(CUSTOMER_ID,),
        key=CUSTOMER_ID,
        unique=True,
        not_null=(CUSTOMER_ID,),
    ),
    MANAGERS: TableSpec(
        MANAGERS,
        {MANAGER_ID: "id", REGION: "str", CAPACITY: "positive", ACTIVE: "bool"},
        required=(MANAGER_ID, REGION, CAPACITY),
        key=MANAGER_ID,
        unique=True,
        not_null=(MANAGER_ID, REGION, CAPACITY),
    ),
}

# Referenced tables first, so their accepted keys can check the tables that point at them.
CHECK_ORDER = (MANAGERS, CUSTOMERS, TRANSACTIONS, CONTACTS)

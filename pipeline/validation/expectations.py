"""Great Expectations 1.x suites, built in code, that check each table twice: the raw frame
as read (informative: it shows what the export got wrong) and the accepted frame (blocking:
schema, types, nulls, ranges, uniqueness, referential integrity must all hold).

GX runs in an ephemeral, in-memory context with a pandas data source and a whole-dataframe
batch definition; nothing is written to disk and analytics are switched off by the caller
(`GX_ANALYTICS_ENABLED=false`) before GX is imported. Tables larger than `max_rows` are
checked on a fixed random sample: the row-level checks already cover every row, GX is the
independent second opinion.
"""

from dataclasses import dataclass
from datetime import date

import pandas as pd

from features.contract import AMOUNT
from pipeline.validation.schema import TableSpec

__all__ = ["ExpectationResult", "GxRunner", "reference_frame", "run_expectations"]

# pandas dtype names GX observes for the accepted columns, by kind
_DTYPES = {
    "id": "str",
    "str": "str",
    "date": "datetime64[ns]",
    "float": "float64",
    "int": "int64",  # GX reports nullable Int64 as int64
    "count": "int64",
    "positive": "int64",
    "bool": "bool",  # and nullable boolean as bool
}


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation's outcome, flattened for the report."""

    table: str
    suite: str  # "raw", "accepted" or "references <table>"
    expectation: str
    column: str
    success: bool
    blocking: bool
    observed: str


def _observed(result: dict) -> str:
    if "unexpected_count" in result and result.get("unexpected_count") is not None:
        count = result["unexpected_count"]
        share = result.get("unexpected_percent") or 0.0
        return f"{count} unexpected ({share:.2f}%)"
    if "observed_value" in result:
        value = result["observed_value"]
        if isinstance(value, list) and len(value) > 12:
            value = value[:12] + ["..."]
        return str(value)
    return ""


class GxRunner:
    """An ephemeral GX context with one pandas data source; `check` runs one table's suite."""

    def __init__(self, max_rows: int = 1_000_000, seed: int = 0):
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        self._gx = gx
        self.max_rows = max_rows
        self.seed = seed
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            progress_bars=ProgressBarsConfig(globally=False),
            analytics_enabled=False,
        )
        self._context = gx.get_context(mode="ephemeral", project_config=config)
        self._source = self._context.data_sources.add_pandas("keyaccounts")

    def _sample(self, frame: pd.DataFrame) -> pd.DataFrame:
        if len(frame) <= self.max_rows:
            return frame
        return frame.sample(n=self.max_rows, random_state=self.seed)

    def raw_expectations(self, spec: TableSpec, frame: pd.DataFrame) -> list[tuple[object, bool]]:
        """What the file as read should satisfy: rows, required columns, ids present."""
        E = self._gx.expectations
        items = [(E.ExpectTableRowCountToBeBetween(min_value=1), False)]
        items += [(E.ExpectColumnToExist(column=c), False) for c in spec.required]
        if spec.key in frame.columns:
            items.append((E.ExpectColumnValuesToNotBeNull(column=spec.key), False))
        return items

    def accepted_expectations(
        self,
        spec: TableSpec,
        frame: pd.DataFrame,
        min_date: date,
        reference_date: date,
        max_abs_amount: float | None = None,
    ) -> list[tuple[object, bool]]:
        """What the accepted rows must satisfy (each item: expectation, blocking); with
        `max_abs_amount`, amounts lie within +-it and the largest is positive (a purchase)."""
        E = self._gx.expectations
        columns = list(frame.columns)
        items = [
            (E.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=True), True),
            (E.ExpectTableRowCountToBeBetween(min_value=1), True),
        ]
        for column in columns:
            kind = spec.columns[column]
            items.append((E.ExpectColumnValuesToBeOfType(column=column, type_=_DTYPES[kind]), True))
            if column in spec.not_null:
                items.append((E.ExpectColumnValuesToNotBeNull(column=column), True))
            if kind == "date" and frame[column].notna().any():
                low, high = pd.Timestamp(min_date), pd.Timestamp(reference_date)
                items.append((E.ExpectColumnMinToBeBetween(column=column, min_value=low), True))
                items.append((E.ExpectColumnMaxToBeBetween(column=column, max_value=high), True))
            if kind in ("count", "positive") and frame[column].notna().any():
                low = 0 if kind == "count" else 1
                items.append((E.ExpectColumnMinToBeBetween(column=column, min_value=low), True))
            if column == AMOUNT and max_abs_amount is not None and len(frame):
                items += [
                    (E.ExpectColumnMinToBeBetween(column=column, min_value=-max_abs_amount), True),
                    (
                        E.ExpectColumnMaxToBeBetween(
                            column=column, min_value=0, strict_min=True, max_value=max_abs_amount
                        ),
                        True,
                    ),
                ]
        if spec.unique:
            items.append((E.ExpectColumnValuesToBeUnique(column=spec.key), True))
        return items

    def reference_expectations(
        self, references: pd.DataFrame, blocking: bool
    ) -> list[tuple[object, bool]]:
        """Every referencing id must have found its row in the referenced table."""
        E = self._gx.expectations
        return [(E.ExpectColumnValuesToNotBeNull(column=references.columns[1]), blocking)]

    def check(
        self, table: str, suite: str, frame: pd.DataFrame, items: list[tuple[object, bool]]
    ) -> list[ExpectationResult]:
        """Validate `frame` (sampled to max_rows) against `items`; one result per expectation."""
        name = f"{table}_{suite}".replace(" ", "_")
        asset = self._source.add_dataframe_asset(name=name)
        batch = asset.add_batch_definition_whole_dataframe(name).get_batch(
            batch_parameters={"dataframe": self._sample(frame)}
        )
        expectation_suite = self._gx.ExpectationSuite(name=name)
        for expectation, is_blocking in items:
            # the flag travels in meta, so each result carries it whatever the result order
            expectation.meta = {**(expectation.meta or {}), "blocking": is_blocking}
            expectation_suite.add_expectation(expectation)
        outcome = batch.validate(expectation_suite, result_format="BASIC")
        results = []
        for result in outcome.results:
            config = result.expectation_config
            results.append(
                ExpectationResult(
                    table=table,
                    suite=suite,
                    expectation=config.type,
                    column=str(config.kwargs.get("column", "")),
                    success=bool(result.success),
                    blocking=bool((config.meta or {}).get("blocking", True)),
                    observed=_observed(result.result),
                )
            )
        return results


def reference_frame(
    accepted: pd.DataFrame, column: str, keys: pd.Series, target: str
) -> pd.DataFrame:
    """Referential integrity as a left join: each distinct `column` value of `accepted`
    beside the matching key of the referenced table `target` (missing when there is none).

    GX has no cross-table expectation for pandas, and ExpectColumnValuesToBeInSet with a
    value set of 500k customer ids costs minutes (GX copies its kwargs many times), so the
    join is done here and GX checks that the joined key is never null.
    """
    ids = pd.Series(accepted[column].dropna().unique(), dtype="str", name=column)
    found = pd.Series(keys.unique(), dtype="str")
    joined = f"{target}.{keys.name}"
    return pd.DataFrame({column: ids, joined: ids.where(ids.isin(found))})


def run_expectations(
    raws: dict[str, pd.DataFrame],
    results: dict,
    min_date: date,
    reference_date: date,
    max_rows: int = 1_000_000,
    unknown_manager_blocks: bool = False,
    max_abs_amount: float | None = None,
) -> dict[str, list[ExpectationResult]]:
    """Run the raw, the accepted and the reference suites of every checked table."""
    from features.contract import (
        CONTACTS,
        CURRENT_MANAGER_ID,
        CUSTOMER_ID,
        CUSTOMERS,
        MANAGER_ID,
        MANAGERS,
    )
    from pipeline.validation.schema import SPECS

    runner = GxRunner(max_rows=max_rows)
    customers, managers = results.get(CUSTOMERS), results.get(MANAGERS)
    found = {}
    for table, result in results.items():
        spec, accepted = SPECS[table], result.accepted
        found[table] = runner.check(
            table, "raw", raws[table], runner.raw_expectations(spec, raws[table])
        ) + runner.check(
            table,
            "accepted",
            accepted,
            runner.accepted_expectations(spec, accepted, min_date, reference_date, max_abs_amount),
        )
        references = []
        if customers is not None and table != CUSTOMERS and CUSTOMER_ID in accepted:
            references.append((CUSTOMER_ID, customers.accepted[CUSTOMER_ID], CUSTOMERS, True))
        manager_column = {CONTACTS: MANAGER_ID, CUSTOMERS: CURRENT_MANAGER_ID}.get(table)
        if managers is not None and manager_column in accepted:
            references.append(
                (manager_column, managers.accepted[MANAGER_ID], MANAGERS, unknown_manager_blocks)
            )
        for column, keys, target, blocking in references:
            frame = reference_frame(accepted, column, keys, target)
            found[table] += runner.check(
                table,
                f"references {target}",
                frame,
                runner.reference_expectations(frame, blocking),
            )
    return found

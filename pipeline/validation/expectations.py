"""Great Expectations 1.x suites, the single declaration of the accepted-data rules, and
GX Data Docs, the detailed validation report.

Every table has up to three suites, built here in code from the contract (`schema.SPECS`)
and the table's `CheckOptions`:

- `rows` (`row_expectations`): the value rules, one expectation each, whose meta names the
  quarantine reason of the rows it finds: the key and the required values present, dates
  between data.yaml min_date and the reference date, amounts within +-max_abs_amount, counts
  >= 0 and capacities >= 1. GX validates every row of the parsed table (`GxRunner.
  unexpected_rows`, result_format COMPLETE) and `checks.check_table` refuses the rows of each
  expectation's unexpected_index_list for its reason (the first reason in `REASONS` order
  wins). These results are informative (the quarantine acts on them), not blocking.
- `accepted` (`accepted_expectations`, blocking): what the accepted table as a whole must be:
  exactly the columns read, each of its contract type, at least one row, a unique key where
  the table is keyed, and for transactions at least one purchase.
- `references <table>` (`reference_expectations`): every referencing id of the accepted rows
  is a key of the accepted referenced table (blocking, or informative for managers when
  on_unknown_manager is warn).

Hand-written in pandas, each for one reason:
- parsing and its failures (bad_date, bad_amount, bad_number, bad_bool for values that cannot
  be read): GX checks typed values; reading text with the export's date_format, decimal and
  thousands is `parse`'s job;
- duplicate_row and duplicate_key: GX's uniqueness expectations flag every copy, the
  quarantine keeps the first (among the rows not refused for an earlier reason);
- unknown_customer and unknown_manager: ExpectColumnValuesToBeInSet passes its value set
  through pydantic dozens of times per run (measured with GX 1.24.1 on 410k rows: 3-6 s for
  20k ids, 1.5-3 min for 500k) and its page would list every id; `isin` takes milliseconds.
GX checks the outcome of these on the accepted table (`accepted`: the parser's types, the
unique key; `references`: the distinct ids left-joined to the referenced keys,
`reference_frame`), so each rule is evaluated by GX once: on the rows, or on the accepted
table, never both.

GX runs in an ephemeral, in-memory context with a pandas data source and whole-dataframe
batches; analytics are switched off before GX is imported. The accepted and references
suites check a fixed random sample of tables larger than `max_rows`; the rows suite every
row (it decides the quarantine). `build_docs` renders Data Docs of every validation of the
run into a folder. They show counts, never data values: GX 1.24.1 writes unexpected values
into its pages unescaped (a value "<script>" becomes markup), so the value lists are removed
from the results first (the quarantine files hold the refused rows). The pages load
Bootstrap, jQuery, bootstrap-table, Vega and Font Awesome from CDNs (unpkg, jsdelivr,
cdnjs, bootstrapcdn): offline they open unstyled, with every table and count; the
pipeline's own report (`report.render_html`) is self-contained and links them.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.contract import AMOUNT, TRANSACTIONS
from pipeline.validation.schema import TableSpec

__all__ = [
    "ExpectationResult",
    "GxRunner",
    "accepted_expectations",
    "reference_expectations",
    "reference_frame",
    "row_expectations",
    "run_expectations",
]


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
# the reason of a missing required value, by kind (the key's is null_id)
_MISSING = {"date": "bad_date", "float": "bad_number", "id": "missing_value"}
_MINIMUM = {"count": 0, "positive": 1}
# result keys that carry data values (or every unexpected row): kept out of Data Docs
_VALUE_KEYS = (
    "partial_unexpected_list",
    "partial_unexpected_counts",
    "partial_unexpected_index_list",
    "unexpected_list",
    "unexpected_index_list",
    "unexpected_index_query",
)
_COMPLETE = {"result_format": "COMPLETE", "return_unexpected_index_query": False}


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation's outcome, flattened for the report; `reason`: the quarantine reason
    of the rows it found (rows suite only)."""

    table: str
    suite: str  # "rows", "accepted" or "references <table>"
    expectation: str
    column: str
    success: bool
    blocking: bool
    observed: str
    reason: str = ""


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


def _tag(expectation, blocking: bool, reason: str = ""):
    """`expectation` with its blocking flag and quarantine reason in meta, so that each
    result carries them whatever the result order."""
    expectation.meta = {**(expectation.meta or {}), "blocking": blocking, "reason": reason}
    return expectation


def _gx():
    os.environ["GX_ANALYTICS_ENABLED"] = "false"  # before GX is first imported: no network
    import great_expectations as gx

    return gx


def row_expectations(spec: TableSpec, columns: list[str], options) -> list:
    """The value rules of `spec`'s table (its `columns` present), each tagged with the
    quarantine reason of the rows that break it; `options`: the table's CheckOptions."""
    E = _gx().expectations
    items = []
    for column in columns:
        kind = spec.columns[column]
        if column == spec.key:
            reason = "null_id"
        elif column in spec.not_null:
            reason = "bad_amount" if column == AMOUNT else _MISSING.get(kind, "missing_value")
        else:
            reason = ""
        if reason:
            items.append(_tag(E.ExpectColumnValuesToNotBeNull(column=column), False, reason))
        if kind == "date":
            low, high = options.min_date, options.reference_date
            items += [
                _tag(E.ExpectColumnValuesToBeBetween(column=column, min_value=low), False,
                     "date_out_of_range"),
                _tag(E.ExpectColumnValuesToBeBetween(column=column, max_value=high), False,
                     "future_date"),
            ]
        elif column == AMOUNT:
            limit = float(options.max_abs_amount)
            items.append(_tag(
                E.ExpectColumnValuesToBeBetween(column=column, min_value=-limit, max_value=limit),
                False, "amount_out_of_range",
            ))
        elif kind in _MINIMUM:
            items.append(_tag(
                E.ExpectColumnValuesToBeBetween(column=column, min_value=_MINIMUM[kind]), False,
                "bad_number",
            ))
    return items


def accepted_expectations(spec: TableSpec, frame: pd.DataFrame) -> list:
    """What the accepted table as a whole must be (all blocking): every required column of
    the contract (and possibly optional ones), their types, at least one row, a unique key
    where the table is keyed, at least one purchase."""
    E = _gx().expectations
    columns = list(frame.columns)
    items = [  # exact_match False: the table holds these columns and may hold others
        _tag(E.ExpectTableColumnsToMatchSet(column_set=list(spec.required), exact_match=False),
             True),
        _tag(E.ExpectTableRowCountToBeBetween(min_value=1), True),
    ]
    items += [
        _tag(E.ExpectColumnValuesToBeOfType(column=c, type_=_DTYPES[spec.columns[c]]), True)
        for c in columns
    ]
    if spec.unique:
        items.append(_tag(E.ExpectColumnValuesToBeUnique(column=spec.key), True))
    if spec.name == TRANSACTIONS and AMOUNT in frame and len(frame):
        items.append(_tag(
            E.ExpectColumnMaxToBeBetween(column=AMOUNT, min_value=0, strict_min=True), True
        ))
    return items


def reference_expectations(references: pd.DataFrame, blocking: bool) -> list:
    """Every referencing id must have found its row in the referenced table."""
    E = _gx().expectations
    return [_tag(E.ExpectColumnValuesToNotBeNull(column=references.columns[1]), blocking)]


class GxRunner:
    """An ephemeral GX context with one pandas data source: `check` validates a (sampled)
    table, `unexpected_rows` every row with the rows of each failed expectation,
    `build_docs` renders Data Docs of every validation it ran."""

    def __init__(self, max_rows: int = 1_000_000, seed: int = 0):
        gx = _gx()
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
        self._done: list[tuple[str, object]] = []  # (table, validation result) for the docs

    def _sample(self, frame: pd.DataFrame) -> pd.DataFrame:
        if len(frame) <= self.max_rows:
            return frame
        return frame.sample(n=self.max_rows, random_state=self.seed)

    def _validate(self, table: str, suite: str, frame: pd.DataFrame, items: list, result_format):
        name = f"{table}.{suite}".replace(" ", "_")  # Data Docs file names
        count = sum(1 for t, r in self._done if r.suite_name.startswith(name))
        if count:  # one runner may check a table's suite more than once (tests)
            name = f"{name} ({count + 1})"
        asset = self._source.add_dataframe_asset(name=name)
        batch = asset.add_batch_definition_whole_dataframe(name).get_batch(
            batch_parameters={"dataframe": frame}
        )
        expectation_suite = self._gx.ExpectationSuite(name=name)
        for expectation in items:
            expectation_suite.add_expectation(expectation)
        expectation_suite = self._context.suites.add(expectation_suite)
        outcome = batch.validate(expectation_suite, result_format=result_format)
        self._done.append((table, outcome))
        return outcome

    @staticmethod
    def _flatten(table: str, suite: str, result) -> ExpectationResult:
        config = result.expectation_config
        meta = config.meta or {}
        return ExpectationResult(
            table=table,
            suite=suite,
            expectation=config.type,
            column=str(config.kwargs.get("column", "")),
            success=bool(result.success),
            blocking=bool(meta.get("blocking", True)),
            observed=_observed(result.result),
            reason=str(meta.get("reason") or ""),
        )

    def check(
        self, table: str, suite: str, frame: pd.DataFrame, items: list
    ) -> list[ExpectationResult]:
        """Validate `frame` (sampled to max_rows) against `items`; one result per expectation."""
        outcome = self._validate(table, suite, self._sample(frame), items, "BASIC")
        found = [self._flatten(table, suite, r) for r in outcome.results]
        for result in outcome.results:
            _drop_values(result.result)
        return found

    def unexpected_rows(
        self, table: str, suite: str, frame: pd.DataFrame, items: list
    ) -> list[tuple[ExpectationResult, np.ndarray]]:
        """Validate every row of `frame` (a RangeIndex) against `items`; each result with
        the positions of the rows that broke it."""
        outcome = self._validate(table, suite, frame, items, _COMPLETE)
        found = []
        for result in outcome.results:
            rows = np.asarray(result.result.get("unexpected_index_list") or [], dtype=np.int64)
            found.append((self._flatten(table, suite, result), rows))
            _drop_values(result.result)
        return found

    def build_docs(self, folder: Path) -> Path:
        """Render Data Docs of every validation run so far into `folder` (no data values,
        see the module docstring); returns its index.html."""
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        run_id = RunIdentifier(run_name="validate")
        for table, outcome in self._done:
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=outcome.suite_name),
                run_id=run_id,
                batch_identifier=table,
            )
            outcome.meta["run_id"] = run_id  # the pages' run name and time
            self._context.validation_results_store.set(key, outcome)
        site = {
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(folder),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
        name = f"site_{len(self._context.get_config().data_docs_sites or {})}"
        self._context.add_data_docs_site(name, site)
        self._context.build_data_docs(site_names=[name])
        return Path(folder) / "index.html"


def _drop_values(result: dict) -> None:
    for key in _VALUE_KEYS:
        result.pop(key, None)


def reference_frame(
    accepted: pd.DataFrame, column: str, keys: pd.Series, target: str
) -> pd.DataFrame:
    """Referential integrity as a left join: each distinct `column` value of `accepted`
    beside the matching key of the referenced table `target` (missing when there is none);
    GX then expects the joined key never to be null (see the module docstring for why the
    join is not ExpectColumnValuesToBeInSet)."""
    ids = pd.Series(accepted[column].dropna().unique(), dtype="str", name=column)
    found = pd.Series(keys.unique(), dtype="str")
    joined = f"{target}.{keys.name}"
    return pd.DataFrame({column: ids, joined: ids.where(ids.isin(found))})


def run_expectations(
    results: dict,
    runner: GxRunner,
    unknown_manager_blocks: bool = False,
) -> dict[str, list[ExpectationResult]]:
    """Run the accepted and the references suites of every checked table with `runner`."""
    from features.contract import (
        CONTACTS,
        CURRENT_MANAGER_ID,
        CUSTOMER_ID,
        CUSTOMERS,
        MANAGER_ID,
        MANAGERS,
    )
    from pipeline.validation.schema import SPECS

    customers, managers = results.get(CUSTOMERS), results.get(MANAGERS)
    found = {}
    for table, result in results.items():
        spec, accepted = SPECS[table], result.accepted
        found[table] = runner.check(
            table, "accepted", accepted, accepted_expectations(spec, accepted)
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
                table, f"references {target}", frame, reference_expectations(frame, blocking)
            )
    return found

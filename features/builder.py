"""Build point-in-time features, the stacked training set and the scoring frame.

A customer is known at `as_of` when its first transaction or its created_date is on or
before `as_of`; only rows dated on or before `as_of` are read. The pandas tables are
converted to polars once per call (`features.tables.prepare`) and every cutoff slices the
same prepared frames, which is what makes many cutoffs cheap.

Leak-proof by construction, on every path: before the feature functions see a cutoff T,
the prepared transactions, category lines and contacts are cut to the rows dated on or
before T (`prepared_upto`), the same rows `build()` keeps by preparing with `upto=T`. A
feature function that compared a date the wrong way round could then not read the future
in the training set either; only the labels (`features.labels`) read the full history,
and only its window (T, T+H].
"""

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import polars as pl

from features.catalogue import catalogue
from features.config import FeaturesConfig
from features.contacts import contact_features
from features.contract import (
    AS_OF,
    CONTACT_DATE,
    CUSTOMER_ID,
    CUTOFF,
    LABEL_CHURNED,
    LABEL_MANAGER_DAYS,
    LABEL_SPEND,
    ORDER_DATE,
    Tables,
)
from features.customers import customer_features
from features.cutoffs import Step, backtest_horizon, history_days, resolve_step, step_cutoffs
from features.labels import labels_at, manager_contact_after
from features.tables import C, D, Prepared, from_day, known_codes, prepare, to_day
from features.transactions import transaction_features

__all__ = [
    "CutoffPlan",
    "Datasets",
    "build",
    "build_all",
    "build_datasets",
    "build_scoring_frame",
    "build_training_set",
    "coverage_warnings",
    "cutoff_step",
    "end_of_data",
    "feature_columns",
    "features_at",
    "plan_cutoffs",
    "prepared_upto",
    "scoring_as_of",
    "training_cutoffs",
]


def end_of_data(tables: Tables) -> pd.Timestamp:
    """The latest order date: the default as-of of scoring and the end of the label windows.

    Contacts do not extend it: a CRM export that runs later than the transactions export
    would leave the latest label windows without their orders (every customer "churned")
    and make every customer look overdue at scoring. `coverage_warnings` says when the two
    tables end on different dates.
    """
    return pd.Timestamp(tables.transactions[ORDER_DATE].max()).normalize()


def coverage_warnings(tables: Tables, as_of, tolerance_days: int = 7) -> list[str]:
    """Plain-language warnings when the tables do not cover the same period: contacts that
    run past the last order, or an as-of date after it (by more than `tolerance_days`)."""
    last_order, as_of = end_of_data(tables), pd.Timestamp(as_of).normalize()
    tolerance, warnings = pd.Timedelta(days=tolerance_days), []
    if as_of > last_order + tolerance:
        warnings.append(
            f"as_of {as_of.date()} is {(as_of - last_order).days} days after the last order "
            f"({last_order.date()}): customers look inactive over that gap, and training labels "
            "end at the last order; check that the transactions export is complete"
        )
    contacts = tables.contacts
    if contacts is not None and CONTACT_DATE in contacts and len(contacts):
        last_contact = pd.Timestamp(contacts[CONTACT_DATE].max()).normalize()
        if last_contact > last_order + tolerance:
            warnings.append(
                f"contacts run to {last_contact.date()}, {(last_contact - last_order).days} "
                f"days past the last order ({last_order.date()}); labels and the default as-of "
                "follow the transactions and contacts after the as-of are not used: export "
                "both tables up to the same date"
            )
    return warnings


def scoring_as_of(tables: Tables, config: FeaturesConfig) -> pd.Timestamp:
    """`config.as_of` when set, else the end of the data (the last order date)."""
    return pd.Timestamp(config.as_of) if config.as_of is not None else end_of_data(tables)


def training_cutoffs(max_date, config: FeaturesConfig, min_date=None) -> list[pd.Timestamp]:
    """Training cutoffs, oldest first, each with a full label window before `max_date`.

    The step is `config.cutoff_step` (`features.cutoffs`: "auto" is weekly for a history of
    365 days or less from `min_date` to `max_date`, monthly for longer or when `min_date` is
    None). The latest cutoff is the last grid date T (month end, Sunday or n-th day) with
    T + horizon_days <= max_date; the others step back one step at a time, `n_cutoffs` in all
    ("auto": `max_cutoffs`). Cutoffs before `min_date` (e.g. the first order date) are
    dropped, as they would have no customers. Empty when no cutoff has a full label window.
    """
    step = cutoff_step(config, max_date, min_date)
    limit = pd.Timestamp(max_date).normalize() - pd.Timedelta(days=config.horizon_days)
    count = config.max_cutoffs if config.n_cutoffs == "auto" else config.n_cutoffs
    return step_cutoffs(limit, step, count, min_date=min_date)


def cutoff_step(config: FeaturesConfig, max_date, min_date=None) -> Step:
    """The step between two training cutoffs for data from `min_date` to `max_date` (the end
    of the label windows): `config.cutoff_step`, with "auto" resolved on that history."""
    history = None if min_date is None else history_days(min_date, max_date)
    return resolve_step(config.cutoff_step, history)


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """The feature columns of a features frame (everything but ids, dates and labels)."""
    skip = {CUSTOMER_ID, AS_OF, CUTOFF, LABEL_SPEND, LABEL_CHURNED, LABEL_MANAGER_DAYS}
    return [c for c in frame.columns if c not in skip]


def _families_wanted(config: FeaturesConfig) -> set[str]:
    return {name for name, on in config.families.model_dump().items() if on}


def prepared_upto(prep: Prepared, day: int) -> Prepared:
    """`prep` without the transactions, category lines and contacts dated after `day`: the
    rows `prepare(tables, config, upto=day)` keeps, sliced from frames prepared once.

    The daily rows' gaps and first-purchase flags look only backwards, so they are the same
    either way. Ids, ranks, attributes and first_seen are kept whole: a first_seen after
    `day` only ever says "not known on `day`" (`known_codes`), as it does after `upto`.
    """
    daily = prep.daily.filter(pl.col(D) <= day)
    contacts = None if prep.contacts is None else prep.contacts.filter(pl.col(D) <= day)
    lines = prep.category_rows
    if lines is not None:
        keep = lines.day <= day
        lines = dataclasses.replace(
            lines, pair=lines.pair[keep], day=lines.day[keep], amount=lines.amount[keep]
        )
    ends = [int(f.get_column(D).max()) for f in (daily, contacts) if f is not None and f.height]
    end_day = max(ends) if ends else to_day("1970-01-01")
    return dataclasses.replace(
        prep, daily=daily, category_rows=lines, contacts=contacts, end_day=end_day
    )


def _feature_parts(
    prep: Prepared, T: int, config: FeaturesConfig
) -> tuple[np.ndarray, pl.DataFrame, dict]:
    """Customer codes known on day T, their numeric features (polars, catalogue order) and
    their categorical attributes (name -> pandas Categorical). The feature functions see
    only the rows dated on or before T (`prepared_upto`), whatever `prep` holds."""
    entries = catalogue(config)
    wanted = _families_wanted(config)
    codes = known_codes(prep, T)
    prep = prepared_upto(prep, T)
    frame = pl.DataFrame({C: codes})
    if wanted & {"transactions", "btyd"}:
        frame = frame.join(
            transaction_features(prep, T, config), on=C, how="left", maintain_order="left"
        )
    if "contacts" in wanted:
        contacts = contact_features(prep, T, config)
        if contacts is not None:
            frame = frame.join(contacts, on=C, how="left", maintain_order="left")
    fills = [
        pl.col(n).fill_null(entries[n].missing)
        for n in frame.columns
        if n != C and not math.isnan(entries[n].missing)
    ]
    attributes = customer_features(prep, codes, T, config) if "customers" in wanted else {}
    numeric = {n: pl.Series(n, v) for n, v in attributes.items() if not entries[n].categorical}
    categorical = {n: v for n, v in attributes.items() if entries[n].categorical}
    float_type = pl.Float32 if config.float_dtype == "float32" else pl.Float64
    frame = (
        frame.with_columns(fills)
        .with_columns(**numeric)
        .select(
            pl.col(n).cast(pl.Float64).fill_nan(None).cast(float_type)
            for n in entries
            if n in frame.columns or n in numeric
        )
    )
    return codes, frame, categorical


def _id_column(prep: Prepared, codes: np.ndarray) -> pd.Series:
    return prep.ids.gather(pl.Series(codes)).to_pandas().astype("str")


def features_at(prep: Prepared, as_of, config: FeaturesConfig) -> pd.DataFrame:
    """Features of every customer known at `as_of`, from already prepared tables."""
    T = to_day(as_of)
    codes, numeric, categorical = _feature_parts(prep, T, config)
    # one conversion to pandas, columns already in catalogue order (categoricals come last)
    result = numeric.to_pandas()
    result.insert(0, CUSTOMER_ID, _id_column(prep, codes).to_numpy())
    result.insert(1, AS_OF, pd.Series(from_day(T), index=result.index).astype("datetime64[ns]"))
    for name, values in categorical.items():
        result[name] = values
    return result


def build(tables: Tables, as_of, config: FeaturesConfig) -> pd.DataFrame:
    """Features of every customer known at `as_of` (first order or created_date <= as_of).

    Returns customer_id, as_of, then one column per feature of the catalogue
    (`features.catalogue`) whose family is switched on and whose source table is present.
    Only rows dated on or before `as_of` are read.
    """
    return features_at(prepare(tables, config, upto=to_day(as_of)), as_of, config)


def build_scoring_frame(tables: Tables, config: FeaturesConfig, as_of=None) -> pd.DataFrame:
    """Features at `as_of`, else `config.as_of`, else the end of the data."""
    return build(tables, as_of if as_of is not None else scoring_as_of(tables, config), config)


def build_training_set(
    tables: Tables,
    cutoffs: Iterable,
    config: FeaturesConfig,
    progress: Callable[[Sequence], Iterable] | None = None,
) -> pd.DataFrame:
    """Features and labels at every cutoff, stacked.

    Columns: customer_id, cutoff, as_of (= cutoff), the features, future_spend and churned
    (labels over (cutoff, cutoff + horizon_days], see `features.labels`). `progress` may wrap
    the list of cutoffs (e.g. `pipeline.progress.track`) to report each one. Each cutoff's
    features see only the rows dated on or before it (`prepared_upto`), as `build()`'s do;
    the labels read the full tables, over their window only.
    """
    return _training_set(prepare(tables, config), cutoffs, config, progress)


def build_datasets(
    tables: Tables,
    cutoffs: Iterable,
    as_of,
    config: FeaturesConfig,
    progress: Callable[[Sequence], Iterable] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training set over `cutoffs` and the scoring frame at `as_of`, converting the
    tables once; same results as the two separate calls. No cutoffs (a history shorter than
    one label window): an empty training set with the columns it would have."""
    datasets = build_all(tables, cutoffs, as_of, config, progress=progress)
    return datasets.training, datasets.scoring


@dataclass(frozen=True)
class Datasets:
    """What the features stage writes: the training set (labels over horizon_days, possibly
    empty), the scoring frame and, when the backtest scores a shorter horizon, its training
    set (labels over that horizon; None otherwise)."""

    training: pd.DataFrame
    scoring: pd.DataFrame
    backtest: pd.DataFrame | None = None


def build_all(
    tables: Tables,
    cutoffs: Iterable,
    as_of,
    config: FeaturesConfig,
    backtest_horizon_days: int | None = None,
    backtest_cutoffs: Iterable = (),
    progress: Callable[[Sequence], Iterable] | None = None,
) -> Datasets:
    """`build_datasets`, plus the backtest's training set at `backtest_cutoffs` with labels
    over `backtest_horizon_days` when that differs from `config.horizon_days` (see
    `plan_cutoffs`). The tables are converted once for all three."""
    prep = prepare(tables, config)
    scoring = features_at(prep, as_of, config)
    cutoffs = list(cutoffs)
    training = (
        _training_set(prep, cutoffs, config, progress) if cutoffs else _empty_training(scoring)
    )
    backtest = None
    backtest_cutoffs = list(backtest_cutoffs)
    if backtest_horizon_days not in (None, config.horizon_days) and backtest_cutoffs:
        shorter = config.model_copy(update={"horizon_days": backtest_horizon_days})
        backtest = _training_set(prep, backtest_cutoffs, shorter, progress)
    return Datasets(training, scoring, backtest)


def _empty_training(scoring: pd.DataFrame) -> pd.DataFrame:
    """A training set without rows, with the columns and dtypes of one built from cutoffs."""
    empty = scoring.iloc[:0].copy()
    empty.insert(1, CUTOFF, pd.Series(dtype="datetime64[ns]"))
    empty[LABEL_SPEND] = pd.Series(dtype="float64")
    empty[LABEL_CHURNED] = pd.Series(dtype="bool")
    empty[LABEL_MANAGER_DAYS] = pd.Series(dtype="float64")
    return empty.reset_index(drop=True)


@dataclass(frozen=True)
class CutoffPlan:
    """The dates the features stage builds.

    as_of: the scoring date. first_order / labels_end: the history the labels can use.
    step: between two cutoffs. cutoffs: the training cutoffs at horizon_days (empty when no
    label window fits). backtest_horizon_days: the horizon the backtest scores, horizon_days
    when it has a fold there, else the longest of backtest_horizons_days that has one, else
    None. backtest_cutoffs: the cutoffs of the backtest's own training set when its horizon
    is shorter than horizon_days, else []. short_history: one line for the user when the
    training cutoffs or the backtest are cut short by the history ("" otherwise).
    """

    as_of: pd.Timestamp
    first_order: pd.Timestamp
    labels_end: pd.Timestamp
    step: Step
    cutoffs: list[pd.Timestamp]
    backtest_horizon_days: int | None
    backtest_cutoffs: list[pd.Timestamp] = field(default_factory=list)
    short_history: str = ""


def plan_cutoffs(tables: Tables, config: FeaturesConfig, min_train_cutoffs: int) -> CutoffPlan:
    """The scoring date, the training cutoffs and the backtest's horizon and cutoffs.

    Label windows end on or before both the scoring date and the last order. The backtest
    needs a fold: a labelled cutoff T and `min_train_cutoffs` (models.min_train_cutoffs)
    labelled cutoffs whose windows end by T (`features.cutoffs.backtest_horizon`). When
    horizon_days leaves none, it scores the longest of `config.backtest_horizons_days` that
    does, on cutoffs of the same step. The final models need `min_train_cutoffs` cutoffs at
    horizon_days; with fewer, models.training.fit_models falls back to the BTYD models.
    """
    as_of = scoring_as_of(tables, config)
    first = pd.Timestamp(tables.transactions[ORDER_DATE].min()).normalize()
    labels_end = min(as_of, end_of_data(tables))
    step = cutoff_step(config, labels_end, first)
    cutoffs = training_cutoffs(labels_end, config, min_date=first)
    count = config.max_cutoffs if config.n_cutoffs == "auto" else config.n_cutoffs
    grid = step_cutoffs(labels_end, step, None, min_date=first)
    horizon = config.horizon_days
    chosen = backtest_horizon(
        grid, labels_end, horizon, min_train_cutoffs, config.backtest_horizons_days, count
    )
    backtest_cutoffs = []
    if chosen is not None and chosen != horizon:
        shorter = config.model_copy(update={"horizon_days": chosen})
        backtest_cutoffs = training_cutoffs(labels_end, shorter, min_date=first)
    days = history_days(first, labels_end)
    span = f"data from {first.date()} to {labels_end.date()} ({days} days)"
    if not cutoffs:
        models = (f"leaves no cutoff with a full {horizon}-day label window: the training set "
                  "is empty and the models fall back to BG/NBD + Gamma-Gamma")
    elif len(cutoffs) < min_train_cutoffs:
        models = (f"leaves {len(cutoffs)} cutoff(s) with a full {horizon}-day label window, "
                  f"fewer than min_train_cutoffs {min_train_cutoffs}: the models fall back to "
                  "BG/NBD + Gamma-Gamma")
    else:
        models = ""
    if chosen == horizon:
        backtest = ""
    elif chosen is None:
        backtest = "no backtest horizon fits either"
    else:
        backtest = (f"the backtest scores a {chosen}-day horizon instead of {horizon} days, "
                    "the longest with a fold")
    if models or backtest:
        reason = models or f"leaves no backtest fold at {horizon} days"
        note = "; ".join(x for x in (reason, backtest) if x)
        short = f"short history: {span} {note}; add history or shorten horizon_days"
    else:
        short = ""
    return CutoffPlan(as_of, first, labels_end, step, cutoffs, chosen, backtest_cutoffs, short)


def _training_set(
    prep: Prepared,
    cutoffs: Iterable,
    config: FeaturesConfig,
    progress: Callable[[Sequence], Iterable] | None,
) -> pd.DataFrame:
    """Stack cutoffs into one preallocated float block: the stacked frame is built without
    holding every cutoff's frame and their concatenation at the same time."""
    cutoffs = [pd.Timestamp(c).normalize() for c in cutoffs]
    if not cutoffs:
        raise ValueError("no cutoffs to build a training set from")
    sizes = [len(known_codes(prep, to_day(c))) for c in cutoffs]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    block, names = None, []
    ids, dates, spend, churned, manager_days, categorical = [], [], [], [], [], {}
    for i, cutoff in enumerate(progress(cutoffs) if progress else cutoffs):
        T = to_day(cutoff)
        codes, numeric, cats = _feature_parts(prep, T, config)
        if block is None:
            names = numeric.columns
            block = np.empty((offsets[-1], len(names)), dtype=config.float_dtype, order="F")
        block[offsets[i] : offsets[i + 1]] = numeric.to_numpy()
        del numeric
        ids.append(_id_column(prep, codes))
        dates.append(np.full(len(codes), from_day(T).to_datetime64()).astype("datetime64[ns]"))
        s, c = labels_at(prep, codes, T, config.horizon_days)
        spend.append(s)
        churned.append(c)
        manager_days.append(manager_contact_after(prep, codes, T, config.horizon_days))
        for name, values in cats.items():
            categorical.setdefault(name, []).append(values)
    result = pd.DataFrame(block, columns=list(names), copy=False)
    result.insert(0, CUSTOMER_ID, pd.concat(ids, ignore_index=True).to_numpy())
    result.insert(1, CUTOFF, np.concatenate(dates))
    result.insert(2, AS_OF, result[CUTOFF])
    for name, parts in categorical.items():
        result[name] = pd.Categorical(
            pd.api.types.union_categoricals(parts, sort_categories=False),
            categories=parts[0].categories,
            ordered=parts[0].ordered,
        )
    result[LABEL_SPEND] = np.concatenate(spend)
    result[LABEL_CHURNED] = np.concatenate(churned)
    result[LABEL_MANAGER_DAYS] = np.concatenate(manager_days)
    return result

"""Reasons behind a score: the features that pushed a customer's value up or down and its
churn risk up, from LightGBM's per-feature contributions (pred_contrib=True, i.e. TreeSHAP),
rendered as phrases from the feature catalogue (features.catalogue.describe), e.g.
"last order 142 days ago, three times its usual gap".

`factors` lists the raw largest contributions (a diagnostic). `explain` writes what a
manager reads, and keeps a factor only when it passes these rules:

- material: it moves the model's log score (log of the expected spend; log-odds of churning)
  in the section's direction by at least `min_contribution` (MIN_CONTRIBUTION = 0.05, about
  5%) and by at least `min_share` (MIN_SHARE = 0.10) of the customer's largest contribution
  to that model, so an account whose value collapsed is not told "Value up: region west";
- it reads the right way round: a feature whose good side is obvious (catalogue `better`:
  more spend is good, more days since the last order is bad) is shown as a reason for
  "Value up" only when the customer's value is on the good side of the typical customer's
  (the median of the rows explained against, ties split), and for "Value down" or "Churn
  risk up" only when it is on the bad side. The contributions say how the model used a
  feature; "a dedicated manager is in touch" raising churn risk, or "99 orders so far"
  lowering value, are artefacts of correlated features and interactions, not reasons a
  manager can act on (in the demo data a manager's contacts lower the true dropout hazard,
  yet ctc_has_manager = 1 adds +0.3 to the churn log-odds on average). A missing value that means "never happened"
  (no order yet, never contacted) is on the bad side, a value not known (employees) is no
  reason at all; features without an obvious side (region, spread of spend) are allowed
  both ways;
- plain limits first: a day count above the catalogue's `good_at_most` ("last contact 285
  days ago"), or a last order at 1.5 times the usual gap or more (`bad_from`), is bad news
  whatever the typical customer does, so it is never a reason for "Value up";
- facts, not estimates: the BTYD step's outputs (DERIVED: BG/NBD's chance of being alive,
  expected orders and spend) are another model's estimates, which would contradict the row's
  own expected value and churn probability; their contribution is stated as the facts they
  are computed from ("ordered on 12 days since its first order 900 days ago, the latest 20
  days ago"), with the side of the estimate, and is no reason when the row lacks them;
- "Churn risk up" is shown only for accounts whose churn probability is at least
  `min_churn_probability` (MIN_CHURN_PROBABILITY = 0.10): for an account almost certain to
  keep buying, the factors nudging a tiny risk up are not warnings;
- one fact once: features stating the same fact (catalogue `fact` and `zero_fact`: tenure
  and first order; orders, order days and repeat order days; nothing spent in the last 365
  and in the last 180 days, or "last order 400 days ago"), and the same phrase ("no repeat
  order yet"), appear once per customer, in the first section that takes them in the order
  churn risk up, value down, value up; each section then takes its next factor.

Speed. TreeSHAP costs about 3 microseconds per row and tree on two cores (31 leaves, depth
~10), so LightGBM's pred_contrib over the demo's 2 x 300 trees takes ~1.8 ms per customer.
A tree's contributions to a row depend only on which way the row goes at each of the tree's
splits, and among 50,000 customers a tree sees only ~20% distinct sets of ways (fewer as the
rows grow, more for fewer rows). `tree_contributions` therefore runs LightGBM's
pred_contrib tree by tree on one row per distinct set and copies the result to the others:
the same numbers up to rounding (~1e-14), about 5 times less TreeSHAP on 50,000 customers.
`explain` uses it for the LightGBM boosters of ValueModel and ChurnModel (checked against
the model's own `contributions` on a few rows of each chunk; any other model, or a
mismatch, uses `contributions`), computes the churn model's only for the accounts that can
get a churn section, works in chunks of `chunk_rows` rows (bounded memory; the grouping is
within a chunk), ranks and filters with numpy over the chunk, and renders a phrase only for
a factor it looks at, once per feature and value when the phrase reads nothing else of the
row. A feature missing from the catalogue is shown as "name = value".
"""

import functools
import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.names import BTYD_SUMMARY
from models.columns import (
    BTYD_EXPECTED_ORDERS,
    BTYD_EXPECTED_SPEND,
    BTYD_PROB_ALIVE,
    BTYD_PROB_NO_PURCHASE,
    REASONS,
)

__all__ = [
    "DERIVED",
    "MIN_CHURN_PROBABILITY",
    "MIN_CONTRIBUTION",
    "MIN_SHARE",
    "compact_reference",
    "explain",
    "explainable",
    "factors",
    "phrase",
    "reference_columns",
    "tree_contributions",
]

# The BTYD step's outputs (models.baselines.BTYD_OUTPUTS) are another model's estimates: a
# reason never quotes them ("expected spend 82,137 by the BG/NBD model" beside the row's own
# expected value of 113,042). Their contribution is stated as the facts they are computed from:
# the customer's order days, their span and its age (BG/NBD), and the spend of its repeat
# orders (Gamma-Gamma): "ordered on 12 days since its first order 900 days ago, the latest 20
# days ago, repeat orders averaging 4,300". Per output: the side more of it is good (as the
# catalogue's `better`) and whether the spend belongs to the facts.
DERIVED = {
    BTYD_EXPECTED_SPEND: ("higher", True),
    BTYD_EXPECTED_ORDERS: ("higher", False),
    BTYD_PROB_ALIVE: ("higher", False),
    BTYD_PROB_NO_PURCHASE: ("lower", False),
}
# the fact they state (one per customer, with "last order 142 days ago")
_DERIVED_FACT = "last_order"
_HISTORY = BTYD_SUMMARY


def _days(n: float) -> str:
    return "today" if round(n) == 0 else f"{n:,.0f} day{'' if round(n) == 1 else 's'} ago"


def _order_history(row, spend: bool) -> str | None:
    """The facts a BTYD output is computed from, in words; None without them in `row`."""
    try:
        frequency, recency, age, monetary = (row[k] for k in _HISTORY)
    except (KeyError, TypeError):
        return None
    if any(v is None or pd.isna(v) for v in (frequency, recency, age)):
        return "no order yet"
    if round(frequency) == 0:
        return f"a single order day, {_days(age)}"
    text = (f"ordered on {frequency + 1:,.0f} days since its first order {_days(age)}, "
            f"the latest {_days(age - recency)}")
    if spend and monetary is not None and not pd.isna(monetary):
        text += f", repeat orders averaging {monetary:,.0f}"
    return text


MIN_CONTRIBUTION = 0.05
MIN_SHARE = 0.10
MIN_CHURN_PROBABILITY = 0.10

LABELS = {"value_up": "Value up", "value_down": "Value down", "churn_up": "Churn risk up"}
# the order sections take facts in: the one a manager acts on first
_PRIORITY = ("churn_up", "value_down", "value_up")


@functools.cache
def _catalogued(name: str) -> bool:
    """Whether the feature catalogue knows `name` (a miss tries every pattern: ask once)."""
    try:
        from features.catalogue import lookup

        lookup(name)
    except (ImportError, KeyError):
        return False
    return True


def phrase(name: str, value, row=None) -> str | None:
    """One feature value as a phrase: the catalogue's; for a DERIVED output the facts it is
    computed from, read from `row` (None without them: no reason); else name = value."""
    if name in DERIVED:
        return _order_history(row, DERIVED[name][1])
    if _catalogued(name):
        try:
            from features.catalogue import describe

            return describe(name, value, row)
        except (KeyError, ValueError, TypeError):
            pass
    if isinstance(value, (float, np.floating)) and not math.isnan(value):
        return f"{name} = {value:,.4g}"
    return f"{name} = {value}"


_UNKNOWN = 2  # the side of a value that is not known: never a reason


@dataclass(frozen=True)
class _Sense:
    """How a feature reads, from the catalogue (or DERIVED): `sign` +1 when more is better,
    -1 when less is better, 0 without an obvious side; `missing` the side of a missing value
    (-1 when it means "never happened" (no order, never contacted) on a feature with a side,
    0 on one without, _UNKNOWN when it means "not known"); the `fact` it states and the fact
    a value of 0 states; the catalogue's plain limits `good_at_most` and `bad_from`."""

    sign: int
    missing: int
    fact: str
    zero_fact: str
    good_at_most: float | None = None
    bad_from: tuple[str, float] | None = None


def _sense(name: str) -> _Sense:
    """The _Sense of feature `name`."""
    if name in DERIVED:
        sign = {"higher": 1, "lower": -1}[DERIVED[name][0]]
        return _Sense(sign, -1, _DERIVED_FACT, _DERIVED_FACT)
    try:
        from features.catalogue import lookup

        entry = lookup(name)
    except (ImportError, KeyError):
        return _Sense(0, _UNKNOWN, name, name)
    sign = {"higher": 1, "lower": -1}.get(entry.better, 0)
    missing = (-1 if sign else 0) if entry.never is not None else _UNKNOWN
    fact = entry.fact or name
    return _Sense(sign, missing, fact, entry.zero_fact or fact, entry.good_at_most,
                  entry.bad_from)


def explainable(model):
    """The model whose per-feature contributions explain `model`'s scores: itself when it
    has them (ValueModel, ChurnModel, a baseline's rule: models.selection.BaselineValue), a
    blend's member that speaks for it (models.selection.Blend.explained_by: its member with
    the largest share of the blend's prediction), else None."""
    if model is None or hasattr(model, "contributions"):
        return model
    return getattr(model, "explained_by", None)


def factors(model, X: pd.DataFrame, top_k: int = 3, direction: str = "both") -> pd.DataFrame:
    """The top contributions of each row of X to `model`'s prediction (log scale), as they
    are: no rule of `explain` applied (a diagnostic).

    `model` has a `contributions(X)` method (ValueModel, ChurnModel). direction: "up"
    (largest positive), "down" (most negative) or "both". Returns a long table: row (X's
    index label), direction, rank, feature, contribution, value, text.
    """
    contrib = model.contributions(X).drop(columns="bias")
    names = np.asarray(contrib.columns)
    values = contrib.to_numpy()
    records = X.to_dict("records")
    rows = []
    wanted = ("up", "down") if direction == "both" else (direction,)
    for i, label in enumerate(X.index):
        for way in wanted:
            signed = values[i] if way == "up" else -values[i]
            order = np.argsort(-signed, kind="stable")[:top_k]
            for rank, j in enumerate(o for o in order if signed[o] > 0):
                name = str(names[j])
                rows.append(
                    {
                        "row": label,
                        "direction": way,
                        "rank": rank + 1,
                        "feature": name,
                        "contribution": float(values[i, j]),
                        "value": records[i].get(name),
                        "text": phrase(name, records[i].get(name), records[i]),
                    }
                )
    return pd.DataFrame(
        rows, columns=["row", "direction", "rank", "feature", "contribution", "value", "text"]
    )


def _references(X: pd.DataFrame, signs: np.ndarray) -> dict[int, np.ndarray]:
    """Per column with a side (numeric, `signs` not 0): its known values in X, sorted."""
    out = {}
    for j, column in enumerate(X.columns):
        if signs[j] != 0 and pd.api.types.is_numeric_dtype(X[column].dtype):
            values = X[column].to_numpy(dtype=float)
            out[j] = np.sort(values[~np.isnan(values)])
    return out


def compact_reference(values) -> np.ndarray:
    """A reference of at most three values that puts every value on the same side of
    typical as the sorted known `values` themselves (`_sides`): the side is the sign of a
    value's mid-rank among them minus half their count, which only the value at the median
    rank, its tie counts and its upper neighbour decide. So a reference computed once over
    every customer (e.g. one column at a time over the partitions of the Dask engine) and
    passed to `explain(references=)` gives each partition exactly the reasons the whole
    frame would."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = len(v)
    if n == 0:
        return v
    u, c = np.unique(v, return_counts=True)
    total = np.cumsum(c)
    k = int(np.searchsorted(2 * total, n, side="left"))  # first value with 2 x rank >= n
    at = np.sign(2 * total[k] - c[k] - n)  # the side of the median value itself
    between = np.sign(2 * total[k] - n)  # the side just above it (0 or +1)
    if between == 0:  # exactly half the values up to u[k]: the gap up to u[k + 1] is "typical"
        return np.array([u[k], u[k + 1]])
    lo, hi = np.nextafter(u[k], -np.inf), np.nextafter(u[k], np.inf)
    if at < 0:
        return np.array([u[k], u[k], hi])
    if at == 0:
        return np.array([lo, u[k], hi])
    return np.array([lo, u[k], u[k]])


def reference_columns(X: pd.DataFrame) -> dict[str, np.ndarray]:
    """`compact_reference` of every numeric column of X, by name (for `explain`)."""
    return {str(c): compact_reference(X[c].to_numpy(dtype=float, na_value=np.nan))
            for c in X.columns if pd.api.types.is_numeric_dtype(X[c].dtype)}


def _sides(references: dict[int, np.ndarray], rows: pd.DataFrame,
           senses: list[_Sense]) -> np.ndarray:
    """+1 where a row's value is on the good side of the median of the reference values
    (`_references`), -1 on the bad side, 0 for a feature without a side or a value exactly in
    the middle; a missing value is on the side its _Sense's `missing` gives (-1, 0 or
    _UNKNOWN). The plain limits come last: a value above `good_at_most`, or at least
    `bad_from`'s ratio times the row's `bad_from` column, is on the bad side whatever the
    others do.

    The position is the value's mid-rank among the reference values (ties split), so a value
    shared by most customers (0 complaints, no manager) sits on the side of the rest.
    """
    out = np.zeros((len(rows), len(senses)), dtype=np.int8)
    for j, column in enumerate(rows.columns):
        sense = senses[j]
        absent = rows[column].isna().to_numpy()
        out[absent, j] = sense.missing
        if j not in references:
            continue
        ref, values = references[j], rows[column].to_numpy(dtype=float)
        below = np.searchsorted(ref, values, side="left")
        upto = np.searchsorted(ref, values, side="right")
        position = (below + upto) / (2.0 * max(len(ref), 1)) - 0.5
        side = np.sign(np.where(absent, 0.0, position)) * sense.sign
        bad = np.zeros(len(rows), dtype=bool)
        if sense.good_at_most is not None:
            bad |= values > sense.good_at_most
        if sense.bad_from is not None and sense.bad_from[0] in rows.columns:
            other = rows[sense.bad_from[0]].to_numpy(dtype=float, na_value=np.nan)
            with np.errstate(invalid="ignore"):  # NaN compares False: no usual gap, no rule
                bad |= (other > 0) & (values >= sense.bad_from[1] * other)
        side = np.where(bad, -1.0, side)
        out[~absent, j] = side[~absent].astype(np.int8)
    return out


# --- contributions, once per distinct path -------------------------------------------------

# LightGBM's kZeroThreshold (the float 1e-35f): a value within it of 0 is "zero" to a split
# whose missing type is Zero
_K_ZERO = float(np.float32(1e-35))
# rows of the few-row check of tree_contributions against the model's own contributions
_CHECK_ROWS = 16


def _lgbm_matrix(booster, X: pd.DataFrame) -> np.ndarray:
    """X as the float64 matrix LightGBM predicts on: categoricals as the codes of the
    categories the booster was trained with (unknown or missing: NaN), the rest as floats."""
    categories = list(booster.pandas_categorical or [])
    columns = []
    for name in X.columns:
        column = X[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            if not categories:
                raise ValueError(f"column {name!r} is categorical but the booster has no categories")
            known = categories.pop(0)
            if list(column.cat.categories) != list(known):
                column = column.cat.set_categories(known)
            codes = column.cat.codes.to_numpy()
            columns.append(np.where(codes < 0, np.nan, codes.astype(np.float64)))
        else:
            columns.append(column.to_numpy(dtype=np.float64, na_value=np.nan))
    return np.column_stack(columns) if columns else np.empty((len(X), 0))


def _goes_left(node: dict, x: np.ndarray) -> np.ndarray:
    """Where values `x` go left at a split of LightGBM's dump_model (its Tree::Decision)."""
    nan = np.isnan(x)
    if node["decision_type"] == "==":  # categorical: the listed categories go left
        left = np.array([int(c) for c in str(node["threshold"]).split("||")], dtype=np.int64)
        code = np.trunc(np.where(nan, -1.0, x))
        return ~nan & (code >= 0) & np.isin(code, left)
    missing = node["missing_type"]
    v = np.where(nan & (missing != "NaN"), 0.0, x)
    default = ((missing == "Zero") & (np.abs(v) <= _K_ZERO)) | ((missing == "NaN") & nan)
    return np.where(default, bool(node["default_left"]), v <= float(node["threshold"]))


class _Bins:
    """The values of one feature cut at every threshold the booster splits it on: rows in one
    bin go the same way at every split on the feature, and `values` holds one value per bin
    (a split's outcome for a bin is its outcome for that value)."""

    def __init__(self, nodes: list[dict]):
        self.categorical = {n["decision_type"] == "==" for n in nodes} == {True}
        if self.categorical:  # bins: missing or negative, the codes 0..k-1, any code >= k
            k = 1 + max(int(c) for n in nodes for c in str(n["threshold"]).split("||"))
            self.edges = None
            self.values = np.concatenate([[np.nan], np.arange(k + 1, dtype=np.float64)])
            return
        if any(n["decision_type"] != "<=" for n in nodes):
            raise ValueError(f"unknown decision types {sorted({n['decision_type'] for n in nodes})}")
        # the zero region [-_K_ZERO, _K_ZERO] is a union of bins; NaN has a bin of its own
        edges = {float(n["threshold"]) for n in nodes} | {np.nextafter(-_K_ZERO, -np.inf), _K_ZERO}
        self.edges = np.array(sorted(edges))
        self.values = np.concatenate([self.edges, [np.inf, np.nan]])

    def of(self, x: np.ndarray) -> np.ndarray:
        """The bin of each value of `x` (intp)."""
        nan = np.isnan(x)
        if self.edges is None:
            code = np.trunc(np.where(nan, -1.0, x))
            top = len(self.values) - 2
            return np.where(code < 0, 0, np.minimum(code, top) + 1).astype(np.intp)
        out = np.searchsorted(self.edges, x, side="left")
        out[nan] = len(self.values) - 1
        return out


class _TreePaths:
    """One single-output LightGBM booster's trees as what `tree_contributions` needs: per tree,
    per feature it splits on, a table from the feature's bin to the bits of the tree's
    splits on it (bit k: the row goes left at the tree's split k)."""

    def __init__(self, booster):
        if booster.num_model_per_iteration() != 1:
            raise ValueError("only single-output boosters are supported")
        dump = booster.dump_model()
        self.booster = booster
        self.names = [str(n) for n in dump["feature_names"]]
        trees = []
        by_feature = defaultdict(list)
        for info in dump["tree_info"]:
            nodes, stack = [], [info["tree_structure"]]
            while stack:
                node = stack.pop()
                if "split_index" in node:
                    nodes.append(node)
                    by_feature[int(node["split_feature"])].append(node)
                    stack += [node["left_child"], node["right_child"]]
            trees.append(nodes)
        self.bins = {f: _Bins(nodes) for f, nodes in by_feature.items()}
        self.tables = []  # per tree: {(feature, word): uint32 table over the feature's bins}
        for nodes in trees:
            tables = {}
            for k, node in enumerate(nodes):
                f, word = int(node["split_feature"]), k // 32
                bit = _goes_left(node, self.bins[f].values).astype(np.uint32) << np.uint32(k % 32)
                tables[f, word] = tables.get((f, word), np.uint32(0)) | bit
            self.tables.append(tables)

    def contributions(self, M: np.ndarray) -> np.ndarray:
        """pred_contrib of the rows of M (`_lgbm_matrix`): (rows, features + 1), bias last."""
        n, width = len(M), len(self.names) + 1
        total = np.zeros((width, n))
        if n == 0:
            return total.T
        bins = {f: b.of(M[:, f]) for f, b in self.bins.items()}
        for t, tables in enumerate(self.tables):
            words = defaultdict(lambda: np.zeros(n, dtype=np.uint32))
            for (f, word), table in tables.items():
                words[word] |= table[bins[f]]
            codes = np.zeros(n, dtype=np.intp)  # a tree without a split: one group
            for w in sorted(words):  # the group: the row's bits at every split of the tree
                key = (codes.astype(np.uint64) << np.uint64(32)) | words[w] if w else words[w]
                codes, _ = pd.factorize(key)
            first = np.empty(codes.max() + 1, dtype=np.intp)
            first[codes] = np.arange(n)
            one = self.booster.predict(M[first], pred_contrib=True, start_iteration=t,
                                       num_iteration=1)
            used = sorted({f for f, _ in tables}) + [width - 1]
            values = np.ascontiguousarray(np.asarray(one)[:, used].T)
            for k, f in enumerate(used):  # row by row: no temporary of every used column
                row = total[f]
                row += values[k].take(codes)
        return total.T


def tree_contributions(booster, X: pd.DataFrame) -> np.ndarray:
    """LightGBM's `booster.predict(X, pred_contrib=True)` for a single-output booster, with
    TreeSHAP run once per tree for each distinct set of ways rows go at the tree's splits
    (the same numbers up to rounding, several times faster on many rows: module docstring).
    Columns: the booster's features in X's order, then the bias."""
    paths = _TreePaths(booster)
    if paths.names != [str(c) for c in X.columns]:
        raise ValueError(f"X's columns {list(X.columns)} are not the booster's {paths.names}")
    return paths.contributions(_lgbm_matrix(booster, X))


def _boosters(model) -> list | None:
    """The LightGBM boosters whose pred_contrib add up to `model.contributions` (ChurnModel:
    its classifier; ValueModel: its regressor, plus its classifier for the hurdle), else None."""
    try:
        if hasattr(model, "classifier_") and not hasattr(model, "estimators_"):
            return [model.classifier_.booster_]
        estimators = model.estimators_
        parts = ["regressor"] + (["classifier"] if model.objective == "hurdle" else [])
        return [estimators[p].booster_ for p in parts]
    except (AttributeError, KeyError, TypeError):
        return None


class _Contributions:
    """`model.contributions` of rows, as an array with columns in `names` order: through
    `_TreePaths` for the boosters of `_boosters(model)`, checked on a few rows of every call
    against the model's own (which any other model, or a mismatch, uses instead)."""

    def __init__(self, model, names: list[str]):
        self.model, self.names = model, names
        self.paths = None
        boosters = _boosters(model)
        if boosters:
            try:
                paths = [_TreePaths(b) for b in boosters]
                if all(p.names == names for p in paths):
                    self.paths = paths
            except (ValueError, KeyError, TypeError):
                self.paths = None

    def _own(self, rows: pd.DataFrame) -> np.ndarray:
        return self.model.contributions(rows)[self.names].to_numpy(dtype=float)

    def __call__(self, rows: pd.DataFrame) -> np.ndarray:
        if self.paths is None or len(rows) <= _CHECK_ROWS:
            return self._own(rows)
        try:
            fast = sum(p.contributions(_lgbm_matrix(p.booster, rows)) for p in self.paths)
        except (ValueError, TypeError):
            return self._own(rows)
        fast = fast[:, :-1]
        check = np.unique(np.linspace(0, len(rows) - 1, _CHECK_ROWS).astype(int))
        if not np.allclose(fast[check], self._own(rows.iloc[check]), rtol=1e-9, atol=1e-9):
            return self._own(rows)
        return fast


# --- ranking and rendering ------------------------------------------------------------------

_MISSING = object()  # a missing value in the phrase cache's keys


class _Row(Mapping):
    """A row of the explained frame as a read-only mapping (context for `phrase`) that notes
    whether anything was read from it."""

    def __init__(self, columns: dict[str, np.ndarray], i: int):
        self._columns, self._i = columns, i
        self.read = False

    def __getitem__(self, key):
        self.read = True
        return self._columns[key][self._i]

    def __iter__(self):
        self.read = True
        return iter(self._columns)

    def __len__(self):
        self.read = True
        return len(self._columns)


class _Phrases:
    """`phrase(names[j], value, row)` for row i of `columns`, kept per feature and value when
    the phrase read nothing else of the row: then the same feature and value give the same
    phrase on every row (what `phrase` reads depends on nothing but them until its first
    read). Phrases that read the row ("..., three times its usual gap") are not kept."""

    def __init__(self, names: list[str], columns: dict[str, np.ndarray]):
        self.names, self.columns = names, columns
        self.kept: dict = {}

    def __call__(self, i: int, j: int) -> str:
        name = self.names[j]
        value = self.columns[name][i]
        try:  # the type too: "x = 1" and "x = 1.0"; NaN as one key
            key = (j, value.__class__, _MISSING if value != value else value)
            return self.kept[key]
        except KeyError:
            pass
        except TypeError:  # unhashable, or pd.NA (no truth value): not kept
            key = None
        row = _Row(self.columns, i)
        text = phrase(name, value, row)
        if key is not None and not row.read:
            self.kept[key] = text
        return text


def _floor(contrib: np.ndarray, least: float, share: float) -> np.ndarray:
    """Per row the smallest contribution that is material: `least`, or `share` of the row's
    largest in absolute value."""
    largest = np.abs(contrib).max(axis=1, initial=0.0)
    return np.maximum(least, share * largest)[:, None]


def _pick(scores: dict[str, np.ndarray], facts: np.ndarray, top_k: int,
          render: Callable[[int, int], str]) -> list[dict[str, list[str]]]:
    """Per row, per section, the phrases of the chosen factors: the largest eligible scores
    (ineligible ones are -inf), each fact (`facts`: per row and column) and each phrase
    (`render(row, column)`) once per row, sections served in _PRIORITY. The ranking is numpy
    over all rows; only the eligible factors of a row are looked at one by one."""
    candidates = {}
    for section, values in scores.items():
        count = (values > -np.inf).sum(axis=1)
        order = np.argsort(-values, axis=1, kind="stable")[:, :int(count.max(initial=0))]
        candidates[section] = (order.tolist(), np.take_along_axis(facts, order, axis=1).tolist(),
                               count.tolist())
    sections = [s for s in _PRIORITY if s in candidates]
    picked = []
    for i in range(len(facts)):
        used, row = set(), {}
        for section in sections:
            order, fact, count = candidates[section]
            columns, row_facts, chosen = order[i], fact[i], []
            for c in range(count[i]):
                if len(chosen) == top_k:
                    break
                if row_facts[c] in used:
                    continue
                text = render(i, columns[c])
                if text and text not in used:
                    used.update((row_facts[c], text))
                    chosen.append(text)
            row[section] = chosen
        picked.append(row)
    return picked


def explain(
    X: pd.DataFrame,
    value_model=None,
    churn_model=None,
    rows=None,
    top_k: int = 3,
    *,
    churn_probability: pd.Series | None = None,
    min_churn_probability: float = MIN_CHURN_PROBABILITY,
    min_contribution: float = MIN_CONTRIBUTION,
    min_share: float = MIN_SHARE,
    chunk_rows: int = 50_000,
    references: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Reasons for the rows `rows` of X (index labels; all rows when None), by the rules of
    the module docstring; X's rows are the reference for which side of typical a value is.

    `churn_probability` (indexed like X; default: `churn_model.predict_proba`) decides who
    gets a "Churn risk up" section. Returns a DataFrame on those rows with value_up,
    value_down, churn_up (phrases joined by "; ") and `reasons`, one sentence block, e.g.
    "Value up: 12,300 spent in the last 365 days. Value down: last order 142 days ago, three
    times its usual gap. Churn risk up: ...". A model that is None (BTYD fallback)
    contributes no phrases; a section without an eligible factor is left out.

    `references` (column name -> values, e.g. `reference_columns` of a larger frame) replaces
    X's rows as the reference of "typical": a partition of the customers is then explained
    against the whole base, as it would be in one frame.
    """
    subset = X if rows is None else X.loc[rows]
    out = pd.DataFrame("", index=subset.index, columns=[*LABELS, REASONS])
    if subset.empty or (value_model is None and churn_model is None):
        return out
    names = [str(c) for c in X.columns]
    senses = [_sense(n) for n in names]
    signs = np.array([s.sign for s in senses], dtype=np.int8)
    facts = np.array([s.fact for s in senses], dtype=object)
    zero_facts = np.array([s.zero_fact for s in senses], dtype=object)
    numeric = [pd.api.types.is_numeric_dtype(X[n].dtype) for n in names]
    churn_ok = np.zeros(len(subset), dtype=bool)
    if churn_model is not None:
        if churn_probability is None:
            p = churn_model.predict_proba(subset)[:, 1]
        else:
            p = churn_probability.reindex(subset.index).to_numpy(dtype=float)
        churn_ok = p >= min_churn_probability
    churn = None if churn_model is None else _Contributions(churn_model, names)
    value = None if value_model is None else _Contributions(value_model, names)
    if references is None:
        references = _references(X, signs)
    else:
        references = {j: np.asarray(references[n], dtype=float) for j, n in enumerate(names)
                      if signs[j] != 0 and numeric[j] and n in references}
    texts = {section: [] for section in LABELS}
    for start in range(0, len(subset), chunk_rows):
        part = subset.iloc[start:start + chunk_rows]
        good = _sides(references, part, senses)
        scores = {}
        if churn is not None:
            # a churn section only for accounts at risk: the others need no contributions
            ok = np.flatnonzero(churn_ok[start:start + len(part)])
            scores["churn_up"] = np.full(good.shape, -np.inf)
            if len(ok):
                contrib = churn(part.iloc[ok])
                floor = _floor(contrib, min_contribution, min_share)
                eligible = (contrib >= floor) & (good[ok] <= 0)
                scores["churn_up"][ok] = np.where(eligible, contrib, -np.inf)
        if value is not None:
            contrib = value(part)
            floor = _floor(contrib, min_contribution, min_share)
            scores["value_down"] = np.where((-contrib >= floor) & (good <= 0), -contrib, -np.inf)
            scores["value_up"] = np.where((contrib >= floor) & ((good == 0) | (good == 1)),
                                          contrib, -np.inf)
        columns = {n: part[n].to_numpy() for n in names}
        zero = np.column_stack([columns[n] == 0 if ok else np.zeros(len(part), dtype=bool)
                                for n, ok in zip(names, numeric)])
        row_facts = np.where(zero, zero_facts[None, :], facts[None, :])
        for row in _pick(scores, row_facts, top_k, _Phrases(names, columns)):
            for section in LABELS:
                texts[section].append("; ".join(row.get(section, [])))
    for section in LABELS:
        out[section] = texts[section]
    out[REASONS] = [
        " ".join(f"{LABELS[s]}: {text}." for s, text in zip(LABELS, parts) if text)
        for parts in zip(*(texts[s] for s in LABELS))
    ]
    return out

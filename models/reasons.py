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
- "Churn risk up" is shown only for accounts whose churn probability is at least
  `min_churn_probability` (MIN_CHURN_PROBABILITY = 0.10): for an account almost certain to
  keep buying, the factors nudging a tiny risk up are not warnings;
- one fact once: features stating the same fact (catalogue `fact` and `zero_fact`: tenure
  and first order; orders, order days and repeat order days; nothing spent in the last 365
  and in the last 180 days, or "last order 400 days ago"), and the same phrase ("no repeat
  order yet"), appear once per customer, in the first section that takes them in the order
  churn risk up, value down, value up; each section then takes its next factor.

Contributions cost about 2-3 ms per row for both models on two cores (TreeSHAP over every
tree: 40-55 s for 20,000 customers, ~5 minutes for 100,000); the rest ~0.05 ms per row.
`explain` computes each model's once per row, in chunks of `chunk_rows` rows (bounded
memory). A feature missing from the catalogue is shown as "name = value".
"""

import math
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

__all__ = [
    "EXTRA_PHRASES",
    "MIN_CHURN_PROBABILITY",
    "MIN_CONTRIBUTION",
    "MIN_SHARE",
    "explain",
    "factors",
    "phrase",
]

# phrases of model-side features that the feature catalogue does not hold
EXTRA_PHRASES = {
    "btyd_expected_spend": "expected spend {value:,.0f} by the BG/NBD + Gamma-Gamma model",
    "btyd_prob_no_purchase": "{value:.0%} chance of no order by the BG/NBD model",
    "btyd_prob_alive": "{value:.0%} chance of still being active by the BG/NBD model",
    "btyd_expected_orders": "{value:,.1f} expected orders by the BG/NBD model",
}
# ... what they read when they round to nothing, or are missing (no order: no forecast)
_EXTRA_MISSING = "no order yet"
_EXTRA_NONE = {
    "btyd_expected_spend": (0.5, "no spend expected by the BG/NBD + Gamma-Gamma model"),
    "btyd_expected_orders": (0.05, "no order expected by the BG/NBD model"),
}
# ... their good side and fact, as the catalogue's `better` and `fact`
# (one BG/NBD statement per customer: "0% chance of still being active" and "no order
# expected" say the same)
_EXTRA_SENSE = {
    "btyd_expected_spend": ("higher", "btyd_model"),
    "btyd_expected_orders": ("higher", "btyd_model"),
    "btyd_prob_no_purchase": ("lower", "btyd_model"),
    "btyd_prob_alive": ("higher", "btyd_model"),
}

MIN_CONTRIBUTION = 0.05
MIN_SHARE = 0.10
MIN_CHURN_PROBABILITY = 0.10

LABELS = {"value_up": "Value up", "value_down": "Value down", "churn_up": "Churn risk up"}
# the order sections take facts in: the one a manager acts on first
_PRIORITY = ("churn_up", "value_down", "value_up")


def phrase(name: str, value, row=None) -> str:
    """One feature value as a phrase: the catalogue's, else EXTRA_PHRASES, else name = value."""
    try:
        from features.catalogue import describe

        return describe(name, value, row)
    except (ImportError, KeyError, ValueError, TypeError):
        pass
    if name in EXTRA_PHRASES and (value is None or pd.isna(value)):
        return _EXTRA_MISSING
    if name in EXTRA_PHRASES:
        try:
            below, nothing = _EXTRA_NONE.get(name, (-math.inf, ""))
            if abs(float(value)) < below:
                return nothing
            return EXTRA_PHRASES[name].format(value=float(value))
        except (TypeError, ValueError):
            pass
    if isinstance(value, (float, np.floating)) and not math.isnan(value):
        return f"{name} = {value:,.4g}"
    return f"{name} = {value}"


_UNKNOWN = 2  # the side of a value that is not known: never a reason


def _sense(name: str) -> tuple[int, int, str, str]:
    """(+1 when more is better, -1 when less is better, 0 without an obvious side; the side
    of a missing value: -1 when it means "never happened" (no order, never contacted) on a
    feature with a side, 0 on one without, _UNKNOWN when it means "not known"; the fact it
    states; the fact a value of 0 states)."""
    try:
        from features.catalogue import lookup

        entry = lookup(name)
        better, fact, zero_fact = entry.better, entry.fact, entry.zero_fact
        never = entry.never is not None
    except (ImportError, KeyError):
        (better, fact), zero_fact = _EXTRA_SENSE.get(name, (None, None)), None
        never = name in _EXTRA_SENSE
    sign = {"higher": 1, "lower": -1}.get(better, 0)
    missing = (-1 if sign else 0) if never else _UNKNOWN
    return sign, missing, fact or name, zero_fact or fact or name


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


def _sides(references: dict[int, np.ndarray], rows: pd.DataFrame, signs: np.ndarray,
           missing: np.ndarray) -> np.ndarray:
    """+1 where a row's value is on the good side of the median of the reference values
    (`_references`), -1 on the bad side, 0 for a feature without a side or a value exactly in
    the middle; a missing value is on the side `missing` gives per feature (-1, 0 or
    _UNKNOWN).

    The position is the value's mid-rank among the reference values (ties split), so a value
    shared by most customers (0 complaints, no manager) sits on the side of the rest.
    """
    out = np.zeros((len(rows), len(signs)), dtype=np.int8)
    for j, column in enumerate(rows.columns):
        absent = rows[column].isna().to_numpy()
        out[absent, j] = missing[j]
        if j not in references:
            continue
        ref, values = references[j], rows[column].to_numpy(dtype=float)
        below = np.searchsorted(ref, values, side="left")
        upto = np.searchsorted(ref, values, side="right")
        position = (below + upto) / (2.0 * max(len(ref), 1)) - 0.5
        side = np.sign(np.where(absent, 0.0, position)) * signs[j]
        out[~absent, j] = side[~absent].astype(np.int8)
    return out


class _Row(Mapping):
    """A row of the explained frame as a read-only mapping (context for `phrase`)."""

    def __init__(self, columns: dict[str, np.ndarray], i: int):
        self._columns, self._i = columns, i

    def __getitem__(self, key):
        return self._columns[key][self._i]

    def __iter__(self):
        return iter(self._columns)

    def __len__(self):
        return len(self._columns)


def _contributions(model, part: pd.DataFrame, names: list[str], least: float,
                   share: float) -> tuple[np.ndarray, np.ndarray]:
    """(the contributions of `part`'s rows to `model`, columns in `names` order; per row the
    smallest that is material: `least`, or `share` of the row's largest in absolute value)."""
    contrib = model.contributions(part)[names].to_numpy(dtype=float)
    largest = np.abs(contrib).max(axis=1, initial=0.0)
    return contrib, np.maximum(least, share * largest)[:, None]


def _pick(scores: dict[str, np.ndarray], facts: np.ndarray, top_k: int,
          render: Callable[[int, int], str]) -> list[dict[str, list[str]]]:
    """Per row, per section, the phrases of the chosen factors: the largest eligible scores
    (ineligible ones are -inf), each fact (`facts`: per row and column) and each phrase
    (`render(row, column)`) once per row, sections served in _PRIORITY."""
    orders = {s: np.argsort(-v, axis=1, kind="stable") for s, v in scores.items()}
    picked = []
    for i in range(len(facts)):
        used, row = set(), {}
        for section in _PRIORITY:
            if section not in scores:
                continue
            values, chosen = scores[section][i], []
            for j in orders[section][i]:
                if len(chosen) == top_k or values[j] == -np.inf:
                    break
                if facts[i, j] in used:
                    continue
                text = render(i, j)
                if text not in used:
                    used.update((facts[i, j], text))
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
) -> pd.DataFrame:
    """Reasons for the rows `rows` of X (index labels; all rows when None), by the rules of
    the module docstring; X's rows are the reference for which side of typical a value is.

    `churn_probability` (indexed like X; default: `churn_model.predict_proba`) decides who
    gets a "Churn risk up" section. Returns a DataFrame on those rows with value_up,
    value_down, churn_up (phrases joined by "; ") and `reasons`, one sentence block, e.g.
    "Value up: 12,300 spent in the last 365 days. Value down: last order 142 days ago, three
    times its usual gap. Churn risk up: ...". A model that is None (BTYD fallback)
    contributes no phrases; a section without an eligible factor is left out.
    """
    subset = X if rows is None else X.loc[rows]
    out = pd.DataFrame("", index=subset.index, columns=[*LABELS, "reasons"])
    if subset.empty or (value_model is None and churn_model is None):
        return out
    names = [str(c) for c in X.columns]
    sense = [_sense(n) for n in names]
    signs = np.array([s[0] for s in sense], dtype=np.int8)
    missing = np.array([s[1] for s in sense], dtype=np.int8)
    facts = np.array([s[2] for s in sense], dtype=object)
    zero_facts = np.array([s[3] for s in sense], dtype=object)
    numeric = [pd.api.types.is_numeric_dtype(X[n].dtype) for n in names]
    churn_ok = np.zeros(len(subset), dtype=bool)
    if churn_model is not None:
        if churn_probability is None:
            p = churn_model.predict_proba(subset)[:, 1]
        else:
            p = churn_probability.reindex(subset.index).to_numpy(dtype=float)
        churn_ok = p >= min_churn_probability
    references = _references(X, signs)
    texts = {section: [] for section in LABELS}
    for start in range(0, len(subset), chunk_rows):
        part = subset.iloc[start:start + chunk_rows]
        good = _sides(references, part, signs, missing)
        scores = {}
        if churn_model is not None:
            contrib, floor = _contributions(churn_model, part, names, min_contribution,
                                            min_share)
            eligible = (contrib >= floor) & (good <= 0) & churn_ok[start:start + len(part), None]
            scores["churn_up"] = np.where(eligible, contrib, -np.inf)
        if value_model is not None:
            contrib, floor = _contributions(value_model, part, names, min_contribution,
                                            min_share)
            scores["value_down"] = np.where((-contrib >= floor) & (good <= 0), -contrib, -np.inf)
            scores["value_up"] = np.where((contrib >= floor) & ((good == 0) | (good == 1)),
                                          contrib, -np.inf)
        columns = {n: part[n].to_numpy() for n in names}
        zero = np.column_stack([columns[n] == 0 if ok else np.zeros(len(part), dtype=bool)
                                for n, ok in zip(names, numeric)])
        row_facts = np.where(zero, zero_facts[None, :], facts[None, :])

        def render(i: int, j: int) -> str:
            return phrase(names[j], columns[names[j]][i], _Row(columns, i))

        for row in _pick(scores, row_facts, top_k, render):
            for section in LABELS:
                texts[section].append("; ".join(row.get(section, [])))
    for section in LABELS:
        out[section] = texts[section]
    out["reasons"] = [
        " ".join(f"{LABELS[s]}: {text}." for s, text in zip(LABELS, parts) if text)
        for parts in zip(*(texts[s] for s in LABELS))
    ]
    return out

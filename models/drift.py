"""Drift of the scoring population from the training reference: the population stability index.

At training time `reference_profile` bins every feature of the scoring frame the models were
validated on, and their two scores (expected_value, churn_probability), and keeps the bin
definitions with the reference proportions (a JSON-safe dict). Before publishing,
`population_stability` puts a new frame and its scores into the same bins and computes, per
column,

    PSI = sum over bins of (current - reference) * ln(current / reference)

with both proportions floored at `EPSILON` = 1e-4 (0.01 % of the rows) so that a bin empty on
one side counts as very unlikely instead of infinitely so: a bin absent from the reference
that now holds 1 % of the rows adds 0.046, one that holds 10 % adds 0.69. `drift_decision`
turns the table into a refuse/accept decision.

Bins. Numeric columns: one bin for missing values, one bin per point mass (a single value
holding at least `point_share` of the non-missing reference rows: the zeros of a spend window
in which most customers bought nothing, the 0/1 of a flag, the one value of a constant
column), then `bins` quantile bins of the remaining values (right-closed, the outer ones open
to -inf/+inf; tied quantiles merge, so a column of few distinct values gets fewer bins). A
constant or all-point column keeps one (-inf, +inf) bin with a reference share of 0, so a
value never seen in the reference still lands in a bin and counts. Categorical columns: one
bin per category holding at least `min_category_share` of the reference (at most
`max_categories`), one "other/unseen" bin for the rest and for categories first seen in the
current frame, and one for missing values.

Bands (common practice for PSI): below 0.1 stable, 0.1 to 0.25 moderate, above 0.25 major.
With 10-12 bins and two independent samples of n rows from one distribution the PSI is about
(bins - 1) * 2 / n on average: 0.001 for 20,000 customers, 0.02 for 1,000.
"""

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from models.columns import SCORE_COLUMNS

__all__ = [
    "BANDS",
    "EPSILON",
    "FORMAT",
    "SCORE_COLUMNS",
    "DriftDecision",
    "DriftLimits",
    "band",
    "drift_decision",
    "importance_ranking",
    "population_stability",
    "psi",
    "reference_profile",
]

FORMAT = "keyaccounts-drift-reference/1"
EPSILON = 1e-4
BANDS = {"stable": 0.1, "major": 0.25}  # PSI < 0.1 stable, <= 0.25 moderate, > 0.25 major
MISSING, OTHER = "missing", "other/unseen"
TABLE_COLUMNS = ["column", "kind", "type", "psi", "band", "reference_missing", "current_missing",
                 "worst_bin", "worst_reference", "worst_current", "importance_rank"]


class DriftLimits(Protocol):
    """What `drift_decision` reads (pipeline.config.guard.GuardConfig has these fields)."""

    score_psi_limit: float
    feature_psi_limit: float
    max_drifted_share: float
    top_features: int
    min_rows_share: float


@dataclass(frozen=True)
class DriftDecision:
    """Whether to refuse publishing, and one sentence per rule that fired."""

    refuse: bool
    reasons: list[str] = field(default_factory=list)


def band(value: float) -> str:
    """"stable" (PSI < 0.1), "moderate" (0.1 to 0.25) or "major" (> 0.25); see BANDS."""
    if value is None or math.isnan(value):
        return "unknown"
    if value < BANDS["stable"]:
        return "stable"
    return "moderate" if value <= BANDS["major"] else "major"


def psi(reference, current, epsilon: float = EPSILON) -> float:
    """The population stability index of two proportion vectors over the same bins (each
    floored at `epsilon`; see the module docstring)."""
    r = np.maximum(np.asarray(reference, dtype=float), epsilon)
    c = np.maximum(np.asarray(current, dtype=float), epsilon)
    return float(np.sum((c - r) * np.log(c / r)))


def _is_numeric(series: pd.Series) -> bool:
    dtype = series.dtype
    return (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)) \
        and not isinstance(dtype, pd.CategoricalDtype)


def _fmt(value: float) -> str:
    return f"{value:.6g}"  # 4 digits would show an edge at 0.99996 as "1"


def _floats(values: pd.Series) -> np.ndarray:
    if not _is_numeric(values):
        values = pd.to_numeric(values, errors="coerce")
    return values.to_numpy(dtype=float, na_value=np.nan)


def _quantiles(ordered: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """np.quantile's default (linear) of an already sorted array, without sorting again."""
    position = probabilities * (len(ordered) - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _numeric_spec(values: pd.Series, bins: int, point_share: float) -> dict:
    x = _floats(values)
    finite = np.sort(x[np.isfinite(x)])  # +-inf fall into the outer bins, never a point
    points: list[float] = []
    edges: list[float] = []
    if len(finite):
        starts = np.flatnonzero(np.r_[True, finite[1:] != finite[:-1]])
        counts = np.diff(np.r_[starts, len(finite)])
        heavy = counts >= point_share * len(finite)
        points = [float(v) for v in finite[starts[heavy]]]
        keep = np.repeat(~heavy, counts)
        rest = finite[keep]  # still sorted
        if len(rest):
            quantiles = _quantiles(rest, np.linspace(0, 1, bins + 1)[1:-1])
            edges = [float(e) for e in np.unique(quantiles)]
            if edges and edges[-1] >= rest[-1]:  # a top edge at the maximum: an empty bin
                edges = edges[:-1]
    return {"type": "numeric", "points": points, "edges": edges}


def _numeric_labels(spec: dict) -> list[str]:
    points, edges = spec["points"], spec["edges"]
    if not edges:
        intervals = ["any other value"]
    else:
        intervals = [f"<= {_fmt(edges[0])}"]
        intervals += [f"({_fmt(a)}, {_fmt(b)}]" for a, b in zip(edges[:-1], edges[1:])]
        intervals.append(f"> {_fmt(edges[-1])}")
    return [MISSING, *(f"= {_fmt(p)}" for p in points), *intervals]


def _numeric_counts(values: pd.Series, spec: dict) -> np.ndarray:
    x = _floats(values)
    missing = np.isnan(x)
    counts = [int(missing.sum())]
    rest = x[~missing]
    for point in spec["points"]:
        hit = rest == point
        counts.append(int(hit.sum()))
        rest = rest[~hit]
    slots = np.zeros(len(rest), dtype=np.int16)  # slot i: edges[i - 1] < x <= edges[i]
    for edge in spec["edges"]:  # a pass per edge beats np.searchsorted on unsorted values
        slots += rest > edge
    counts.extend(np.bincount(slots, minlength=len(spec["edges"]) + 1).tolist())
    return np.asarray(counts, dtype=float)


def _category_counts(values: pd.Series) -> pd.Series:
    """Rows per category as text (counted before converting: cheap on millions of rows)."""
    counts = values.value_counts(dropna=True, sort=False)
    counts = counts[counts > 0]
    return counts.groupby(counts.index.map(str)).sum()


def _categorical_spec(values: pd.Series, min_share: float, max_categories: int) -> dict:
    counts = _category_counts(values)
    total = counts.sum()
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    kept = [name for name, n in ordered if total and n / total >= min_share][:max_categories]
    return {"type": "categorical", "categories": kept}


def _categorical_counts(values: pd.Series, spec: dict) -> np.ndarray:
    missing = int(values.isna().sum())
    counts = _category_counts(values)
    known = counts.reindex(spec["categories"], fill_value=0).to_numpy()
    other = int(counts.sum()) - int(known.sum())
    return np.asarray([missing, *known.tolist(), other], dtype=float)


def _counts(values: pd.Series, spec: dict) -> np.ndarray:
    if spec["type"] == "numeric":
        return _numeric_counts(values, spec)
    return _categorical_counts(values, spec)


def _proportions(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total > 0 else np.zeros_like(counts)


def importance_ranking(*importances: pd.Series) -> list[str]:
    """Features ordered by importance, most important first, over several models: each
    model's importances (e.g. total gain) are made shares of its total and a feature ranks by
    its largest share in any model."""
    shares = []
    for imp in importances:
        if imp is None or len(imp) == 0:
            continue
        imp = pd.Series(imp, dtype=float).clip(lower=0)
        total = imp.sum()
        shares.append(imp / total if total > 0 else imp * 0)
    if not shares:
        return []
    best = pd.concat(shares, axis=1).max(axis=1)
    order = sorted(best.index, key=lambda name: (-best[name], str(name)))
    return [str(name) for name in order]


def reference_profile(
    frame: pd.DataFrame,
    columns: list[str],
    scores: pd.DataFrame,
    *,
    bins: int = 10,
    importance: list[str] | None = None,
    point_share: float = 0.05,
    min_category_share: float = 0.005,
    max_categories: int = 30,
) -> dict:
    """The bins and reference proportions of `columns` of `frame` (kind "feature") and of the
    SCORE_COLUMNS of `scores` (kind "score"); JSON-safe. `importance`: the features ordered
    by the models' importance, most important first (see `importance_ranking`), kept for
    `drift_decision`'s top-features rule. Raises ValueError naming a missing column."""
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    entries = []
    for kind, source, names in (("feature", frame, list(columns)),
                                ("score", scores, list(SCORE_COLUMNS))):
        for name in names:
            if name not in source.columns:
                raise ValueError(f"drift reference: column {name!r} is not in the {kind} frame")
            values = source[name]
            spec = (_numeric_spec(values, bins, point_share) if _is_numeric(values)
                    else _categorical_spec(values, min_category_share, max_categories))
            labels = (_numeric_labels(spec) if spec["type"] == "numeric"
                      else [MISSING, *spec["categories"], OTHER])
            proportions = _proportions(_counts(values, spec))
            entries.append({"column": name, "kind": kind, **spec, "labels": labels,
                            "proportions": [float(p) for p in proportions]})
    return {"format": FORMAT, "bins": int(bins), "epsilon": EPSILON,
            "point_share": float(point_share), "rows": int(len(frame)),
            "importance": [str(c) for c in (importance or []) if c in set(columns)],
            "columns": entries}


def population_stability(profile: dict, frame: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """One row per column of `profile`: kind (feature/score), type, psi, band, the reference
    and current missing share, the bin contributing most to the PSI (its label and both
    shares; "" and NaN when nothing moved) and the feature's importance rank (1 = most
    important; NaN when unranked).
    A column absent from `frame`/`scores` counts as all missing. Sorted by PSI, largest first.
    """
    if profile.get("format") != FORMAT:
        raise ValueError(f"not a drift reference of format {FORMAT}: {profile.get('format')!r}")
    epsilon = float(profile.get("epsilon", EPSILON))
    ranks = {name: i + 1 for i, name in enumerate(profile.get("importance", []))}
    rows = []
    for entry in profile["columns"]:
        source = frame if entry["kind"] == "feature" else scores
        name = entry["column"]
        values = source[name] if name in source.columns else pd.Series(np.nan, index=source.index)
        reference = np.asarray(entry["proportions"], dtype=float)
        current = _proportions(_counts(values, entry))
        r, c = np.maximum(reference, epsilon), np.maximum(current, epsilon)
        parts = (c - r) * np.log(c / r)
        worst = int(np.argmax(parts))
        value = float(parts.sum())
        moved = bool(parts[worst] > 0)
        rows.append({"column": name, "kind": entry["kind"], "type": entry["type"], "psi": value,
                     "band": band(value), "reference_missing": float(reference[0]),
                     "current_missing": float(current[0]),
                     "worst_bin": entry["labels"][worst] if moved else "",
                     "worst_reference": float(reference[worst]) if moved else np.nan,
                     "worst_current": float(current[worst]) if moved else np.nan,
                     "importance_rank": float(ranks.get(name, np.nan))})
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return table.sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)


def drift_decision(
    table: pd.DataFrame, limits: DriftLimits, rows: tuple[int, int] | None = None
) -> DriftDecision:
    """Refuse to publish when the scoring population moved too far from the reference.

    Four rules, any one refuses (each adds a reason naming the columns and numbers):
    1. a score column (expected_value, churn_probability) has PSI > `score_psi_limit`: what
       is published moved, whatever the cause;
    2. one of the `top_features` most important features (importance_rank <= top_features)
       has PSI > `feature_psi_limit`: the inputs the models lean on most left the range they
       were validated on, even when the scores happen to look alike;
    3. more than `max_drifted_share` of all features have PSI > `feature_psi_limit`: a broad
       shift (another source, a broken export, a changed definition) even if each feature
       matters little on its own;
    4. `rows` = (reference rows, current rows) given and the current population holds fewer
       than `min_rows_share` of the reference's customers: a partial export (one region, a
       truncated file) has the same distributions, so no PSI sees it, yet publishing it would
       mark every missing customer inactive. The customers known at an as-of only grow over
       time, so a smaller population is a fault or a much older as-of.
    A single unimportant feature drifting is reported in the table but does not refuse:
    features of one customer base are correlated, and refusing on any one of ~50 would
    stop a schedule on noise in a column the models barely use. Rule 2 is off with
    top_features = 0 (or a reference without importances: the BTYD fallback).
    """
    reasons = []
    scores = table[table["kind"] == "score"]
    feats = table[table["kind"] == "feature"]
    over = scores[scores["psi"] > limits.score_psi_limit]
    if len(over):
        listed = ", ".join(f"{r.column} {r.psi:.3f}" for r in over.itertuples())
        reasons.append(f"score PSI above {limits.score_psi_limit:g}: {listed}")
    drifted = feats[feats["psi"] > limits.feature_psi_limit]
    top = drifted[drifted["importance_rank"] <= limits.top_features]
    if len(top):
        listed = ", ".join(f"{r.column} {r.psi:.3f} (rank {int(r.importance_rank)})"
                           for r in top.itertuples())
        reasons.append(f"PSI above {limits.feature_psi_limit:g} in the top {limits.top_features} "
                       f"features by importance: {listed}")
    if len(feats) and len(drifted) / len(feats) > limits.max_drifted_share:
        listed = ", ".join(drifted["column"].head(5))
        more = f" and {len(drifted) - 5} more" if len(drifted) > 5 else ""
        reasons.append(
            f"{len(drifted)} of {len(feats)} features ({len(drifted) / len(feats):.0%}) have PSI "
            f"above {limits.feature_psi_limit:g}, more than the {limits.max_drifted_share:.0%} "
            f"allowed: {listed}{more}")
    if rows is not None and rows[0] > 0 and rows[1] / rows[0] < limits.min_rows_share:
        reasons.append(
            f"{rows[1]:,} customers scored, {rows[1] / rows[0]:.0%} of the reference's "
            f"{rows[0]:,}, fewer than the {limits.min_rows_share:.0%} allowed "
            "(a partial export?)")
    return DriftDecision(refuse=bool(reasons), reasons=reasons)

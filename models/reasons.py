"""Reasons behind a score: the features that pushed a customer's value up or down and its
churn risk up, from LightGBM's per-feature contributions (pred_contrib=True, i.e. TreeSHAP),
rendered as phrases from the feature catalogue (features.catalogue.describe), e.g.
"no order for 142 days, three times its usual gap".

Contributions cost about 0.5 ms per row: pass the rows that need reasons (e.g. the top
accounts), not millions. A feature missing from the catalogue is shown as "name = value".
"""

import math

import numpy as np
import pandas as pd

__all__ = ["EXTRA_PHRASES", "explain", "factors", "phrase"]

# phrases of model-side features that the feature catalogue does not hold
EXTRA_PHRASES = {
    "btyd_expected_spend": "expected spend {value:,.0f} by the BG/NBD + Gamma-Gamma model",
    "btyd_prob_no_purchase": "{value:.0%} chance of no order by the BG/NBD model",
    "btyd_prob_alive": "{value:.0%} chance of still being active by the BG/NBD model",
    "btyd_expected_orders": "{value:.1f} expected orders by the BG/NBD model",
}


def phrase(name: str, value, row=None) -> str:
    """One feature value as a phrase: the catalogue's, else EXTRA_PHRASES, else name = value."""
    try:
        from features.catalogue import describe

        return describe(name, value, row)
    except (ImportError, KeyError, ValueError, TypeError):
        pass
    if name in EXTRA_PHRASES and value is not None and not pd.isna(value):
        try:
            return EXTRA_PHRASES[name].format(value=float(value))
        except (TypeError, ValueError):
            pass
    if isinstance(value, (float, np.floating)) and not math.isnan(value):
        return f"{name} = {value:,.4g}"
    return f"{name} = {value}"


def factors(model, X: pd.DataFrame, top_k: int = 3, direction: str = "both") -> pd.DataFrame:
    """The top contributions of each row of X to `model`'s prediction (log scale).

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


def _joined(table: pd.DataFrame, index, way: str) -> pd.Series:
    part = table[table["direction"] == way]
    joined = part.groupby("row", sort=False)["text"].agg("; ".join)
    return joined.reindex(index).fillna("")


def explain(
    X: pd.DataFrame,
    value_model=None,
    churn_model=None,
    rows=None,
    top_k: int = 3,
) -> pd.DataFrame:
    """Reasons for the rows `rows` of X (index labels; all rows when None).

    Returns a DataFrame on those rows with value_up, value_down, churn_up (phrases joined
    by "; ") and `reasons`, one sentence block, e.g. "Value up: 12,300 spent in the last
    365 days. Value down: no order for 142 days, three times its usual gap. Churn risk up:
    ...". A model that is None (BTYD fallback) contributes no phrases.
    """
    subset = X if rows is None else X.loc[rows]
    out = pd.DataFrame(index=subset.index)
    for column, model, way in (
        ("value_up", value_model, "up"),
        ("value_down", value_model, "down"),
        ("churn_up", churn_model, "up"),
    ):
        if model is None or subset.empty:
            out[column] = ""
        else:
            out[column] = _joined(factors(model, subset, top_k, way), subset.index, way)
    labels = {"value_up": "Value up", "value_down": "Value down", "churn_up": "Churn risk up"}
    out["reasons"] = [
        " ".join(f"{labels[c]}: {r[c]}." for c in labels if r[c]) for _, r in out.iterrows()
    ]
    return out

"""models.reasons.compact_reference: three numbers that put every value on the same side of
typical as the whole sorted reference (what lets the Dask engine explain a partition against
every customer)."""

import numpy as np
import pandas as pd
import pytest

from models.reasons import _references, _sense, _sides, compact_reference, reference_columns


def _side(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """_sides of one numeric column with a plain sense (+1 = higher is better)."""
    name = "txn_spend_365d"
    sense = _sense(name)
    rows = pd.DataFrame({name: values})
    return _sides({0: reference}, rows, [sense])[:, 0]


CASES = {
    "continuous": np.random.default_rng(0).lognormal(5, 1, 1001),
    "even count": np.random.default_rng(1).normal(0, 1, 1000),
    "ties at the median": np.repeat([0.0, 1.0, 2.0, 3.0], [10, 40, 3, 47]),
    "half exactly below": np.repeat([0.0, 5.0], [50, 50]),
    "mostly zero": np.r_[np.zeros(900), np.random.default_rng(2).uniform(1, 9, 100)],
    "one value": np.array([7.0]),
    "median just above": np.repeat([1.0, 2.0, 3.0], [49, 2, 49]),
    "with missing": np.r_[np.arange(20, dtype=float), [np.nan] * 5],
}


@pytest.mark.parametrize("name", list(CASES))
def test_same_sides_as_the_whole_reference(name):
    values = CASES[name]
    known = np.sort(values[~np.isnan(values)])
    probes = np.unique(np.r_[known, np.nextafter(known, np.inf), np.nextafter(known, -np.inf),
                             known.min() - 1, known.max() + 1, np.nan])
    compact = compact_reference(values)
    assert len(compact) <= 3
    np.testing.assert_array_equal(_side(compact, probes), _side(known, probes))


def test_sides_are_not_all_the_same():
    """The check above must be able to fail: values below and above the median differ."""
    values = CASES["continuous"]
    sides = _side(compact_reference(values), np.array([values.min(), values.max()]))
    assert sides.tolist() == [-1, 1]


def test_reference_columns_match_references_of_the_frame():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"txn_spend_365d": rng.lognormal(5, 1, 300),
                      "txn_orders_365d": rng.integers(0, 5, 300).astype(float),
                      "cust_region": pd.Categorical(rng.choice(["a", "b"], 300))})
    signs = np.array([_sense(c).sign for c in X.columns], dtype=np.int8)
    full = _references(X, signs)
    compact = reference_columns(X)
    assert "cust_region" not in compact
    senses = [_sense(c) for c in X.columns]
    by_index = {j: compact[c] for j, c in enumerate(X.columns) if j in full}
    np.testing.assert_array_equal(_sides(by_index, X, senses), _sides(full, X, senses))


def test_empty_reference():
    assert len(compact_reference(np.array([np.nan, np.nan]))) == 0

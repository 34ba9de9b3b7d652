"""Customer attribute features: region, industry, size band (pandas categoricals), size and
relationship age. The attributes are taken as they stand in the customers table (the table
has no history); relationship age is counted from created_date to the cutoff. Category levels
come from the whole table, so every cutoff and the scoring frame share the same levels.
"""

from itertools import pairwise

import numpy as np
import pandas as pd

from features import names
from features.config import FeaturesConfig
from features.contract import CREATED_DATE, INDUSTRY, REGION, SIZE
from features.tables import Prepared

__all__ = ["customer_features", "size_band_labels"]


def size_band_labels(edges: tuple[int, ...]) -> list[str]:
    """Readable labels of the size bands: "<10", "10-49", ..., "1000+"."""
    labels = [f"<{edges[0]}"]
    labels += [f"{lo}-{hi - 1}" for lo, hi in pairwise(edges)]
    return labels + [f"{edges[-1]}+"]


def customer_features(
    prep: Prepared, codes: np.ndarray, cutoff: int, config: FeaturesConfig
) -> dict:
    """Columns (name -> array) for the customers `codes`; empty without a customers table."""
    attributes = prep.attributes
    if attributes is None:
        return {}
    columns: dict[str, object] = {}
    for column, name in ((REGION, names.CUST_REGION), (INDUSTRY, names.CUST_INDUSTRY)):
        if column in attributes:
            level_codes, levels = attributes[column]
            columns[name] = pd.Categorical.from_codes(level_codes[codes], categories=levels)
    if SIZE in attributes:
        size = attributes[SIZE][codes]
        band = np.searchsorted(np.asarray(config.size_bands), size, side="right")
        band = np.where(np.isnan(size), -1, band)
        columns[names.CUST_SIZE_BAND] = pd.Categorical.from_codes(
            band, categories=size_band_labels(config.size_bands), ordered=True
        )
        columns[names.CUST_SIZE_EMPLOYEES] = size.astype(float)
    if CREATED_DATE in attributes:
        columns[names.CUST_RELATIONSHIP_DAYS] = cutoff - attributes[CREATED_DATE][codes]
    return columns

"""Preparing the tables: id codes, day numbers, the daily rows and the gaps between orders."""

import numpy as np
import pandas as pd
import polars as pl

from features.config import FeaturesConfig
from features.contract import Tables
from features.tables import from_day, known_codes, prepare, to_day
from tests.features.conftest import AS_OF, contacts, customers, transactions


def test_day_numbers_round_trip():
    assert to_day("1970-01-02") == 1
    assert to_day(pd.Timestamp("2024-06-30 17:45")) == to_day("2024-06-30")
    assert from_day(to_day(AS_OF)) == AS_OF


def test_ids_are_coded_once_across_tables_and_kept_exactly():
    prep = prepare(Tables(transactions(), contacts(), customers()), FeaturesConfig())
    ids = prep.ids.to_list()
    assert sorted(ids) == ["007", "C001", "C003", "C004", "C005"]  # X99 only has a contact
    # contacts are coded with the same codes; the unknown customer's contact is dropped
    coded = prep.contacts.get_column("_c").to_numpy()
    assert sorted(prep.ids.gather(pl.Series(coded)).to_list()) == ["007"] + ["C001"] * 4
    known = prep.ids.gather(pl.Series(known_codes(prep, to_day(AS_OF)))).to_list()
    assert known == ["007", "C001", "C004"]  # in id order


def test_daily_rows_and_gaps():
    prep = prepare(Tables(transactions()), FeaturesConfig())
    c001 = int(np.flatnonzero(prep.ids.to_numpy() == "C001")[0])
    daily = prep.daily.filter(pl.col("_c") == c001)
    assert daily.get_column("net").to_list() == [150.0, 200.0, 10.0, -20.0, 999.0]
    assert daily.get_column("n_orders").to_list() == [1, 1, 1, 0, 1]
    # days between order days; none on the first order day or on a day with returns only
    assert daily.get_column("gap").to_list() == [None, 230, 101, None, 52]
    assert daily.get_column("first_purchase").to_list() == [True, False, False, False, False]


def test_upto_drops_later_rows():
    prep = prepare(Tables(transactions(), contacts()), FeaturesConfig(), upto=to_day(AS_OF))
    assert prep.daily.get_column("_d").max() == to_day(AS_OF)
    assert prep.contacts.get_column("_d").max() <= to_day(AS_OF)

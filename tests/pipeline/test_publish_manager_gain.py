"""The manager's gain in what is published: every row of the workbook, the HTML report and
the CRM carries it (or the reason there is none), the value of one more and one fewer manager
per region, text from the data kept inert, and the CRM tables of an older version migrated."""

import sqlite3
import uuid
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from models.columns import GAIN_COLUMNS, GAIN_NOTE, IN_OVERLAP, MANAGER_GAIN
from pipeline.errors import DataError
from pipeline.publishing import check_rows, crm
from pipeline.publishing.summary import CURVE_TABLE, EFFECT_TABLE
from pipeline.stages import publish, tier
from tests.pipeline.test_crm import _pg_url
from tests.pipeline.test_safe_text import formula_elements
from tests.pipeline.test_tier_stage import IDS, make_settings, scores

HOSTILE = ("=cmd|' /C calc'!A0", "<script>alert(1)</script>")
NOTE_OUT = "no estimate: accounts like this nearly never have a manager"


def gain_scores() -> pd.DataFrame:
    """tests/pipeline/test_tier_stage.scores with the manager's effect: 8 of 12 in overlap."""
    frame = scores()
    inside = np.array([True] * 8 + [False] * 4)
    gain = np.where(inside, [500.0, 50, 400, 30, 300, 20, 200, 10, 0, 0, 0, 0], np.nan)
    return frame.assign(**{
        MANAGER_GAIN: gain, "manager_gain_lower": gain - 100, "manager_gain_upper": gain + 100,
        "manager_propensity": np.where(inside, 0.4, 0.01), IN_OVERLAP: inside,
        GAIN_NOTE: np.where(inside, "", NOTE_OUT)})


def write_tables(settings, score_frame) -> None:
    paths = settings.pipeline.paths
    scores_dir, validated = settings.path(paths.scores_dir), settings.path(paths.validated_dir)
    scores_dir.mkdir(parents=True, exist_ok=True)
    validated.mkdir(parents=True, exist_ok=True)
    score_frame.to_parquet(scores_dir / "scores.parquet", index=False)
    pd.DataFrame({"customer_id": ["C001"], "order_date": pd.to_datetime(["2024-05-02"]),
                  "amount": [10.0]}).to_parquet(validated / "transactions.parquet", index=False)
    pd.DataFrame({"customer_id": IDS, "region": list(HOSTILE) * 6,
                  "current_manager_id": [None] * 12, "current_tier": [None] * 12}).astype(
        {"customer_id": "str", "region": "str"}).to_parquet(validated / "customers.parquet",
                                                            index=False)
    pd.DataFrame({"manager_id": ["M01", "M02", "M03"], "region": [HOSTILE[0], HOSTILE[0],
                                                                  HOSTILE[1]],
                  "capacity": [1, 1, 1], "active": [True] * 3}).to_parquet(
        validated / "managers.parquet", index=False)


@pytest.fixture
def published(tmp_path):
    settings = make_settings(tmp_path, {"rank_by": "uplift",
                                        "strategic": {"min_bar": 0.75, "keep_bar": 0.5}})
    write_tables(settings, gain_scores())
    tier.main(settings)
    publish.main(settings)
    return settings, settings.path(settings.pipeline.paths.publish_dir)


def _sheet_rows(book, name):
    rows = list(book[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_every_workbook_row_carries_the_gain_or_why_not(published):
    _, out = published
    book = load_workbook(out / "key_accounts.xlsx")
    rows = [r for name in book.sheetnames[2:] if name != "Unassigned"
            for r in _sheet_rows(book, name)]
    assert sorted(r["Customer"] for r in rows) == IDS
    expected = gain_scores().set_index("customer_id")
    for row in rows:
        truth = expected.loc[row["Customer"]]
        if truth[IN_OVERLAP]:
            assert row["Manager gain"] == truth[MANAGER_GAIN]
            assert row["Manager gain from"] == truth[MANAGER_GAIN] - 100
            assert row["Manager gain to"] == truth[MANAGER_GAIN] + 100
            assert row["Manager gain note"] in (None, "")
        else:
            assert row["Manager gain"] is None and row["Manager gain note"] == NOTE_OUT
    assert formula_elements(out / "key_accounts.xlsx") == []


def test_how_to_read_this_explains_the_gain_and_the_ranking(published):
    _, out = published
    guide = dict(load_workbook(out / "key_accounts.xlsx")["How to read this"].iter_rows(
        min_row=2, values_only=True))
    assert "the manager's estimated gain (accounts without an estimate last)" in guide["Tiers"]
    assert "observational" in guide["Manager gain"] and "no estimate" in guide["Manager gain"]


def test_value_uplift_is_said_in_words():
    from models.tier_policy import TierPolicy
    from pipeline.publishing.summary import rank_by_text

    text = rank_by_text(TierPolicy(rank_by="value_uplift", uplift_weight=0.25))
    assert text == ("75% the percentile of expected value and 25% the percentile of the "
                    "manager's estimated gain")


def test_the_summary_sheet_has_one_more_and_one_fewer_manager_per_region(published):
    _, out = published
    sheet = load_workbook(out / "key_accounts.xlsx")["Summary"]
    cells = [row for row in sheet.iter_rows() if row and row[0].value is not None]
    titles = [row[0].value for row in cells]
    assert EFFECT_TABLE in titles and CURVE_TABLE in titles
    start = titles.index(EFFECT_TABLE)
    header = [c.value for c in cells[start + 1] if c.value is not None]
    assert header == ["Region", "Managers", "Accounts per manager", "Gain of the managers now",
                      "One more manager adds", "One fewer manager loses"]
    table = {cells[i][0].value: [c.value for c in cells[i]] for i in (start + 2, start + 3)}
    # region 0 (C001, C003, ...: gains 500, 400, 300, 200 in overlap), two managers of one
    first = table[HOSTILE[0]]
    assert first[1:6] == [2, 1, 900, 300, -400]
    second = table[HOSTILE[1]]  # gains 50, 30, 20, 10; one manager of one account
    assert second[1:6] == [1, 1, 50, 30, -50]
    (region_cell,) = [cells[i][0] for i in (start + 2, start + 3)
                      if cells[i][0].value == HOSTILE[0]]
    assert region_cell.data_type == "s" and region_cell.quotePrefix  # stays text


def test_a_region_leads_book_has_its_regions_value_of_a_manager(published):
    _, out = published
    manifest = pd.read_csv(out / "books" / "books.csv", dtype=str, keep_default_na=False)
    region = manifest[manifest["kind"] == "region"]
    assert len(region) == 2
    for stem in region["workbook"]:
        sheet = load_workbook(out / "books" / stem)["Summary"]
        values = [row for row in sheet.iter_rows(values_only=True) if row and row[0]]
        start = [r[0] for r in values].index(EFFECT_TABLE)
        assert values[start + 1][0] == "Region" and values[start + 3][0] == CURVE_TABLE
        assert values[start + 2][0] in HOSTILE  # one row: the book's own region


def test_the_report_shows_the_gain_and_keeps_data_inert(published):
    _, out = published
    page = (out / "key_accounts.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "The manager&#39;s effect" in page or "The manager's effect" in page
    assert "8 of 12 accounts (66.7%) have an estimated manager gain" in page
    assert "one more manager adds" in page and "observational estimate" in page
    assert "500 (400 to 600)" in page  # the top strategic account's gain with its interval
    book_pages = "".join(p.read_text() for p in (out / "books").glob("*.html"))
    assert NOTE_OUT in book_pages and "<script>alert" not in book_pages


def test_the_crm_rows_carry_the_gain(published):
    settings, out = published
    (database,) = settings.root.rglob("crm.db")
    with sqlite3.connect(database) as connection:
        got = pd.read_sql(f"select customer_id, {', '.join(GAIN_COLUMNS)} from customer_scores",
                          connection).set_index("customer_id").sort_index()
    expected = gain_scores().set_index("customer_id").sort_index()
    pd.testing.assert_series_equal(got[MANAGER_GAIN], expected[MANAGER_GAIN])
    assert got[IN_OVERLAP].astype(bool).tolist() == expected[IN_OVERLAP].tolist()
    assert (got.loc[~expected[IN_OVERLAP], GAIN_NOTE] == NOTE_OUT).all()


def test_tiers_rank_by_uplift_and_gains_outside_overlap_are_refused(published):
    settings, _ = published
    tiers = pd.read_parquet(settings.path(settings.pipeline.paths.tiers_dir) / "tiers.parquet")
    tiers = tiers.sort_values("rank")
    assert tiers["customer_id"].iloc[:2].tolist() == ["C001", "C003"]  # gains 500, 400
    assert tiers[IN_OVERLAP].tolist() == [True] * 8 + [False] * 4  # none outside ranks above
    bad = tiers.assign(**{MANAGER_GAIN: tiers[MANAGER_GAIN].fillna(1.0)})
    with pytest.raises(DataError, match="outside overlap"):
        check_rows(bad, ["strategic", "key", "growth", "self-service"])


def _old_tables(url: str, suffix: str) -> crm.CrmTables:
    """The CRM tables as a version before the manager's effect created them, with a row."""
    tables = crm.CrmTables.named(f"scores_{suffix}", f"current_{suffix}", f"runs_{suffix}")
    old = sa.MetaData()
    for table in (tables.scores, tables.current):
        sa.Table(table.name, old, *[sa.Column(c.name, c.type, primary_key=c.primary_key)
                                    for c in table.columns if c.name not in GAIN_COLUMNS])
    engine = sa.create_engine(url)
    old.create_all(engine)
    with engine.begin() as connection:
        connection.execute(old.tables[tables.scores.name].insert().values(
            customer_id="C001", as_of=datetime(2024, 1, 31).date(), tier="key"))
    engine.dispose()
    return tables


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request, tmp_path):
    """(url, tables) of CRM tables an older version created; PostgreSQL's dropped after."""
    url = f"sqlite:///{tmp_path / 'crm.db'}" if request.param == "sqlite" else _pg_url()
    tables = _old_tables(url, uuid.uuid4().hex[:8])
    yield url, tables
    engine = sa.create_engine(url)
    tables.metadata.drop_all(engine, checkfirst=True)
    engine.dispose()


def test_write_run_migrates_tables_of_an_older_version(old_database):
    url, tables = old_database
    rows = gain_scores().assign(rank=range(1, 13), tier="key", region="N")
    rows.loc[0, GAIN_NOTE] = "'); DROP TABLE customer_scores; --"  # stays a value
    run = crm.new_run(rows)
    engine = crm.make_engine(url, 5)
    try:
        crm.write_run(crm.crm_frame(rows, run, datetime.now(timezone.utc)), run, engine, tables)
        inspector = sa.inspect(engine)
        for table in (tables.scores, tables.current):
            assert set(GAIN_COLUMNS) <= {c["name"] for c in inspector.get_columns(table.name)}
        history = crm.read_table(engine, tables.scores, ("as_of", "customer_id"))
        with engine.begin() as connection:  # a second run finds nothing to add
            assert crm.migrate(connection, tables) == []
    finally:
        engine.dispose()
    old = history[pd.to_datetime(history["as_of"]) == pd.Timestamp("2024-01-31")]
    assert len(old) == 1 and old[list(GAIN_COLUMNS)].isna().all().all()  # older rows: null
    new = history[pd.to_datetime(history["as_of"]) != pd.Timestamp("2024-01-31")]
    new = new.set_index("customer_id")
    assert new.loc["C001", MANAGER_GAIN] == 500.0
    assert new.loc["C001", GAIN_NOTE] == "'); DROP TABLE customer_scores; --"
    assert len(new) == 12

"""Per-manager and per-region books: who receives which rows, safe file names from ids in the
data, the books folder replaced as a whole, and what the pages and workbooks explain."""

import pandas as pd
import pytest
from openpyxl import load_workbook

from models.tier_policy import TierPolicy
from pipeline.publishing.books import file_stem, plan_books, remove_stale
from pipeline.publishing.rows import change_text
from pipeline.publishing.summary import kept_incumbents, tier_definitions
from pipeline.stages import publish, tier
from tests.pipeline.test_safe_text import formula_elements
from tests.pipeline.test_tier_stage import IDS, make_settings, managers, scores, write_inputs

POLICY = {"strategic": {"min_bar": 0.75, "keep_bar": 0.5}}
# second run: C002 (S, strategic) falls to rank 5 but stays above its keep bar; C004 (S)
# rises to rank 2, above the entry bar, and is moved to key: S has one manager slot
SECOND = [1200.0, 800, 1000, 1150, 900, 700, 600, 500, 400, 300, 200, 100]


def book_ids(path, sheet="Accounts") -> list[str]:
    rows = list(load_workbook(path)[sheet].iter_rows(min_row=2, values_only=True))
    return [r[1] for r in rows]


def run(settings, values=None, as_of="2024-06-30", **publish_changes):
    write_inputs(settings, scores("run-1" if values is None else "run-2", values, as_of))
    tier.main(settings)
    config = settings.tiers.publish.model_copy(update=publish_changes)
    publish.main(settings, publish=config)
    return settings.path(settings.pipeline.paths.publish_dir)


@pytest.fixture
def two_runs(tmp_path):
    settings = make_settings(tmp_path, POLICY)
    run(settings)
    out = run(settings, SECOND, as_of="2024-09-30")
    tiers = pd.read_parquet(settings.path(settings.pipeline.paths.tiers_dir) / "tiers.parquet")
    return settings, out, tiers.set_index("customer_id")


def test_each_manager_book_holds_exactly_that_managers_accounts(two_runs):
    _, out, tiers = two_runs
    folder = out / "books"
    index = pd.read_csv(folder / "books.csv")
    assert list(index["kind"]) == ["manager"] * 3 + ["region"] * 2
    assert list(index["name"]) == ["M01", "M02", "M03", "N", "S"]
    seen: list[str] = []
    for name in ("M01", "M02", "M03"):
        ids = book_ids(folder / f"manager-{name}.xlsx")
        assert sorted(ids) == sorted(tiers.index[tiers["manager_id"] == name])
        assert ids                                                   # every manager has one
        seen += ids
        page = (folder / f"manager-{name}.html").read_text()
        others = [c for c in IDS if c not in ids]
        assert all(f">{c}<" in page for c in ids)
        assert not any(f">{c}<" in page for c in others)              # nobody else's account
    unassigned = book_ids(out / "key_accounts.xlsx", "Unassigned")
    assert sorted(unassigned) == sorted(tiers.index[tiers["manager_id"].isna()])
    assert len(seen) + len(unassigned) == len(IDS)                      # no account twice
    assert sorted(seen + unassigned) == IDS                              # the whole base
    for region in ("N", "S"):
        ids = book_ids(folder / f"region-{region}.xlsx")
        assert sorted(ids) == sorted(tiers.index[tiers["region"] == region])


def test_the_books_explain_the_hysteresis_where_it_happened(two_runs):
    _, out, tiers = two_runs
    assert tiers.loc["C002", "tier"] == "strategic" and tiers.loc["C002", "rank"] == 5
    assert tiers.loc["C004", "tier"] == "key" and tiers.loc["C004", "rank"] == 2
    report = (out / "key_accounts.html").read_text()
    assert "Why an incumbent kept its slot" in report
    section = report.split("Why an incumbent kept its slot")[1]
    assert ">C002<" in section and "top 50%" in section               # the keep bar, in words
    region = (out / "books" / "region-S.html").read_text()
    assert ">C002<" in region.split("Why an incumbent kept its slot")[1]
    mine = (out / "books" / "manager-M03.html").read_text()              # C002's manager
    assert "Why an incumbent kept its slot" in mine
    assert "Why an incumbent kept its slot" not in (out / "books" / "manager-M01.html").read_text()
    summary = list(load_workbook(out / "books" / "manager-M03.xlsx")["Summary"]
                   .iter_rows(values_only=True))
    kept = [r for r in summary if r[0] == "S" and r[2] == "C002"]
    assert kept and kept[0][1] == 5                                    # region, rank, customer


def test_change_column_says_what_changed(two_runs):
    _, out, _ = two_runs
    rows = {r[1]: r for r in load_workbook(out / "key_accounts.xlsx")["S"]
            .iter_rows(min_row=2, values_only=True)}
    assert rows["C004"][4] == "upgraded from growth"
    assert rows["C002"][4] == "kept"
    assert rows["C006"][4] == "kept"


def test_hostile_manager_ids_make_safe_unique_file_names(tmp_path):
    settings = make_settings(tmp_path, POLICY)
    write_inputs(settings, scores())
    validated = settings.path(settings.pipeline.paths.validated_dir)
    hostile = ["../up", "=HYPERLINK(\"x\")", "CON"]
    pd.DataFrame({"manager_id": hostile, "region": ["N", "N", "a/b\x01"], "capacity": 1,
                  "active": True}).to_parquet(validated / "managers.parquet", index=False)
    customers = pd.read_parquet(validated / "customers.parquet")
    customers["current_manager_id"] = hostile + [None] * 9
    customers["region"] = ["N", "a/b\x01"] * 6
    customers.to_parquet(validated / "customers.parquet", index=False)
    tier.main(settings)
    publish.main(settings)
    out = settings.path(settings.pipeline.paths.publish_dir)
    folder = out / "books"
    assert [p for p in out.rglob("*") if p.is_file() and folder not in p.parents
            and p.parent != out] == []                                  # nothing outside
    index = pd.read_csv(folder / "books.csv").set_index("name")
    index.index = [n[1:] if n.startswith("'=") else n for n in index.index]  # CSV-quoted
    for name in hostile:
        stem = index.loc[name, "workbook"]
        assert stem.startswith("manager-") and "/" not in stem and ".." not in stem
        assert (folder / stem).is_file() and stem.isprintable()
    assert index.loc["a/b\x01", "workbook"].startswith("region-a_b-")
    tiers = pd.read_parquet(settings.path(settings.pipeline.paths.tiers_dir) / "tiers.parquet")
    for name in hostile:
        expected = tiers.loc[tiers["manager_id"] == name, "customer_id"]
        assert book_ids(folder / index.loc[name, "workbook"]) == sorted(expected)
    for workbook in folder.glob("*.xlsx"):                     # formula-like ids stay text
        assert formula_elements(workbook) == []
    cell = load_workbook(folder / index.loc[hostile[1], "workbook"])["Accounts"]["P2"]  # Manager
    assert cell.value == hostile[1] and cell.data_type == "s" and cell.quotePrefix
    assert "<script" not in "".join(p.read_text() for p in folder.glob("*.html"))


def test_file_stem_is_safe_stable_and_unique():
    taken: set[str] = set()
    stems = [file_stem(n, taken) for n in ["M001", "m001", "../x", "a/b", "..", "", "CON",
                                            "x\x00y", "Müller", ".hidden", "a" * 200, 17]]
    assert stems[0] == "M001" and stems[1] == "m001-2" and stems[-1] == "17"
    assert len({s.lower() for s in stems}) == len(stems)
    for stem in stems:
        assert stem and stem.isprintable() and not set(stem) - set(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        assert ".." not in stem and not stem.startswith(".") and len(stem) <= 70
    assert stems[6].lower() != "con" and stems[2] == file_stem("../x", set())  # stable


def test_plan_books_partitions_the_rows():
    rows = pd.DataFrame({"customer_id": list("abcdefg"),
                         "manager_id": ["M2", None, "M1", " ", None, "M2", "M1"],
                         "region": ["N", "S", "N", "S", None, "N", "N"]})
    plan = plan_books(rows, pd.DataFrame({"manager_id": ["M1", "M2", "M9"],
                                          "region": ["N", "N", "S"]}))
    got = {b.name: list(b.rows(rows)["customer_id"]) for b in plan.managers}
    assert got == {"M1": ["c", "g"], "M2": ["a", "f"], "M9": []}       # M9: an empty book
    assert list(rows.iloc[plan.unassigned]["customer_id"]) == ["b", "d", "e"]
    regions = {b.name: list(b.rows(rows)["customer_id"]) for b in plan.regions}
    assert regions == {"(no region)": ["e"], "N": ["a", "c", "f", "g"], "S": ["b", "d"]}
    assert plan.links("books/", ".xlsx")[("manager", "M1")] == "books/manager-M1.xlsx"


def test_books_of_managers_who_left_are_removed_and_a_failure_keeps_the_old(tmp_path,
                                                                          monkeypatch):
    from pipeline.publishing import crm

    settings = make_settings(tmp_path, POLICY)
    out = run(settings)
    folder = out / "books"
    assert (folder / "manager-M03.xlsx").exists()
    validated = settings.path(settings.pipeline.paths.validated_dir)
    staff = managers().assign(active=[True, True, False, True])         # M03 left, M04 came
    write_inputs(settings, scores("run-2", as_of="2024-09-30"))
    staff.to_parquet(validated / "managers.parquet", index=False)
    tier.main(settings)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def down(*args, **kwargs):
        raise crm.CrmUnavailable("CRM database x unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(crm, "write_run", down)
        with pytest.raises(crm.CrmUnavailable):
            publish.main(settings)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # old books, whole
    publish.main(settings)
    names = sorted(p.name for p in folder.iterdir())
    assert "manager-M03.xlsx" not in names and "manager-M03.html" not in names
    assert "manager-M04.xlsx" in names and "books.csv" in names
    listed = pd.read_csv(folder / "books.csv")
    assert sorted([*listed["workbook"], *listed["page"], "books.csv"]) == names
    publish.main(settings, publish=settings.tiers.publish.model_copy(update={"books": "single"}))
    assert not folder.exists()                                          # no stale books left


def test_remove_stale_keeps_the_new_files_and_writers_temporaries(tmp_path):
    for name in ("a.xlsx", "b.xlsx", ".b.xlsx.123-0123456789ab.tmp.xlsx"):
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    removed = remove_stale(tmp_path, [tmp_path / "a.xlsx"])
    assert [p.name for p in removed] == ["b.xlsx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".b.xlsx.123-0123456789ab.tmp.xlsx", "a.xlsx", "sub"]
    assert remove_stale(tmp_path / "missing", []) == []


def test_kept_incumbents_lists_the_incumbents_ranked_below_the_best_candidate_moved():
    policy = TierPolicy(strategic={"min_bar": 0.8, "keep_bar": 0.5})
    frame = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e", "f"], "region": ["N"] * 5 + ["S"],
        "rank": [1, 2, 3, 4, 5, 6], "score_percentile": [0.95, 0.9, 0.85, 0.7, 0.6, 0.55],
        "previous_tier": [None, None, "strategic", "strategic", "strategic", "strategic"],
        "tier": ["strategic", "key", "strategic", "strategic", "key", "strategic"],
        "manager_id": ["M1", None, "M2", "M1", None, "M3"]})
    per, detail = kept_incumbents(frame, policy)
    # N: b (rank 2) and e (an incumbent above its keep bar but out of slots) were moved;
    # c and d kept their slots although ranked below b. S moved nobody: not listed.
    assert per.to_dict("records") == [{
        "pool": "N", "strategic": 3, "incumbents_kept": 2, "candidates_moved": 2,
        "best_rank_moved": 2, "kept_below_it": 2, "lowest_rank_kept": 4}]
    assert list(detail["customer_id"]) == ["d", "c"]                   # lowest-ranked first
    assert detail["ranked_in_top"].round(2).tolist() == [0.3, 0.15]
    empty, none = kept_incumbents(frame.drop(columns="previous_tier"), policy)
    assert empty.empty and none.empty


def test_tier_definitions_say_the_bars_in_words():
    policy = TierPolicy(strategic={"min_bar": 0.9, "keep_bar": 0.8})
    tiers = pd.DataFrame({"tier": ["strategic", "key", "key"], "expected_value": [3.0, 2, 1],
                          "retention_flag": [True, False, True]})
    defs = {d["name"]: d for d in tier_definitions(policy, tiers)}
    assert "top 10%" in defs["strategic"]["enter"] and "capacity" in defs["strategic"]["enter"]
    assert "top 20%" in defs["strategic"]["keep"]
    assert "top 25%" in defs["key"]["enter"] and "top 35%" in defs["key"]["keep"]
    assert (defs["key"]["accounts"], defs["key"]["retention"]) == (2, 1)
    assert defs["self-service"]["accounts"] == 0
    value = TierPolicy(thresholds_by="value", strategic={"min_bar": 5000, "keep_bar": 4000},
                       tiers=[{"name": "key", "min_bar": 1000, "keep_bar": 500}])
    assert "at least 5,000" in tier_definitions(value)[0]["enter"]


def test_change_text():
    change = pd.Series(["new", "kept", "upgraded", "downgraded", None], index=[5, 6, 7, 8, 9])
    previous = pd.Series([None, "key", "key", "strategic", "x"], index=change.index)
    now = pd.Series(["M1", None, "M2", None, "M3"], index=change.index)
    before = pd.Series([None, None, "M1", "M4", "M3"], index=change.index)
    assert change_text(change, previous, now, before).tolist() == [
        "new; manager newly assigned", "kept", "upgraded from key; manager was M1",
        "downgraded from strategic; no manager now (was M4)", ""]
    assert change_text(change, previous).tolist()[2:4] == [
        "upgraded from key", "downgraded from strategic"]


"""Who receives which rows: one book per manager (only that manager's accounts), one per
region lead (every account of the region) and the unassigned list for the sales director.

Manager ids and region names come from the data, so they are never used as paths as they
are: `file_stem` makes each a plain, unique file name (ASCII letters, digits, ".", "_", "-";
no "/", "\\", "..", control characters or names Windows reserves), with a short hash of the
original when anything had to change, so two ids that clean to the same text still get
different and stable names from run to run.

The rows are grouped once (`plan_books`: one pass per key, positions per group), and so are
the per-manager and per-region tables (`write_books`), so a base of 500,000 customers is not
scanned again for each of its managers.

`write_books` writes each book's workbook and page, and `books.csv` (which file goes to whom),
to temporaries of the publish stage's `StagedFiles`; after the stage has committed them,
`remove_stale` removes every other file of the books folder (the books of managers that no
longer exist), so the folder then holds exactly the new set. A kill before the commit leaves
the old books; during the commit each file is whole, old or new (as for every published
file), and stale books are removed by the next publish.
"""

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.contract import CUSTOMER_ID, MANAGER_ID, REGION
from models.columns import ACCOUNTS, POOL
from models.tier_policy import TierPolicy
from pipeline.files import BOOKS_MANIFEST
from pipeline.publishing import excel, html, summary
from pipeline.publishing.inputs import TierOutputs
from pipeline.storage import folder_entries, write_table

__all__ = ["Book", "BookPlan", "file_stem", "plan_books", "remove_stale", "write_books"]

MANAGER, REGION_LEAD = "manager", "region"
NO_REGION = "(no region)"  # as the tier stage calls it
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_TEMPORARY = re.compile(r"^\..+\.\d+-[0-9a-f]{12}\.tmp(\.[^.]*)?$")  # pipeline.storage's
_MAX_STEM = 60


def file_stem(name, taken: set[str]) -> str:
    """A file-name-safe stem for `name` (an id from the data), unique among `taken` (compared
    case-insensitively, as Windows and macOS do; the stem is added to `taken`).

    Kept as it is when it is already plain (`M001` -> `M001`); otherwise unsafe runs become
    "_", dots are never doubled nor leading, the length is capped and `-<8 hex of the
    original's SHA-256>` is appended (`../x` -> `x-d6b96a97`). A clash left after that gets
    `-2`, `-3`, ..."""
    text = unicodedata.normalize("NFKC", str(name)).strip()
    stem = _UNSAFE.sub("_", text)
    stem = re.sub(r"\.{2,}", ".", stem).strip("._-")[:_MAX_STEM].rstrip("._-")
    if _RESERVED.match(stem):
        stem += "_"
    if stem != text or not stem:
        digest = hashlib.sha256(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem = f"{stem}-{digest}" if stem else digest
    unique, n = stem, 2
    while unique.lower() in taken:
        unique, n = f"{stem}-{n}", n + 1
    taken.add(unique.lower())
    return unique


@dataclass(frozen=True, eq=False)
class Book:
    """One recipient's book: `kind` "manager" or "region", `name` as in the data (manager id
    or region), `stem` its file name without suffix (`manager-M001`), `region` (a manager's
    region, or the region itself), `positions`: its rows, as positions in the planned rows."""

    kind: str
    name: str
    stem: str
    region: str | None
    positions: np.ndarray

    def rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        """This book's rows of `frame` (the frame it was planned on, or one aligned with it)."""
        return frame.iloc[self.positions]


@dataclass(frozen=True, eq=False)
class BookPlan:
    """Every manager's and region lead's book, and the positions of the unassigned rows."""

    managers: tuple[Book, ...]
    regions: tuple[Book, ...]
    unassigned: np.ndarray

    @property
    def books(self) -> tuple[Book, ...]:
        """Managers first, then the region leads."""
        return self.managers + self.regions

    def links(self, prefix: str = "", suffix: str = ".html") -> dict[tuple[str, str], str]:
        """(kind, name) -> `prefix` + the book's file name with `suffix` (for links and
        lists: `links("books/", ".xlsx")`)."""
        return {(book.kind, book.name): f"{prefix}{book.stem}{suffix}" for book in self.books}


def _groups(frame: pd.DataFrame, column: str) -> dict[str, np.ndarray]:
    """Positions of the rows per value of `column` (one pass; missing and blank left out),
    in the order of the sorted values."""
    if column not in frame or frame.empty:
        return {}
    keys = frame[column].astype(object)
    keys = keys.where(keys.notna(), None).map(lambda k: None if k is None else str(k))
    keys = keys.where(keys.str.strip() != "", None)
    groups = keys.reset_index(drop=True).groupby(keys.to_numpy(), sort=True, dropna=True)
    return {name: np.asarray(positions, dtype=np.int64)
            for name, positions in groups.indices.items()}


def plan_books(rows: pd.DataFrame, managers: pd.DataFrame | None = None) -> BookPlan:
    """The books for `rows` (the published rows, ranked): one per manager with an account in
    `rows[manager_id]` or a row in `managers` (the tier stage's books: manager_id, region;
    a manager without accounts gets an empty book), one per region of `rows[region]`, and
    the positions of the rows without a manager (in the region books, and the director's
    unassigned list). Each row is in at most one manager book and exactly one region book."""
    by_manager = _groups(rows, MANAGER_ID)
    by_region = {}
    if REGION in rows:
        by_region = _groups(rows.assign(**{REGION: rows[REGION].fillna(NO_REGION)}), REGION)
    home: dict[str, str | None] = {}
    if managers is not None and MANAGER_ID in managers:
        regions = managers[REGION] if REGION in managers else [None] * len(managers)
        for manager, region in zip(managers[MANAGER_ID], regions):
            if pd.notna(manager) and str(manager).strip():
                home[str(manager)] = None if pd.isna(region) else str(region)
    if REGION in rows:
        for manager, positions in by_manager.items():
            region = rows[REGION].iloc[positions[0]]
            home.setdefault(manager, NO_REGION if pd.isna(region) else str(region))
    taken: set[str] = set()
    managers_books = tuple(
        Book(MANAGER, name, f"{MANAGER}-{file_stem(name, taken)}", home.get(name),
             by_manager.get(name, np.zeros(0, dtype=np.int64)))
        for name in sorted(set(home) | set(by_manager)))
    taken = set()
    regions = tuple(Book(REGION_LEAD, name, f"{REGION_LEAD}-{file_stem(name, taken)}", name,
                         positions) for name, positions in by_region.items())
    assigned = np.zeros(len(rows), dtype=bool)
    for book in managers_books:
        assigned[book.positions] = True
    return BookPlan(managers_books, regions, np.flatnonzero(~assigned))


def remove_stale(folder: Path, keep=()) -> list[Path]:
    """Remove the files in `folder` other than `keep` (paths or names) and other than the
    hidden temporaries of writers (pipeline.storage removes those of killed runs), then the
    folder itself when that left it empty. Folders inside are left alone. Returns the removed
    files; a missing folder removes nothing."""
    names = {Path(k).name for k in keep}
    removed = []
    for entry in folder_entries(folder):
        if (entry.name in names or _TEMPORARY.match(entry.name)
                or not entry.is_file(follow_symlinks=False) and not entry.is_symlink()):
            continue
        path = Path(folder) / entry.name
        path.unlink(missing_ok=True)
        removed.append(path)
    try:
        Path(folder).rmdir()  # only when empty
    except OSError:
        pass
    return removed


def _by(frame: pd.DataFrame, column: str) -> dict[str, pd.DataFrame]:
    """`frame` split by `column` once (its rows per value, as text)."""
    if frame is None or column not in frame or frame.empty:
        return {}
    return {str(k): part for k, part in frame.groupby(frame[column].astype(str), sort=False)}


def write_books(stage: Callable[[Path], Path], folder: Path, plan: BookPlan, rows: pd.DataFrame,
                tiers: pd.DataFrame, outputs: TierOutputs, policy: TierPolicy,
                managers: pd.DataFrame, regions: pd.DataFrame,
                kept: tuple[pd.DataFrame, pd.DataFrame], at_risk_rows: int,
                kept_rows: int, effect: dict[str, pd.DataFrame] | None = None) -> list[Path]:
    """Write every book of `plan` into `folder`: `<stem>.xlsx` (Summary, How to read this,
    Accounts) and `<stem>.html`, then `books.csv` (kind, name, region, accounts, workbook,
    page: which file goes to whom). Each file goes to `stage(final path)` (the publish
    stage's `StagedFiles.path`), so nothing is in place before the stage commits. `rows` and
    `tiers` are the published and the tier rows, ranked and aligned by position (the plan's
    positions index both); `managers`, `regions` and `kept` are `summary.manager_view`,
    `region_view` and `kept_incumbents`, computed once for all books; a region lead's Summary
    also gets its region's rows of `effect` (`summary.manager_effect_tables`: one more / one
    fewer manager). Returns the final paths."""
    if not rows[CUSTOMER_ID].reset_index(drop=True).equals(
            tiers[CUSTOMER_ID].reset_index(drop=True)):
        raise ValueError("write_books: `rows` and `tiers` must hold the same customers in the "
                         "same order (both ranked)")
    names, basis = policy.tier_names, outputs.summary.get("movement_basis", "n/a")
    by_manager, by_region = _by(managers, MANAGER_ID), _by(regions, REGION)
    managers_by_region = _by(managers, REGION)
    moves, capacity = _by(outputs.movement, REGION), _by(outputs.shortfall, POOL)
    kept_by_pool, kept_by_manager = _by(kept[1], POOL), _by(kept[1], MANAGER_ID)
    links = plan.links()
    written, index = [], []
    empty = managers.iloc[:0]
    for book in plan.books:
        book_rows, book_tiers = book.rows(rows), book.rows(tiers)
        if book.kind == MANAGER:
            views = {"Your book": by_manager.get(book.name, empty)}
            if book.name in kept_by_manager:
                views["Kept strategic below a candidate moved"] = kept_by_manager[book.name]
            scope = (f"manager {book.name}: only the accounts assigned to you "
                     f"({len(book_rows):,})")
            movement = None
            page = {"managers": by_manager.get(book.name, empty), "regions": regions.iloc[:0],
                    "kept": html.kept_context(kept, policy, kept_rows, pool=book.region,
                                              manager=book.name)}
        else:
            region_managers = managers_by_region.get(book.name, empty)
            views = {"The region": by_region.get(book.name, regions.iloc[:0]),
                     "Manager capacity": capacity.get(book.name, outputs.shortfall.iloc[:0]),
                     "Manager books": region_managers}
            if book.name in kept_by_pool:
                views["Kept strategic below a candidate moved"] = kept_by_pool[book.name]
            for title, table in (effect or {}).items():
                views[title] = table[table[REGION].astype(str) == str(book.name)]
            scope = (f"region {book.name}: every account of the region ({len(book_rows):,}), "
                     "with a manager or without")
            movement = moves.get(book.name, outputs.movement.iloc[:0])
            page = {"managers": region_managers, "regions": by_region.get(book.name),
                    "kept": html.kept_context(kept, policy, kept_rows, pool=book.name)}
        workbook = folder / f"{book.stem}.xlsx"
        excel.write_workbook(stage(workbook), book_rows,
                             summary.book_tables(book_tiers, names, views, movement), "book",
                             [f"Movement compared with {basis}."],
                             guide=summary.guide_rows(policy, book_tiers, basis, scope))
        report = folder / f"{book.stem}.html"
        html.write_book_page(stage(report), book.kind, book.name, book_tiers, book_rows,
                             policy, outputs.summary, at_risk_rows=at_risk_rows,
                             links=links, **page)
        written += [workbook, report]
        index.append({"kind": book.kind, "name": book.name, REGION: book.region,
                      ACCOUNTS: len(book_rows), "workbook": workbook.name,
                      "page": report.name})
    manifest = folder / BOOKS_MANIFEST
    write_table(pd.DataFrame(index, columns=["kind", "name", REGION, ACCOUNTS, "workbook",
                                             "page"]), stage(manifest))
    return [*written, manifest]

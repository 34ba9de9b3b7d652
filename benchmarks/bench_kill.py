"""Kill `keyaccounts score` and `keyaccounts publish` at random moments; check that every output
is readable and whole, the old one or the new one (issue 10: atomic outputs).

    python benchmarks/bench_kill.py [--trials 20] [--seed 0] [--customers 3000] [--project DIR]
                                    [--dates 2026-06-30 ...] [--window run|writes] [--keep]

1. Set-up: a scratch project in a temporary folder (or --project DIR; an existing project there
   is reused as it is): configs/ copied from this repository with `generate.n_customers` =
   --customers, the MLflow store in the project, LightGBM n_jobs 1; then `keyaccounts run` once.
   Its outputs are the first "old" state.
2. Calibration, on a copy of the project (the project's outputs stay the first old state): the
   wall time of `keyaccounts score --as-of D` (features rebuilt at D) and, after a `keyaccounts
   tier`, of `keyaccounts publish`, each a whole CLI process as a scheduler starts it.
3. Trials, alternating score and publish: a score trial scores at an as-of other than the one on
   disk (cycling over 4 month ends before the last order date, or --dates); a publish trial
   first runs `keyaccounts tier` to completion on the completed scores, then publishes. The
   command runs in its own process group, which gets SIGKILL at a uniform random moment in
   [0, 1.2 x its calibrated time] (seeded). Most of that time is start-up and computing; with
   `--window writes` the moment is instead uniform in [0, 1.2 x the calibrated writing phase]
   after the log line of the stage's last computing step (score: the reasons; publish: the
   tiers read and checked), so every kill lands among the writers. Old and new outputs differ
   in their as-of.
4. After each kill every output is checked, and classified "old" (the state before the trial),
   "new" (what the killed command writes) or BROKEN:
   - data/scores/scores.parquet, scores.csv, scored_frame.parquet: read completely, one as-of,
     the customer ids exactly those known at that as-of (first order or created_date on or
     before it, computed here from data/validated/): a CSV cut short at a line end parses, but
     has too few rows;
   - reports/publish/key_accounts.xlsx (openpyxl, read only, every sheet read through; the data
     rows of the sheets headed Rank/Customer, "Unassigned" left out as it repeats rows),
     key_accounts.parquet and .csv: their (customer, rank) pairs are those of the old lists or
     of the tier stage's new rows, one row per customer known at that as-of;
     key_accounts.html: ends with </html>, its <title> names the old or the new as-of (and a
     "N customers scored", when the page shows one, is that as-of's count);
   - the books folder (publish.books_folder, when there is one): every workbook read through,
     every page ends with </html>, books.csv parses; "N old, M new" by content, a changed page
     must name the new as-of;
   - the CRM (data/crm/crm.db): opens, `PRAGMA integrity_check` is ok, current_scores has one
     as-of among its active rows and as many active rows as customers at it, customer_scores
     holds for each as-of exactly its customers from one succeeded run, every scoring_runs row
     is succeeded, running (a killed run) or failed. "old" = as before the trial; "new" = the
     new as-of's history rows come from a new succeeded run, the other as-ofs are unchanged and
     current_scores holds the later of the old current as-of and the new one.
   Leftover temporaries (hidden `.*.tmp*`) and a SQLite hot journal are listed, and the files
   left in the CLI's TMPDIR (a folder in the project; openpyxl's write-only workbook keeps each
   sheet there until it saves, and removes them only at a normal exit); then the killed
   command runs again to completion, everything is checked again (the killed stage's outputs
   must now be "new") and the temporaries left are counted (the next completed run removes
   those in the folders it writes).
5. One Markdown table, one row per trial, and "N of N trials: every output whole". The exit
   code is 1 when any output was BROKEN or a completing run failed.

`tests/integration/test_kill.py` (marked slow: `pytest -m slow`) runs this with --trials 4 on a
tiny project. Nothing here uses the network.
"""

import argparse
import hashlib
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.harness import print_table  # noqa: E402

KILL_WINDOW = 1.2  # kill moments are uniform in [0, KILL_WINDOW x the calibrated time]
SCORE_FILES = ("scores.parquet", "scores.csv", "scored_frame.parquet")
PUBLISH_FILES = ("key_accounts.xlsx", "key_accounts.html", "key_accounts.parquet",
                 "key_accounts.csv")
RUN_STATUSES = ("succeeded", "running", "failed")
_TEMPORARY = re.compile(r"^\..+\.tmp(\.[^.]*)?$")
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ((?:score|publish): .*)$")
_HTML_AS_OF = re.compile(r"<title>[^<]*?(\d{4}-\d\d-\d\d)[^<]*</title>")
_HTML_COUNT = re.compile(r"([\d,]+) (?:customers|accounts) scored")  # checked when shown
UNASSIGNED_SHEET = "Unassigned"  # the workbook's sheet repeating the rows without a manager
_FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r")


# ---------------------------------------------------------------------------- the project

def _cli(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", "from pipeline.cli import main; main()",
            "--config-dir", str(root / "configs"), *args]


SYSTEM_TMP = "bench_kill_tmp"  # the CLI's TMPDIR inside the project: what a kill leaves there


def _env(root: Path) -> dict[str, str]:
    tmp = root / SYSTEM_TMP
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DVC_NO_ANALYTICS": "1",
           "TMPDIR": str(tmp)}
    for name in ("KEYACCOUNTS_CRM_URL", "KEYACCOUNTS_CRM_PASSWORD", "KEYACCOUNTS_TRACKING_URI"):
        env.pop(name, None)  # the scratch CRM is the project's SQLite file
    return env


def run_cli(root: Path, args: list[str], log: Path, timeout: float = 3600) -> float:
    """Run the CLI with `args` to completion in `root` (output to `log`); its wall time.
    A failure stops the benchmark with the log's tail."""
    started = time.perf_counter()
    with open(log, "w") as out:
        result = subprocess.run(_cli(root, *args), cwd=root, env=_env(root), stdout=out,
                                stderr=subprocess.STDOUT, timeout=timeout)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"`keyaccounts {' '.join(args)}` failed (exit {result.returncode}) "
                         f"in {root}:\n{tail}")
    return seconds


def _edit_yaml(path: Path, edit) -> None:
    import yaml

    content = yaml.safe_load(path.read_text()) or {}
    edit(content)
    path.write_text(yaml.safe_dump(content, sort_keys=False))


def _point_tracking_at(root: Path) -> None:
    def edit(content: dict) -> None:
        content["tracking"]["tracking_uri"] = f"sqlite:///{root / 'mlflow.db'}"
    _edit_yaml(root / "configs" / "pipeline.yaml", edit)


def set_up(root: Path, customers: int, logs: Path) -> float:
    """A scratch project in `root` (configs from this repository, small and single-threaded)
    after one `keyaccounts run`; its wall time."""
    shutil.copytree(REPO / "configs", root / "configs")

    def generate(content: dict) -> None:
        content["n_customers"] = customers

    def model(content: dict) -> None:  # the machine is shared
        for name in ("value", "churn"):
            content[name]["params"] = {**content[name]["params"], "n_jobs": 1}

    _edit_yaml(root / "configs" / "generate.yaml", generate)
    _edit_yaml(root / "configs" / "model.yaml", model)
    _point_tracking_at(root)
    return run_cli(root, ["run"], logs / "setup_run.log")


@dataclass
class Project:
    """Where the outputs of a project are, and which customers each as-of knows."""

    root: Path
    first_seen: "object" = None  # pandas Series: customer id -> first day known
    known: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        from pipeline.config import load_settings

        settings = load_settings(self.root / "configs")
        paths = settings.pipeline.paths
        self.scores_dir = settings.path(paths.scores_dir)
        self.publish_dir = settings.path(paths.publish_dir)
        self.tiers_dir = settings.path(paths.tiers_dir)
        self.validated_dir = settings.path(paths.validated_dir)
        self.features_dir = settings.path(paths.features_dir)
        publish = settings.tiers.publish
        url = publish.crm.url or f"sqlite:///{self.publish_dir / 'crm.db'}"
        if not url.startswith("sqlite:///"):
            raise SystemExit(f"the kill test needs a SQLite CRM; publish.crm.url is {url!r}")
        self.crm_db = settings.path(Path(url.removeprefix("sqlite:///")))
        self.crm_tables = (publish.crm.tables.scores, publish.crm.tables.current,
                           publish.crm.tables.runs)
        self.rows_name = publish.rows_name
        books = getattr(publish, "books_folder", None)  # per-manager books, when published
        self.books_dir = self.publish_dir / books if books else None
        self.files = {name: self.scores_dir / name for name in SCORE_FILES}
        self.files.update({
            "key_accounts.xlsx": self.publish_dir / publish.workbook_name,
            "key_accounts.html": self.publish_dir / publish.report_name,
            "key_accounts.parquet": self.publish_dir / f"{publish.rows_name}.parquet",
            "key_accounts.csv": self.publish_dir / f"{publish.rows_name}.csv",
        })

    def last_order(self):
        import pandas as pd

        orders = pd.read_parquet(self.validated_dir / "transactions.parquet",
                                 columns=["order_date"])["order_date"]
        return pd.Timestamp(orders.max()).normalize()

    def known_ids(self, as_of: str) -> frozenset:
        """Ids of the customers known at `as_of`: first order (validated transactions) or
        created_date (validated customers) on or before it, as features.build counts them."""
        import pandas as pd

        if self.first_seen is None:
            tx = pd.read_parquet(self.validated_dir / "transactions.parquet",
                                 columns=["customer_id", "order_date", "amount"]).dropna()
            first = tx.groupby("customer_id")["order_date"].min()
            first.index = first.index.astype(str)
            customers = self.validated_dir / "customers.parquet"
            if customers.exists():
                table = pd.read_parquet(customers)
                if "created_date" in table:
                    created = table.dropna(subset=["created_date"]).groupby(
                        table["customer_id"].astype(str))["created_date"].min()
                    first = pd.concat([first, created]).groupby(level=0).min()
            self.first_seen = pd.to_datetime(first)
        if as_of not in self.known:
            self.known[as_of] = frozenset(
                self.first_seen.index[self.first_seen <= pd.Timestamp(as_of)])
        return self.known[as_of]

    def temporaries(self) -> list[str]:
        """Hidden temporaries in the output folders, and a SQLite hot journal."""
        found = []
        for folder in (self.scores_dir, self.publish_dir, self.books_dir, self.tiers_dir,
                       self.tiers_dir / "history", self.features_dir, self.crm_db.parent):
            if folder is None:
                continue
            if folder.is_dir():
                found += [f"{folder.name}/{p.name}" for p in sorted(folder.iterdir())
                          if _TEMPORARY.match(p.name)]
        journal = self.crm_db.with_name(self.crm_db.name + "-journal")
        if journal.exists():
            found.append(f"{journal.name}")
        return sorted(set(found))

    def system_temporaries(self) -> set[str]:
        """Files in the CLI's TMPDIR (openpyxl's write-only sheets go there, for one)."""
        folder = self.root / SYSTEM_TMP
        return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


# ---------------------------------------------------------------------------- reading outputs

@dataclass(frozen=True)
class Seen:
    """What one output holds: its as-of and (customer, rank) fingerprint when readable, or
    the problem that makes it BROKEN."""

    as_of: str | None = None
    fingerprint: str | None = None
    rows: int | None = None
    problem: str | None = None


def _fingerprint(ids, ranks) -> str:
    pairs = sorted(zip(map(str, ids), map(int, ranks)))
    return hashlib.sha256(repr(pairs).encode()).hexdigest()[:16]


def _plain_id(value: str) -> str:
    """A CSV id without the leading ' that csv_safe puts before formula-like text."""
    if value.startswith("'") and value[1:].startswith(_FORMULA_FIRST):
        return value[1:]
    return value


def _one_as_of(frame) -> str:
    import pandas as pd

    values = pd.to_datetime(frame["as_of"]).dt.normalize().unique()
    if len(values) != 1:
        raise ValueError(f"{len(values)} as-of dates")
    return str(pd.Timestamp(values[0]).date())


def read_score_file(project: Project, path: Path) -> Seen:
    """scores.parquet / scores.csv / scored_frame.parquet: whole, one as-of, its customers."""
    import pandas as pd

    try:
        if path.suffix == ".csv":
            frame = pd.read_csv(path, dtype={"customer_id": str})
            ids = frame["customer_id"].map(_plain_id)
        else:
            frame = pd.read_parquet(path)
            ids = frame["customer_id"].astype(str)
        as_of = _one_as_of(frame)
    except Exception as error:  # noqa: BLE001 - unreadable is what we look for
        return Seen(problem=f"unreadable: {type(error).__name__}: {str(error)[:80]}")
    known = project.known_ids(as_of)
    if len(frame) != len(known) or ids.duplicated().any() or set(ids) != known:
        return Seen(as_of, rows=len(frame),
                    problem=f"{len(frame)} rows, {len(known)} customers known at {as_of}")
    return Seen(as_of, rows=len(frame))


def read_rows_file(path: Path) -> Seen:
    """key_accounts.parquet / .csv / .xlsx: readable; the (customer, rank) fingerprint."""
    import pandas as pd

    try:
        if path.suffix == ".xlsx":
            ids, ranks = _workbook_rows(path)
        else:
            frame = (pd.read_csv(path, dtype={"customer_id": str}) if path.suffix == ".csv"
                     else pd.read_parquet(path))
            ids = frame["customer_id"].astype(str).map(_plain_id).tolist()
            ranks = frame["rank"].astype(int).tolist()
    except Exception as error:  # noqa: BLE001
        return Seen(problem=f"unreadable: {type(error).__name__}: {str(error)[:80]}")
    return Seen(fingerprint=_fingerprint(ids, ranks), rows=len(ids))


def _workbook_rows(path: Path) -> tuple[list, list]:
    """Customer ids and ranks of every data row of the region (or manager) sheets."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    ids, ranks, sheets = [], [], 0
    try:
        for name in book.sheetnames:
            rows = book[name].iter_rows(values_only=True)
            header = list(next(rows, None) or ())
            if name == UNASSIGNED_SHEET or not {"Customer", "Rank"} <= set(header):
                for _ in rows:  # the Summary, the guide, the unassigned (repeated) rows:
                    pass        # read through all the same
                continue
            sheets += 1
            customer, rank = header.index("Customer"), header.index("Rank")
            for row in rows:
                if row is None or all(v is None for v in row):
                    continue
                ids.append(_plain_id(str(row[customer])))
                ranks.append(int(row[rank]))
    finally:
        book.close()
    if not sheets:
        raise ValueError("no sheet of rows (Rank, Customer)")
    return ids, ranks


def read_books(folder: Path | None) -> dict[str, tuple[str | None, str | None]]:
    """The per-manager books: file name -> (sha256, problem). Workbooks are read through,
    pages must end with </html>, books.csv must parse."""
    import pandas as pd
    from openpyxl import load_workbook

    if folder is None or not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.iterdir()):
        if _TEMPORARY.match(path.name) or not path.is_file():
            continue
        problem = None
        try:
            if path.suffix == ".xlsx":
                book = load_workbook(path, read_only=True)
                try:
                    for sheet in book.worksheets:
                        for _ in sheet.iter_rows(values_only=True):
                            pass
                finally:
                    book.close()
            elif path.suffix == ".html":
                if not path.read_text(encoding="utf-8").rstrip().endswith("</html>"):
                    problem = "does not end with </html>"
            elif path.suffix == ".csv":
                pd.read_csv(path)
        except Exception as error:  # noqa: BLE001
            problem = f"unreadable: {type(error).__name__}: {str(error)[:60]}"
        out[path.name] = (hashlib.sha256(path.read_bytes()).hexdigest(), problem)
    return out


def read_html(path: Path) -> Seen:
    try:
        text = path.read_text(encoding="utf-8")
    except Exception as error:  # noqa: BLE001
        return Seen(problem=f"unreadable: {type(error).__name__}")
    if not text.rstrip().endswith("</html>"):
        return Seen(problem="does not end with </html>")
    as_of, count = _HTML_AS_OF.search(text), _HTML_COUNT.search(text)
    if not as_of:
        return Seen(problem="no as-of date in its <title>")
    return Seen(as_of[1], rows=int(count[1].replace(",", "")) if count else None)


@dataclass(frozen=True)
class CrmSeen:
    """The CRM's state: history {as_of: (rows, run ids)}, the current as-of, runs."""

    history: dict | None = None
    current: tuple | None = None  # (as_of, active rows, all rows)
    runs: dict | None = None      # run id -> (as_of, status)
    problem: str | None = None


def read_crm(project: Project) -> CrmSeen:
    """Open the CRM database, check it (see the module docstring) and describe its state."""
    scores, current, runs = project.crm_tables
    if not project.crm_db.exists():
        return CrmSeen(problem="no database")
    try:
        connection = sqlite3.connect(project.crm_db, timeout=30)
        try:
            check = connection.execute("PRAGMA integrity_check").fetchall()
            if check != [("ok",)]:
                return CrmSeen(problem=f"integrity_check: {check[:3]}")
            tables = {r[0] for r in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            missing = [t for t in (scores, current, runs) if t not in tables]
            if missing:
                return CrmSeen(problem=f"missing tables {missing}")
            history = {}
            for as_of, rows, run_id in connection.execute(
                    f'SELECT as_of, COUNT(*), scoring_run_id FROM "{scores}" '
                    "GROUP BY as_of, scoring_run_id"):
                previous = history.get(str(as_of), (0, ()))
                history[str(as_of)] = (previous[0] + rows, previous[1] + (run_id,))
            active = connection.execute(
                f'SELECT as_of, COUNT(*) FROM "{current}" WHERE active = 1 GROUP BY as_of'
            ).fetchall()
            total = connection.execute(f'SELECT COUNT(*) FROM "{current}"').fetchone()[0]
            run_rows = {r[0]: (str(r[1]), r[2]) for r in connection.execute(
                f'SELECT scoring_run_id, as_of, status FROM "{runs}"')}
        finally:
            connection.close()
    except sqlite3.Error as error:
        return CrmSeen(problem=f"{type(error).__name__}: {error}")
    if len(active) != 1:
        return CrmSeen(problem=f"current_scores: {len(active)} as-of dates among active rows")
    state = CrmSeen(history, (str(active[0][0]), active[0][1], total), run_rows)
    for as_of, (rows, run_ids) in history.items():
        if len(run_ids) != 1 or run_rows.get(run_ids[0], (None, None))[1] != "succeeded":
            return _problem(state, f"history {as_of}: rows of runs {run_ids}, not one succeeded")
        if rows != len(project.known_ids(as_of)):
            return _problem(state, f"history {as_of}: {rows} rows, "
                                   f"{len(project.known_ids(as_of))} customers")
    as_of, rows, _ = state.current
    if rows != len(project.known_ids(as_of)):
        return _problem(state, f"current {as_of}: {rows} active rows")
    bad = sorted({s for _, s in run_rows.values() if s not in RUN_STATUSES})
    if bad:
        return _problem(state, f"scoring_runs status {bad}")
    return state


def _problem(state: CrmSeen, problem: str) -> CrmSeen:
    return CrmSeen(state.history, state.current, state.runs, problem)


# ---------------------------------------------------------------------------- one state

@dataclass
class State:
    """The outputs of a project at one moment: what each file holds, and the CRM."""

    files: dict
    crm: CrmSeen
    books: dict


def observe(project: Project) -> State:
    files = {}
    for name, path in project.files.items():
        if not path.exists():
            files[name] = Seen(problem="missing")
        elif name in SCORE_FILES:
            files[name] = read_score_file(project, path)
        elif name.endswith(".html"):
            files[name] = read_html(path)
        else:
            files[name] = read_rows_file(path)
    return State(files, read_crm(project), read_books(project.books_dir))


def classify_books(before: dict, after: dict, new_as_of: str, folder: Path | None) -> str:
    """The books folder: "N old, M new" (by content against the state before the trial),
    BROKEN when a book is unreadable or a changed page lacks the new as-of."""
    if not after:
        return "none"
    broken = [f"{name}: {problem}" for name, (_, problem) in after.items() if problem]
    changed = [name for name, (sha, _) in after.items() if before.get(name, (None,))[0] != sha]
    for name in changed:
        if name.endswith(".html") and new_as_of not in (folder / name).read_text("utf-8"):
            broken.append(f"{name}: changed, but not as of {new_as_of}")
    if broken:
        return "BROKEN: " + "; ".join(broken[:3])
    old = len(after) - len(changed)
    return ", ".join(part for part in (f"{old} old" if old else "",
                                       f"{len(changed)} new" if changed else "") if part)


def _publish_as_of(state: State) -> str:
    """The as-of of the published lists (from the HTML heading; the other files must agree)."""
    return state.files["key_accounts.html"].as_of


def new_rows_fingerprint(project: Project) -> tuple[str, str]:
    """(as-of, fingerprint) of what publish will write: the tier stage's rows."""
    import pandas as pd

    tiers = pd.read_parquet(project.tiers_dir / "tiers.parquet",
                            columns=["customer_id", "rank", "as_of"])
    return _one_as_of(tiers), _fingerprint(tiers["customer_id"].astype(str), tiers["rank"])


@dataclass(frozen=True)
class Expect:
    """What "old" and "new" are for one trial."""

    old_score: str          # as-of of the score files before
    new_score: str          # as-of the trial's score writes (= old_score in a publish trial)
    old_publish: tuple      # (as-of, fingerprint) of the lists before
    new_publish: tuple      # what the trial's publish writes (= old_publish in a score trial)
    old_crm: CrmSeen


def classify(project: Project, state: State, expect: Expect) -> dict[str, str]:
    """Each output's "old", "new" or "BROKEN: why", and the CRM's, under `expect`."""
    out = {}
    for name in SCORE_FILES:
        seen = state.files[name]
        if seen.problem:
            out[name] = f"BROKEN: {seen.problem}"
        else:
            out[name] = ("old" if seen.as_of == expect.old_score else
                         "new" if seen.as_of == expect.new_score else
                         f"BROKEN: as-of {seen.as_of}")
    for name in PUBLISH_FILES:
        seen = state.files[name]
        if seen.problem:
            out[name] = f"BROKEN: {seen.problem}"
            continue
        if name.endswith(".html"):
            key, old, new = seen.as_of, expect.old_publish[0], expect.new_publish[0]
        else:
            key, old, new = seen.fingerprint, expect.old_publish[1], expect.new_publish[1]
        verdict = "old" if key == old else "new" if key == new else None
        if verdict is None:
            out[name] = "BROKEN: neither the old nor the new rows"
            continue
        as_of = (expect.old_publish if verdict == "old" else expect.new_publish)[0]
        expected_rows = len(project.known_ids(as_of))
        out[name] = verdict if seen.rows in (expected_rows, None) else (
            f"BROKEN: {seen.rows} rows, {expected_rows} customers at {as_of}")
    out["CRM"] = classify_crm(project, state.crm, expect)
    return out


def classify_crm(project: Project, crm: CrmSeen, expect: Expect) -> str:
    if crm.problem:
        return f"BROKEN: {crm.problem}"
    old = expect.old_crm
    if crm.history == old.history and crm.current == old.current:
        return "old"
    as_of = expect.new_publish[0]
    if expect.new_publish == expect.old_publish:  # a score trial never writes the CRM
        return "BROKEN: changed by a score run"
    run_ids = crm.history.get(as_of, (0, ()))[1]
    others_kept = all(crm.history.get(k) == v for k, v in old.history.items() if k != as_of)
    others_kept &= set(crm.history) == set(old.history) | {as_of}
    # an as-of older than the current state is history only (current_scores left as it was)
    current_ok = (crm.current[0] == as_of if as_of >= old.current[0] else
                  crm.current == old.current)
    if len(run_ids) == 1 and run_ids[0] not in old.runs and others_kept and current_ok:
        return "new"
    return "BROKEN: neither the old nor the new state"


def run_log_status(crm: CrmSeen, before: CrmSeen) -> str:
    """Statuses of the run-log rows the trial added (the killed run's, if it got that far)."""
    if crm.runs is None or before.runs is None:
        return "?"
    added = [status for run_id, (_, status) in crm.runs.items() if run_id not in before.runs]
    return ", ".join(added) or "none"


# ---------------------------------------------------------------------------- killing

@dataclass
class Running:
    """A CLI process in its own process group whose output lines are logged and timestamped
    (seconds since the start) as they arrive."""

    process: subprocess.Popen
    started: float
    lines: list
    pump: threading.Thread

    @classmethod
    def start(cls, root: Path, args: list[str], log: Path) -> "Running":
        process = subprocess.Popen(_cli(root, *args), cwd=root, env=_env(root),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   start_new_session=True, text=True, errors="replace")
        started = time.perf_counter()
        lines: list = []

        def pump() -> None:
            with open(log, "w") as out:
                for line in process.stdout:
                    lines.append((time.perf_counter() - started, line.rstrip("\n")))
                    out.write(line)
                    out.flush()

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        return cls(process, started, lines, thread)

    def triggered(self, trigger: re.Pattern, nth: int) -> float | None:
        """Seconds since the start of the `nth` log line matching `trigger`, if seen yet."""
        hits = [t for t, line in list(self.lines) if trigger.search(line)]
        return hits[nth - 1] if len(hits) >= nth else None

    def finish(self) -> float:
        code = self.process.wait()
        seconds = time.perf_counter() - self.started
        self.pump.join()
        if code != 0:
            raise SystemExit(f"calibration failed (exit {code}):\n"
                             + "\n".join(line for _, line in self.lines[-30:]))
        return seconds

    def kill_at(self, moment: float) -> str:
        """SIGKILL the process group `moment` seconds after the start unless it exits
        first; "killed" or "exited N first"."""
        try:
            code = self.process.wait(timeout=max(0.0, moment - self.elapsed()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            code = self.process.wait()
        self.pump.join()
        return "killed" if code == -signal.SIGKILL else f"exited {code} first"

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def last_step(lines: list) -> str:
    """The last score/publish log line the killed process wrote (where it was)."""
    found = [m[1] for m in (_LOG_LINE.match(line) for _, line in lines) if m]
    if not found:
        return "(no log line: starting up)"
    text = re.sub(r" -> /.*$", "", found[-1]).replace("|", "/")
    text = re.sub(r" at sqlite:///\S+", "", text)
    return text if len(text) <= 60 else text[:57] + "..."


# the last log line before a stage only writes: score after its last computing step (the
# reasons, or the scores when there are none); publish once the tiers are read and checked
TRIGGERS = {
    "score": re.compile(r"score: (reasons for [\d,]+ accounts|[\d,]+ customers at \S+): done"),
    "publish": re.compile(r"publish: reading and checking the tiers: done"),
}


@dataclass(frozen=True)
class Timing:
    """One stage's calibrated wall time, and when its writing phase starts (after the
    `nth` line matching its trigger)."""

    seconds: float
    writes_from: float
    nth: int

    @property
    def writing(self) -> float:
        return self.seconds - self.writes_from


def calibrate(root: Path, as_of: str, logs: Path) -> dict[str, Timing]:
    """Wall times of score --as-of `as_of`, tier and publish on a copy of the project, and
    when each one's writing phase starts."""
    timing = {}
    with tempfile.TemporaryDirectory(prefix="bench_kill_calibration_") as scratch:
        twin = Path(scratch) / "project"
        shutil.copytree(root, twin,
                        ignore=shutil.ignore_patterns("bench_kill_logs", SYSTEM_TMP))
        _point_tracking_at(twin)
        for stage, args in (("score", ["score", "--as-of", as_of]), ("tier", ["tier"]),
                            ("publish", ["publish"])):
            running = Running.start(twin, args, logs / f"calibrate_{stage}.log")
            seconds = running.finish()
            trigger = TRIGGERS.get(stage)
            hits = [t for t, line in running.lines if trigger and trigger.search(line)]
            if trigger and not hits:
                raise SystemExit(f"calibration: no log line of `{stage}` matches "
                                 f"{trigger.pattern!r}; see {logs}")
            timing[stage] = Timing(seconds, hits[-1] if hits else 0.0, len(hits))
    return timing


def kill_moment(rng: random.Random, timing: Timing, window: str) -> tuple[float, str]:
    """(seconds after its start or after its trigger, "start" or "writes")."""
    if window == "run":
        return rng.uniform(0.0, KILL_WINDOW * timing.seconds), "start"
    return rng.uniform(0.0, KILL_WINDOW * timing.writing), "writes"


def kill_trial(root: Path, args: list[str], timing: Timing, stage: str, delay: float,
               window: str, log: Path) -> tuple[str, float, list]:
    """Run the CLI and SIGKILL it `delay` s after its start (window "run") or after its
    writing phase began (window "writes"). Returns (outcome, seconds it ran, its lines)."""
    running = Running.start(root, args, log)
    if window == "run":
        moment = delay
    else:
        while (seen := running.triggered(TRIGGERS[stage], timing.nth)) is None:
            if running.process.poll() is not None:
                seen = running.elapsed()
                break
            time.sleep(0.002)
        moment = seen + delay
    outcome = running.kill_at(moment)
    return outcome, min(running.elapsed(), moment), running.lines


def month_ends(project: Project, scored_as_of: str, count: int = 4) -> list[str]:
    """The `count` latest month ends on or before the last order date, other than the as-of
    already scored (whose features the features stage wrote: no rebuild, a shorter run)."""
    import pandas as pd

    last = project.last_order()
    ends = [str(d.date()) for d in pd.date_range(end=last, periods=count + 1, freq="ME")]
    return [d for d in ends if d != scored_as_of][-count:]


def _names(temporaries: list[str]) -> str:
    """Leftover temporaries, short: `publish/.key_accounts.xlsx.tmp` without pid and random."""
    if not temporaries:
        return "none"
    names = [re.sub(r"\.\d+-[0-9a-f]{12}\.tmp(\.[^.]*)?$", ".tmp", name)
             for name in temporaries]
    return ", ".join(names) if len(names) <= 4 else f"{len(names)}: {', '.join(names[:3])}, ..."


SHORT_NAMES = {"scores.parquet": "scores.pq", "scores.csv": "scores.csv",
               "scored_frame.parquet": "frame.pq", "key_accounts.xlsx": "xlsx",
               "key_accounts.html": "html", "key_accounts.parquet": "rows.pq",
               "key_accounts.csv": "rows.csv", "CRM": "CRM", "books": "books"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=20, help="kills, alternating score/publish")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    parser.add_argument("--customers", type=int, default=3000, help="generate.n_customers")
    parser.add_argument("--project", type=Path, default=None,
                        help="project folder (set up there when it has no configs/; reused "
                             "as it is otherwise); default: a temporary folder")
    parser.add_argument("--dates", nargs="+", default=None,
                        help="as-of dates the score trials cycle over (default: the 4 latest "
                             "month ends before the last order date)")
    parser.add_argument("--window", choices=["run", "writes"], default="run",
                        help="run: kill uniformly in [0, 1.2 x the calibrated time] from the "
                             "start; writes: in [0, 1.2 x the calibrated writing phase] from "
                             "the log line after which the stage only writes (its last "
                             "computing step), which aims every kill at the writers")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    args = parser.parse_args()

    made = args.project is None
    root = Path(tempfile.mkdtemp(prefix="bench_kill_")) if made else args.project.resolve()
    root.mkdir(parents=True, exist_ok=True)
    logs = root / "bench_kill_logs"
    logs.mkdir(exist_ok=True)
    try:
        return _benchmark(root, logs, args)
    finally:
        if made and not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"\nproject and logs kept in {root}")


def _benchmark(root: Path, logs: Path, args) -> int:
    setup = None
    if not (root / "configs").exists():
        setup = set_up(root, args.customers, logs)
    project = Project(root)
    state = observe(project)
    scored = state.files["scores.parquet"].as_of
    published = (_publish_as_of(state), state.files["key_accounts.parquet"].fingerprint)
    initial = Expect(scored, scored, published, published, state.crm)
    broken = {k: v for k, v in classify(project, state, initial).items() if v != "old"}
    if broken:
        raise SystemExit(f"the project's outputs are not whole before the first trial: {broken}")
    dates = args.dates or month_ends(project, scored)
    timing = calibrate(root, dates[-1], logs)
    rng = random.Random(args.seed)

    rows, details, whole, killed = [], [], 0, 0
    score_as_of, publish_state = scored, published
    for trial in range(1, args.trials + 1):
        stage = "score" if trial % 2 == 1 else "publish"
        if stage == "publish":  # tier the completed scores first
            run_cli(root, ["tier"], logs / f"trial{trial:02d}_tier.log")
        before = observe(project)
        system_before = project.system_temporaries()
        if stage == "score":
            new_as_of = dates[(trial // 2) % len(dates)]
            command = ["score", "--as-of", new_as_of]
            expect = Expect(score_as_of, new_as_of, publish_state, publish_state, before.crm)
        else:
            command = ["publish"]
            expect = Expect(score_as_of, score_as_of, publish_state,
                            new_rows_fingerprint(project), before.crm)
        delay, _ = kill_moment(rng, timing[stage], args.window)
        outcome, ran, lines = kill_trial(root, command, timing[stage], stage, delay,
                                         args.window, logs / f"trial{trial:02d}_{stage}_killed.log")
        killed += outcome == "killed"
        hits = [t for t, line in lines if TRIGGERS[stage].search(line)]
        writes_from = hits[timing[stage].nth - 1] if len(hits) >= timing[stage].nth else None
        left = project.temporaries()
        system_left = sorted(project.system_temporaries() - system_before)
        after_kill = observe(project)
        verdicts = classify(project, after_kill, expect)
        verdicts["books"] = classify_books(before.books, after_kill.books,
                                           expect.new_publish[0], project.books_dir)
        run_log = run_log_status(after_kill.crm, before.crm)
        run_cli(root, command, logs / f"trial{trial:02d}_{stage}_rerun.log")
        completed = observe(project)
        again = classify(project, completed, expect)
        # completed: the killed stage's outputs are new, the other stage's as they were
        wanted = {k: "new" if (k in SCORE_FILES) == (stage == "score") else "old" for k in again}
        problems = {k: v for k, v in again.items() if v != wanted[k]}
        # a score run leaves the books as they were; a publish run writes every page anew
        books_again = classify_books(before.books if stage == "score" else {},
                                     completed.books, expect.new_publish[0], project.books_dir)
        if books_again.startswith("BROKEN") or (stage == "score" and " new" in books_again):
            problems["books"] = books_again
        stale = [name for name in left if name in project.temporaries()]
        system_stale = [name for name in system_left if name in project.system_temporaries()]
        written = [verdicts[k] for k in (SCORE_FILES if stage == "score" else
                                         (*PUBLISH_FILES, "CRM"))]
        agree = ("all " + written[0] if len(set(written)) == 1 else
                 "mixed: " + ", ".join(SHORT_NAMES[k] for k in SHORT_NAMES
                                       if verdicts[k] == "new"
                                       and (k in SCORE_FILES) == (stage == "score")) + " new")
        ok = not any(v.startswith("BROKEN") for v in verdicts.values()) and not problems
        verdicts_shown = {**verdicts, "books": verdicts["books"].split(":")[0]}
        whole += ok
        for name, verdict in verdicts.items():
            if verdict.startswith("BROKEN"):
                details.append(f"trial {trial} ({stage}) after the kill: {name}: {verdict}")
        for name, verdict in problems.items():
            details.append(f"trial {trial} ({stage}) after the re-run: {name}: {verdict}")
        if stage == "score":
            score_as_of = expect.new_score
        else:
            publish_state = expect.new_publish
        old_new = (f"{expect.old_score} -> {expect.new_score}" if stage == "score" else
                   f"{expect.old_publish[0]} -> {expect.new_publish[0]}")
        rows.append([
            trial, stage, old_new, f"{ran:.2f}",
            "-" if writes_from is None or ran < writes_from else f"{ran - writes_from:.2f}",
            outcome, last_step(lines),
            *("BROKEN" if verdicts_shown[name].startswith("BROKEN") else verdicts_shown[name]
              for name in SHORT_NAMES),
            agree, run_log, _names(left),
            "-" if not left else "all removed" if not stale else f"{len(stale)} left",
            (f"{len(system_left)} ({len(system_stale)} still there after the re-run)"
             if system_left else "none"),
            "all new" if not problems else "BROKEN",
        ])

    project_note = (f"set up with {args.customers:,} customers in {setup:.0f} s" if setup
                    else "reused")
    moment = ("[0, 1.2 x calibrated time] after the start" if args.window == "run" else
              "[0, 1.2 x calibrated writing phase] after the last computing step's log line")
    print_table(
        f"Kill trials: SIGKILL to the process group at a uniform moment in {moment}; "
        f"calibrated score {timing['score'].seconds:.1f} s (writing "
        f"{timing['score'].writing:.2f} s), publish {timing['publish'].seconds:.1f} s (writing "
        f"{timing['publish'].writing:.2f} s), tier {timing['tier'].seconds:.1f} s; "
        f"seed {args.seed}; project {project_note}; score as-of dates {', '.join(dates)}",
        ["trial", "stage", "as-of old -> new", "killed at s", "s into writing", "outcome",
         "last log line", *SHORT_NAMES.values(), "stage's outputs", "run log rows added",
         "temporaries after kill", "after the re-run", "new files in TMPDIR",
         "re-run: all new"],
        rows)
    if details:
        print("\nBROKEN:\n" + "\n".join(f"- {line}" for line in details))
    print(f"\n{whole} of {len(rows)} trials: every output whole ({killed} killed, "
          f"{len(rows) - killed} finished before their kill moment)")
    return 0 if whole == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())

"""One-line mutation testing of the decisions that live on a boundary or a tie.

Each mutant below changes one snippet of one file (a `>` into `>=`, a window edge by a day, a
tie-break, a capacity or region rule, the gate's margin...). The script copies the repository
(the files `git ls-files` lists, tracked or untracked but not ignored, in their working-tree
versions) to a temporary folder, and for every mutant, in that copy only, replaces the
snippet, runs the tests of that module (`pytest -x -q -p no:cacheprovider`), records whether
they failed (killed), passed (survived) or ran out of time (killed by timeout), and puts the
file back. The working tree is never written to.

A snippet must occur exactly once in its file, else the mutant is reported as invalid (not
killed). Before the mutants, each module's tests run once unmutated: a module whose tests fail
as they are (work in progress) is reported and skipped. A mutant that no test can tell apart
from the original is declared `equivalent=` with the reason: it still runs (a kill says the
declaration is wrong) but is left out of the score.

    .venv/bin/python benchmarks/mutation.py              # every mutant, the table at the end
    .venv/bin/python benchmarks/mutation.py --check      # only check that every snippet matches
    .venv/bin/python benchmarks/mutation.py --only tiering --only labels

Exit status 1 when the score is below --min-score (default 0.95), or a snippet is invalid.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    """Replace `original` (exactly one occurrence) by `replacement`; `what` says what it
    breaks. `equivalent`: why no test can kill it (declared, out of the score)."""

    original: str
    replacement: str
    what: str
    equivalent: str = ""


@dataclass(frozen=True)
class Module:
    """A file (the first of `files` that exists: a module being moved may sit in either
    place), the tests that cover it, and its mutants."""

    name: str
    files: tuple[str, ...]
    tests: tuple[str, ...]
    mutants: tuple[Mutant, ...] = field(default_factory=tuple)


FEATURE_TESTS = ("tests/features/test_boundaries.py",)
TIERING_TESTS = ("tests/models/test_tiering_edges.py", "tests/models/test_tiering.py")

MODULES = (
    Module("features/transactions.py", ("features/transactions.py",), (
        "tests/features/test_boundaries.py", "tests/features/test_transactions.py"), (
        Mutant("return pl.when((day > lower) & (day <= upper))",
               "return pl.when((day >= lower) & (day <= upper))",
               "feature windows take the day before their first day (> vs >=)"),
        Mutant("return pl.when((day > lower) & (day <= upper))",
               "return pl.when((day > lower) & (day < upper))",
               "feature windows drop their last day, the cutoff (<= vs <)"),
        Mutant('_window_sum(net, T - tw, T).alias("_recent")',
               '_window_sum(net, T - tw + 1, T).alias("_recent")',
               "trend: recent span starts a day late"),
        Mutant('_window_sum(net, T - 2 * tw, T - tw).alias("_previous")',
               '_window_sum(net, T - 2 * tw, T - tw - 1).alias("_previous")',
               "trend: previous span ends a day early (the spans' shared edge)"),
        Mutant('_window_sum(net, T - 2 * tw, T - tw).alias("_previous")',
               '_window_sum(net, T - 2 * tw - 1, T - tw).alias("_previous")',
               "trend: previous span starts a day early"),
        Mutant("pl.when((recent.abs() + previous.abs()) > 0)",
               "pl.when((recent.abs() + previous.abs()) >= 0)",
               "trend without spend in either span: 0/0 (NaN) instead of 0"),
        Mutant(".then((recent - previous) / (recent.abs() + previous.abs()))\n        "
               ".otherwise(0.0)",
               ".then((recent - previous) / (recent.abs() + previous.abs()))\n        "
               ".otherwise(None)",
               "trend without spend in either span: missing instead of 0",
               equivalent="the builder fills a missing trend with the catalogue's `missing` "
                          "value, 0.0: the same number reaches every frame"),
        Mutant("year = T - 365", "year = T - 366", "season: the year back starts a day early"),
        Mutant('_window_sum(gross, year, year + 90).alias("_next_quarter_gross")',
               '_window_sum(gross, year, year + 91).alias("_next_quarter_gross")',
               "season: the coming quarter a year ago ends a day late"),
        Mutant("quarter_edges = [year + round(365 * k / 4) for k in range(5)]",
               "quarter_edges = [year + int(365 * k / 4) for k in range(5)]",
               "season: quarter edges truncated instead of rounded (year + 91 vs + 92)"),
        Mutant("upto = lines.day <= cutoff", "upto = lines.day < cutoff",
               "categories drop the lines of the cutoff day"),
        Mutant("frame = prep.daily.lazy().filter(day <= T)",
               "frame = prep.daily.lazy().filter(day <= T + 1)",
               "the function's own cutoff filter reads T+1 (killed without the builder's slice)"),
        Mutant("pl.when(frequency >= 0).then(frequency)",
               "pl.when(frequency > 0).then(frequency)",
               "BTYD frequency of a single order day: missing instead of 0"),
        Mutant(".then((pl.col(\"_gross\") - pl.col(\"_first_gross\")) / frequency)\n"
               "        .when(frequency == 0)",
               ".then((pl.col(\"_gross\") - pl.col(\"_first_gross\")) / frequency)\n"
               "        .when(frequency < 0)",
               "BTYD monetary without a repeat order: missing instead of 0"),
    )),
    Module("features/contacts.py", ("features/contacts.py",), (
        "tests/features/test_boundaries.py", "tests/features/test_contacts.py"), (
        Mutant('(pl.col(f"ch_{name}") & (day > T - w))',
               '(pl.col(f"ch_{name}") & (day >= T - w))',
               "contact windows take the day before their first day"),
        Mutant("in_lookback = day > T - lookback", "in_lookback = day >= T - lookback",
               "complaint/conversion look-back edge"),
        Mutant('(pl.col("manager") & (day > T - config.manager_lookback_days))',
               '(pl.col("manager") & (day >= T - config.manager_lookback_days))',
               "manager look-back edge"),
        Mutant("return prep.contacts.lazy().filter(day <= T)",
               "return prep.contacts.lazy().filter(day <= T + 1)",
               "the function's own cutoff filter reads T+1 (killed without the builder's slice)"),
    )),
    Module("features/labels.py", ("features/labels.py",), (
        "tests/features/test_boundaries.py", "tests/features/test_labels.py"), (
        Mutant(".filter((day > cutoff) & (day <= cutoff + horizon_days))",
               ".filter((day >= cutoff) & (day <= cutoff + horizon_days))",
               "label window includes the cutoff day"),
        Mutant(".filter((day > cutoff) & (day <= cutoff + horizon_days))",
               ".filter((day > cutoff) & (day < cutoff + horizon_days))",
               "label window drops its last day T+H"),
        Mutant('(pl.col("gross") > 0).any().alias("bought")',
               '(pl.col("gross") >= 0).any().alias("bought")',
               "a zero-amount day counts as an order (not churned)"),
    )),
    Module("features/builder.py", ("features/builder.py",), FEATURE_TESTS + (
        "tests/features/test_builder.py",), (
        Mutant("    prep = prepared_upto(prep, T)\n",
               "    prep = prepared_upto(prep, T + 1)\n",
               "the training path lets T+1 reach the feature functions (the leak)"),
        Mutant("    prep = prepared_upto(prep, T)\n", "\n",
               "no slice before the feature functions (the leak of the old training path)"),
        Mutant("daily = prep.daily.filter(pl.col(D) <= day)",
               "daily = prep.daily.filter(pl.col(D) < day)",
               "the slice drops the cutoff day's transactions"),
        Mutant("prep.contacts.filter(pl.col(D) <= day)", "prep.contacts.filter(pl.col(D) < day)",
               "the slice drops the cutoff day's contacts"),
        Mutant("keep = lines.day <= day", "keep = lines.day <= day + 1",
               "the slice keeps the category lines of T+1"),
    )),
    Module("features/tables.py", ("features/tables.py",), FEATURE_TESTS + (
        "tests/features/test_customers.py",), (
        Mutant("known = np.flatnonzero(prep.first_seen <= day)",
               "known = np.flatnonzero(prep.first_seen < day)",
               "a customer first seen on the cutoff is not known yet"),
        Mutant("        keep = keep & (pl.col(D) <= upto)\n    tx = tx.select(columns)",
               "        keep = keep & (pl.col(D) < upto)\n    tx = tx.select(columns)",
               "build() drops the transactions of the as-of day"),
    )),
    Module("features/customers.py", ("features/customers.py",), FEATURE_TESTS, (
        Mutant('np.searchsorted(np.asarray(config.size_bands), size, side="right")',
               'np.searchsorted(np.asarray(config.size_bands), size, side="left")',
               "a size on a band edge falls in the band below"),
    )),
    Module("models/tiering.py", ("models/tiering.py",), TIERING_TESTS, (
        Mutant('return 1.0 - values.rank(method="max", ascending=False) / len(values)',
               'return 1.0 - values.rank(method="min", ascending=False) / len(values)',
               "percentile ties: the share strictly below becomes the share at or below"),
        Mutant("passes = measure >= bar.min_bar", "passes = measure > bar.min_bar",
               "a tier's entry bar excludes an account exactly on it"),
        Mutant("(lower > i) & (measure >= bar.keep_bar)", "(lower > i) & (measure > bar.keep_bar)",
               "hysteresis: an account exactly on a lower bar loses its tier"),
        Mutant("held = np.where(previous == 0, 1, previous)", "held = previous",
               "a former strategic account is not held in the next tier"),
        Mutant("incumbent = (previous == 0) & (measure >= strategic.keep_bar)",
               "incumbent = (previous == 0) & (measure > strategic.keep_bar)",
               "strategic hysteresis: exactly on keep_bar drops out"),
        Mutant("candidate = incumbent | (measure >= strategic.min_bar)",
               "candidate = incumbent | (measure > strategic.min_bar)",
               "strategic entry bar excludes an account exactly on it"),
        Mutant("ascending=[True, False, False, True]", "ascending=[True, True, False, True]",
               "capacity: newcomers before incumbents"),
        Mutant("ascending=[True, False, False, True]", "ascending=[True, False, False, False]",
               "capacity ties: equal scores broken by the larger id"),
        Mutant('chosen = order.index[order["slot"] < ', 'chosen = order.index[order["slot"] <= ',
               "one strategic account more than the capacity",
               equivalent="the candidates over capacity (slot >= capacity) are set after the "
                          "chosen ones and override the one extra (slot == capacity)"),
        Mutant('over = order.index[order["slot"] >= ', 'over = order.index[order["slot"] > ',
               "the first candidate over capacity keeps its lower tier, unreported"),
        Mutant('& (order["slot"] < order[', '& (order["slot"] <= order[',
               "the shortfall counts one strategic account more than the capacity"),
        Mutant("(value_pct >= policy.retention.min_value_percentile)",
               "(value_pct > policy.retention.min_value_percentile)",
               "retention: exactly on the value percentile is not flagged"),
        Mutant("(frame[CHURN_PROBABILITY] >= policy.retention.min_churn_probability)",
               "(frame[CHURN_PROBABILITY] > policy.retention.min_churn_probability)",
               "retention: exactly on the churn probability is not flagged"),
        Mutant("frame = frame.sort_values([RANK_SCORE, CUSTOMER_ID], ascending=[False, True]",
               "frame = frame.sort_values([RANK_SCORE, CUSTOMER_ID], ascending=[False, False]",
               "rank ties: equal scores ranked by the larger id"),
        Mutant("tier[over] = names[1]", "tier[over] = names[2]",
               "over-capacity candidates skip the next tier"),
        Mutant("         now_rank < before_rank],", "         now_rank > before_rank],",
               "movement: upgrades and downgrades swapped"),
    )),
    Module("models/tier_policy.py", ("models/tier_policy.py",), TIERING_TESTS, (
        Mutant("if self.keep_bar > self.min_bar:", "if self.keep_bar >= self.min_bar:",
               "keep_bar equal to min_bar refused"),
        Mutant("if any(upper < lower for upper, lower in zip(bars, bars[1:])):",
               "if any(upper <= lower for upper, lower in zip(bars, bars[1:])):",
               "two tiers with the same entry bar refused"),
        Mutant("[self.strategic.min_bar, *(t.min_bar for t in self.tiers)]\n        ) > 1:",
               "[self.strategic.min_bar, *(t.min_bar for t in self.tiers)]\n        ) >= 1:",
               "a percentile bar of exactly 1 refused"),
    )),
    Module("models/assignment.py", ("models/assignment.py",), (
        "tests/models/test_assignment_edges.py", "tests/models/test_assignment.py"), (
        Mutant('["_ev", CUSTOMER_ID], ascending=[False, True], kind="stable")',
               '["_ev", CUSTOMER_ID], ascending=[False, False], kind="stable")',
               "capacity edge ties: equal values dropped by the smaller id"),
        Mutant("kept, dropped = order.iloc[:capacity_total], order.iloc[capacity_total:]",
               "kept, dropped = order.iloc[:capacity_total + 1], order.iloc[capacity_total + 1:]",
               "one account more than the region's capacity"),
        Mutant("managers = managers[managers[CAPACITY] > 0]",
               "managers = managers[managers[CAPACITY] >= 0]",
               "a manager without capacity gets a book"),
        Mutant(".fillna(False).astype(bool)]", ".fillna(True).astype(bool)]",
               "a manager of unknown activity takes accounts"),
        Mutant("region_managers = managers[managers[REGION] == region]",
               "region_managers = managers",
               "managers take accounts of every region"),
        Mutant("continuity = np.flatnonzero(problem.current >= 0)",
               "continuity = np.flatnonzero(problem.current > 0)",
               "the first manager of a region loses continuity"),
        Mutant("bonus=np.rint(policy.continuity_bonus * _LEVEL_SCALE * weight)",
               "bonus=np.rint(policy.continuity_bonus * _WEIGHT_SCALE * weight)",
               "continuity bonus on the wrong scale (a tenth of a book)"),
    )),
    Module("models/selection.py", ("models/selection.py",), (
        "tests/models/test_selection_edges.py", "tests/models/test_selection.py"), (
        Mutant("return sign * (a - b) > margin", "return sign * (a - b) >= margin",
               "beats(): a tie (or exactly the margin) beats"),
        Mutant("    if b is None or not math.isfinite(b):\n        return True",
               "    if b is None or not math.isfinite(b):\n        return False",
               "beats(): a finite score does not beat a missing one"),
        Mutant("    if a is None or not math.isfinite(a):\n        return False",
               "    if a is None:\n        return False",
               "beats(): a NaN score is not ruled out"),
        Mutant("if beats(means[c], means[r], metric)),",
               "if not beats(means[r], means[c], metric)),",
               "compare(): ties no longer keep the candidates' order"),
        Mutant("    if ok.sum() < m:\n        return equal",
               "    if ok.sum() <= m:\n        return equal",
               "blend weights: as many rows as members falls back to equal weights"),
        Mutant("if not beats(scores[winner], scores[c], metric, noise):",
               "if not beats(scores[winner], scores[c], metric):",
               "the one-standard-error rule ignores the standard error"),
        Mutant("if c not in scores or (floor is not None and beats(floor, scores[c], metric)):",
               "if c not in scores:",
               "a candidate the backtest ranks below the best baseline may publish"),
        Mutant("return float(np.std(draws, ddof=1) * math.sqrt(m / n))",
               "return float(np.std(draws, ddof=1))",
               "the subsampled bootstrap is not scaled to the whole base"),
        Mutant("weights = weights * y.sum() / (Q @ weights).sum()",
               "weights = weights",
               "the value blend's level is not matched to the labels' total"),
    )),
    Module("gate (pipeline tracking)", ("pipeline/tracking/promotion.py", "pipeline/tracking.py"),
           ("tests/pipeline/test_gate_edges.py", "tests/pipeline/test_tracking.py",
            "-k", "test_gate or edges"), (
        Mutant("if not beats(new, best_baseline, metric, min_margin):",
               "if not beats(new, best_baseline, metric):",
               "the gate ignores min_margin against the baseline"),
        Mutant("if not beats(new, champion, metric, min_margin):",
               "if not beats(new, champion, metric):",
               "the gate ignores min_margin against the champion"),
        Mutant("if champion is not None and math.isfinite(champion):",
               "if champion is not None:",
               "a NaN champion value blocks the promotion"),
    )),
    Module("models/backtest.py (grades)", ("models/backtest.py",), (
        "tests/models/test_selection_edges.py", "tests/models/test_backtest.py", "-k",
        "grade or best_baseline"), (
        Mutant("name = (values * _direction(metric)).idxmax()", "name = values.idxmax()",
               "the best baseline ignores the metric's direction"),
        Mutant("won = beats(summary.loc[model, metric], best_value, metric, config.gate.min_margin)",
               "won = beats(summary.loc[model, metric], best_value, metric)",
               "grades ignore min_margin"),
    )),
    Module("models/reasons.py", ("models/reasons.py",), (
        "tests/models/test_reasons_edges.py", "tests/models/test_reasons.py"), (
        Mutant("return np.maximum(least, share * largest)[:, None]",
               "return np.minimum(least, share * largest)[:, None]",
               "materiality floor: the smaller of the two rules"),
        Mutant("eligible = (contrib >= floor) & (good[ok] <= 0)",
               "eligible = (contrib > floor) & (good[ok] <= 0)",
               "churn reasons: a contribution exactly on the floor is dropped"),
        Mutant("churn_ok = p >= min_churn_probability", "churn_ok = p > min_churn_probability",
               "churn section: exactly min_churn_probability gets none"),
        Mutant("position = (below + upto) / (2.0 * max(len(ref), 1)) - 0.5",
               "position = (upto + upto) / (2.0 * max(len(ref), 1)) - 0.5",
               "median ties: a value shared by many is not split (mid-rank)"),
        Mutant("bad |= values > sense.good_at_most", "bad |= values >= sense.good_at_most",
               "plain limit: exactly good_at_most is bad news"),
        Mutant("bad |= (other > 0) & (values >= sense.bad_from[1] * other)",
               "bad |= (other > 0) & (values > sense.bad_from[1] * other)",
               "plain limit: exactly bad_from times the usual gap is not bad news"),
        Mutant('scores["value_down"] = np.where((-contrib >= floor) & (good <= 0)',
               'scores["value_down"] = np.where((-contrib > floor) & (good <= 0)',
               "value down: a contribution exactly on the floor is dropped"),
        Mutant("(contrib >= floor) & ((good == 0) | (good == 1))",
               "(contrib >= floor) & (good == 1)",
               "value up: features without a side never a reason"),
        Mutant("if len(chosen) == top_k:", "if len(chosen) > top_k:",
               "one reason more than top_k per section"),
        Mutant("for rank, j in enumerate(o for o in order if signed[o] > 0):",
               "for rank, j in enumerate(o for o in order if signed[o] >= 0):",
               "factors: a zero contribution is listed as a factor"),
    )),
)


@dataclass
class Result:
    module: str
    mutant: Mutant
    status: str  # killed, timeout, survived, invalid, skipped
    seconds: float = 0.0
    note: str = ""


def copy_repository(target: Path) -> int:
    """Copy the files git knows or would add (not ignored), as they are in the working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, check=True, capture_output=True).stdout.decode().split("\0")
    copied = 0
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
            copied += 1
    return copied


def environment(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1",
               MLFLOW_DISABLE_TELEMETRY="true", DVC_NO_ANALYTICS="1",
               HYPOTHESIS_PROFILE=env.get("HYPOTHESIS_PROFILE", "dev"))
    env.pop("CI", None)  # the dev hypothesis profile: the mutants need the boundary cases
    return env


def run_tests(root: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, float, str]:
    """(status, seconds, last line of output): passed, failed or timeout."""
    present = [t for t in tests if not t.startswith("tests/") or (root / t).exists()]
    if not any(t.startswith("tests/") for t in present):  # never the whole suite
        return "no test file", 0.0, ""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *present]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=root, env=environment(root), capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - started, ""
    lines = (done.stdout.strip() or done.stderr.strip() or "").splitlines()
    status = {0: "passed", 1: "failed"}.get(done.returncode, f"error {done.returncode}")
    return status, time.perf_counter() - started, lines[-1] if lines else ""


def locate(root: Path, module: Module) -> Path | None:
    return next((root / f for f in module.files if (root / f).is_file()), None)


def check(root: Path, modules) -> list[Result]:
    """The mutants whose snippet does not occur exactly once (or whose file is missing)."""
    bad = []
    for module in modules:
        path = locate(root, module)
        text = path.read_text() if path else ""
        for mutant in module.mutants:
            count = text.count(mutant.original)
            if path is None or count != 1:
                where = "file missing" if path is None else f"snippet found {count} times"
                bad.append(Result(module.name, mutant, "invalid", note=where))
    return bad


def mutate(root: Path, modules, factor: float) -> list[Result]:
    results = check(root, modules)
    invalid = {id(r.mutant) for r in results}
    for module in modules:
        path = locate(root, module)
        if path is None:  # every mutant of it is already reported invalid
            continue
        status, base_seconds, last = run_tests(root, module.tests, timeout=900)
        print(f"# {module.name}: tests unmutated {status} in {base_seconds:.1f} s ({last})",
              flush=True)
        if status != "passed":
            results += [Result(module.name, m, "skipped", note=f"unmutated tests {status}")
                        for m in module.mutants if id(m) not in invalid]
            continue
        original = path.read_text()
        for mutant in module.mutants:
            if id(mutant) in invalid:
                continue
            path.write_text(original.replace(mutant.original, mutant.replacement, 1))
            try:
                status, seconds, last = run_tests(root, module.tests,
                                                  timeout=max(60.0, factor * base_seconds))
            finally:
                path.write_text(original)
            outcome = {"failed": "killed", "timeout": "timeout", "passed": "survived"}.get(
                status, "killed")  # an import or collection error is a kill too
            results.append(Result(module.name, mutant, outcome, seconds, last))
            print(f"  {outcome:8} {seconds:5.1f} s  {mutant.what}", flush=True)
    return results


def table(results: list[Result], modules) -> tuple[str, float, int]:
    """The markdown table, the score (killed / scored mutants) and the invalid count."""
    lines = ["| module | mutants | killed | survived | score |", "|---|---:|---:|---:|---:|"]
    total_scored = total_killed = invalid = 0
    notes = []
    for module in modules:
        rows = [r for r in results if r.module == module.name]
        scored = [r for r in rows if not r.mutant.equivalent and r.status in
                  ("killed", "timeout", "survived")]
        killed = [r for r in scored if r.status in ("killed", "timeout")]
        survived = [r for r in scored if r.status == "survived"]
        total_scored += len(scored)
        total_killed += len(killed)
        invalid += sum(r.status == "invalid" for r in rows)
        text = "; ".join(r.mutant.what for r in survived) or "-"
        score = f"{len(killed) / len(scored):.0%}" if scored else "-"
        lines.append(f"| {module.name} | {len(scored)} | {len(killed)} | "
                     f"{len(survived)}: {text} | {score} |" if survived else
                     f"| {module.name} | {len(scored)} | {len(killed)} | 0 | {score} |")
        for r in rows:
            if r.mutant.equivalent:
                notes.append(f"- equivalent, not scored ({module.name}, {r.status}): "
                             f"{r.mutant.what}: {r.mutant.equivalent}")
            elif r.status in ("invalid", "skipped"):
                notes.append(f"- {r.status} ({module.name}): {r.mutant.what}: {r.note}")
    score = total_killed / total_scored if total_scored else 0.0
    lines.append(f"| **total** | {total_scored} | {total_killed} | "
                 f"{total_scored - total_killed} | {score:.1%} |")
    return "\n".join(lines + ([""] + notes if notes else [])), score, invalid


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", default=[],
                        help="run the modules whose name contains this (repeatable)")
    parser.add_argument("--check", action="store_true",
                        help="only check that every snippet occurs exactly once")
    parser.add_argument("--min-score", type=float, default=0.95)
    parser.add_argument("--drop", action="append", default=[],
                        help="leave this file out of the copy (repeatable), e.g. a test file, "
                             "to measure what it kills")
    parser.add_argument("--timeout-factor", type=float, default=5.0,
                        help="a mutant's tests time out after this many times the unmutated run")
    args = parser.parse_args()
    modules = [m for m in MODULES if not args.only or any(o in m.name for o in args.only)]
    if args.check:
        bad = check(REPO, modules)
        for r in bad:
            print(f"invalid ({r.module}): {r.mutant.what}: {r.note}")
        count = sum(len(m.mutants) for m in modules)
        print(f"{count - len(bad)} of {count} snippets occur exactly once")
        return 1 if bad else 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        root = Path(tmp)
        print(f"# copied {copy_repository(root)} files to {root}", flush=True)
        for name in args.drop:
            (root / name).unlink()
            print(f"# left out {name}", flush=True)
        probe = subprocess.run([sys.executable, "-c", "import features; print(features.__file__)"],
                               cwd=root, env=environment(root), capture_output=True, text=True)
        if not probe.stdout.strip().startswith(str(root)):
            print(f"the copy's packages are not the ones imported ({probe.stdout.strip()})")
            return 1
        results = mutate(root, modules, args.timeout_factor)
    text, score, invalid = table(results, modules)
    print()
    print(text)
    print(f"\n{len(results)} mutants in {time.perf_counter() - started:.0f} s")
    return 1 if score < args.min_score or invalid else 0


if __name__ == "__main__":
    sys.exit(main())

"""Time and peak memory of writing one scoring run to the CRM tables, on SQLite and PostgreSQL.

    python benchmarks/bench_crm.py [--rows 1000000] [--pg-url URL] [--backends sqlite postgresql]

Builds a realistic tiers frame (customer ids like "C0001234", tiers, regions, a manager for the
top 3%, float scores, ~120-character reasons, dates, no last contact for a third) and publishes
it as the publish stage does (`crm.crm_frame` + `crm.write_run`) in three cases, each in a
fresh process, against the same tables:

  1. first run: empty tables (history and current get N rows);
  2. second as-of: a month later, 2% of the customers replaced by new ones (history grows to
     2N, current replaced, the 2% that left marked inactive);
  3. the second as-of again: its history rows and the current state are replaced.

SQLite is a file in a temporary directory; PostgreSQL comes from --pg-url or the environment
variable KEYACCOUNTS_TEST_PG_URL (skipped, with a note, when neither is given). Tables get
fresh names and are dropped afterwards. "write s" is crm_frame + write_run; "peak MB" is the
whole case's process, the input frame included; "cpu s" is this process's CPU time during the
write, "server cpu s" that of the PostgreSQL backend that did the writing (read from /proc, so
only for a server on this machine; n/a otherwise). Their sum well below "write s" means the
write waited: for the disk or, on a busy machine, for a core. Issue 10's target: at most 60 s
per case.
"""

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import measure, print_table  # noqa: E402

PG_ENV = "KEYACCOUNTS_TEST_PG_URL"
LIMIT_SECONDS = 60.0
FIRST, SECOND = "2026-06-30", "2026-07-31"
CASES = [("1. first run (empty tables)", FIRST), ("2. second as-of", SECOND),
         ("3. second as-of again", SECOND)]
_TIERS = ("strategic", "key", "growth", "self-service")


def tiers_frame(n: int, as_of: str):
    """A tiers-stage-like frame of `n` customers scored at `as_of` (the second as-of drops
    every 50th customer of the first and adds as many new ones)."""
    import numpy as np
    import pandas as pd

    second = as_of != FIRST
    rng = np.random.default_rng(1 if second else 0)
    numbers = np.arange(n)
    if second:
        left = numbers % 50 == 0
        numbers = np.concatenate([numbers[~left], np.arange(n, n + int(left.sum()))])
    rng.shuffle(numbers)
    ids = pd.Series(numbers).map("C{:07d}".format)
    value = np.sort(rng.lognormal(7, 1.5, n))[::-1]  # rank 1 = highest value
    rank = np.arange(1, n + 1)
    share = rank / n
    tier = np.select([share <= 0.03, share <= 0.13, share <= 0.38], _TIERS[:3], _TIERS[3])
    previous = pd.Series(rng.choice(np.array(_TIERS, dtype=object), n), dtype=object)
    previous[rng.random(n) < (0.02 if second else 1.0)] = None
    change = np.where(previous.isna(), "new",
                      np.where(previous.to_numpy() == tier, "kept", "upgraded"))
    churn = rng.beta(2, 5, n)
    regions = np.array(["North", "South", "East", "West", "Central"])
    managed = tier == "strategic"
    manager = pd.Series(rng.integers(1, 400, n)).map("M{:04d}".format).where(managed, None)
    stamp = pd.Timestamp(as_of)
    orders = rng.integers(1, 60, n)
    days = rng.integers(1, 720, n)
    contact = rng.integers(1, 365, n)
    reasons = ("Value up: " + pd.Series(orders).astype(str) + " orders in the last 90 days; "
               "average order " + pd.Series(value / orders).round(0).astype(int).astype(str)
               + " EUR; last order " + pd.Series(days).astype(str)
               + " days ago; churn risk " + pd.Series((churn * 100).round(0)).astype(int)
               .astype(str) + "% (was lower).")
    return pd.DataFrame({
        "customer_id": ids, "as_of": stamp, "horizon_days": 365, "rank": rank, "tier": tier,
        "previous_tier": previous, "change": change, "region": rng.choice(regions, n),
        "manager_id": manager, "kept_manager": managed & (rng.random(n) < 0.7),
        "expected_value": value, "churn_probability": churn, "value_at_risk": value * churn,
        "retention_flag": (share <= 0.25) & (churn >= 0.5),
        "last_order_date": stamp - pd.to_timedelta(days, unit="D"),
        "last_contact_date": (stamp - pd.to_timedelta(contact, unit="D")).where(
            rng.random(n) >= 0.33, pd.NaT),
        "reasons": reasons,
        "tier_reason": np.where(change == "kept", "kept: score above the keep bar",
                                "entered: score above the entry bar"),
        "value_model_version": "7", "value_run_id": "a1b2c3d4e5f6",
        "churn_model_version": "9", "churn_run_id": "f6e5d4c3b2a1",
    })


def _server_cpu(engine) -> tuple[int | None, float | None]:
    """(backend pid, its CPU seconds so far) of the pooled PostgreSQL connection, read from
    /proc when the server runs on this machine and is readable; (None, None) otherwise."""
    import os

    if engine.dialect.name != "postgresql":
        return None, None
    with engine.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return pid, None
    return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(url: str, names: tuple[str, str, str], n: int, as_of: str) -> dict:
    """Build the frame of `as_of`, publish it (timed) and count the tables afterwards."""
    import time
    from datetime import datetime, timezone

    import sqlalchemy as sa

    from pipeline.publishing import crm

    started = time.perf_counter()
    frame = tiers_frame(n, as_of)
    build = time.perf_counter() - started
    tables = crm.CrmTables.named(*names)
    engine = crm.make_engine(url, 30)
    try:
        pid, server = _server_cpu(engine)  # write_run reuses this pooled connection
        started, cpu = time.perf_counter(), time.process_time()
        record = crm.new_run(frame)
        rows = crm.crm_frame(frame, record, datetime.now(timezone.utc))
        result = crm.write_run(rows, record, engine, tables)
        write, cpu = time.perf_counter() - started, time.process_time() - cpu
        pid_after, server_after = _server_cpu(engine)
        server = (server_after - server if server is not None and server_after is not None
                  and pid_after == pid else None)
        with engine.connect() as connection:
            history, current, inactive = (connection.execute(query).scalar() for query in (
                sa.select(sa.func.count()).select_from(tables.scores),
                sa.select(sa.func.count()).select_from(tables.current),
                sa.select(sa.func.count()).select_from(tables.current)
                .where(tables.current.c[crm.ACTIVE].is_(False))))
    finally:
        engine.dispose()
    return {"build_s": build, "write_s": write, "cpu_s": cpu, "server_cpu_s": server, "written": result.rows_written,
            "inactivated": result.customers_inactivated, "history": history,
            "current": current, "inactive": inactive}


def _drop(url: str, names: tuple[str, str, str]) -> None:
    """Drop the benchmark's tables; a database that cannot be reached is a printed note."""
    import sqlalchemy as sa

    from pipeline.publishing import crm

    engine = sa.create_engine(url)
    try:
        crm.CrmTables.named(*names).metadata.drop_all(engine, checkfirst=True)
    except sa.exc.SQLAlchemyError as error:
        first = str(getattr(error, "orig", None) or error).strip().splitlines()[:1]
        print(f"note: could not drop {', '.join(names)}: {' '.join(first)}")
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="customers per run")
    parser.add_argument("--pg-url", default=None,
                        help=f"PostgreSQL SQLAlchemy URL (default: ${PG_ENV})")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    args = parser.parse_args()

    from sqlalchemy.engine import make_url

    pg_url = args.pg_url or os.environ.get(PG_ENV)
    table_rows = []
    with tempfile.TemporaryDirectory(prefix="bench_crm_") as scratch:
        for backend in args.backends:
            if backend == "sqlite":
                url = f"sqlite:///{Path(scratch) / 'crm.db'}"
                shown = "sqlite (temp file)"
            elif pg_url:
                url = pg_url
                shown = make_url(url).render_as_string(hide_password=True)
            else:
                print(f"note: PostgreSQL skipped: give --pg-url or set {PG_ENV}")
                continue
            suffix = uuid.uuid4().hex[:8]
            names = (f"bench_scores_{suffix}", f"bench_current_{suffix}", f"bench_runs_{suffix}")
            try:
                for case, as_of in CASES:
                    out = measure(run, url, names, args.rows, as_of)
                    if out["error"]:
                        table_rows.append([shown, case, "error", out["error"].splitlines()[0], "", "", "", "",
                                           "", "", ""])
                        break
                    d = out["detail"]
                    table_rows.append([
                        shown, case, round(d["write_s"], 1), round(d["cpu_s"], 1),
                        "n/a" if d["server_cpu_s"] is None else round(d["server_cpu_s"], 1),
                        f"{d['written'] / d['write_s']:,.0f}", round(out["peak_mb"]),
                        f"{d['history']:,}", f"{d['current']:,}",
                        f"{d['inactivated']:,} / {d['inactive']:,}",
                        "yes" if d["write_s"] <= LIMIT_SECONDS else "NO"])
            finally:
                _drop(url, names)
    print_table(f"CRM write_run, {args.rows:,} rows per run",
                ["backend", "case", "write s", "cpu s (this process)", "server cpu s", "rows/s", "peak MB", "history rows",
                 "current rows", "inactivated (run / total)", f"<= {LIMIT_SECONDS:.0f} s"],
                table_rows)


if __name__ == "__main__":
    main()

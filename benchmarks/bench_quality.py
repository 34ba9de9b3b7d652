"""Robustness benchmark: the whole pipeline on several data shapes, judged on the held-out future.

For each shape, a scratch project (configs/ copied from this repository, MLflow tracking in a
SQLite file of the project, LightGBM n_jobs 1) gets an export that ends at T0, runs
`keyaccounts run --skip-generate` on it (scores as of T0), and the published scores
(data/scores/scores.parquet) are compared with what happened in (T0, T0 + H] in the full
export, next to the baselines, the BTYD models, the status quo and the generator's ground
truth:

- generated shapes (the presets of pipeline/synthetic/presets.py): the preset is what the
  user has at T0 (its end_date); the bench simulates H days more (end_date + H, same seed and
  settings) and truncates the export at T0 (transactions and contacts dated after T0, and
  customers created after it, are dropped; a managed account's manager is blanked when it
  arrived less than MANAGER_DELAY_WEEKS before T0). The horizon H and the tables are the
  preset's (its `features` and `data` settings are applied to the project's configs).
- CDNOW (benchmarks/cdnow.py): the 1/10 sample as a CSV export, truncated at T0 = 1997-09-30
  (9 months of history), judged at 91 days (to 1997-12-30) and 273 days (to 1998-06-30).

Columns: value metrics on every customer scored at T0 (normalized Gini, top-10% capture,
Spearman, level = total predicted / total actual spend); churn ROC AUC and PR AUC on the
active base (customers with an order in (T0 - H, T0]), churn = no order in (T0, T0 + H];
lift share = (top-10% capture - status quo's) / (truth's - status quo's), the status quo
ranking by spend in (T0 - H, T0]. "published" is what the score stage wrote (the name from
artifacts/model_info.json: its "selection" per kind when present, else lgbm); "best baseline"
the best of last_period, rfm and avg_spend_retention (on Gini for the value columns, PR AUC
for the churn columns), fitted on the project's training_set.parquet and predicting on its
scoring_frame.parquet, like btyd (BG/NBD) and pnbd (Pareto/NBD), each with Gamma-Gamma. The
note checks the published scores against the best of the baselines and both BTYD models. A
shape whose pipeline stops shows the error in one line.

    python benchmarks/bench_quality.py [--shapes b2b consumer ...] [--size tiny|small|full]
        [--keep DIR]

Sizes (customers of the generated shapes; CDNOW is always its 2,357): tiny = 5% of each
preset's default (b2b 1,000, consumer 1,250), small = 25% (5,000 / 6,250), full = 100%
(20,000 / 25,000), the default. On two cores (load about 1, LightGBM n_jobs 1) all
seven shapes take 12 minutes at full size, 6 at small, 4 at tiny. Customers arriving after T0
(in the simulated H days) are not scored, so fewer than these are judged.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from benchmarks.harness import print_table  # noqa: E402

__all__ = ["SHAPES", "SIZES", "Outcome", "Shape", "evaluate", "main", "run_shape"]

SIZES = {"tiny": 0.05, "small": 0.25, "full": 1.0}
CDNOW_T0 = date(1997, 9, 30)
LABEL_BASELINES = ("last_period", "rfm", "avg_spend_retention")
BTYD_ROWS = ("btyd", "pnbd")  # BG/NBD and Pareto/NBD (+ Gamma-Gamma), fitted at T0
RUN_TIMEOUT_S = 3 * 3600


@dataclass(frozen=True)
class Shape:
    """A data shape: a generator preset, or the CDNOW sample at a horizon."""

    name: str
    preset: str | None = None
    horizon_days: int | None = None  # CDNOW's; a preset's comes from its features settings


SHAPES = {s.name: s for s in (
    Shape("b2b", "b2b"), Shape("consumer", "consumer"), Shape("short_history", "short_history"),
    Shape("seasonal", "seasonal"), Shape("new_customers", "new_customers"),
    Shape("cdnow_91", horizon_days=91), Shape("cdnow_273", horizon_days=273),
)}


@dataclass
class Outcome:
    """What the evaluation needs of a prepared shape: T0, H, the full transactions (contract
    columns) and the ground truth at T0 (None for a real export)."""

    t0: pd.Timestamp
    horizon: int
    transactions: pd.DataFrame
    truth: pd.DataFrame | None


# ------------------------------------------------------------------------------ projects

def _edit_yaml(path: Path, edit) -> None:
    content = yaml.safe_load(path.read_text()) or {}
    edit(content)
    path.write_text(yaml.safe_dump(content, sort_keys=False))


def _set_up_configs(root: Path, horizon: int, t0: date, features: dict, tables: dict) -> None:
    """configs/ of the repository, with the shape's horizon, as-of, tables, a tracking store
    in the project and single-threaded LightGBM (the machine is shared)."""
    shutil.copytree(REPO / "configs", root / "configs")
    configs = root / "configs"

    def feat(content: dict) -> None:
        content.update(features)
        content.update(horizon_days=horizon, as_of=t0.isoformat())

    def data(content: dict) -> None:
        content.update(tables)

    def model(content: dict) -> None:
        for name in ("value", "churn"):
            content[name]["params"] = {**content[name]["params"], "n_jobs": 1}

    def pipeline(content: dict) -> None:
        content["tracking"]["tracking_uri"] = f"sqlite:///{root / 'mlflow.db'}"

    _edit_yaml(configs / "features.yaml", feat)
    _edit_yaml(configs / "data.yaml", data)
    _edit_yaml(configs / "model.yaml", model)
    _edit_yaml(configs / "pipeline.yaml", pipeline)


def _contract_transactions(path: Path) -> pd.DataFrame:
    tx = pd.read_parquet(path, columns=["customer_id", "order_date", "amount"])
    return tx.assign(order_date=pd.to_datetime(tx["order_date"]),
                     customer_id=tx["customer_id"].astype("str"))


def _truncate(source: Path, target: Path, column: str, t0: date) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(source)
    if column in table.column_names:
        day = pc.cast(table[column], pa.date32())  # text dates (defects) are not truncated
        table = table.filter(pc.less_equal(day, pa.scalar(t0, pa.date32())))
    pq.write_table(table, target)


def _customers_at(source: Path, target: Path, start: date, t0: date) -> None:
    """The customers table as exported at T0: customers created by then, and a manager only
    where the account had one at T0 (pipeline.synthetic.population.MANAGER_DELAY_WEEKS)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.synthetic.population import MANAGER_DELAY_WEEKS

    table = pq.read_table(source)
    frame = table.to_pandas()
    created = pd.to_datetime(frame["created_date"])
    frame = frame[created <= pd.Timestamp(t0)].copy()
    week = (pd.to_datetime(frame["created_date"]) - pd.Timestamp(start)).dt.days // 7
    not_yet = (week > 0) & (week + MANAGER_DELAY_WEEKS > (t0 - start).days // 7)
    frame.loc[not_yet, "current_manager_id"] = None
    frame.loc[not_yet & (frame["current_tier"] == "strategic"), "current_tier"] = "key"
    pq.write_table(pa.Table.from_pandas(frame, schema=table.schema, preserve_index=False),
                   target)


def prepare_generated(shape: Shape, root: Path, factor: float) -> Outcome:
    """Generate the preset H days past its end, write the export at T0 to root/exports and
    the project's configs; the full data stays in root/full."""
    from features.config import FeaturesConfig
    from pipeline.config import GenerateConfig, load_config_file
    from pipeline.synthetic import as_of_dates, write_dataset
    from pipeline.synthetic.presets import apply_preset, get_preset

    preset = get_preset(shape.preset)
    base = load_config_file(REPO / "configs" / "generate.yaml", GenerateConfig)
    features_default = load_config_file(REPO / "configs" / "features.yaml", FeaturesConfig)
    horizon = int(preset.features.get("horizon_days", features_default.horizon_days))
    at_t0 = apply_preset(base, shape.preset)
    t0 = at_t0.end_date
    n = max(200, round(at_t0.n_customers * factor))
    config = None
    for months in range(0, 60):  # the fewest truth dates that include T0
        config = apply_preset(base, shape.preset, n_customers=n,
                              end_date=t0 + timedelta(days=horizon),
                              truth_horizon_days=horizon, truth_months=months)
        if t0 in as_of_dates(config):
            break
    full = root / "full"
    write_dataset(config, full / "raw", full / "truth")
    exports = root / "exports"
    exports.mkdir(parents=True)
    tables = {}
    for table, column in (("transactions", "order_date"), ("contacts", "contact_date"),
                          ("customers", None), ("managers", None)):
        source = full / "raw" / f"{table}.parquet"
        if not source.exists():
            tables[table] = None
            continue
        target = exports / f"{table}.parquet"
        if table == "customers":
            _customers_at(source, target, config.start_date, t0)
        else:
            _truncate(source, target, column or "", t0)
        tables[table] = {"path": f"exports/{table}.parquet"}
    _set_up_configs(root, horizon, t0, dict(preset.features), tables)
    truth = pd.read_parquet(full / "truth" / "ground_truth.parquet")
    truth = truth[(pd.to_datetime(truth["as_of"]) == pd.Timestamp(t0))
                  & (truth["horizon_days"] == horizon)]
    truth = truth.assign(customer_id=truth["customer_id"].astype("str"))
    return Outcome(pd.Timestamp(t0), horizon, _contract_transactions(full / "raw" /
                                                                      "transactions.parquet"),
                   truth.set_index("customer_id"))


def prepare_cdnow(shape: Shape, root: Path) -> Outcome:
    """The CDNOW export at T0 = 1997-09-30 in root/exports, mapped by benchmarks/cdnow_data.yaml."""
    from benchmarks import cdnow

    cdnow.write_export(root / "exports" / "cdnow_transactions.csv", until=CDNOW_T0)
    mapping = yaml.safe_load(cdnow.DATA_CONFIG.read_text())
    tables = {t: mapping.get(t) for t in ("transactions", "contacts", "customers", "managers")}
    _set_up_configs(root, shape.horizon_days, CDNOW_T0, {}, tables)
    return Outcome(pd.Timestamp(CDNOW_T0), shape.horizon_days,
                   cdnow.transactions(cdnow.read_sample()), None)


def run_pipeline(root: Path) -> str | None:
    """`keyaccounts run --skip-generate` in `root` (log in root/run.log); None when it ran
    through, else the stage and the error in one line."""
    tmp = root / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DVC_NO_ANALYTICS": "1",
           "TMPDIR": str(tmp), "PYTHONPATH": str(REPO)}
    for name in ("KEYACCOUNTS_CRM_URL", "KEYACCOUNTS_CRM_PASSWORD", "KEYACCOUNTS_TRACKING_URI"):
        env.pop(name, None)
    log = root / "run.log"
    command = [sys.executable, "-c", "from pipeline.cli import main; main()",
               "--config-dir", str(root / "configs"), "run", "--skip-generate"]
    with open(log, "w") as out:
        try:
            result = subprocess.run(command, cwd=root, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return f"timed out after {RUN_TIMEOUT_S} s"
    if result.returncode == 0:
        return None
    lines = log.read_text(errors="replace").splitlines()
    stages = [line[3:] for line in lines if line.startswith("== ")]
    errors = [line for line in lines if line.startswith("error:")]
    message = errors[-1] if errors else (lines[-1] if lines else "no output")
    return f"{stages[-1] if stages else '?'} (exit {result.returncode}): {message[:300]}"


# ---------------------------------------------------------------------------- evaluation

def _window(tx: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Per customer: net spend and whether any order (positive amount) in (start, end]."""
    part = tx[(tx["order_date"] > start) & (tx["order_date"] <= end)]
    part = part.assign(order=part["amount"] > 0)
    return part.groupby("customer_id").agg(spend=("amount", "sum"), bought=("order", "any"))


def _population(root: Path, outcome: Outcome) -> tuple[pd.Index, str]:
    """The customers judged: those scored, else those of the scoring frame, else those with
    a transaction by T0."""
    scores, frame = root / "data/scores/scores.parquet", root / "data/features/scoring_frame.parquet"
    for path, what in ((scores, "scored"), (frame, "scoring frame")):
        if path.exists():
            ids = pd.read_parquet(path, columns=["customer_id"])["customer_id"].astype("str")
            return pd.Index(ids.unique()), what
    tx = outcome.transactions
    return pd.Index(tx.loc[tx["order_date"] <= outcome.t0, "customer_id"].unique()), "with orders"


def _published_names(root: Path) -> dict[str, str]:
    path = root / "artifacts" / "model_info.json"
    if not path.exists():
        return {"value": "?", "churn": "?"}
    info = json.loads(path.read_text())
    selection = info.get("selection") or {}
    names = {}
    for kind in ("value", "churn"):
        chosen = selection.get(kind) if isinstance(selection, dict) else None
        if isinstance(chosen, dict):
            chosen = chosen.get("published") or chosen.get("winner")
        if not chosen:
            chosen = "btyd (fallback)" if info.get("fallback") else "lgbm"
            if kind == "value" and not info.get("fallback") and info.get("objective"):
                chosen = f"lgbm ({info['objective']})"
        names[kind] = str(chosen)
    return names


def _predictions(root: Path, horizon: int, ids: pd.Index, truth: pd.DataFrame | None
                 ) -> tuple[dict[str, tuple[pd.Series, pd.Series]], dict[str, str]]:
    """{predictor: (value, churn)} on `ids` and {predictor: error}: published scores, each
    baseline fitted on the training set and predicting the scoring frame, and the truth."""
    from features.contract import LABEL_CHURNED, LABEL_SPEND
    from models.baselines import fit_baseline

    out, errors = {}, {}
    scores = root / "data/scores/scores.parquet"
    if scores.exists():
        frame = pd.read_parquet(scores)
        frame = frame.assign(customer_id=frame["customer_id"].astype("str")).drop_duplicates(
            "customer_id").set_index("customer_id")
        out["published"] = (frame["expected_value"], frame["churn_probability"])
    features = root / "data/features"
    if (features / "scoring_frame.parquet").exists():
        training = pd.read_parquet(features / "training_set.parquet")
        scoring = pd.read_parquet(features / "scoring_frame.parquet")
        index = pd.Index(scoring["customer_id"].astype("str"))
        for name in (*LABEL_BASELINES, *BTYD_ROWS):
            if training.empty and name in ("rfm", "avg_spend_retention"):
                errors[name] = "no labelled training cutoff"  # they are label means
                continue
            try:
                labels = (training[LABEL_SPEND], training[LABEL_CHURNED])
                value = fit_baseline(name, "value", horizon, training, *labels).predict(scoring)
                rule = fit_baseline(name, "churn", horizon, training, *labels)
                churn = np.nan if rule is None else rule.predict_proba(scoring)[:, 1]
            except Exception as error:  # noqa: BLE001 - shown in the table
                errors[name] = f"{type(error).__name__}: {str(error)[:120]}"
                continue
            # with no labelled cutoff the label baselines' churn rates are empty means
            churn = np.nan if training.empty and name not in BTYD_ROWS else churn
            out[name] = (pd.Series(value, index),
                         pd.Series(np.asarray(churn, float) * np.ones(len(index)), index))
    if truth is not None:
        out["truth"] = (truth["true_expected_spend"], truth["true_prob_no_purchase"])
    return {k: (v.reindex(ids), c.reindex(ids)) for k, (v, c) in out.items()}, errors


def evaluate(root: Path, outcome: Outcome) -> dict:
    """Every predictor's metrics on the held-out future of the shape prepared in `root`."""
    from models.metrics import churn_metrics, value_metrics

    t0, h = outcome.t0, pd.Timedelta(days=outcome.horizon)
    ids, population = _population(root, outcome)
    future = _window(outcome.transactions, t0, t0 + h).reindex(ids)
    past = _window(outcome.transactions, t0 - h, t0).reindex(ids)
    actual = future["spend"].fillna(0.0).to_numpy(float)
    churned = ~future["bought"].fillna(False).astype(bool).to_numpy()
    active = past["bought"].fillna(False).astype(bool).to_numpy()
    status_quo = past["spend"].fillna(0.0).to_numpy(float)
    predictions, errors = _predictions(root, outcome.horizon, ids, outcome.truth)
    rows = {}

    def value_of(value: np.ndarray) -> dict:
        m = value_metrics(actual, value)
        level = value.sum() / actual.sum() if actual.sum() else math.nan
        return {"gini": m["normalized_gini"], "top10": m["top10_capture"],
                "spearman": m["spearman"], "level": level}

    rows["status quo"] = {**value_of(status_quo), "missing": 0}
    for name, (value, churn) in predictions.items():
        missing = int(value.isna().sum())
        row = {**value_of(value.fillna(0.0).to_numpy(float)), "missing": missing}
        if churn.notna().any():
            probability = churn.fillna(1.0).to_numpy(float)
            m = churn_metrics(churned[active].astype(float), probability[active],
                              probabilities=False)
            row.update(roc=m["roc_auc"], pr=m["pr_auc"])
        rows[name] = row
    sq, best = rows["status quo"]["top10"], rows.get("truth", {}).get("top10")
    for row in rows.values():
        row["lift"] = ((row["top10"] - sq) / (best - sq) if best is not None and best != sq
                       else math.nan)
    return {"rows": rows, "errors": errors, "customers": len(ids), "population": population,
            "active": int(active.sum()), "churn_rate": float(churned[active].mean())
            if active.any() else math.nan}


def _best(rows: dict, metric: str, names=LABEL_BASELINES) -> str | None:
    found = [(rows[n][metric], n) for n in names
             if n in rows and not math.isnan(rows[n].get(metric, math.nan))]
    return max(found)[1] if found else None


def table_rows(shape: str, result: dict, error: str | None, names: dict, seconds: float
               ) -> list[list[str]]:
    """The shape's lines of the table: published, best baseline, btyd, pnbd, status quo,
    truth."""
    def f(v) -> str:
        return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"

    rows = result.get("rows", {})
    head = f"{shape} ({result.get('customers', 0):,}; {seconds / 60:.1f} min)"
    lines = []
    value_best, churn_best = _best(rows, "gini"), _best(rows, "pr")
    every = (*LABEL_BASELINES, *BTYD_ROWS)  # the check: every baseline and both BTYD models

    def line(label: str, value_row: dict | None, churn_row: dict | None, note: str = "") -> None:
        v, c = value_row or {}, churn_row or {}
        lines.append([head if not lines else "", label, f(v.get("gini")), f(v.get("top10")),
                      f(v.get("spearman")), f(v.get("level")), f(c.get("roc")), f(c.get("pr")),
                      f(v.get("lift")), note])

    if "published" in rows:
        p = rows["published"]
        checks = []
        for metric in ("gini", "top10", "pr"):
            best = _best(rows, metric, every)
            if best and not math.isnan(p.get(metric, math.nan)):
                ok = p[metric] >= rows[best][metric] - 1e-12
                checks.append(f"{metric} {'>=' if ok else '<'} {best}")
        note = ("vs best of baselines and BTYD: " + ", ".join(checks)) if checks else ""
        if error:
            note = f"{note}; {error}" if note else error
        line(f"published: {names['value']} / {names['churn']}", p, p, note)
    else:
        line("published", None, None, f"error: {error}" if error else "no scores")
    baseline_errors = "; ".join(f"{k}: {v}" for k, v in result.get("errors", {}).items())
    if value_best or churn_best or baseline_errors:
        line(f"best baseline: {value_best or '-'} / {churn_best or '-'}",
             rows.get(value_best), rows.get(churn_best), baseline_errors)
    for name in BTYD_ROWS:
        if name in rows:
            line(name, rows[name], rows[name])
    line("status quo (last-horizon spend)", rows.get("status quo"), None)
    if "truth" in rows:
        line("ground truth", rows["truth"], rows["truth"])
    return lines


def run_shape(shape: Shape, root: Path, factor: float) -> tuple[dict, str | None, dict]:
    """Prepare, run and evaluate one shape in `root`: (result, pipeline error, names)."""
    if shape.preset:
        outcome = prepare_generated(shape, root, factor)
    else:
        outcome = prepare_cdnow(shape, root)
    error = run_pipeline(root)
    return evaluate(root, outcome), error, _published_names(root)


COLUMNS = ["shape (customers; time)", "predictor (value / churn)", "gini", "top10", "spearman",
           "level", "churn roc (active)", "churn pr (active)", "lift share", "note"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--size", default="full", choices=list(SIZES))
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the scratch projects in this folder (one per shape)")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench_quality_"))
    lines, started = [], time.perf_counter()
    try:
        for name in args.shapes:
            root = base / name
            if root.exists():
                shutil.rmtree(root)
            root.mkdir(parents=True)
            begun = time.perf_counter()
            print(f"== {name} in {root}", file=sys.stderr, flush=True)
            try:
                result, error, names = run_shape(SHAPES[name], root, SIZES[args.size])
            except Exception as exc:  # noqa: BLE001 - one line in the table, then the next shape
                result, error, names = {}, f"bench: {type(exc).__name__}: {exc}", {}
            lines += table_rows(name, result, error, names, time.perf_counter() - begun)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    print_table(f"Held-out quality by data shape (size {args.size}, "
                f"{(time.perf_counter() - started) / 60:.1f} min)", COLUMNS, lines)


if __name__ == "__main__":
    main()

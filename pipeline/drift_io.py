"""Files of the drift guard: the training reference (write, log to MLflow, load) and the report.

The train stage builds the reference from paths.features_dir/scoring_frame.parquet (the
population the final models were validated on) and the final models' scores on it
(`build_reference`), writes it to paths.artifacts_dir/drift_reference.json and logs the same
file to its MLflow run as the artifact "drift_reference.json" (`save_reference`), so the
reference of a registered champion can be downloaded later (`load_reference(settings,
run_id)`). The guard stage compares with it and writes guard.report_dir/drift.json and
drift.html (`write_report`). The statistics live in models.drift.
"""

import json
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import jinja2
import pandas as pd

from features.contract import AS_OF
from models import drift
from models.columns import RUN_ID, VALUE_RUN_ID
from models.training import model_features
from pipeline.config import Settings
from pipeline.errors import DataError
from pipeline.files import DRIFT_HTML, DRIFT_JSON, DRIFT_REFERENCE, SCORED_FRAME, SCORING_FRAME
from pipeline.storage import read_json, read_table, write_json, write_text

__all__ = ["DRIFT_REFERENCE", "SCORED_FRAME", "build_reference", "load_reference",
           "reference_source", "report_data", "render_html", "save_reference", "write_report"]



def _importances(fitted) -> list[pd.Series]:
    found = []
    for model in (fitted.value, fitted.churn):
        method = getattr(model, "feature_importances", None)
        if callable(method):
            found.append(method())
    return found


def build_reference(settings: Settings, fitted) -> dict:
    """The drift reference of `fitted` (models.training.FittedModels, or the BTYD fallback):
    the features of the scoring frame and the models' scores on it (`fitted.predict`), binned
    with guard.bins, and the features ranked by the models' importance."""
    path = settings.path(settings.pipeline.paths.features_dir) / SCORING_FRAME
    frame = read_table(path, "features")
    scores = fitted.predict(frame)
    profile = drift.reference_profile(
        frame, model_features(frame), scores, bins=settings.pipeline.guard.bins,
        importance=drift.importance_ranking(*_importances(fitted)))
    as_of = pd.Timestamp(frame[AS_OF].iloc[0]).date().isoformat() if len(frame) else None
    return profile | {AS_OF: as_of, "fallback": bool(fitted.fallback)}


def save_reference(reference: dict, path: Path, run_id: str | None = None) -> Path:
    """Write `reference`, stamped with `run_id`, to `path` (paths.artifacts_dir/
    drift_reference.json, or a staged temporary of it) and, given a `run_id` (the active
    MLflow run's), log the same JSON to that run as the artifact "drift_reference.json"."""
    stamped = reference | {RUN_ID: run_id}
    write_json(stamped, Path(path))
    if run_id is not None:
        import mlflow

        mlflow.log_dict(stamped, DRIFT_REFERENCE)
    return Path(path)


def reference_source(settings: Settings, scores: pd.DataFrame) -> str:
    """Where the reference of the models that wrote `scores` is: "artifacts" when
    score.model_source is artifacts, else the MLflow run of the value model that scored
    (the value_run_id column; its run's reference holds that run's churn scores too)."""
    if settings.pipeline.score.model_source == "artifacts":
        return "artifacts"
    if VALUE_RUN_ID not in scores.columns or scores.empty:
        raise DataError(f"scores.parquet has no {VALUE_RUN_ID} column: re-run `keyaccounts score`")
    return str(scores[VALUE_RUN_ID].iloc[0])


def load_reference(settings: Settings, source: str = "artifacts") -> dict:
    """The drift reference: "artifacts" = paths.artifacts_dir/drift_reference.json; any
    other `source` is an MLflow run id whose artifact "drift_reference.json" is downloaded
    from the configured tracking store. A missing reference is a DataError saying how to
    make one."""
    if source == "artifacts":
        path = settings.path(settings.pipeline.paths.artifacts_dir) / DRIFT_REFERENCE
        return read_json(path, "train")
    from pipeline import tracking

    tracking.configure(settings.pipeline.tracking, settings.root)
    import mlflow
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as folder:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=source, artifact_path=DRIFT_REFERENCE, dst_path=folder)
        except (MlflowException, OSError) as error:
            raise DataError(
                f"MLflow run {source} has no artifact {DRIFT_REFERENCE} (trained before the "
                "drift guard?): train and promote a new champion, or run `keyaccounts guard "
                "--force` once") from error
        return json.loads(Path(local).read_text(encoding="utf-8"))


def report_data(table: pd.DataFrame, decision: drift.DriftDecision, limits, reference: dict,
                *, as_of, rows: int, forced: bool) -> dict:
    """The drift report as a JSON-safe dict: when, against which reference, the limits, the
    decision (refused / forced / not enforced) and one record per column, largest PSI first."""
    status = ("refused" if decision.refuse and limits.enabled and not forced
              else "forced" if decision.refuse and limits.enabled
              else "not enforced" if decision.refuse else "accepted")
    return {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        AS_OF: str(as_of), "rows": int(rows),
        "reference": {k: reference.get(k) for k in (AS_OF, RUN_ID, "rows", "bins", "epsilon",
                                                    "fallback")},
        "limits": limits.model_dump(mode="json"),
        "bands": drift.BANDS,
        "decision": {"status": status, "refuse": decision.refuse, "forced": forced,
                     "reasons": decision.reasons},
        "columns": table.astype(object).where(table.notna(), None).to_dict(orient="records"),
    }


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift {{ r.as_of }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{color:#1F4E78} table{border-collapse:collapse} th{background:#1F4E78;color:#fff}
th,td{padding:.2em .6em;border:1px solid #ccc;text-align:right} .t{text-align:left}
td{white-space:nowrap}
.stable{background:#e3f4e1} .moderate{background:#fff2c6} .major{background:#f9d0cc}
.box{padding:.5em 1em;border-left:5px solid}
.accepted{border-color:#3a8f3a} .refused{border-color:#c0392b;background:#fbe9e7}
.forced,.notenforced{border-color:#e0a800;background:#fff6d5}
</style></head><body>
<h1>Drift of the scoring data, as of {{ r.as_of }}</h1>
<p>{{ "{:,}".format(r.rows) }} customers scored, compared with the training reference
(scoring frame at {{ r.reference.as_of }}, {{ "{:,}".format(r.reference.rows or 0) }} customers,
MLflow run {{ r.reference.run_id or "not recorded" }}). Population stability index (PSI) per column, with
proportions below {{ r.reference.epsilon }} counted as {{ r.reference.epsilon }}.</p>
<div class="box {{ r.decision.status | replace(' ', '') }}"><p><b>Decision: {{ r.decision.status }}</b></p>
{% if r.decision.reasons %}<ul>{% for reason in r.decision.reasons %}<li>{{ reason }}</li>{% endfor %}</ul>
{% else %}<p>No limit exceeded.</p>{% endif %}</div>
<p>Limits (configs/pipeline.yaml <code>guard:</code>): a score column's PSI above
{{ r.limits.score_psi_limit }}; a feature's PSI above {{ r.limits.feature_psi_limit }} in one of
the {{ r.limits.top_features }} most important features, or in more than
{{ "{:.0%}".format(r.limits.max_drifted_share) }} of all features; fewer customers than
{{ "{:.0%}".format(r.limits.min_rows_share) }} of the reference's. Bands: PSI below
{{ r.bands.stable }} stable, {{ r.bands.stable }} to {{ r.bands.major }} moderate, above
{{ r.bands.major }} major.
{% if not r.limits.enabled %}The guard is disabled (guard.enabled: false): nothing is refused.{% endif %}</p>
<p>What to do when refused: look at the worst bins below. A changed export, a unit or currency
change, a missing source or a wrong as-of date is an input problem: fix it and score again. A
real change of the customer base means the models are out of date: re-train (<code>dvc repro</code>
or <code>keyaccounts run</code>) so the reference moves with them. To publish this run anyway:
<code>keyaccounts guard --force</code> (recorded in this report as "forced").</p>
<table><tr><th class="t">column</th><th class="t">kind</th><th>PSI</th><th class="t">band</th>
<th>importance rank</th><th>missing: reference</th><th>now</th><th class="t">bin moved most</th>
<th>reference</th><th>now</th></tr>
{% for c in r.columns %}<tr class="{{ c.band }}"><td class="t">{{ c.column }}</td><td class="t">{{ c.kind }}</td>
<td>{{ "%.4f"|format(c.psi) }}</td><td class="t">{{ c.band }}</td>
<td>{{ c.importance_rank|int if c.importance_rank is not none else "" }}</td>
<td>{{ "{:.1%}".format(c.reference_missing) }}</td><td>{{ "{:.1%}".format(c.current_missing) }}</td>
<td class="t">{{ c.worst_bin }}</td>
<td>{{ "{:.1%}".format(c.worst_reference) if c.worst_reference is not none else "" }}</td>
<td>{{ "{:.1%}".format(c.worst_current) if c.worst_current is not none else "" }}</td></tr>
{% endfor %}</table>
</body></html>
"""


def render_html(report: dict) -> str:
    """The report as one self-contained HTML page (no scripts, no external files); every value
    is escaped (autoescape), since column names and categories come from the data."""
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.from_string(_TEMPLATE).render(r=report)


def write_report(report: dict, folder: Path) -> tuple[Path, Path]:
    """Write drift.json and drift.html into `folder`; returns both paths."""
    folder = Path(folder)
    return (write_json(report, folder / DRIFT_JSON),
            write_text(render_html(report), folder / DRIFT_HTML))

"""`keyaccounts guard`: the drift guard between score and tier/publish.

Reads the score stage's paths.scores_dir/scores.parquet and the features it scored
(scored_frame.parquet, same folder), and the training reference of the models that scored
(score.model_source artifacts: paths.artifacts_dir/drift_reference.json; champion: the
artifact drift_reference.json of the champion's MLflow run). Computes the population
stability index of every feature and of expected_value and churn_probability
(models.drift.population_stability) and decides with the limits of configs/pipeline.yaml
guard: (models.drift.drift_decision).

Always writes guard.report_dir/drift.json and drift.html (also when refused or forced).
Raises DriftRefused (exit code 5) when the decision refuses, unless `force` (CLI --force) or
guard.enabled is false; the report then records "forced" / "not enforced".
"""

import pandas as pd

from features.contract import AS_OF
from models import drift
from pipeline import drift_io
from pipeline.config import Settings
from pipeline.errors import DriftRefused
from pipeline.files import SCORED_FRAME, SCORES
from pipeline.progress import logger
from pipeline.storage import read_table

__all__ = ["main"]


def main(settings: Settings, force: bool = False) -> None:
    """Compare the scored population with the training reference; write the report; refuse."""
    config, scores_dir = settings.pipeline.guard, settings.path(settings.pipeline.paths.scores_dir)
    scores = read_table(scores_dir / SCORES, "score")
    frame = read_table(scores_dir / SCORED_FRAME, "score")
    reference = drift_io.load_reference(settings, drift_io.reference_source(settings, scores))
    table = drift.population_stability(reference, frame, scores)
    decision = drift.drift_decision(table, config, rows=(reference["rows"], len(scores)))
    as_of = pd.Timestamp(frame[AS_OF].iloc[0]).date() if len(frame) else None
    report = drift_io.report_data(table, decision, config, reference, as_of=as_of,
                                  rows=len(scores), forced=force)
    _, html_path = drift_io.write_report(report, settings.path(config.report_dir))
    top = table.groupby("kind", sort=False).head(2)  # the table is sorted by PSI
    logger.info("guard: %s; largest PSI %s -> %s", report["decision"]["status"],
                ", ".join(f"{r.column} {r.psi:.3f}" for r in top.itertuples()), html_path)
    if not decision.refuse:
        return
    reasons = "; ".join(decision.reasons)
    if force or not config.enabled:
        logger.warning("guard: drift beyond the limits (%s), publishing anyway (%s)", reasons,
                       "--force" if force else "guard.enabled is false")
        return
    raise DriftRefused(
        f"scoring data drifted from the training reference: {reasons}; see {html_path} "
        "(fix the input, or re-train; `keyaccounts guard --force` publishes anyway)")

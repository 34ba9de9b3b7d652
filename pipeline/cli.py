"""The `keyaccounts` command: one subcommand per pipeline stage, plus `run` for all of them.

Each subcommand loads configs/ once, calls the stage's `main(settings)` and exits non-zero
with one clear line on a user error (the traceback only with --debug). dvc.yaml calls the
same subcommands, so the CLI and `dvc repro` run the same code.
"""

import importlib
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.errors import KeyAccountsError

__all__ = ["app", "main", "STAGES"]

STAGES = ("generate", "validate", "features", "train", "evaluate", "score", "guard", "tier",
          "publish")

app = typer.Typer(
    name="keyaccounts",
    help=(
        "Score customers on future value and churn risk and decide which accounts get a "
        "dedicated customer manager. Stages run in the order: generate (demo data only), "
        "validate, features, train, evaluate, score, guard, tier, publish; `run` does them all."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="markdown",
)


class _State:
    config_dir: Path = Path("configs")
    debug: bool = False


_state = _State()


@app.callback()
def _options(
    config_dir: Annotated[
        Path, typer.Option("--config-dir", "-c", help="Folder holding the YAML configuration.")
    ] = Path("configs"),
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    from pipeline.progress import configure_logging

    _state.config_dir = config_dir
    _state.debug = debug
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    configure_logging(verbose=debug)


def _run_stage(name: str, **overrides: Any) -> None:
    from pipeline.config import load_settings

    settings = load_settings(_state.config_dir)
    stage = importlib.import_module(f"pipeline.stages.{name}")
    stage.main(settings, **{k: v for k, v in overrides.items() if v is not None})


@app.command()
def generate(
    customers: Annotated[
        int | None, typer.Option(help="Number of customers (default: configs/generate.yaml).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed; same seed, same files.")] = None,
    defects: Annotated[
        float | None,
        typer.Option(help="Share of rows given a typical export fault, e.g. 0.01."),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option(help="Write here instead of paths.raw_dir / truth_dir.")
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(help="A base of another shape, on top of configs/generate.yaml: b2b (the "
                     "demo), consumer, short_history, seasonal, new_customers "
                     "(pipeline/synthetic/presets.py says how each differs).")
    ] = None,
) -> None:
    """Write a synthetic B2B customer base (transactions, contacts, customers, managers) and
    its ground truth, as Parquet in the shape of the data contract. A --preset writes a base
    of another shape and names the configs/ settings its data needs (e.g. the consumer
    base's 91-day horizon and its transactions-only tables)."""
    _run_stage("generate", n_customers=customers, seed=seed, defect_rate=defects, out_dir=out_dir,
               preset=preset)


@app.command()
def validate() -> None:
    """Check the sources named in configs/data.yaml; write accepted rows as typed Parquet,
    refused rows to quarantine with the reason, and a validation report."""
    _run_stage("validate")


@app.command()
def sources() -> None:
    """Fingerprint (size, SHA-256) the input files named in configs/data.yaml: what `dvc
    repro` checks to re-validate when one of them changes (not part of `run`)."""
    _run_stage("sources")


@app.command()
def partition() -> None:
    """engine: dask only: split the validated tables into hash partitions of customer_id
    (configs/pipeline.yaml dask.partitions, under dask.data_url), what the features, score
    and tier stages read on Dask (not part of `run`)."""
    from pipeline.config import load_settings
    from pipeline.dask_engine.run import partition_stage

    partition_stage(load_settings(_state.config_dir))


@app.command()
def features() -> None:
    """Build point-in-time features: the training set stacked over many cutoffs, and the
    scoring frame at the latest as-of date."""
    _run_stage("features")


@app.command()
def train() -> None:
    """Train the value and churn models with a rolling-origin backtest against baselines,
    log the run to MLflow and register the models (the champion alias moves only when the
    gate is passed)."""
    _run_stage("train")


@app.command()
def evaluate() -> None:
    """Write the backtest report, metrics and plot data for `dvc metrics` and `dvc plots`."""
    _run_stage("evaluate")


@app.command()
def score(
    as_of: Annotated[
        str | None, typer.Option(help="Score as of this date (YYYY-MM-DD); default: config.")
    ] = None,
) -> None:
    """Score every customer known at the as-of date: expected value, churn probability,
    value at risk and the reasons behind them."""
    _run_stage("score", as_of=_day(as_of))


def _day(as_of: str | None) -> date | None:
    """The --as-of option as a date; a usage error naming the format otherwise."""
    if not as_of:
        return None
    try:
        return date.fromisoformat(as_of)
    except ValueError as error:
        raise typer.BadParameter(
            f"{as_of!r} is not a date: write it as YYYY-MM-DD (e.g. 2026-06-30)",
            param_hint="--as-of") from error


@app.command()
def job(
    as_of: Annotated[
        str | None, typer.Option(help="Score as of this date (YYYY-MM-DD); default: today.")
    ] = None,
    value_version: Annotated[
        str | None, typer.Option(help="Registered version of the value model (default: the "
                                 "@champion alias).")] = None,
    churn_version: Annotated[
        str | None, typer.Option(help="Registered version of the churn model (default: the "
                                 "@champion alias).")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Run every step on copies under "
                           "reports/dry-run/; write nothing to the CRM or the lists.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Publish even when the drift guard refuses.")
    ] = False,
    skip_validate: Annotated[
        bool, typer.Option("--skip-validate", help="Use the validated tables as they are.")
    ] = False,
) -> None:
    """The scheduled scoring job: validate the exports, score with the registry's champions,
    check drift, tier and publish to the lists and the CRM tables. Exit codes: 0 ok, 2 usage,
    3 config, 4 data, 5 drift refused, 6 no champion, 7 CRM unavailable, 1 a bug."""
    _run_stage("job", as_of=_day(as_of), value_version=value_version,
               churn_version=churn_version, dry_run=dry_run, force=force,
               skip_validate=skip_validate)


@app.command()
def guard(
    force: Annotated[
        bool, typer.Option("--force", help="Continue even when the drift limits are exceeded "
                           "(the report records it as forced).")
    ] = False,
) -> None:
    """Compare the scored population's features and scores with the training reference (PSI);
    write reports/drift/drift.html and drift.json; stop with exit code 5 when the drift
    exceeds the limits of configs/pipeline.yaml guard:, unless --force."""
    _run_stage("guard", force=force)


@app.command()
def tier() -> None:
    """Assign tiers within the managers' capacity per region, assign strategic accounts to
    managers, and compute the movement since the previous run."""
    _run_stage("tier")


@app.command()
def publish() -> None:
    """Write the manager lists (Excel per region or manager), the HTML report, the CRM table
    and Parquet/CSV of the same rows."""
    _run_stage("publish")


@app.command()
def run(
    skip_generate: Annotated[
        bool,
        typer.Option(help="Your own data: skip generate and validate the sources of "
                     "configs/data.yaml (generate never overwrites files it did not write)."),
    ] = False,
) -> None:
    """Run every stage in order (generate, validate, features, train, evaluate, score, guard, tier,
    publish)."""
    for name in STAGES:
        if name == "generate" and skip_generate:
            continue
        typer.echo(f"== {name}", err=True)
        _run_stage(name)


def main() -> None:
    """Console entry point: user errors become one line on stderr and the error's exit code
    (pipeline.errors: 3 config, 4 data, 5 drift refused, 6 no champion, 7 CRM unavailable);
    a bug is 1, a usage error 2, an interrupt 130."""
    args = sys.argv[1:]
    debug = "--debug" in args
    if debug:  # a global option, accepted anywhere: `keyaccounts validate --debug` too
        args = ["--debug", *(a for a in args if a != "--debug")]
    try:
        app(args=args, prog_name="keyaccounts", standalone_mode=False)
    except KeyAccountsError as exc:
        if debug:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - anything else is a bug: say so in one line
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # a usage error from click
            exc.show()
            sys.exit(exc.exit_code)
        if type(exc).__name__ == "Abort":
            sys.exit(1)
        if debug:
            raise
        typer.echo(
            f"error: {type(exc).__name__}: {exc} (run again with --debug for the traceback)",
            err=True,
        )
        sys.exit(1)

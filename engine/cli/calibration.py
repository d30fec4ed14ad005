"""`qam calibrate create|report`: do reviewers agree on the answers?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.cli.console import settings_of, user_errors

calibrate_app = typer.Typer(
    help="Reviewer calibration: do reviewers agree on the answers?", no_args_is_help=True
)


@calibrate_app.command("create")
def calibrate_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="a name for the set")],
    case_type: Annotated[str, typer.Option("--type", help="case type")],
    cases: Annotated[int, typer.Option("--cases", help="how many cases every reviewer assesses")],
    reviewers: Annotated[Path, typer.Option("--reviewers", help="file of reviewer names, one a line")],
    seed: Annotated[int, typer.Option("--seed")] = 1,
    out: Annotated[Path, typer.Option("--out", help="folder for the worklists")] = Path("outputs/worklists"),
) -> None:
    """Create a calibration set that every listed reviewer assesses independently.

    Their submissions (qam submit --calibration NAME) never count toward performance figures.

    Example: qam calibrate create --name grounds-q4 --type stop_search --cases 20 --reviewers reviewers.txt
    """
    with user_errors():
        outcome = api.create_calibration_set(
            settings_of(ctx),
            name=name,
            case_type=case_type,
            n_cases=cases,
            reviewers=reviewers,
            seed=seed,
            out=out,
        )
    typer.echo(outcome.created.summary())
    typer.echo(outcome.worklists.summary())


@calibrate_app.command("report")
def calibrate_report(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="the calibration set")],
    out: Annotated[Path, typer.Option("--out", help="folder for the PDF and CSV files")] = Path(
        "outputs/calibration"
    ),
) -> None:
    """Agreement per question (percentage, Cohen's or Fleiss' kappa with intervals), worst first.

    Example: qam calibrate report grounds-q4
    """
    with user_errors():
        result = api.report_calibration(settings_of(ctx), name, out)
    typer.echo(result.report.summary())
    for path in result.files:
        typer.echo(f"Wrote {path}")

"""`qam sample` and `qam sample status`: the stratified sample of cases to review and its worklists."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.cli.console import settings_of, user_errors

sample_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)


@sample_app.callback()
def sample(
    ctx: typer.Context,
    week: Annotated[
        str | None, typer.Option("--week", help="ISO week of the cases' dates, e.g. 2026-W48")
    ] = None,
    case_type: Annotated[str | None, typer.Option("--type", help="one case type (default: all)")] = None,
    margin: Annotated[float, typer.Option("--margin", help="margin of error for a compliance rate")] = 0.1,
    confidence: Annotated[float, typer.Option("--confidence", help="confidence level")] = 0.95,
    seed: Annotated[int | None, typer.Option("--seed", help="the same seed draws the same sample")] = None,
    reviewers: Annotated[
        Path | None, typer.Option("--reviewers", help="file of reviewer names, one a line")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="folder for the worklists")] = Path("outputs/worklists"),
) -> None:
    """Draw a stratified random sample per place and case type and write a worklist per reviewer.

    Sample size: n0 = z^2 p(1-p)/e^2 with p = 0.5, finite-population corrected n = n0/(1+(n0-1)/N),
    at least 10 per place (or all) and at most 60.

    Example: qam sample --week 2026-W48 --reviewers reviewers.txt --seed 7
    """
    if ctx.invoked_subcommand is not None:
        return
    if week is None:
        raise typer.BadParameter("is required to draw a sample", param_hint="--week")
    if seed is None:
        seed = secrets.randbelow(1_000_000)
        typer.echo(f"Using seed {seed} (pass --seed {seed} to draw the same sample again).")
    with user_errors():
        outcome = api.draw_week_sample(
            settings_of(ctx),
            week,
            seed=seed,
            out=out,
            case_type=case_type,
            margin=margin,
            confidence=confidence,
            reviewers=reviewers,
        )
    typer.echo(outcome.sample.summary())
    typer.echo(outcome.worklists.summary())


@sample_app.command("status")
def sample_status(
    ctx: typer.Context,
    week: Annotated[str, typer.Option("--week", help="the sampled ISO week, e.g. 2026-W48")],
) -> None:
    """Drawn vs submitted per reviewer and place, and overdue items.

    Example: qam sample status --week 2026-W48
    """
    with user_errors():
        typer.echo(api.week_sample_status(settings_of(ctx), week).summary())

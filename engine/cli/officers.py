"""`qam officers`: one short summary PDF per officer and officers.csv, for a period."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.cli.console import settings_of, user_errors
from engine.core.periods import parse_date


def officers(
    ctx: typer.Context,
    date_from: Annotated[str, typer.Option("--from", help="first day of the period, YYYY-MM-DD")],
    date_to: Annotated[str, typer.Option("--to", help="last day of the period, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("outputs"),
) -> None:
    """Officer summaries: for each officer whose team has a role in roles.yaml, a short PDF of the
    role's key aspects (their reviewed cases, the rate with its interval or "too few cases to say",
    their team's and place's figures, their cases to learn from with the reviewers' notes), and
    officers.csv for Power BI, written to <out>/officers-<from>-<to>/. No ranking of officers
    (docs/officers.md).

    Example: qam officers --from 2026-09-01 --to 2026-11-29 --out outputs/
    """
    with user_errors():
        result = api.officers(
            settings_of(ctx), parse_date(date_from, "--from"), parse_date(date_to, "--to"), out
        )
    summaries = result.summaries
    typer.echo(
        f"{len(summaries.summaries)} officer summaries and officers.csv written to {result.folder} "
        f"({result.scored} assessments newly scored)"
    )
    if summaries.without_role:
        teams = sorted({team for _, team in summaries.without_role})
        typer.echo(
            f"Note: {len(summaries.without_role)} officers have no role: no role in roles.yaml matches "
            f"their team ({', '.join(teams)})",
            err=True,
        )

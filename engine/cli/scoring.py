"""`qam score`: score what is pending under the published (or draft) rulesets."""

from __future__ import annotations

from typing import Annotated

import typer

from engine import api
from engine.cli.console import settings_of, user_errors
from engine.core.periods import parse_date


def score(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option("--since", help="only assessments assessed on or after DATE")
    ] = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="score with the working tree's unpublished rulesets")
    ] = False,
) -> None:
    """Score every assessment not yet scored under the published rulesets (idempotent).

    Example: qam score --since 2026-11-01
    """
    with user_errors():
        summary = api.score(
            settings_of(ctx), since=parse_date(since, "--since") if since else None, draft=draft
        )
    for ruleset_id, n in sorted(summary.scored.items()):
        typer.echo(f"{ruleset_id}: {n} scored")
    recorded = f" (run {summary.run_id})" if summary.run_id else ""
    typer.echo(f"{summary.total} assessments scored{' with DRAFT rulesets' if draft else ''}{recorded}.")

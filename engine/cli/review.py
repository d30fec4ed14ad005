"""`qam review`: a quarter's Learning Review pack."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.cli.console import settings_of, user_errors


def review(
    ctx: typer.Context,
    quarter: Annotated[str, typer.Option("--quarter", help="the review's quarter, YYYY-Qn, e.g. 2026-Q3")],
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("outputs"),
) -> None:
    """Learning Review pack: the quarter's theme from reviews.yaml, its items across places and teams
    (cases, rate, interval, standard, SPC charts), the exceptions of the quarter's weeks and whether
    they persisted, improvements, real stories and actions, written to <out>/review-<quarter>/
    (review.pdf, review.csv, manifest.json). A quarter with no theme: exit 3 (docs/reviews.md).

    Example: qam review --quarter 2026-Q3 --out outputs/
    """
    with user_errors():
        result = api.review_command.review(settings_of(ctx), quarter, out)
    pack = result.pack
    persisted = sum(1 for r in pack.raised if r.persisted)
    typer.echo(
        f"Learning Review {pack.theme.quarter} ({pack.theme.title}: {', '.join(pack.items)}): "
        f"{len(pack.raised)} exceptions raised in {len(pack.weeks)} weeks ({persisted} persisted), "
        f"{len(pack.improvements)} improvements, {len(pack.stories)} stories, {len(pack.actions)} actions; "
        f"written to {result.folder} ({result.scored} assessments newly scored)"
    )

"""`qam demo`: a fresh demo database and its weekly run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.cli.console import user_errors
from engine.cli.weekly import print_run


def demo(
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("outputs"),
) -> None:
    """Build a fresh demo database (26 weeks of generated data with four planted problems) and run
    the weekly batch for its latest week, 2026-W47.

    Example: qam demo --out outputs/
    """
    with user_errors():
        result = api.demo(out, progress=lambda message: typer.echo(f"... {message}", err=True))
    typer.echo(
        f"Demo database {result.database_url}: {result.assessments} assessments and {result.incidents} incidents "
        f"(source files in {result.data_folder})."
    )
    print_run(result.run)

"""`qam extracts load`: the incidents and cases extracts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.cli.console import settings_of, user_errors

EXTRACT_KINDS = ("incidents", "cases")


extracts_app = typer.Typer(
    help="Quantitative extracts: incidents, and the cases eligible for review.", no_args_is_help=True
)


@extracts_app.command("load")
def extracts_load(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="incidents or cases")],
    file: Annotated[Path, typer.Argument(help="the extract CSV")],
) -> None:
    """Validate and load an extract: every row or nothing; reloading identical rows changes nothing.

    Example: qam extracts load incidents incidents-2026-W47.csv
    """
    if kind not in EXTRACT_KINDS:
        raise typer.BadParameter(f"must be one of {', '.join(EXTRACT_KINDS)}", param_hint="KIND")
    with user_errors():
        if kind == "cases":
            typer.echo(api.load_cases_extract(settings_of(ctx), file).summary())
        else:
            typer.echo(api.load_incidents_extract(settings_of(ctx), file).summary())

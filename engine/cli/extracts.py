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
    file: Annotated[
        Path, typer.Argument(help="the extract: a CSV for incidents; a CSV, XLSX or JSON for cases")
    ],
) -> None:
    """Validate and load an extract: every row or nothing; reloading identical rows changes nothing.

    \b
    incidents: a CSV with a header row and these columns (others are ignored):
      incident_ref  the incident's unique reference (later loads match on it)
      place         a place code of the force file, as written there (DLW)
      grade         1, 2 or 3
      channel       999, 101 or online
      received_at   ISO timestamp with a time of day, e.g. 2026-11-16T08:15:00
      answered_at   ISO timestamp; blank when the call was not answered
      arrived_at    ISO timestamp; blank when the incident was not attended

    \b
    cases (eligible for review): a CSV, XLSX or JSON with these columns:
      case_ref      the force's reference for the case
      case_type     stop_search, victim_care, crime_file, investigation or
                    domestic_abuse
      place         a place code of the force file
      team          the team that handled the case
      officer       the officer in the case
      case_date     the date of the case, YYYY-MM-DD
      any other     a strata column, e.g. crime_type (may be blank)

    Every column, with examples and the error messages: docs/extracts.md

    Example: qam extracts load incidents incidents-2026-W47.csv
    """
    if kind not in EXTRACT_KINDS:
        raise typer.BadParameter(f"must be one of {', '.join(EXTRACT_KINDS)}", param_hint="KIND")
    with user_errors():
        if kind == "cases":
            typer.echo(api.load_cases_extract(settings_of(ctx), file).summary())
        else:
            typer.echo(api.load_incidents_extract(settings_of(ctx), file).summary())

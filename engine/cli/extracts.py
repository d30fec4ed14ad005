"""`qam extracts load`: the incidents, cases and figures extracts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.cli.console import settings_of, user_errors

EXTRACT_KINDS = ("incidents", "cases", "figures")


extracts_app = typer.Typer(
    help="Extracts: incidents, the cases eligible for review, and measured figures.", no_args_is_help=True
)


@extracts_app.command("load")
def extracts_load(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="incidents, cases or figures")],
    files: Annotated[
        list[Path],
        typer.Argument(
            help="the extract: a CSV for incidents and figures; a CSV, XLSX or JSON for cases. Figures: "
            "one or more files, loaded in one transaction, all or none",
            show_default=False,
        ),
    ],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="figures only: replace figures stored before with other values (the old ones are kept for audit)",
        ),
    ] = False,
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
      team          optional: the team that attended or handled it (blank: none)

    \b
    cases (eligible for review): a CSV, XLSX or JSON with these columns:
      case_ref      the force's reference for the case
      case_type     a case type: the id of a QA form (qam forms list)
      place         a place code of the force file
      team          the team that handled the case
      officer       the officer in the case
      case_date     the date of the case, YYYY-MM-DD
      any other     a strata column, e.g. crime_type (may be blank)

    \b
    figures (any metric an extracts/*.yaml definition declares): a CSV with
      item          the catalogue item the metric feeds (M1..M12, D1..D12)
      metric        a metric id of an extract definition (extracts/*.yaml)
      place         a place code of the force file
      team          the team, or blank (the column may be left out)
      period        2026-11-16 (day), 2026-W47 (week), 2026-11 (month),
                    2026-Q3 (quarter) or 2026 (year): a grain the metric declares
      numerator     proportion, survey, count: the count (a whole number)
      denominator   proportion, survey: the whole; count: the exposure
      value         time: the time in the metric's unit; survey: a share 0-1
      count         time: how many had that value; survey: the sample size
      event_ref     event: its reference
      event_on      event: the day it happened (YYYY-MM-DD, inside the period)
      detail        event: a short description
    A figure already stored with other values is refused unless --replace.
    Several figures files load in one transaction, each as if loaded after the one
    before it, all or none: one bad row in any file (each problem named as
    file:row:column) refuses them all, exit 3, and nothing is stored.

    Every column, with examples and the error messages: docs/extracts.md

    \b
    Examples:
      qam extracts load incidents incidents-2026-W47.csv
      qam extracts load figures hr-2026-10.csv
      qam extracts load figures figures-*.csv
      qam extracts load figures hr-2026-10-corrected.csv --replace
    """
    if kind not in EXTRACT_KINDS:
        raise typer.BadParameter(f"must be one of {', '.join(EXTRACT_KINDS)}", param_hint="KIND")
    if replace and kind != "figures":
        raise typer.BadParameter("--replace is for a figures extract only", param_hint="--replace")
    if len(files) > 1 and kind != "figures":
        raise typer.BadParameter("several files are for figures extracts only", param_hint="FILES...")
    with user_errors():
        if kind == "figures":
            typer.echo(api.load_figures_extracts(settings_of(ctx), files, replace=replace).summary())
        elif kind == "cases":
            typer.echo(api.load_cases_extract(settings_of(ctx), files[0]).summary())
        else:
            typer.echo(api.load_incidents_extract(settings_of(ctx), files[0]).summary())

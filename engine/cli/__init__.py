"""The `qam` command line: the typer app, its callback and its commands, one module per command
group. A command parses, calls one engine.api function, prints, and exits with a documented code.

engine.api imports what a command needs inside its function (the CLI imports only engine.api and
core): every command pays for what is imported here.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Annotated

import typer

from engine.cli import (
    actions,
    assessments,
    calibration,
    deliver,
    demo,
    extracts,
    forms,
    officers,
    peel,
    review,
    rulesets,
    runs,
    sampling,
    schema,
    scoring,
    weekly,
)
from engine.cli.console import terminate_like_ctrl_c, user_errors
from engine.core.config import load_settings

app = typer.Typer(
    name="qam",
    help="QAM: case-quality assessment and exception briefings for police performance (measures, not targets).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    force: Annotated[
        Path | None,
        typer.Option(
            "--force",
            help="Force configuration YAML (default: $QAM_FORCE or the bundled demo force; docs/force-file.md).",
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database", help="SQLAlchemy database URL (default: $QAM_DATABASE_URL or sqlite:///qam.db)."
        ),
    ] = None,
) -> None:
    """QAM scores QA reviewers' case assessments against versioned rulesets and briefs place leaders
    on the exceptions only.

    Example: qam init && qam submit week47.csv && qam weekly --week 2026-W47
    """
    ctx.call_on_close(terminate_like_ctrl_c())  # SIGTERM (a scheduler, systemd) cleans up as Ctrl-C
    with user_errors():  # a config folder named but missing is exit 3 with where it was named
        ctx.obj = load_settings(force_file=force, database_url=database)
    for note in ctx.obj.notes:
        typer.echo(f"Note: {note}", err=True)


# `qam --help` lists the commands in the order registered here, then the groups
app.command()(schema.init)
app.command()(assessments.submit)
app.command()(scoring.score)
app.command()(weekly.weekly)
app.command()(deliver.deliver)
app.command()(peel.peel)
app.command()(officers.officers)
app.command()(review.review)
app.command()(demo.demo)
app.command()(runs.audit)
app.add_typer(forms.forms_app, name="forms")
app.add_typer(rulesets.rulesets_app, name="rulesets")
app.add_typer(assessments.assessments_app, name="assessments")
app.add_typer(extracts.extracts_app, name="extracts")
app.add_typer(sampling.sample_app, name="sample")
app.add_typer(calibration.calibrate_app, name="calibrate")
app.add_typer(runs.runs_app, name="runs")
app.add_typer(actions.actions_app, name="actions")


def run() -> None:
    """The `qam` executable (and `python -m engine`): the app, whose exit code is the process's. The
    process ends as the app returns: the interpreter's last collections would scan every object
    still alive (a PEEL year's imports and caches) only to free what the exit frees anyway, 0.2-0.3
    s of every command that reads a year; frozen, they are left to the exit."""
    try:
        app()
    finally:
        gc.freeze()


__all__ = ["app", "run"]

"""`qam forms list|show|template`: the QA forms reviewers fill in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.cli.console import print_table, settings_of, user_errors

forms_app = typer.Typer(
    help="The QA forms reviewers fill in: each qa_forms/<case_type>.yaml is a case type.",
    no_args_is_help=True,
)


@forms_app.command("list")
def forms_list(ctx: typer.Context) -> None:
    """List the QA forms: case type, title, version, the catalogue items it feeds (its own first,
    then those its questions name), number of questions, and what briefings call one of its cases.

    Example: qam forms list
    """
    with user_errors():
        known = api.forms(settings_of(ctx))
    print_table(
        ("case type", "title", "version", "feeds", "questions", "a case is"),
        [
            (f.case_type, f.title, f.version, ", ".join(f.items), len(f.questions), f.noun)
            for f in known.values()
        ],
    )


@forms_app.command("show")
def forms_show(
    ctx: typer.Context,
    case_type: Annotated[str, typer.Argument(help="a case type: a form's id from qam forms list")],
) -> None:
    """Show a form's questions: id, answer type and values, when required, and the standard behind it.

    Example: qam forms show stop_search
    """
    with user_errors():
        form = api.form(settings_of(ctx), case_type)
    typer.echo(f"{form.title} ({form.case_type}, version {form.version}, measure {form.measure})\n")
    print_table(
        ("question", "answers", "required", "measure", "question text"),
        [(q.id, q.values_text(), q.requirement_text(), q.measure, q.text) for q in form.questions],
    )


@forms_app.command("template")
def forms_template(
    ctx: typer.Context,
    case_type: Annotated[str, typer.Argument(help="a case type: a form's id from qam forms list")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx or csv")] = "xlsx",
    out: Annotated[
        Path | None, typer.Option("--out", help="file to write (default: <case_type>-template.<format>)")
    ] = None,
) -> None:
    """Write a submission template: Excel with dropdowns and help comments, or a CSV header.

    A reviewer may leave case_type blank in the XLSX template (the workbook records its type); a
    CSV needs it on every row. The columns: docs/submissions.md.

    Example: qam forms template stop_search --format xlsx --out ss_week47.xlsx
    """
    if fmt not in ("xlsx", "csv"):
        raise typer.BadParameter("must be xlsx or csv", param_hint="--format")
    with user_errors():
        path = api.template(settings_of(ctx), case_type, fmt, out)
    typer.echo(f"Wrote {path}")

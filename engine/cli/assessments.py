"""`qam submit` and `qam assessments list|show|verify`: reviewers' assessments, stored, read back and
checked for tampering."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.cli.console import print_json, print_table, settings_of, user_errors
from engine.core.errors import ExitCode


def submit(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="CSV, XLSX or JSON files of assessments")],
    amend: Annotated[
        bool, typer.Option("--amend", help="store changed rows as new revisions (the old ones are kept)")
    ] = False,
    sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX sheet name (default: the first)")] = None,
    calibration: Annotated[
        str | None,
        typer.Option(
            "--calibration", help="calibration set name: stored apart, never counted in performance"
        ),
    ] = None,
) -> None:
    """Validate and store reviewers' assessments: every row of every file, or nothing.

    One row is one assessment of one sampled case:

    \b
      assessment_id, case_type, case_ref, place, team, officer, reviewer,
      assessed_on, case_date (YYYY-MM-DD), then the form's question ids
      (qam forms show TYPE); answers yes | no | partly | na, blank = not answered

    In an XLSX template (qam forms template) case_type may stay blank. An identical row
    again is a no-op; a changed row needs --amend. All problems of all files are listed at
    once as file:row:column: message. Every column, with examples: docs/submissions.md.

    Example: qam submit ss_week47.csv vc_week47.xlsx
    """
    with user_errors():
        result = api.submit(settings_of(ctx), files, amend=amend, sheet=sheet, calibration_set=calibration)
    print_table(("case type", "place", "stored", "unchanged", "amended"), result.by_place())
    stored, unchanged, amended = result.summary.totals
    typer.echo(
        f"{result.rows} row{'s' if result.rows != 1 else ''} in {len(result.files)} file"
        f"{'s' if len(result.files) != 1 else ''}: {stored} stored, {unchanged} unchanged "
        f"(already stored, nothing to do), {amended} amended."
    )


assessments_app = typer.Typer(help="Stored assessments and their revisions.", no_args_is_help=True)


@assessments_app.command("list")
def assessments_list(
    ctx: typer.Context,
    place: Annotated[str | None, typer.Option("--place", help="place code")] = None,
    case_type: Annotated[str | None, typer.Option("--type", help="case type")] = None,
    week: Annotated[str | None, typer.Option("--week", help="ISO week of assessed_on, e.g. 2026-W47")] = None,
) -> None:
    """List stored assessments (current revisions).

    Example: qam assessments list --place BLK --type stop_search --week 2026-W47
    """
    with user_errors():
        lines = api.list_assessments(settings_of(ctx), place=place, case_type=case_type, week=week)
    print_table(api.AssessmentLine.COLUMNS, [a.row() for a in lines])
    typer.echo(f"{len(lines)} assessment{'s' if len(lines) != 1 else ''}")


@assessments_app.command("show")
def assessments_show(
    ctx: typer.Context, assessment_id: Annotated[str, typer.Argument(help="assessment id")]
) -> None:
    """Show every revision of an assessment: common fields, answers as stored and as submitted, source.

    Example: qam assessments show SS-000123
    """
    with user_errors():
        revisions = api.show_assessment(settings_of(ctx), assessment_id)
    for rev in revisions:
        state = "current" if rev.current else "superseded"
        typer.echo(f"== {rev.assessment_id} revision {rev.revision} ({state})")
        typer.echo(f"submitted {rev.submitted_at} from {rev.source}; content sha256 {rev.content_hash[:12]}")
        if rev.calibration_set:
            typer.echo(f"calibration set: {rev.calibration_set}")
        rows: list[tuple[str, object, object]] = [(k, v, "") for k, v in rev.common.items()]
        rows += [(q, v, rev.raw.get(q, "")) for q, v in rev.answers.items()]
        print_table(("field", "stored", "as submitted"), rows)
        typer.echo("")


@assessments_app.command("verify")
def assessments_verify(
    ctx: typer.Context,
    heads: Annotated[
        list[str] | None,
        typer.Option("--head", help="a chain head kept from an earlier verify (PK:ROW_HASH); repeatable"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Check the stored assessments for tampering: recompute every revision's link in the hash chain
    and its content hash, check that exactly each assessment's newest revision is current, and that
    every chain head recorded by a submission or a run (and each --head) is still in the chain.
    Prints OK with the counts and the chain head as PK:ROW_HASH (keep it outside the database: given
    back with --head, it shows any later rewrite of the revisions before it), or every problem found.

    Exits 0 when all is intact, 4 when anything was tampered with, 2 for a malformed --head.

    Example: qam assessments verify --head 51481:6a38b7f4f1bd814e6bc2c2e27b2c65033c99769d00e556c58266c27329c2add4
    """
    with user_errors():
        report = api.verify_assessments(settings_of(ctx), tuple(heads or ()))
    if as_json:
        print_json(report.to_json())
    else:
        rows = report.to_table_rows()
        if rows:
            print_table(report.columns, rows)
        typer.echo(report.summary)
    if not report.ok:
        raise typer.Exit(int(ExitCode.STORAGE))

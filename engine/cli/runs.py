"""`qam runs list|show` and `qam audit`: recorded runs read back and re-derived."""

from __future__ import annotations

from typing import Annotated

import typer

from engine import api
from engine.cli.console import print_table, settings_of, user_errors
from engine.core.errors import ExitCode
from engine.core.text import short, stamp

runs_app = typer.Typer(
    help="Run manifests: what each weekly or PEEL run read and wrote.", no_args_is_help=True
)

#: how many altered score outcomes (and assessment problems) `qam audit` lists before "... and N more"
AUDIT_ROWS_SHOWN = 20


@runs_app.command("list")
def runs_list(ctx: typer.Context) -> None:
    """List recorded runs, most recently executed first: id, kind, period, draft, rulesets, times.

    Example: qam runs list
    """
    with user_errors():
        found = api.list_runs(settings_of(ctx))
    if not found:
        typer.echo("No runs recorded yet (`qam weekly --week 2026-W47` records one).")
        return
    print_table(found[0].COLUMNS, [r.to_table_row() for r in found])
    typer.echo(f"{len(found)} run{'s' if len(found) != 1 else ''}")


@runs_app.command("show")
def runs_show(
    ctx: typer.Context, run: Annotated[str, typer.Argument(help="run id, or a unique prefix of it")]
) -> None:
    """Show a run's whole manifest: command, arguments, engine version, ruleset versions and hashes,
    force file hash, input and output file hashes, registry head, and every execution's times.

    Example: qam runs show 3f9a0c2d
    """
    with user_errors():
        detail = api.show_run(settings_of(ctx), run)
    for key, value in detail.metadata_rows():
        typer.echo(f"{key}: {value}")
    for columns, rows in (
        (("ruleset", "version", "sha256"), detail.ruleset_rows()),
        (("input", "sha256"), detail.input_rows()),
        (("output file", "sha256"), detail.output_rows()),
        (("execution started", "finished", "outputs matched"), detail.execution_rows()),
    ):
        typer.echo("")
        print_table(columns, rows)


def audit(
    ctx: typer.Context, run: Annotated[str, typer.Argument(help="run id, or a unique prefix of it")]
) -> None:
    """Re-derive a run's outputs from the data as it stood at its first execution and the exact ruleset
    versions it recorded, and compare them byte for byte with its manifest; also re-score the stored
    answers, verify the registry and the stored assessments' hash chain. Writes nothing.

    Exits 0 when everything matches, 4 when anything differs (a storage or report integrity failure).

    Example: qam audit 3f9a0c2d
    """
    with user_errors():
        report = api.audit(settings_of(ctx), run)
    draft = ", DRAFT" if report.draft else ""
    typer.echo(
        f"Audit of run {report.run_id} ({report.kind} {report.period}{draft}): re-derived from the data as it "
        f"stood at {stamp(report.cutoff)}, the run's first execution."
    )
    if report.inputs:
        print_table(
            ("input", "recorded", "re-read", "rows", "result"),
            [
                (i.name, short(i.recorded), short(i.reread), i.rows, "same" if i.ok else "DIFFERS")
                for i in report.inputs
            ],
        )
    typer.echo(report.changes_line())
    typer.echo("")
    if report.files:
        print_table(
            ("output file", "recorded", "re-derived", "result"),
            [(f.name, short(f.recorded), short(f.derived), f.status) for f in report.files],
        )
        typer.echo("")
    else:  # a scoring run writes no files: show which versions it scored under, all found intact
        print_table(
            ("ruleset (intact in the registry)", "version", "sha256"), [r.row() for r in report.rulesets]
        )
        typer.echo("")
    typer.echo(report.scores_line())
    if report.score_mismatches:
        shown = report.score_mismatches[:AUDIT_ROWS_SHOWN]
        print_table(
            ("assessment", "case ref", "ruleset", "criterion", "stored", "re-scored"),
            [(m.assessment_id, m.case_ref, m.ruleset, m.criterion, m.stored, m.rescored) for m in shown],
        )
        if len(report.score_mismatches) > len(shown):
            typer.echo(f"... and {len(report.score_mismatches) - len(shown)} more")
    typer.echo(report.registry_line())
    for d in report.registry_problems:
        typer.echo(f"  {d}")
    typer.echo(report.assessments_line())
    for p in report.assessment_problems[:AUDIT_ROWS_SHOWN]:
        typer.echo(f"  {p}")
    if len(report.assessment_problems) > AUDIT_ROWS_SHOWN:
        typer.echo(f"  ... and {len(report.assessment_problems) - AUDIT_ROWS_SHOWN} more")
    for note in report.notes:
        typer.echo(f"Note: {note}")
    typer.echo(report.summary)
    if not report.ok:
        raise typer.Exit(int(ExitCode.STORAGE))

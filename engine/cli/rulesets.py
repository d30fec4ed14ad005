"""`qam rulesets ...`: validate, publish, list, show, diff and verify the versioned rulesets, and
dry-run the working tree's against a past week."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.cli.console import print_json, print_table, settings_of, user_errors
from engine.core.errors import ExitCode
from engine.core.periods import parse_date

rulesets_app = typer.Typer(help="Validate, publish and audit the versioned rulesets.", no_args_is_help=True)


@rulesets_app.command("validate")
def rulesets_validate(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="a ruleset file or folder (default: the rulesets folder)")
    ] = None,
) -> None:
    """Check ruleset files without a database: shape, fields against the QA forms, expressions.

    The file format and the condition language: docs/rulesets.md.

    Example: qam rulesets validate rulesets/priority4/stop-search-legitimacy.yaml
    """
    with user_errors():
        loaded = api.check_rulesets(settings_of(ctx), path)
    print_table(
        ("ruleset", "version", "priority", "applies to", "criteria", "file"),
        [
            (
                r.id,
                r.version,
                r.priority,
                r.case_type or f"extract:{r.extract}",
                len(r.criteria) or len(r.thresholds),
                r.path,
            )
            for r in loaded
        ],
    )
    typer.echo(f"{len(loaded)} ruleset{'s' if len(loaded) != 1 else ''} valid.")


@rulesets_app.command("publish")
def rulesets_publish(
    ctx: typer.Context,
    author: Annotated[
        str, typer.Option("--author", help="who is publishing (default: your login name)")
    ] = "",
    note: Annotated[str, typer.Option("--note", help="why: shown in history and to inspectors")] = "",
) -> None:
    """Publish every ruleset as an immutable, hash-chained version (unchanged content is a no-op).

    Example: qam rulesets publish --author "Insp. Jones" --note "SS01 wording per HMICFRS"
    """
    with user_errors():
        result = api.publish_rulesets(settings_of(ctx), author=author or getpass.getuser(), note=note)
    print_table(result.columns, result.to_table_rows())
    n = len(result.published)
    if n:
        typer.echo(
            f"Published {n} ruleset version{'s' if n != 1 else ''} ({len(result.unchanged)} unchanged)."
        )
    else:
        typer.echo(f"Nothing to publish: all {len(result.unchanged)} rulesets are published as they are.")


@rulesets_app.command("list")
def rulesets_list(ctx: typer.Context) -> None:
    """List the current published version of every ruleset.

    Example: qam rulesets list
    """
    with user_errors():
        listing = api.list_rulesets(settings_of(ctx))
    print_table(listing.columns, listing.to_table_rows())


@rulesets_app.command("history")
def rulesets_history(
    ctx: typer.Context, ruleset_id: Annotated[str, typer.Argument(help="ruleset id")]
) -> None:
    """Every published version of a ruleset, with author, time, note and hashes.

    Example: qam rulesets history stop-search-legitimacy
    """
    with user_errors():
        listing = api.ruleset_history(settings_of(ctx), ruleset_id)
    print_table(listing.columns, listing.to_table_rows())


@rulesets_app.command("show")
def rulesets_show(
    ctx: typer.Context,
    ruleset_id: Annotated[str, typer.Argument(help="ruleset id")],
    version: Annotated[str | None, typer.Option("--version", help="default: the latest")] = None,
) -> None:
    """Show a published version: its metadata, then the file exactly as published.

    Example: qam rulesets show stop-search-legitimacy --version 1.0.0
    """
    with user_errors():
        entry = api.show_ruleset(settings_of(ctx), ruleset_id, version)
    for key, value in entry.metadata_rows():
        typer.echo(f"{key}: {value}")
    typer.echo("")
    typer.echo(entry.source_text.rstrip("\n"))


@rulesets_app.command("diff")
def rulesets_diff(
    ctx: typer.Context,
    ruleset_id: Annotated[str, typer.Argument(help="ruleset id")],
    v1: Annotated[str, typer.Argument(help="older version")],
    v2: Annotated[str, typer.Argument(help="newer version")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Criterion-level differences between two published versions.

    Example: qam rulesets diff stop-search-legitimacy 1.0.0 1.1.0
    """
    with user_errors():
        result = api.diff_rulesets(settings_of(ctx), ruleset_id, v1, v2)
    if as_json:
        print_json(result.to_json())
        return
    print_table(result.columns, result.to_table_rows())
    typer.echo(result.summary)


@rulesets_app.command("verify")
def rulesets_verify(
    ctx: typer.Context,
    heads: Annotated[
        list[str] | None,
        typer.Option(
            "--head",
            help="a registry head kept outside the database: a run manifest's registry_head, or "
            "SEQ:ENTRY_HASH as verify prints it; repeatable",
        ),
    ] = None,
) -> None:
    """Recompute every hash and the chain, and compare the working tree with the published versions.

    Every head recorded by a publication or a run (and each --head) must still be in the chain, and
    no entry may come after the last head a publication recorded (one added by hand). Prints the
    registry head as SEQ:ENTRY_HASH: kept outside the database and given back with --head, it shows
    any later rewrite or deletion of the entries up to it.

    Exits 4 when the database was tampered with, 3 when only the working tree differs, 2 for a
    malformed --head, else 0.

    Example: qam rulesets verify --head 12:5c1e0f4b2d9a7e3c8f6b1a0d4e2c9b7f3a5d8e1c6b0f2a4d7e9c3b5a1f8d6e2c
    """
    with user_errors():
        report = api.verify_rulesets(settings_of(ctx), tuple(heads or ()))
    rows = report.to_table_rows()
    if rows:
        print_table(report.columns, rows)
    typer.echo(report.summary)
    if report.head_seq:
        typer.echo(f"registry head {report.head} (keep it: --head checks it later)")
    if report.tampered:
        raise typer.Exit(int(ExitCode.STORAGE))
    if not report.ok:
        raise typer.Exit(int(ExitCode.INVALID_INPUT))


@rulesets_app.command("dry-run")
def rulesets_dry_run(
    ctx: typer.Context,
    against: Annotated[str | None, typer.Option("--against", help="ISO week to score, e.g. 2026-W47")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="last day, YYYY-MM-DD")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="also write OUT/dry-run-<period>/changes.csv")
    ] = None,
) -> None:
    """Before publishing: score a past week's assessments under the working tree's draft rulesets and
    the published ones side by side, and list the findings (per criterion: pass -> fail, fail -> pass,
    N/A changes, by place, example cases) and exceptions that would change. Only draft scores are
    stored; no output is written without --out.

    Example: qam rulesets dry-run --against 2026-W47
    """
    with user_errors():
        report = api.dry_run(
            settings_of(ctx),
            week=against,
            date_from=parse_date(date_from, "--from") if date_from else None,
            date_to=parse_date(date_to, "--to") if date_to else None,
            out=out,
        )
    if not report.rulesets:
        typer.echo(report.summary)
        return
    typer.echo(report.headline)
    typer.echo("Rulesets that differ: " + "; ".join(r.text for r in report.rulesets))
    typer.echo("")
    if report.findings:
        print_table(report.findings[0].COLUMNS, [f.to_table_row() for f in report.findings])
    else:
        typer.echo("No finding would change.")
    typer.echo("")
    if report.exceptions:
        print_table(report.exceptions[0].COLUMNS, [e.to_table_row() for e in report.exceptions])
    else:
        typer.echo("No exception would appear, disappear or change.")
    typer.echo("")
    typer.echo(report.summary)
    if report.csv_path is not None:
        typer.echo(f"Wrote {report.csv_path}")

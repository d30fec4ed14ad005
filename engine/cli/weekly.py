"""`qam weekly`: the weekly batch, with a live status line on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.cli.console import settings_of, user_errors
from engine.cli.deliver import print_report
from engine.core.errors import ExitCode, UsageError
from engine.core.mail_settings import load_mail_settings


@contextmanager
def status_line() -> Iterator[Callable[[str], None] | None]:
    """A live status line on a terminal (stderr); nothing at all when output is not a TTY."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console

    with Console(stderr=True).status("starting") as status:
        yield lambda stage: status.update(f"{stage}...")


def exception_counts(result: api.RunResult) -> str:
    """'0 critical, 3 below standard, 1 special cause, 0 threshold': the run's exceptions by kind."""
    return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in result.counts_by_kind().items())


def replacement(result: api.RunResult, what: str = "briefings") -> str:
    """', replacing the briefings of run OLD (...)': what the run's folder held before, if anything."""
    before = result.replaced
    if before is None:
        return ""
    if before.unchanged:
        return ", unchanged: an identical rerun"
    if before.run_id is None:
        return ", replacing the files there (they name no run)"
    if before.run_id == result.run_id:
        return ", replacing different files of the same run (the engine or the folder changed since)"
    kept = f"; its exceptions.json is kept as {before.kept}" if before.kept else ""
    return f", replacing the {what} of run {before.run_id} (qam runs show {before.run_id}{kept})"


def print_run(result: api.RunResult) -> None:
    counts = exception_counts(result)
    draft = "DRAFT (unpublished rulesets, not for operational use): " if result.draft else ""
    typer.echo(
        f"{draft}{result.period.label}: {result.cases_reviewed} cases reviewed, {result.scored.total} newly scored; "
        f"{len(result.exceptions)} exceptions ({counts}); "
        + (f"{len(result.team_exceptions)} team exceptions; " if result.team_exceptions else "")
        + f"{len(result.places_briefed)} place{'s' if len(result.places_briefed) != 1 else ''} briefed; "
        f"{len(result.files)} files written to {result.folder} (run {result.run_id}){replacement(result)}"
    )


def weekly(
    ctx: typer.Context,
    week: Annotated[str, typer.Option("--week", help="ISO week, e.g. 2026-W47")],
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("outputs"),
    draft: Annotated[
        bool, typer.Option("--draft", help="dry run on unpublished rulesets, marked DRAFT")
    ] = False,
    fail_on_exceptions: Annotated[
        bool, typer.Option("--fail-on-exceptions", help="exit 1 when any exception is found")
    ] = False,
    deliver: Annotated[
        bool,
        typer.Option(
            "--deliver", help="then e-mail the briefings as `qam deliver` does (exit 4 if any is not)"
        ),
    ] = False,
) -> None:
    """The weekly batch: score what is new, find the week's exceptions, write exceptions.json,
    aggregates.csv, one briefing PDF per place with exceptions and force.pdf. A rerun replaces the
    week's folder and says whose files it replaced; their exceptions.json is kept in previous/.

    Example: qam weekly --week 2026-W47 --out outputs/
    """
    with user_errors():
        if deliver and draft:
            raise UsageError("--deliver cannot be used with --draft: drafts are never e-mailed")
        if deliver:
            load_mail_settings()  # before the run: a missing setting is said at once
    with user_errors(), status_line() as progress:
        result = api.weekly(settings_of(ctx), week, out=out, draft=draft, progress=progress)
    print_run(result)
    if deliver:
        with user_errors():
            report = api.deliver(settings_of(ctx), week, out=out)
        print_report(report)
        if not report.complete:
            raise typer.Exit(int(ExitCode.STORAGE))
    if fail_on_exceptions and result.exceptions:
        raise typer.Exit(int(ExitCode.EXCEPTIONS_FOUND))

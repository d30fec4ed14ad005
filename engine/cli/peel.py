"""`qam peel`: a PEEL self-assessment rerun, with a progress bar on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.cli.console import settings_of, user_errors
from engine.cli.weekly import exception_counts, replacement
from engine.core.periods import parse_date


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar with ETA on a terminal (stderr); nothing at all when output is not a TTY."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("starting", total=None)
        yield lambda what, done, total: bar.update(task, description=what, completed=done, total=total)


def peel(
    ctx: typer.Context,
    date_from: Annotated[str, typer.Option("--from", help="first day of the period, YYYY-MM-DD")],
    date_to: Annotated[str, typer.Option("--to", help="last day of the period, YYYY-MM-DD")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="use the ruleset versions published by the end of this day (UTC)"),
    ] = None,
    published: Annotated[
        bool, typer.Option("--published", help="use the latest published versions (the default)")
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("outputs"),
    compare_original: Annotated[
        bool,
        typer.Option("--compare-original", help="compare with the scores first recorded, by ruleset change"),
    ] = False,
) -> None:
    """PEEL self-assessment rerun: rescore every assessment of the period under the rulesets published
    as of a day, find the exceptions of the period and of each quarter, and write peel.pdf (by PEEL
    pillar and measure), exceptions.json, aggregates.csv, incident_metrics.csv, manifest.json (and
    compare.csv) to <out>/peel-<from>-<to>/. Identical reruns write identical files.

    Example: qam peel --from 2026-04-01 --to 2027-03-31 --as-of 2026-03-31 --compare-original
    """
    if as_of is not None and published:
        raise typer.BadParameter("give --as-of DATE or --published, not both", param_hint="--as-of")
    with user_errors():
        start, end = parse_date(date_from, "--from"), parse_date(date_to, "--to")
        day = parse_date(as_of, "--as-of") if as_of else None
        with progress_bar() as progress:
            result = api.peel(
                settings_of(ctx),
                start,
                end,
                as_of=day,
                out=out,
                compare_original=compare_original,
                progress=progress,
            )
    run = result.run
    counts = exception_counts(run)
    quarters = "; ".join(f"{q.label}: {n}" for q, n in result.quarters)
    typer.echo(
        f"{run.period.label} (rulesets as of {as_of or 'latest published'}): {run.cases_reviewed} cases reviewed, "
        f"{run.scored.total} newly scored; {len(run.exceptions)} exceptions ({counts}); "
        + (f"{len(run.team_exceptions)} team exceptions; " if run.team_exceptions else "")
        + f"by quarter {quarters}; "
        f"{len(run.files)} files written to {run.folder} (run {run.run_id}){replacement(run, 'PEEL report')}"
    )
    if result.comparison is not None:
        for line in result.comparison.lines():
            typer.echo(line)

"""`qam demo`: a fresh demo database and its weekly run, then how to explore what it built."""

from __future__ import annotations

import datetime as dt
import shlex
from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.cli.console import user_errors
from engine.cli.weekly import print_run
from engine.core.config import DEFAULT_OUT_DIR


def demo(
    out: Annotated[Path, typer.Option("--out", help="output folder")] = DEFAULT_OUT_DIR,
) -> None:
    """Build a fresh demo database (26 weeks of generated QA reviews of all 13 case types,
    incidents and measured figures, with 14 problems planted in six of its 12 places) and run the
    weekly batch for its latest week, 2026-W47; then print how to explore the database.

    Example: qam demo --out outputs/
    """
    with user_errors():
        result = api.demo(out, progress=lambda message: typer.echo(f"... {message}", err=True))
    data = result.data
    typer.echo(
        f"Demo database {data.settings.database_url}: {data.assessments} assessments and {data.incidents} incidents "
        f"(source files in {data.data_folder})."
    )
    print_run(result.run)
    typer.echo("\n".join(("", *next_steps(result))))


def next_steps(result: api.DemoResult) -> list[str]:
    """The export line that points qam at the demo's database and rulesets (absolute paths, so it
    works from any folder), and three commands to try on them."""
    data = result.data
    database = f"sqlite:///{data.database_file.resolve()}"
    rulesets = str(data.rulesets.folder.resolve())
    out = result.run.folder.parent
    out_option = "" if out == DEFAULT_OUT_DIR else f" --out {shlex.quote(str(out))}"
    revised_on = data.rulesets.revised_at.date()
    before = revised_on - dt.timedelta(days=1)
    return [
        "To explore it, point qam at the demo's database and rulesets (in this shell), then try:",
        f"  export QAM_DATABASE_URL={shlex.quote(database)} QAM_RULESETS={shlex.quote(rulesets)}",
        "  qam runs list",
        f"  qam assessments list --place DLW --week {data.week}",
        f"  qam peel --from {data.first_day} --to {data.last_day} --as-of {before} --compare-original{out_option}",
        f"The PEEL rerun scores all {len(data.mondays)} weeks under the rulesets in force on {before}, before "
        f"{data.rulesets.revised} of {revised_on}; its compare.csv lists every finding that moves.",
    ]

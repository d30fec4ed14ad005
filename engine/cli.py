"""The `qam` command line: parse, call one engine.api function, print, exit with a documented code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.config import Settings, load_settings
from engine.errors import EngineError, ExitCode

app = typer.Typer(
    name="qam",
    help="QAM: case-quality assessment and exception briefings for police performance (measures, not targets).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@contextmanager
def user_errors() -> Iterator[None]:
    """The one place an EngineError becomes 'Error: ...' on stderr and its documented exit code."""
    try:
        yield
    except EngineError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(int(exc.exit_code)) from None


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


@app.callback()
def main(
    ctx: typer.Context,
    force: Annotated[
        Path | None,
        typer.Option(
            "--force", help="Force configuration YAML (default: $QAM_FORCE or the bundled demo force)."
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
    ctx.obj = load_settings(force_file=force, database_url=database)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create or upgrade the database; safe to run twice.

    Example: qam init
    """
    with user_errors():
        result = api.init_database(_settings(ctx))
    if result.created:
        typer.echo(f"Created database {result.url} (schema {result.revision_after}).")
    elif result.upgraded:
        typer.echo(
            f"Upgraded database {result.url} from {result.revision_before} to {result.revision_after}."
        )
    else:
        typer.echo(f"Database {result.url} is up to date (schema {result.revision_after}).")


def run() -> None:  # pragma: no cover - console entry for `python -m engine`
    app()


__all__ = ["app", "user_errors", "ExitCode"]

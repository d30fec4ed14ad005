"""`qam init`: create or upgrade the database schema."""

from __future__ import annotations

import typer

from engine import api
from engine.cli.console import settings_of, user_errors


def init(ctx: typer.Context) -> None:
    """Create or upgrade the database; safe to run twice.

    Example: qam init
    """
    with user_errors():
        result = api.init_database(settings_of(ctx))
    if result.created:
        typer.echo(f"Created database {result.url} (schema {result.revision_after}).")
    elif result.upgraded:
        typer.echo(
            f"Upgraded database {result.url} from {result.revision_before} to {result.revision_after}."
        )
    else:
        typer.echo(f"Database {result.url} is up to date (schema {result.revision_after}).")

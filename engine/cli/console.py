"""What every command shares: the one place an EngineError becomes its exit code, SIGTERM handled
as Ctrl-C, the settings the `qam` callback loaded, and printing plain tables and JSON."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

import typer

from engine.core.config import Settings
from engine.core.errors import EngineError


@contextmanager
def user_errors() -> Iterator[None]:
    """The one place an EngineError becomes 'Error: ...' on stderr and its documented exit code."""
    try:
        yield
    except EngineError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(int(exc.exit_code)) from None


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread as Ctrl-C is: the same clean-up runs (workers terminated,
    temporary folders removed, transactions rolled back) and the command exits 130, as on Ctrl-C."""


def _terminated(_signum: int, _frame: FrameType | None) -> None:
    raise Terminated


def terminate_like_ctrl_c() -> Callable[[], None]:
    """Handle SIGTERM as Ctrl-C from now on; returns the function that puts the previous handler back.
    Only the main thread can set a handler: elsewhere (a command run from a thread) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, _terminated)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the `qam` callback loaded from --force, --database and the environment."""
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def print_table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Plain aligned columns: readable in a terminal, stable for scripts and tests."""
    text_rows = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(c) for c in columns]
    for row in text_rows:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=False)]
    for row in [list(columns), *text_rows]:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)).rstrip())


def print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))

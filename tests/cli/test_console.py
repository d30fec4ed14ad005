"""What every command shares (engine/cli/console.py): an engine error is one `Error:` line on stderr,
without a traceback, and its documented exit code."""

from __future__ import annotations

from typer.testing import CliRunner

from engine.cli import app


def test_unknown_url_scheme_is_a_storage_error_without_traceback(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--database", "oracle://x/y", "init"])
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: unsupported database URL scheme 'oracle'")
    assert "Traceback" not in result.output


def test_unreachable_postgresql_exits_4(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--database", "postgresql://postgres@127.0.0.1:1/test", "init"])
    assert result.exit_code == 4
    assert "cannot connect to the database" in result.stderr

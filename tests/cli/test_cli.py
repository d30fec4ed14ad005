"""The `qam` command line: exit codes, `Error:` lines without tracebacks, help for every command."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from engine.cli import app

REPO = Path(__file__).resolve().parents[2]


def _commands(group: object, prefix: str = "") -> list[str]:
    out = []
    for name, cmd in getattr(group, "commands", {}).items():
        full = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            out.extend(_commands(cmd, full + " "))
        else:
            out.append(full)
    return out


def all_commands() -> list[str]:
    """Every leaf command, e.g. 'init', 'forms list'."""
    return _commands(typer.main.get_command(app))


def test_init_twice_on_each_database(runner: CliRunner, database_url: str) -> None:
    first = runner.invoke(app, ["--database", database_url, "init"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Created database")
    second = runner.invoke(app, ["--database", database_url, "init"])
    assert second.exit_code == 0
    assert "is up to date" in second.output


def test_unknown_url_scheme_is_a_storage_error_without_traceback(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--database", "oracle://x/y", "init"])
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: unsupported database URL scheme 'oracle'")
    assert "Traceback" not in result.output


def test_invalid_force_file_exits_3_and_creates_nothing(runner: CliRunner, tmp_path: Path) -> None:
    force = tmp_path / "force.yaml"
    force.write_text("force: F\nplaces:\n  - {code: AAA, name: A, division: D, leader: L, setting: town}\n")
    result = runner.invoke(app, ["--force", str(force), "--database", f"sqlite:///{tmp_path}/q.db", "init"])
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: invalid force file")
    assert f"{force}:3:places.0.setting: must be one of urban, rural (got 'town')" in result.stderr
    assert not (tmp_path / "q.db").exists()


def test_unreachable_postgresql_exits_4(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--database", "postgresql://postgres@127.0.0.1:1/test", "init"])
    assert result.exit_code == 4
    assert "cannot connect to the database" in result.stderr


def test_every_command_has_help_with_an_example(runner: CliRunner) -> None:
    commands = all_commands()
    assert "init" in commands
    for command in commands:
        result = runner.invoke(app, [*command.split(), "--help"])
        assert result.exit_code == 0, command
        assert "Example" in result.output, f"`qam {command} --help` has no example"


def test_every_command_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [c for c in all_commands() if f"qam {c}" not in readme]
    assert missing == []

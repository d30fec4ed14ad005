"""`qam init` (engine/cli/schema.py): safe to run twice on each database; a bad force file is reported
before anything is created."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app


def test_init_twice_on_each_database(runner: CliRunner, database_url: str) -> None:
    first = runner.invoke(app, ["--database", database_url, "init"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Created database")
    second = runner.invoke(app, ["--database", database_url, "init"])
    assert second.exit_code == 0
    assert "is up to date" in second.output


def test_invalid_force_file_exits_3_and_creates_nothing(runner: CliRunner, tmp_path: Path) -> None:
    force = tmp_path / "force.yaml"
    force.write_text("force: F\nplaces:\n  - {code: AAA, name: A, division: D, leader: L, setting: town}\n")
    result = runner.invoke(app, ["--force", str(force), "--database", f"sqlite:///{tmp_path}/q.db", "init"])
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: invalid force file")
    assert f"{force}:3:places.0.setting: must be one of urban, rural (got 'town')" in result.stderr
    assert not (tmp_path / "q.db").exists()

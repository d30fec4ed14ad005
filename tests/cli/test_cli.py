"""The `qam` command line as a whole (engine/cli/__init__.py): every command is registered, has help with
an example, and is in the README."""

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


def test_help_lists_the_commands_then_the_groups_in_their_order(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    listed = result.output.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed if line.startswith("  ")] == [
        "init", "submit", "score", "weekly", "deliver", "peel", "officers", "review", "demo", "audit",
        "forms", "rulesets", "assessments", "extracts", "sample", "calibrate", "runs", "actions",
    ]  # fmt: skip
    rulesets = runner.invoke(app, ["rulesets", "--help"]).output.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in rulesets if line.startswith("  ")] == [
        "validate", "publish", "list", "history", "show", "diff", "verify", "dry-run",
    ]  # fmt: skip


def test_the_help_of_every_input_names_its_format_and_its_page_in_docs(runner: CliRunner) -> None:
    """A user finds each input's columns in the command's help and the full format in docs/."""
    pages = {
        ("submit",): "docs/submissions.md",
        ("forms", "template"): "docs/submissions.md",
        ("extracts", "load"): "docs/extracts.md",
        ("rulesets", "validate"): "docs/rulesets.md",
        (): "docs/force-file.md",
    }
    for command, page in pages.items():
        text = " ".join(runner.invoke(app, [*command, "--help"]).output.split())
        assert page in text, f"`qam {' '.join(command)} --help` does not point to {page}"
        assert (REPO / page).exists()
    submit = runner.invoke(app, ["submit", "--help"]).output
    columns = "assessment_id, case_type, case_ref, place, team, officer, reviewer,"
    assert columns in submit and "yes | no | partly | na" in submit

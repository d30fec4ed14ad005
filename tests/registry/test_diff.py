"""`qam rulesets diff` (engine/registry/diff.py): the one-line summary under the table counts every
kind of change (criteria or thresholds, settings, ruleset fields), on two published versions."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.core.config import Settings


def _republish(settings: Settings, relative: str, *edits: tuple[str, str]) -> None:
    """Edit one ruleset file of the published copy (each edit once), then publish it again."""
    path = settings.rulesets_dir / relative
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    api.publish_rulesets(settings, author="test", note="edited")


def test_a_settings_only_change_is_counted_in_the_summary(published: Settings, runner: CliRunner) -> None:
    _republish(
        published,
        "priority3/victims-code-compliance.yaml",
        ("version: 1.0.2", "version: 1.0.3"),
        ("    default: 2\n", "    default: 3\n"),
    )
    args = ["--database", published.database_url, "rulesets", "diff", "victims-code-compliance"]
    result = runner.invoke(app, [*args, "1.0.2", "1.0.3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split() == ["changed", "setting", "support_referral_working_days", "default", "2", "3"]
    assert lines[-1] == "0 criteria changed, 0 added, 0 removed; 1 setting changed"
    # --json has no summary line: its settings section carries the change
    as_json = runner.invoke(app, [*args, "1.0.2", "1.0.3", "--json"])
    assert json.loads(as_json.output)["settings"]["changed"][0]["id"] == "support_referral_working_days"
    same = runner.invoke(app, [*args, "1.0.3", "1.0.3"])
    assert same.output.splitlines()[-1] == "0 criteria changed, 0 added, 0 removed"


def test_thresholds_settings_and_ruleset_fields_are_counted_too(published: Settings) -> None:
    _republish(
        published,
        "priority1/response-standards.yaml",
        ("version: 1.1.0", "version: 1.1.1"),
        ("title: Response and call-handling standards", "title: Response standards"),
        ("    default: 15\n", "    default: 14\n"),
        ("    default: 20\n", "    default: 25\n"),
    )
    result = api.diff_rulesets(published, "response-standards", "1.1.0", "1.1.1")
    assert (
        result.summary
        == "0 thresholds changed, 0 added, 0 removed; 2 settings changed; ruleset title changed"
    )


def test_a_criterion_removed_and_a_setting_added_both_count(published: Settings) -> None:
    path = published.rulesets_dir / "priority3/victims-code-compliance.yaml"
    head, vc01_on = path.read_text(encoding="utf-8").split("  - id: VC01\n", 1)
    without_vc01 = head + "  - id: " + vc01_on.split("  - id: ", 1)[1]
    setting = "  extra_days:\n    default: 4\n    description: A new setting.\n"
    path.write_text(
        without_vc01.replace("version: 1.0.2", "version: 1.1.0", 1).replace(
            "settings:\n", "settings:\n" + setting, 1
        ),
        encoding="utf-8",
    )
    api.publish_rulesets(published, author="test", note="VC01 out")
    result = api.diff_rulesets(published, "victims-code-compliance", "1.0.2", "1.1.0")
    assert result.summary == "0 criteria changed, 0 added, 1 removed; 1 setting added"
    back = api.diff_rulesets(published, "victims-code-compliance", "1.1.0", "1.0.2")
    assert back.summary == "0 criteria changed, 1 added, 0 removed; 1 setting removed"

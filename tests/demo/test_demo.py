"""`qam demo` end to end on a smaller data set: the same code path as the README's main command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import api
from engine.cli import app


@pytest.mark.slow
def test_a_small_demo_builds_its_database_and_briefs_the_planted_problems(tmp_path: Path) -> None:
    result = api.demo(tmp_path, weeks=13, per_week=900, incidents_per_week=600)
    folder = tmp_path / "2026-W47"
    assert result.run.folder == folder
    assert (tmp_path / "demo.db").exists()
    assert len(list((tmp_path / "demo-data").glob("assessments-*.csv"))) == 13
    data = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))
    found = {(e["kind"], e["place"], e["criterion"]) for e in data["exceptions"]}
    assert ("critical", "KNG", "DA02") in found  # the planted unreferred high-risk victim
    assert ("below_standard", "HRB", "SS01") in found  # the planted grounds-recording slip
    assert {"HRB.pdf", "KNG.pdf", "force.pdf"} <= {p.name for p in folder.glob("*.pdf")}
    again = api.demo(tmp_path, weeks=13, per_week=900, incidents_per_week=600)
    assert again.run.run_id == result.run.run_id  # same seed, same data, same run
    assert again.run.files == result.run.files


def test_the_demo_command_is_documented() -> None:
    result = CliRunner().invoke(app, ["demo", "--help"])
    assert result.exit_code == 0
    assert "Example: qam demo" in result.output

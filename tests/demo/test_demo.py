"""`qam demo` end to end on a smaller data set: the same code path as the README's main command."""

from __future__ import annotations

import csv
import functools
import json
import shlex
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
    assert ("critical", "ESM", "MF05") in found  # the planted high-risk missing child nobody reviewed
    assert ("below_standard", "CRN", "CE04") in found  # the planted late CSE referrals
    assert {"HRB.pdf", "KNG.pdf", "ESM.pdf", "CRN.pdf", "force.pdf"} <= {p.name for p in folder.glob("*.pdf")}
    again = api.demo(tmp_path, weeks=13, per_week=900, incidents_per_week=600)
    assert again.run.run_id == result.run.run_id  # same seed, same data, same run
    assert again.run.files == result.run.files


@pytest.mark.slow
def test_the_demo_ends_with_how_to_explore_it_and_every_hint_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner: CliRunner
) -> None:
    small = functools.partial(api.demo, weeks=13, per_week=900, incidents_per_week=600)
    monkeypatch.setattr(api, "demo", small)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "demo"
    built = runner.invoke(app, ["demo", "--out", str(out)])
    assert built.exit_code == 0, built.output
    lines = [line.strip() for line in built.stdout.splitlines()]
    export = next(line for line in lines if line.startswith("export "))
    database, rulesets = out.resolve() / "demo.db", out.resolve() / "demo-data" / "rulesets"
    assert export == f"export QAM_DATABASE_URL=sqlite:///{database} QAM_RULESETS={rulesets}"
    commands = [line for line in lines if line.startswith("qam ")]
    # 13 weeks from 2026-08-24; stop-search-legitimacy 1.1.0 published on the 7th Monday
    assert commands == [
        "qam runs list",
        "qam assessments list --place DLW --week 2026-W47",
        f"qam peel --from 2026-08-24 --to 2026-11-22 --as-of 2026-10-04 --compare-original --out {out}",
    ]
    assert "before stop-search-legitimacy 1.1.0 of 2026-10-05" in built.stdout
    env = dict(assignment.split("=", 1) for assignment in shlex.split(export)[1:])
    runs, assessments, peel = (runner.invoke(app, shlex.split(c)[1:], env=env) for c in commands)
    assert runs.exit_code == 0 and "weekly  2026-W47" in runs.stdout, runs.output
    assert assessments.exit_code == 0 and "QA-SS-2026W47-DLW-000" in assessments.stdout, assessments.output
    assert peel.exit_code == 0, peel.output
    assert "stop-search-legitimacy 1.1.0 -> 1.0.3, SS02 changed (text, pass)" in peel.stdout
    with (out / "peel-2026-08-24-2026-11-22" / "compare.csv").open(encoding="utf-8") as fh:
        moved = list(csv.DictReader(fh))
    assert moved and {(m["criterion"], m["original_outcome"], m["rerun_outcome"]) for m in moved} == {
        ("SS02", "fail", "pass")
    }
    assert all(m["assessed_on"] >= "2026-10-05" for m in moved)  # only weeks first scored under 1.1.0
    assert not (tmp_path / "qam.db").exists()
    # with the export, official runs find the demo's rulesets folder published as it is
    assert runner.invoke(app, ["weekly", "--week", "2026-W47", "--out", str(out)], env=env).exit_code == 0


def test_the_demo_command_is_documented() -> None:
    result = CliRunner().invoke(app, ["demo", "--help"])
    assert result.exit_code == 0
    assert "Example: qam demo" in result.output

"""Team exceptions through a weekly run, on SQLite and PostgreSQL: exceptions.json keeps exactly the
place exceptions and lists the teams' apart, each team figure recomputed from the submitted rows
and equal to its aggregates.csv row, the briefing's team section and cases CSV, and `qam audit`
re-derives every file, team exceptions included, byte for byte."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from engine import api
from engine.analysis.stats import wilson_interval
from engine.cli import app
from engine.cli.weekly import print_run
from engine.core.config import Settings
from engine.core.periods import parse_week
from engine.inputs.submission_files import write_submission_csv
from tests.runs.test_weekly import WEEK, _rows


def test_a_weekly_run_lists_team_exceptions_apart_and_audits(
    published: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _rows()
    api.submit(published, [write_submission_csv(tmp_path / "week.csv", rows)])
    result = api.weekly(published, WEEK, out=tmp_path / "out")
    folder = tmp_path / "out" / WEEK
    data = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))
    # the contract's list is exactly the place exceptions, as before teams were judged
    assert {(e["kind"], e["place"], e["criterion"]) for e in data["exceptions"]} == {
        ("critical", "KNG", "DA02"),
        ("below_standard", "HRB", "SS01"),
        ("below_standard", "HRB", "SS02"),
    }
    assert all("team" not in e for e in data["exceptions"])
    teams = data["team_exceptions"]
    assert len(result.team_exceptions) == len(teams)
    print_run(result)  # qam weekly's summary line counts them apart
    assert f"0 threshold); {len(teams)} team exceptions; 2 places briefed;" in (capsys.readouterr().out)
    assert teams and {e["place"] for e in teams} == {"HRB"}  # Blackwater's and Kingsgate's teams are fine

    # each team's SS01 figure, recomputed from the submitted rows (grounds missing in 24 of HRB's 30)
    hrb = [r for r in rows if r["place"] == "HRB"]
    n = Counter(r["team"] for r in hrb)
    met = Counter(r["team"] for r in hrb if r["case_ref"] >= "SS-HRB-024")
    with (folder / "aggregates.csv").open(encoding="utf-8", newline="") as fh:
        table = {
            (r["place"], r["key"], r["dimension_key"]): r
            for r in csv.DictReader(fh)
            if r["level"] == "team" and r["dimension"] == "criterion"
        }
    ss01 = [e for e in teams if e["criterion"] == "SS01"]
    assert {e["team"] for e in ss01} == set(n)  # each of HRB's teams is wholly below 90%
    for e in ss01:
        low, high = wilson_interval(met[e["team"]], n[e["team"]])
        assert (e["n"], e["passed"]) == (n[e["team"]], met[e["team"]])
        assert (e["rate"], e["ci_low"], e["ci_high"]) == (
            round(met[e["team"]] / n[e["team"]], 3),
            round(low, 3),
            round(high, 3),
        )
        row = table[("HRB", e["team"], "SS01")]
        assert (int(row["n"]), int(row["passes"])) == (e["n"], e["passed"])
        assert e["reason"].endswith("; the place has the same exception on this criterion.")
        assert f"of the place's {len(hrb)} searches reviewed" in e["reason"]

    # the briefing names each team after the place's own issue; the cases CSV lists their cases
    text = " ".join(p.extract_text() for p in PdfReader(folder / "HRB.pdf").pages)
    assert "Team exceptions" in " ".join(text.split())
    with (folder / "HRB-cases.csv").open(encoding="utf-8", newline="") as fh:
        cases = list(csv.DictReader(fh))
    assert {r["team"] for r in cases if r["entry"] != "1"} == set(n)
    assert sorted(p.name for p in folder.glob("*.pdf")) == ["HRB.pdf", "KNG.pdf", "force.pdf"]

    report = api.audit(published, result.run_id)
    assert report.ok, report


def test_peel_counts_the_teams_exceptions_it_leaves_out_of_its_table(
    published: Settings, tmp_path: Path, runner: CliRunner
) -> None:
    """`qam peel`'s summary line and peel.pdf count the force's and places' exceptions; the teams' own
    are counted apart, by period, as many as exceptions.json (and each quarter's file) lists."""
    api.submit(published, [write_submission_csv(tmp_path / "week.csv", _rows())])
    week = parse_week(WEEK)
    args = ["--database", published.database_url, "peel", "--from", week.start.isoformat()]
    result = runner.invoke(app, [*args, "--to", week.end.isoformat(), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "out").iterdir()
    teams = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))["team_exceptions"]
    (quarter,) = [p for p in folder.glob("exceptions-*.json")]
    in_quarter = json.loads(quarter.read_text(encoding="utf-8"))["team_exceptions"]
    assert teams and len(in_quarter) == len(teams)
    assert (
        f"3 exceptions (1 critical, 2 below standard, 0 special cause, 0 threshold); {len(teams)} team exceptions; by quarter"
        in result.output
    )
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(folder / "peel.pdf").pages).split())
    label = quarter.stem.removeprefix("exceptions-")
    assert f"Teams had {len(teams)} of their own over the whole period ({label}: {len(in_quarter)})" in text

"""`qam demo` end to end on a smaller data set (tests/demo/conftest.py: 13 weeks, built once a
session): the same code path as the README's main command. Half the places are briefed for the
problems planted there; the other half have nothing outside normal variation, at place or team level."""

from __future__ import annotations

import csv
import datetime as dt
import re
import shlex
from pathlib import Path

from pypdf import PdfReader
from typer.testing import CliRunner

from engine.cli import app
from engine.core.config import DEFAULT_FORCE_FILE, load_force
from engine.demo.data import demo_plan
from engine.demo.files import incident_files, write_assessment_files
from tests.demo.conftest import INCIDENTS_PER_WEEK, PER_WEEK, WEEKS, SmallDemo, stored_answers

FORCE = load_force(DEFAULT_FORCE_FILE)
#: the places with a planted problem, and those without
BRIEFED = {"HRB", "KNG", "ASH", "DLW", "RDG", "FEN"}
QUIET = {"BLK", "CRN", "MLB", "STN", "ESM", "PRT"}
NAMES = {p.code: p.name for p in FORCE.places}


def _text(pdf: Path) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(pdf).pages))


def test_half_the_places_are_briefed_for_their_planted_problems_and_half_are_quiet(
    small_demo: SmallDemo,
) -> None:
    assert (small_demo.out / "demo.db").exists()
    assert len(list((small_demo.out / "demo-data").glob("assessments-*.csv"))) == WEEKS
    found = {(e["kind"], e["place"], e["criterion"]) for e in small_demo.exceptions}
    assert ("critical", "KNG", "DA02") in found  # the planted unreferred high-risk victim
    assert ("critical", "KNG", "DP04") in found  # the planted lapsed DVPN
    assert ("below_standard", "HRB", "SS01") in found  # the planted grounds-recording slip
    assert ("critical", "RDG", "MF05") in found  # the planted high-risk missing child nobody reviewed
    assert ("below_standard", "RDG", "CE04") in found  # the planted late CSE referrals
    assert ("below_standard", "ASH", "HC08") in found  # the planted late hate crime updates
    # Dalewood's drift needs the full demo's incidents to show (20,000 a week, not 600)
    briefed = {e["place"] for e in small_demo.exceptions}
    assert briefed == BRIEFED - {"DLW"}
    assert {e["place"] for e in small_demo.team_exceptions} <= briefed  # no team of a quiet place either
    pdfs = {p.name for p in small_demo.folder.glob("*.pdf")}
    assert pdfs == {f"{code}.pdf" for code in briefed} | {"force.pdf"}
    force = _text(small_demo.folder / "force.pdf")
    assert "5 of 12 places have a briefing this week" in force
    assert all(NAMES[code] in force for code in QUIET)  # force.pdf names the quiet places


def test_the_briefed_figures_are_those_of_the_stored_reviews(small_demo: SmallDemo) -> None:
    database, monday = small_demo.out / "demo.db", "2026-11-16"
    by_criterion = {
        (e["kind"], e["place"], e["criterion"], e.get("team") or ""): e for e in small_demo.exceptions
    }
    searches = stored_answers(database, "HRB", "stop_search", monday)
    grounds = by_criterion[("below_standard", "HRB", "SS01", "")]
    applies = [answers for _team, answers in searches if answers["power"] not in ("s60", "s47a")]  # SS01's
    assert (grounds["n"], grounds["passed"]) == (
        len(applies),
        sum(answers["grounds_recorded"] == "yes" for answers in applies),
    )
    reports = [
        a
        for _team, a in stored_answers(database, "ASH", "hate_crime", monday)
        if a["report_type"] == "crime" and a["recorded_on"]  # HC08's
    ]
    days = [
        dt.date.fromisoformat(a["first_update_on"]) - dt.date.fromisoformat(a["recorded_on"]) for a in reports
    ]
    updates = by_criterion[("below_standard", "ASH", "HC08", "")]
    assert (updates["n"], updates["passed"]) == (len(days), sum(d.days <= 7 for d in days))  # 5 working days


def test_the_same_seed_generates_the_same_source_files(small_demo: SmallDemo, tmp_path: Path) -> None:
    plan = demo_plan(dt.date(2026, 11, 16), weeks=WEEKS, per_week=PER_WEEK)
    files, _n = write_assessment_files(tmp_path, FORCE.places, plan)
    files += list(incident_files(tmp_path, FORCE.places, plan, per_week=INCIDENTS_PER_WEEK))
    built = small_demo.out / "demo-data"
    assert len(files) == 2 * WEEKS
    assert all(f.read_bytes() == (built / f.name).read_bytes() for f in files)


def test_the_demo_ends_with_how_to_explore_it_and_every_hint_works(
    small_demo: SmallDemo, runner: CliRunner
) -> None:
    out = small_demo.out
    lines = [line.strip() for line in small_demo.stdout.splitlines()]
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
    assert "before stop-search-legitimacy 1.1.0 of 2026-10-05" in small_demo.stdout
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
    assert not (out.parent / "qam.db").exists()
    # with the export, official runs find the demo's rulesets folder published as it is; the same
    # data give the same run and the same bytes
    (run_id,) = re.findall(r"\(run ([0-9a-f]{16})\)", small_demo.stdout)
    written = {p.name: p.read_bytes() for p in small_demo.folder.iterdir()}
    again = runner.invoke(app, ["weekly", "--week", "2026-W47", "--out", str(out)], env=env)
    assert again.exit_code == 0 and f"(run {run_id})" in again.stdout, again.output
    assert {p.name: p.read_bytes() for p in small_demo.folder.iterdir()} == written


def test_the_demo_command_is_documented() -> None:
    result = CliRunner().invoke(app, ["demo", "--help"])
    assert result.exit_code == 0
    assert "Example: qam demo" in result.output

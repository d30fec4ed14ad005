"""The demo's DVPN and Clare's Law, vulnerable caller, complaint handling and high-impact investigation
reviews (engine.demo.data_prevention): every generated row is valid, the same seed gives the same rows
and leaves the other case types' rows as they were, and the weekly run for the demo week raises
exactly the two planted problems on these forms (Stonebridge's DVPO heard out of time, critical, and
Fenwick's late first contact with complainants) and nothing else on them."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

from pypdf import PdfReader
from typer.testing import CliRunner

from engine.cli import app
from engine.core.config import DEFAULT_FORCE_FILE, load_force
from engine.core.models import COMMON_COLUMNS
from engine.demo.data import REVIEWERS, SEED, TEAMS, demo_plan
from engine.demo.data_prevention import PREFIX, prevention_assessments
from engine.demo.data_safeguarding import safeguarding_assessments

FORCE = load_force(DEFAULT_FORCE_FILE)
MONDAYS = demo_plan(dt.date(2026, 11, 16), weeks=8).weeks  # to the demo week, 2026-W47
RULESETS = {
    "dvpn-dvds-decisions",
    "vulnerable-caller-management",
    "complaint-handling",
    "high-impact-investigation",
}


def _rows(seed: int = SEED) -> list[dict[str, str]]:
    return list(prevention_assessments(FORCE.places, MONDAYS, seed, REVIEWERS, TEAMS))


def test_the_rows_are_the_same_for_the_same_seed_and_cover_every_place_and_type() -> None:
    rows = _rows()
    assert rows == _rows() and rows != _rows(SEED + 1)
    assert {(r["case_type"], r["place"]) for r in rows} == {(t, p.code) for t in PREFIX for p in FORCE.places}
    assert len({r["assessment_id"] for r in rows}) == len(rows)
    # the newer types draw from their own seed: the safeguarding types' rows do not move
    before = list(safeguarding_assessments(FORCE.places, MONDAYS, SEED, REVIEWERS, TEAMS))
    assert before == list(safeguarding_assessments(FORCE.places, MONDAYS, SEED, REVIEWERS, TEAMS))


def _text(pdf: Path) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(pdf).pages))


def test_the_demo_week_briefs_exactly_the_planted_problems(tmp_path: Path) -> None:
    rows = _rows()
    path = tmp_path / "prevention.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(
            fh, fieldnames=list(COMMON_COLUMNS) + sorted({k for r in rows for k in r} - set(COMMON_COLUMNS))
        )
        writer.writeheader()
        writer.writerows(rows)
    env = {"QAM_DATABASE_URL": f"sqlite:///{tmp_path / 'qam.db'}"}
    runner = CliRunner()
    for args in (
        ["init"],
        ["rulesets", "publish", "--author", "test", "--note", "demo"],
        ["submit", str(path)],
        ["weekly", "--week", "2026-W47", "--out", str(tmp_path / "out")],
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output  # every generated row is valid
    folder = tmp_path / "out" / "2026-W47"
    exceptions = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))["exceptions"]
    found = {(e["kind"], e["place"], e["criterion"]) for e in exceptions if e["ruleset"] in RULESETS}
    assert found == {("critical", "STN", "DP04"), ("below_standard", "FEN", "CH02")}
    # the items themselves fall out of their usual range in those two places only
    assert {(e["place"], e["measure"]) for e in exceptions if e["kind"] == "special_cause"} <= {
        ("STN", "M6"),
        ("FEN", "D12"),
    }
    assert sorted(p.name for p in folder.glob("*.pdf")) == ["FEN.pdf", "STN.pdf", "force.pdf"]
    stn = _text(folder / "STN.pdf")
    assert "DP-2026W47-STN-900" in stn and "heard within 48 hours of the DVPN" in stn
    assert "so the DVPN lapsed" in stn  # the reviewer's note
    fen = _text(folder / "FEN.pdf")
    assert (
        "The complainant was first contacted within the force's time" in fen and "complaints reviewed" in fen
    )

"""The demo's DVPN and Clare's Law, vulnerable caller, complaint handling and high-impact investigation
reviews (engine.demo.data_prevention): every generated row is valid, the same seed gives the same rows
and leaves the other case types' rows as they were, and the weekly run for the demo week raises
exactly the two planted problems on these forms (Kingsgate's DVPO heard out of time, critical, and
Fenwick's late first contact with complainants) and nothing else on them (the session's small demo:
tests/demo/conftest.py)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pypdf import PdfReader

from engine.core.config import DEFAULT_FORCE_FILE, load_force
from engine.demo.data import REVIEWERS, SEED, TEAMS, demo_plan
from engine.demo.data_prevention import PREFIX, prevention_assessments
from engine.demo.data_safeguarding import safeguarding_assessments
from tests.demo.conftest import SmallDemo

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


def test_the_demo_week_briefs_exactly_the_planted_problems(small_demo: SmallDemo) -> None:
    exceptions = small_demo.exceptions
    found = {
        (e["kind"], e["place"], e["criterion"])
        for e in exceptions
        if e["ruleset"] in RULESETS and e["criterion"]
    }
    assert found == {("critical", "KNG", "DP04"), ("below_standard", "FEN", "CH02")}
    # the items themselves fall out of their usual range in those two places only
    assert {(e["place"], e["measure"]) for e in exceptions if e["kind"] == "special_cause"} & {
        (p.code, m) for p in FORCE.places for m in ("M6", "D12")
    } <= {("KNG", "M6"), ("FEN", "D12")}
    kng = _text(small_demo.folder / "KNG.pdf")
    assert "DP-2026W47-KNG-900" in kng and "heard within 48 hours of the DVPN" in kng
    assert "so the DVPN lapsed" in kng  # the reviewer's note
    fen = _text(small_demo.folder / "FEN.pdf")
    assert (
        "The complainant was first contacted within the force's time" in fen and "complaints reviewed" in fen
    )

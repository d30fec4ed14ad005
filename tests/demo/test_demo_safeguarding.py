"""The demo's missing from home, child sexual exploitation, hate crime and problem-solving reviews
(engine.demo.data_safeguarding): valid rows of every week, the four planted problems of 2026-W47
found by the small demo's weekly run (tests/demo/conftest.py), and nothing else of theirs outside
normal variation."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from engine.core.config import DEFAULT_FORCE_FILE, load_force
from engine.core.periods import week_label
from engine.demo.data import REVIEWERS, TEAMS, demo_plan
from engine.demo.data_safeguarding import PREFIX, safeguarding_assessments
from engine.inputs.forms import load_forms
from engine.inputs.submission_files import RawRow
from engine.inputs.submissions import validate_rows
from tests.demo.conftest import SmallDemo

FORCE = load_force(DEFAULT_FORCE_FILE)
PLAN = demo_plan(dt.date(2026, 11, 16))  # the demo's 26 weeks to 2026-W47
RULESETS = ("missing-from-home", "child-sexual-exploitation", "hate-crime", "problem-solving-quality")


def _rows() -> list[dict[str, str]]:
    return list(safeguarding_assessments(FORCE.places, PLAN.weeks, PLAN.seed, REVIEWERS, TEAMS))


def test_every_week_has_a_few_valid_reviews_of_each_type_in_every_place() -> None:
    rows = _rows()
    assert rows == _rows()  # seeded: the same rows every time
    raw = [RawRow("demo.csv", i + 2, {k: str(v) for k, v in r.items()}) for i, r in enumerate(rows)]
    valid, problems = validate_rows(
        raw, load_forms(Path(__file__).resolve().parents[2] / "qa_forms"), FORCE.place_codes
    )
    assert not problems and len(valid) == len(rows)
    per = Counter(
        (r["case_type"], r["place"], week_label(dt.date.fromisoformat(r["assessed_on"]))) for r in rows
    )
    assert {t for t, _, _ in per} == set(PREFIX)
    assert len(per) == len(PREFIX) * len(FORCE.places) * len(PLAN.weeks)
    assert 4000 < len(rows) < 5000  # about 14 a place a week: a QA team's sample, not the whole demand
    notes = Counter(r["note_kind"] for r in rows if r["notes"])
    assert notes["learning"] >= 4 and notes["good_practice"] >= 10


def test_the_demo_week_briefs_the_planted_problems_and_nothing_else_of_these_reviews(
    small_demo: SmallDemo,
) -> None:
    found = {
        (e["kind"], e["place"], e["criterion"])
        for e in small_demo.exceptions
        if e["ruleset"] in RULESETS and e["criterion"]
    }
    assert found == {
        ("critical", "RDG", "MF05"),  # Ridgeway: a high-risk missing child no supervisor reviewed
        ("below_standard", "RDG", "MF07"),  # ... nor an inspector
        ("below_standard", "RDG", "MF11"),  # Ridgeway: return home interviews offered late
        ("below_standard", "RDG", "CE04"),  # Ridgeway: CSE referrals days late
        ("below_standard", "ASH", "HC08"),  # Ashford Vale: hate crime victims updated late
    }
    assert not any(e["measure"] == "D10" for e in small_demo.exceptions)  # problem solving: all normal

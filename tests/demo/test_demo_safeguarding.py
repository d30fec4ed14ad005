"""The demo's missing from home, child sexual exploitation, hate crime and problem-solving reviews
(engine.demo.data_safeguarding): valid rows of every week, the four planted problems of 2026-W47
found by a weekly run on those reviews, and nothing else of theirs outside normal variation."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from engine import api
from engine.core.config import DEFAULT_FORCE_FILE, Settings, load_force
from engine.core.periods import week_label
from engine.demo.data import REVIEWERS, TEAMS, demo_plan
from engine.demo.data_safeguarding import PREFIX, safeguarding_assessments
from engine.inputs.forms import load_forms
from engine.inputs.submission_files import RawRow, write_submission_csv
from engine.inputs.submissions import validate_rows

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


@pytest.mark.slow
def test_the_weekly_run_finds_the_planted_problems_and_nothing_else_of_these_reviews(
    settings: Settings, tmp_path: Path
) -> None:
    api.init_database(settings)
    by_week: dict[str, list[dict[str, str]]] = {}
    for row in _rows():
        by_week.setdefault(week_label(dt.date.fromisoformat(row["assessed_on"])), []).append(row)
    files = []
    for label, rows in sorted(by_week.items()):
        files.append(tmp_path / f"assessments-{label}.csv")
        write_submission_csv(files[-1], rows)
    api.submit(settings, files)
    result = api.weekly(settings, "2026-W47", out=tmp_path / "out", draft=True)
    data = json.loads((result.folder / "exceptions.json").read_text(encoding="utf-8"))
    found = {
        (e["kind"], e["place"], e["criterion"])
        for e in data["exceptions"]
        if e["ruleset"] in RULESETS and e["criterion"]
    }
    assert found == {
        ("critical", "ESM", "MF05"),  # Eastmarsh: a high-risk missing child no supervisor reviewed
        ("below_standard", "ESM", "MF07"),  # ... nor an inspector
        ("below_standard", "RDG", "MF11"),  # Ridgeway: return home interviews offered late
        ("below_standard", "CRN", "CE04"),  # Cranmoor: CSE referrals days late
        ("below_standard", "BLK", "HC08"),  # Blackwater: hate crime victims updated late
    }
    assert not any(e["measure"] == "D10" for e in data["exceptions"])  # problem solving: all normal

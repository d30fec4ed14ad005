"""A weekly run's force.pdf ends with a short Recognition section listing the week's improvements
(engine.analysis.recognition), on SQLite and PostgreSQL; the exceptions are unchanged, a week
without an improvement has no such section, and an audit re-derives the run byte for byte."""

from __future__ import annotations

import datetime as dt
import io
import json

from pypdf import PdfReader
from sqlalchemy import select

from engine.demo.factories import build_row
from engine.store.db import Assessment
from engine.store.note_kinds import note_kinds_of
from tests.runs.world import SUBMITTED_AT, World

W47_MONDAY = dt.date(2026, 11, 16)


def force_text(world: World) -> str:
    data = (world.out / "2026-W47" / "force.pdf").read_bytes()
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages)


def kingsgate_weeks(passing: list[int], n: int = 20) -> list[dict[str, str]]:
    """Kingsgate's searches, one week an entry ending with 2026-W47: ``passing`` of ``n`` met every
    criterion, the rest had no grounds recorded."""
    rows = []
    for w, k in enumerate(passing):
        day = W47_MONDAY - dt.timedelta(weeks=len(passing) - 1 - w) + dt.timedelta(days=1)
        for i in range(n):
            rows.append(
                build_row(
                    "stop_search",
                    assessment_id=f"QA-KNG-{w:02d}-{i:02d}",
                    case_ref=f"SS-KNG-{w:02d}-{i:02d}",
                    place="KNG",
                    assessed_on=day.isoformat(),
                    case_date=(day - dt.timedelta(days=3)).isoformat(),
                    grounds_missing=i >= k,
                )
            )
    return rows


def test_force_pdf_recognises_a_weeks_improvement(world: World) -> None:
    # 12 weeks at 80% and 90%, then 8 weeks at 100%: a shift above the usual average of 85%
    world.submit(kingsgate_weeks([16, 18] * 6 + [20] * 8), at=SUBMITTED_AT)
    run_id = world.weekly()
    text = force_text(world)
    section = text[text.index("Recognition Where a place's weekly series moved") :]
    assert (
        "Kingsgate · D11 Stop and search (improvement): Compliance with stop and search has been above this place's usual "
        "average of 85% for 9 weeks running, most recently 100% in week 2026-W47." in section
    )
    assert section.count("(improvement)") == 1
    exceptions = json.loads((world.out / "2026-W47" / "exceptions.json").read_text())["exceptions"]
    assert "KNG" not in {e["place"] for e in exceptions}  # good news is never an exception
    report = world.audit(run_id)
    assert report.ok, report.summary


def test_a_week_without_an_improvement_has_no_recognition_section(world: World) -> None:
    world.submit(kingsgate_weeks([16, 18] * 6 + [17, 18]), at=SUBMITTED_AT)
    world.weekly()
    assert "Recognition" not in force_text(world)


def test_the_note_kinds_reviewers_gave_are_read_back(world: World) -> None:
    marked = {"good_practice": "SS-NK-1", "learning": "SS-NK-2", "": "SS-NK-3"}
    world.submit(
        [
            build_row("stop_search", case_ref=ref, notes="A note", note_kind=kind, case_date="2026-11-16")
            for kind, ref in marked.items()
        ],
        at=SUBMITTED_AT,
    )
    with world.database.session() as session:
        q = select(Assessment.case_ref, Assessment.pk).where(Assessment.case_ref.like("SS-NK-%"))
        keys: dict[str, int] = {ref: pk for ref, pk in session.execute(q)}
        kinds = note_kinds_of(session, [*keys.values(), 10**9])  # an unknown key is left out
    assert kinds == {keys["SS-NK-1"]: "good_practice", keys["SS-NK-2"]: "learning"}

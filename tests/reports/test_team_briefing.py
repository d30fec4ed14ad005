"""Team exceptions in the outputs: a place briefing shows its own teams' after its own exceptions
(never another place's), a place with team exceptions only is briefed, the cases CSV numbers their
entries as the PDF does, force.pdf counts them per place, and the e-mails list them."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from engine.analysis.aggregate import aggregate
from engine.analysis.exceptions_file import team_entry
from engine.analysis.findings import PeriodFindings, assess_period
from engine.analysis.outcomes import in_period, outcomes_frame
from engine.analysis.team_findings import with_team_days
from engine.reports.briefing import place_pdf
from engine.reports.briefing_data import PlaceBriefing, build_place_briefings
from engine.reports.cases_csv import case_rows
from engine.reports.force_brief import force_pdf
from engine.reports.force_data import build_force_summary
from engine.reports.mail_message import Period as MailPeriod
from engine.reports.mail_message import exceptions_of, force_body, place_body
from tests.analysis.scenarios import CRITERIA, FROM, MEASURES, TO, Scenario
from tests.reports.briefing_cases import PLACES, run


@pytest.fixture(scope="module")
def found() -> PeriodFindings:
    """Blackwater: below standard, and so is its team Response A; Cranmoor: below standard, one
    team; Kingsgate: fine as a whole (305 of 330), but its team Response X met SS01 in 5 of 30."""
    s = Scenario()
    s.cases("BLK", "SS01", passes=5, fails=25, team="Response A")
    s.cases("BLK", "SS01", passes=40, team="Response B")
    s.cases("CRN", "SS01", passes=5, fails=25, team="Response A")
    s.cases("KNG", "SS01", passes=5, fails=25, team="Response X")
    s.cases("KNG", "SS01", passes=300, team="Response Y")
    outcomes = outcomes_frame(s.rows, CRITERIA, MEASURES)
    table = aggregate(in_period(outcomes, FROM, TO), "2026-W47", levels=("place", "team"))
    return assess_period(outcomes, FROM, TO, aggregates=table, outcome_days=with_team_days(outcomes))


@pytest.fixture(scope="module")
def briefed(found: PeriodFindings) -> dict[str, PlaceBriefing]:
    built = build_place_briefings(found.exceptions, PLACES, {}, run(), team_exceptions=found.team_exceptions)
    return {b.place.code: b for b in built}


def text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages)


def test_the_findings_are_what_the_briefings_are_built_from(found: PeriodFindings) -> None:
    assert sorted(e.place for e in found.exceptions) == ["BLK", "CRN"]
    assert sorted((e.place, e.team) for e in found.team_exceptions) == [
        ("BLK", "Response A"),
        ("KNG", "Response X"),
    ]


def test_a_team_exception_is_in_its_own_places_briefing_only(briefed: dict[str, PlaceBriefing]) -> None:
    assert [e.team for e in briefed["BLK"].team_exceptions] == ["Response A"]
    assert briefed["CRN"].team_exceptions == ()  # Cranmoor's one team holds all its cases
    blackwater, cranmoor = text(place_pdf(briefed["BLK"]).data), text(place_pdf(briefed["CRN"]).data)
    assert "Team exceptions: 1 in 1 team (Response A): 1 below standard." in blackwater
    assert "2. Team Response A · Below standard · D11" in blackwater
    assert "of the place's 70 searches reviewed" in blackwater
    assert "Team exceptions" not in cranmoor and "of the place's" not in cranmoor
    # the place's own issue comes first, the team's after it
    assert blackwater.index("1. Below standard · D11") < blackwater.index("2. Team Response A")


def test_a_place_with_team_exceptions_only_is_briefed(briefed: dict[str, PlaceBriefing]) -> None:
    kingsgate = briefed["KNG"]
    assert kingsgate.exceptions == () and len(kingsgate.team_exceptions) == 1
    page = text(place_pdf(kingsgate).data)
    assert "No exceptions for the place as a whole this week." in page
    assert "Team exceptions: 1 in 1 team (Response X): 1 below standard." in page
    assert "1. Team Response X · Below standard · D11" in page
    # its priorities' lines say the place as a whole has none, not that nothing was found
    assert (
        "Priority 4: Build trust and confidence: no exceptions for the place as a whole (team exceptions above) this week."
        in page
    )
    # its failing cases are in its cases CSV, numbered as its section
    rows = case_rows(kingsgate)
    assert len(rows) == 25 and {(r["entry"], r["team"], r["place"]) for r in rows} == {
        ("1", "Response X", "KNG")
    }


def test_force_pdf_counts_each_places_team_exceptions_apart(found: PeriodFindings) -> None:
    s = build_force_summary(found.exceptions, PLACES, run(), team_exceptions=found.team_exceptions)
    assert {pc.place.code: (sum(pc.counts), pc.teams) for pc in s.overview} == {
        "BLK": (1, 1),
        "CRN": (1, 0),
        "KNG": (0, 1),
    }
    assert [p.code for p in s.places_briefed] == ["BLK", "CRN", "KNG"]
    page = text(force_pdf(s).data)
    assert "Kingsgate Central – – – – 1 " in page
    assert "Blackwater West – 1 – – 1 D11" in page
    assert "2 exceptions: 2 below standard. Team exceptions: 2." in page


def test_the_emails_list_team_exceptions_as_exceptions_json_states_them(found: PeriodFindings) -> None:
    entries = [e.to_json() for e in found.exceptions] + [team_entry(e) for e in found.team_exceptions]
    read = exceptions_of(entries)
    assert [(e.place, e.team) for e in read if e.team] == [("BLK", "Response A"), ("KNG", "Response X")]
    period = MailPeriod("2026-W47", FROM.isoformat(), TO.isoformat())
    names = {"D11": "Stop and search legitimacy"}
    kingsgate = next(p for p in PLACES if p.code == "KNG")
    mail = place_body(
        kingsgate,
        "Demo Constabulary",
        period,
        [e for e in read if e.place == "KNG"],
        "r1",
        measure_names=names,
    )
    assert "No exceptions for the place as a whole this week." in mail.text
    assert (
        "Team exceptions\n\nTeam Response X\n\n- Below standard · D11 Stop and search legitimacy · SS01:"
        in (mail.text)
    )
    assert "(section 1)" in mail.text and mail.subject.endswith("1 team exceptions")
    force = force_body("Demo Constabulary", PLACES, period, read, "r1", measure_names=names)
    assert "Kingsgate (KNG), Central: 1 team exceptions" in force.text
    assert "Blackwater (BLK), West: 1 below standard, 1 team exceptions · D11" in force.text
    assert force.text.count("below standard") == 3  # the heading's 2 place exceptions, Blackwater, Cranmoor

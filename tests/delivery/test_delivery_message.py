"""The words of a message (engine.reports.mail_message), from exceptions.json's entries: the subject's
counts critical first, the exceptions most serious first under their priority as page 1 orders
them, user text escaped in the HTML, the force summary's places critical first then by name."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.core.config import Place
from engine.reports.mail_message import (
    Period,
    Replacing,
    exceptions_of,
    force_body,
    place_body,
    withdrawal_body,
)

WEEK = Period("2026-W47", "2026-11-16", "2026-11-22")
NAMES = {"D11": "Stop and search", "D7": "Safeguarding", "M2": "Response"}
PRIORITIES = {1: "One", 2: "Two", 3: "Three", 4: "Four"}


def entry(
    place: str, kind: str, measure: str, priority: int, criterion: str, reason: str, cases: int
) -> dict[str, Any]:
    return {
        "place": place,
        "priority": priority,
        "measure": measure,
        "peel": "legitimacy",
        "iserve": ["engagement"],
        "ruleset": "r",
        "criterion": criterion,
        "kind": kind,
        "reason": reason,
        "n": 10,
        "passed": 5,
        "rate": 0.5,
        "ci_low": 0.2,
        "ci_high": 0.8,
        "standard": 0.9,
        "cases": [f"C{i}" for i in range(cases)],
    }


ENTRIES = [
    entry("BLK", "special_cause", "M2", 1, "RS01", "Grade 1 slower than usual.", 0),
    entry("BLK", "below_standard", "D11", 4, "SS01", "Grounds <b>not</b> recorded & more.", 3),
    entry("BLK", "critical", "D7", 3, "DA02", "A high-risk victim was not referred.", 1),
    entry("BLK", "below_standard", "M2", 1, "RS02", "Grade 2 below standard.", 0),
]
BLK = Place("BLK", "Blackwater", "West", "Chief Inspector R. Example", "urban")
HRB = Place("HRB", "Harbourside", "West", "Chief Inspector J. Patel", "urban")
ASH = Place("ASH", "Ashford Vale", "Central", "Chief Inspector M. Byrne", "urban")


def test_the_subject_counts_by_kind_critical_first() -> None:
    body = place_body(BLK, "Demo", WEEK, exceptions_of(ENTRIES), "0123456789abcdef", measure_names=NAMES)
    assert body.subject == (
        "Blackwater (BLK) exception briefing 2026-W47: 1 critical failure, 2 below standard, 1 special cause"
    )


def test_exceptions_come_most_serious_first_under_their_priority() -> None:
    body = place_body(
        BLK,
        "Demo",
        WEEK,
        exceptions_of(ENTRIES),
        "0123456789abcdef",
        measure_names=NAMES,
        priority_names=PRIORITIES,
    )
    lines = [line for line in body.text.splitlines() if line.startswith(("Priority", "- "))]
    assert lines == [
        "Priority 3: Three",
        "- Critical failure · D7 Safeguarding · DA02: A high-risk victim was not referred. (1 failing case; section 1)",
        "Priority 1: One",
        "- Below standard · M2 Response · RS02: Grade 2 below standard. (section 2)",
        "- Special cause · M2 Response · RS01: Grade 1 slower than usual. (section 2)",
        "Priority 4: Four",
        "- Below standard · D11 Stop and search · SS01: Grounds <b>not</b> recorded & more. (3 failing cases; section 3)",
    ]
    assert "4 issues" not in body.text and "3 issues, raised by 4 exceptions" in body.text


def test_user_text_is_escaped_in_the_html() -> None:
    body = place_body(
        BLK, "Demo <Force>", WEEK, exceptions_of(ENTRIES), "0123456789abcdef", measure_names=NAMES
    )
    assert "Grounds &lt;b&gt;not&lt;/b&gt; recorded &amp; more." in body.html
    assert "<b>not</b>" not in body.html and "Demo &lt;Force&gt;" in body.html


def test_an_update_says_what_it_replaces() -> None:
    earlier = Replacing(
        dt.datetime(2026, 11, 23, 7, 2, tzinfo=dt.UTC), "fedcba9876543210", "<old@x.org>", "briefing"
    )
    body = place_body(
        BLK, "Demo", WEEK, exceptions_of(ENTRIES), "0123456789abcdef", measure_names=NAMES, replacing=earlier
    )
    assert body.subject.startswith("Updated: Blackwater (BLK) exception briefing 2026-W47")
    assert (
        "This replaces the briefing sent on 23 November 2026 at 07:02 UTC (run fedcba9876543210)."
        in body.text
    )
    notice = withdrawal_body("Blackwater (BLK) exception briefing", WEEK, "0123456789abcdef", earlier)
    assert (
        notice.subject
        == "Withdrawn: Blackwater (BLK) exception briefing 2026-W47: no exceptions in the latest run"
    )
    assert "This replaces the briefing sent on 23 November 2026" in notice.text


def test_the_force_summary_lists_places_critical_first_then_by_name() -> None:
    entries = [
        *ENTRIES,
        entry("HRB", "below_standard", "D11", 4, "SS01", "x", 2),
        entry("ASH", "special_cause", "M2", 1, "RS01", "y", 0),
    ]
    body = force_body(
        "Demo", (BLK, HRB, ASH, Place("CRN", "Cranmoor", "West", "L", "rural")), WEEK, exceptions_of(entries), "r",
        measure_names=NAMES,
    )  # fmt: skip
    places = [line for line in body.text.splitlines() if line.startswith("- ")]
    assert (
        places
        == [
            "- Blackwater (BLK), West: 1 critical failure, 2 below standard, 1 special cause · D7, D11, M2",  # as force.pdf orders them
            "- Ashford Vale (ASH), Central: 1 special cause · M2",
            "- Harbourside (HRB), West: 1 below standard · D11",
        ]
    )
    assert "No exceptions this week: Cranmoor." in body.text
    assert body.subject == (
        "Demo force summary 2026-W47: 3 of 4 places with exceptions: "
        "1 critical failure, 3 below standard, 2 special cause"
    )

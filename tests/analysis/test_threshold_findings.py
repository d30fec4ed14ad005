"""engine.analysis.threshold_findings: a response standard is breached only when the whole interval of
the incidents meeting it misses the standard; the Grade 1 reason names the place's own standard."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.analysis.incidents import incidents_frame
from engine.analysis.outcomes import outcomes_frame
from tests.analysis.scenarios import (
    CRITERIA,
    MEASURES,
    SETTINGS,
    STANDARDS,
    assess,
    assess_incidents,
    calls,
    kinds,
)


def test_threshold_breach_from_the_incidents_extract() -> None:
    rows = calls("BLK", "999", [5] * 80 + [15] * 20)  # 80% within 10 s, interval 71% - 87%
    rows += calls("RVS", "999", [5] * 8 + [15] * 2)  # also 80%, but only 10 calls: 49% - 94%
    found = assess_incidents(rows)
    assert kinds(found.exceptions) == [("threshold", "BLK", "M2", "RS03")]
    e = found.exceptions[0]
    assert (e.n, e.passed, e.ruleset, e.priority, e.peel, e.cases) == (
        100,
        80,
        "response-standards",
        1,
        "effectiveness",
        (),
    )
    assert e.reason == (
        "999 calls were answered within 10 seconds in 80 of 100 calls (80%); the standard is 90%; even allowing "
        "for normal variation the true rate is at most 87%."
    )
    (note,) = found.small_samples
    assert (note.place, note.criterion, note.n) == ("RVS", "RS03", 10)


def test_grade_1_reason_names_the_place_standard() -> None:
    arrivals = [10] * 10 + [25] * 30
    rows = [
        {
            "incident_ref": f"G1-{i}",
            "place": "RVS",
            "grade": 1,
            "channel": "999",
            "received_at": datetime(2026, 11, 17, 9, i),
            "answered_at": datetime(2026, 11, 17, 9, i, 5),
            "arrived_at": datetime(2026, 11, 17, 9, i) + timedelta(minutes=m),
        }
        for i, m in enumerate(arrivals)
    ]
    (e,) = assess_incidents(rows).exceptions
    assert e.criterion == "RS01"
    assert e.reason.startswith(
        "Grade 1 incidents were attended within 20 minutes in 10 of 40 incidents (25%)"
    )


def test_a_threshold_exception_carries_its_guidance() -> None:
    rows = calls("BLK", "999", [5] * 80 + [15] * 20)
    guidance = "The control room manager moves call handlers to 999 at peak hours."
    standards = [{**st, "guidance": guidance} if st["criterion"] == "RS03" else st for st in STANDARDS]
    found = assess(
        outcomes_frame([], CRITERIA, MEASURES),
        incidents_frame(rows, SETTINGS),
        metric_standards=standards,
        place_settings=SETTINGS,
    )
    assert [(e.kind.value, e.criterion, e.guidance) for e in found.exceptions] == [
        ("threshold", "RS03", guidance)
    ]

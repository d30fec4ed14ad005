"""engine.analysis.outcomes: outcome rows framed with their catalogue (unknown criteria and outcomes
refused), the period they fall in, and the failing rows with their case details."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.analysis.outcomes import failures, in_period, outcomes_frame
from tests.analysis.sample_rows import CRITERIA, DAY, MEASURES, SS, frame, row


def test_unknown_criterion_or_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="no criteria metadata for stop-search-legitimacy/SS99"):
        frame([row("BLK", "SS99", "pass", "A")])
    with pytest.raises(ValueError, match="unknown outcome value"):
        frame([row("BLK", "SS01", "yes", "A")])
    with pytest.raises(ValueError, match="lack column"):
        outcomes_frame([{"case_ref": "A"}], CRITERIA, MEASURES)


def test_critical_comes_from_the_row_or_else_the_catalogue() -> None:
    o = frame([row("BLK", "SS02", "fail", "A"), row("BLK", "SS01", "fail", "B", critical=True)])
    assert {r["case_ref"] for r in failures(o, critical=True)} == {"A", "B"}


def test_in_period_selects_by_assessment_date() -> None:
    rows = [row("BLK", "SS01", "pass", f"C{d}", assessed_on=DAY + timedelta(days=d)) for d in range(-3, 8)]
    o = in_period(frame(rows), date(2026, 11, 16), date(2026, 11, 22))
    assert sorted(o.frame["case_ref"].astype(str)) == [f"C{d}" for d in range(-1, 6)]


def test_failures_carry_the_case_details() -> None:
    rows = [
        row(
            "BLK",
            "SS01",
            "fail",
            "A",
            trace=("grounds_recorded is 'no'",),
            note="No grounds written",
            reviewer="R1",
        ),
        row("BLK", "SS03", "fail", "B"),
        row("RVS", "SS01", "fail", "C"),
    ]
    got = failures(frame(rows), cells=[("BLK", SS, "SS01")])
    assert got == [
        {
            "place": "BLK",
            "ruleset": SS,
            "criterion": "SS01",
            "criterion_text": "Grounds recorded",
            "measure": "D11",
            "week": "2026-W47",
            "case_ref": "A",
            "case_type": "stop_search",
            "team": "Response 1",
            "officer": "PC 1",
            "reviewer": "R1",
            "assessed_on": "2026-11-17",
            "trace": ("grounds_recorded is 'no'",),
            "note": "No grounds written",
            "critical": False,
        }
    ]
    by_week = failures(frame(rows), measure_weeks=[("BLK", "D11", "2026-W47")])
    assert [r["case_ref"] for r in by_week] == ["A", "B"]

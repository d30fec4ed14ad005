"""engine.analysis.criteria_findings: every critical failure is an exception; a place is below standard
only when the whole interval misses the minimum; small samples are recorded, not raised."""

from __future__ import annotations

from datetime import timedelta

from engine.analysis.outcomes import outcomes_frame
from engine.core.models import ExceptionKind
from tests.analysis.scenarios import CRITERIA, FROM, MEASURES, Scenario, assess, kinds

GUIDANCE = {
    "SS01": "Sergeants check every search record for its grounds before the end of the shift.",
    "SS02": "The duty inspector reviews each strip search the same day; the officer refers unauthorised ones to PSD.",
}


def test_every_critical_failure_is_an_exception_whatever_the_rate() -> None:
    s = Scenario()
    s.cases("BLK", "SS02", passes=40)
    failing = s.cases("BLK", "SS02", passes=0, fails=2, na=10)[:2]
    s.cases("RVS", "SS02", passes=3, na=5)
    found = s.assess().exceptions
    assert kinds(found) == [("critical", "BLK", "D11", "SS02")]
    e = found[0]
    assert e.cases == tuple(failing)
    assert (e.n, e.passed, e.priority, e.peel) == (42, 40, 4, "legitimacy")
    assert [d.case_ref for d in e.details] == failing
    assert e.details[0].trace == ("SS02 not met",)
    assert (e.details[0].officer, e.details[0].reviewer, e.details[0].assessed_on) == (
        "PC 7",
        "QA 2",
        "2026-11-16",
    )
    assert e.reason == (
        f"Strip search authorised by an inspector: not met in 2 cases ({failing[0]}, {failing[1]}); "
        "this is a critical standard, so every failure is reported."
    )


def test_critical_failures_outside_the_period_are_not_reported() -> None:
    s = Scenario()
    s.cases("BLK", "SS02", passes=0, fails=1, day=FROM - timedelta(days=1))
    s.cases("BLK", "SS02", passes=1)
    assert s.assess().exceptions == []


def test_below_standard_when_the_whole_interval_is_below_the_minimum() -> None:
    s = Scenario()
    s.cases("BLK", "SS01", passes=5, fails=25)
    found = s.assess().exceptions
    assert kinds(found) == [("below_standard", "BLK", "D11", "SS01")]
    e = found[0]
    assert e.to_json()["rate"] == 0.167 and e.to_json()["ci_low"] == 0.073 and e.to_json()["ci_high"] == 0.336
    assert e.standard == 0.9 and len(e.cases) == 25 and len(e.details) == 25
    assert e.reason == (
        "Grounds for the search are recorded: met in 5 of 30 searches reviewed (17%); the minimum standard "
        "is 90%; even allowing for sampling the true rate is at most 34%."
    )


def test_small_sample_raises_no_alarm_but_is_recorded_with_the_cases_needed() -> None:
    s = Scenario()
    s.cases("RVS", "SS01", passes=2, fails=1)  # 67% against 90%, interval 21% - 94%
    found = s.assess()
    assert found.exceptions == []
    (note,) = found.small_samples
    assert (note.place, note.criterion, note.n, note.passed, note.cases_needed) == ("RVS", "SS01", 3, 2, 7)
    assert note.note == (
        "Grounds for the search are recorded: met in 2 of 3 searches reviewed (67%), short of the 90% standard, "
        "but too few cases to be sure; about 7 searches at this rate would confirm it."
    )


def test_min_cases_setting_holds_back_tiny_samples() -> None:
    s = Scenario()
    s.cases("RVS", "SS01", passes=0, fails=2)  # 0 of 2: the Wilson interval (0% - 66%) is below 90%
    assert kinds(s.assess().exceptions) == [("below_standard", "RVS", "D11", "SS01")]
    held = s.assess(min_cases=5)
    assert held.exceptions == [] and held.small_samples[0].n == 2


def test_na_answers_do_not_count_against_a_place() -> None:
    s = Scenario()
    s.cases("BLK", "SS03", passes=8, fails=2, na=40)  # 8 of 10 applicable = exactly the 80% minimum
    found = s.assess()
    assert found.exceptions == [] and found.small_samples == []


def test_meeting_the_standard_is_silent() -> None:
    s = Scenario()
    s.cases("BLK", "SS01", passes=29, fails=1)
    found = s.assess()
    assert found.exceptions == [] and found.small_samples == []


def test_critical_criteria_are_not_also_below_standard() -> None:
    crit = [{**c, "minimum": 0.95} if c["criterion"] == "SS02" else c for c in CRITERIA]
    s = Scenario()
    s.cases("BLK", "SS02", passes=5, fails=25)
    outcomes = outcomes_frame(s.rows, crit, MEASURES)
    assert [e.kind for e in assess(outcomes).exceptions] == [ExceptionKind.CRITICAL]


def test_exceptions_carry_their_criterions_guidance() -> None:
    s = Scenario()
    s.cases("BLK", "SS01", passes=5, fails=25)
    s.cases("BLK", "SS02", passes=4, fails=1)
    s.cases("BLK", "SS03", passes=5, fails=25)  # a criterion without guidance
    criteria = [{**c, "guidance": GUIDANCE.get(c["criterion"])} for c in CRITERIA]
    found = assess(outcomes_frame(s.rows, criteria, MEASURES)).exceptions
    assert {(e.kind.value, e.criterion): e.guidance for e in found} == {
        ("below_standard", "SS01"): GUIDANCE["SS01"],
        ("critical", "SS02"): GUIDANCE["SS02"],
        ("below_standard", "SS03"): "",
    }

"""engine.analysis.findings: on factory-built scenarios, exactly the exceptions a statistician would raise
(critical, below_standard, special_cause, threshold) and no others; small samples are recorded,
not raised; reasons are plain English; exceptions.json keeps the DOMAIN.md shape."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.analysis import aggregate as agg
from engine.analysis.findings import (
    PeriodFindings,
    SpcSettings,
    assess_period,
    find_exceptions,
    sort_exceptions,
    write_exceptions_json,
)
from engine.core.errors import ReportError
from engine.core.models import ExceptionKind, PerformanceException
from engine.rules.catalogue import load_measures

MEASURES = list(load_measures().values())
SS, IQ = "stop-search-legitimacy", "investigation-quality"
CRITERIA: list[dict[str, Any]] = [
    {
        "ruleset": SS,
        "criterion": "SS01",
        "text": "Grounds for the search are recorded",
        "measure": "D11",
        "minimum": 0.9,
    },
    {
        "ruleset": SS,
        "criterion": "SS02",
        "text": "Strip search authorised by an inspector",
        "measure": "D11",
        "critical": True,
    },
    {
        "ruleset": SS,
        "criterion": "SS03",
        "text": "Body-worn video activated",
        "measure": "D11",
        "minimum": 0.8,
    },
    {"ruleset": IQ, "criterion": "IQ01", "text": "Investigation plan recorded", "measure": "D5"},
]
FROM, TO = date(2026, 11, 16), date(2026, 11, 22)  # 2026-W47
WEEK0 = date(2026, 7, 13)  # 2026-W29: 18 weeks before the period


class Scenario:
    """Outcome rows built case by case; ``cases`` adds n passes and fails (and N/As) for a cell."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.serial = 0

    def cases(
        self,
        place: str,
        criterion: str,
        passes: int,
        fails: int = 0,
        na: int = 0,
        *,
        day: date = FROM,
        **kw: Any,
    ) -> list[str]:
        ruleset = IQ if criterion.startswith("IQ") else SS
        refs = []
        for outcome in ["pass"] * passes + ["fail"] * fails + ["na"] * na:
            self.serial += 1
            ref = f"{criterion[:2]}-{self.serial:05d}"
            refs.append(ref)
            self.rows.append(
                {
                    "case_ref": ref,
                    "case_type": "investigation" if ruleset == IQ else "stop_search",
                    "place": place,
                    "division": "West",
                    "team": "Response 1",
                    "officer": "PC 7",
                    "reviewer": "QA 2",
                    "assessed_on": day,
                    "ruleset": ruleset,
                    "criterion": criterion,
                    "outcome": outcome,
                    "trace": (f"{criterion} not met",) if outcome == "fail" else (),
                    "note": "",
                    **kw,
                }
            )
        return refs

    def weekly(self, place: str, criterion: str, passes_per_week: list[int], n: int = 20) -> None:
        """One week per entry, ending with the period's week."""
        first = TO - timedelta(weeks=len(passes_per_week) - 1)
        for w, k in enumerate(passes_per_week):
            self.cases(place, criterion, k, n - k, day=first + timedelta(weeks=w) - timedelta(days=5))

    def assess(self, **options: Any) -> PeriodFindings:
        outcomes = agg.outcomes_frame(self.rows, CRITERIA, MEASURES)
        return assess_period(outcomes, FROM, TO, **options)


def kinds(found: list[PerformanceException]) -> list[tuple[str, str, str, str]]:
    return [(e.kind.value, e.place, e.measure, e.criterion) for e in found]


# --------------------------------------------------------------------------- critical


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


# --------------------------------------------------------------------------- below standard


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
    outcomes = agg.outcomes_frame(s.rows, crit, MEASURES)
    assert [e.kind for e in find_exceptions(outcomes, FROM, TO)] == [ExceptionKind.CRITICAL]


# --------------------------------------------------------------------------- special cause

STABLE = [16, 18] * 6  # 80% / 90% alternating: mean 85%, limits 58% - 100%


def special(found: PeriodFindings) -> list[PerformanceException]:
    return [e for e in found.exceptions if e.kind is ExceptionKind.SPECIAL_CAUSE]


def test_point_below_the_lower_limit() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, 17, 17, 17, 18, 16, 6])
    (e,) = s.assess().exceptions
    assert (e.kind, e.place, e.measure, e.criterion, e.ruleset) == (
        ExceptionKind.SPECIAL_CAUSE,
        "BLK",
        "D5",
        "",
        IQ,
    )
    assert (e.n, e.passed, e.rate) == (20, 6, 0.3)
    assert e.chart is not None and e.chart.rules == ("outside_limits",)
    assert [p.week for p in e.chart.points if p.flagged] == ["2026-W47"]
    assert e.chart.baseline_weeks == 12 and e.chart.direction == "higher" and e.chart.assurance is None
    assert len(e.cases) == 14 and e.details[0].criterion_text == "Investigation plan recorded"
    assert e.reason == (
        "Compliance with investigation quality was 30% in week 2026-W47, lower than this place's usual range "
        "of 58% to 100%."
    )


def test_shift_of_seven_weeks_below_the_mean() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, *[15] * 7])
    (e,) = special(s.assess())
    assert e.chart is not None and e.chart.rules == ("shift",)
    assert sum(p.flagged for p in e.chart.points) == 7
    assert e.reason == (
        "Compliance with investigation quality has been below this place's usual average of 85% for 7 weeks "
        "running, most recently 75% in week 2026-W47."
    )


def test_six_weeks_below_the_mean_is_not_yet_a_shift() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, 19, *[15] * 6])
    assert s.assess().exceptions == []


def test_an_improvement_is_never_an_exception() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, *[19] * 7])
    assert s.assess().exceptions == []


def test_a_signal_that_ended_before_the_latest_week_is_old_news() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, *[15] * 7, 18])
    assert s.assess().exceptions == []


def test_trend_of_seven_falling_weeks() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, 19, 18, 17, 16, 15, 14, 13])
    (e,) = special(s.assess())
    assert e.chart is not None and e.chart.rules == ("trend",)
    assert e.reason == (
        "Compliance with investigation quality has fallen 6 weeks in a row, to 65% in week 2026-W47."
    )


def test_two_of_three_weeks_near_the_lower_limit() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, 17, 13, 16, 13])
    (e,) = special(s.assess())
    assert e.chart is not None and e.chart.rules == ("two_of_three",)
    assert [p.week for p in e.chart.points if p.flagged] == ["2026-W45", "2026-W47"]
    assert "near the bottom of this place's usual range in 2 of the last 3 weeks" in e.reason


def test_too_short_a_history_gives_no_spc_exception() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [16, 18, 16, 18, 16, 18, 16, 2])
    assert s.assess().exceptions == []
    assert kinds(s.assess(spc=SpcSettings(min_points=8)).exceptions) == [("special_cause", "BLK", "D5", "")]


def test_latest_week_without_data_gives_no_spc_exception() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, *[15] * 7])
    s.rows = [r for r in s.rows if r["assessed_on"] < FROM - timedelta(days=5)]
    assert s.assess().exceptions == []


def test_rebase_on_request_accepts_a_new_normal() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, *[12, 14] * 6, 13])
    assert [e.kind for e in s.assess().exceptions] == [ExceptionKind.SPECIAL_CAUSE]
    first_new = agg.week_label(TO - timedelta(weeks=12))
    rebased = SpcSettings(rebase={("BLK", "D5"): [first_new]})
    assert s.assess(spc=rebased).exceptions == []


def test_spc_assurance_against_the_measure_standard() -> None:
    # D11's criteria here have two different minimums, so the measure has no single standard...
    s = Scenario()
    s.weekly("BLK", "SS03", [*STABLE, 17, 17, 17, 18, 16, 6])
    (e,) = special(s.assess())
    assert e.standard is None and e.chart is not None and e.chart.assurance is None
    # ...unless the catalogue gives the measure its own
    measures = [{**vars(m), "minimum": 0.95} if m.id == "D11" else vars(m) for m in MEASURES]
    outcomes = agg.outcomes_frame(s.rows, CRITERIA, measures)
    (e,) = [e for e in find_exceptions(outcomes, FROM, TO) if e.kind is ExceptionKind.SPECIAL_CAUSE]
    assert e.standard == 0.95 and e.chart is not None and e.chart.assurance == "hit_and_miss"


# --------------------------------------------------------------------------- thresholds (extracts)

STANDARDS: list[dict[str, Any]] = [
    {
        "ruleset": "response-standards",
        "criterion": "RS01",
        "metric": "g1_attended_within_standard",
        "text": "Grade 1 incidents attended within 15 minutes (urban) or 20 minutes (rural)",
        "measure": "M2",
        "minimum": 0.9,
    },
    {
        "ruleset": "response-standards",
        "criterion": "RS03",
        "metric": "call999_answered_within_10s",
        "text": "999 calls answered within 10 seconds",
        "measure": "M2",
        "minimum": 0.9,
    },
    {
        "ruleset": "response-standards",
        "criterion": "RS04",
        "metric": "call101_answer_seconds",
        "text": "101 calls answer time",
        "measure": "M2",
        "peel": "efficiency",
        "iserve": ("response", "engagement"),
        "minimum": None,
        "direction": "lower",
    },
]
SETTINGS = {"BLK": "urban", "RVS": "rural"}


def calls(
    place: str, channel: str, seconds: list[float], *, day: date = FROM, grade: int = 3
) -> list[dict[str, Any]]:
    start = datetime.combine(day, datetime.min.time()) + timedelta(hours=9)
    return [
        {
            "incident_ref": f"{place}-{channel}-{day.isoformat()}-{i}",
            "place": place,
            "grade": grade,
            "channel": channel,
            "received_at": start + timedelta(minutes=i),
            "answered_at": start + timedelta(minutes=i, seconds=s),
            "arrived_at": None,
        }
        for i, s in enumerate(seconds)
    ]


def assess_incidents(rows: list[dict[str, Any]], **options: Any) -> PeriodFindings:
    incidents = agg.incidents_frame(rows, SETTINGS)
    outcomes = agg.outcomes_frame([], CRITERIA, MEASURES)
    return assess_period(
        outcomes,
        FROM,
        TO,
        incidents=incidents,
        metric_standards=STANDARDS,
        place_settings=SETTINGS,
        **options,
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


def test_101_answer_time_has_no_threshold_only_spc() -> None:
    slow = calls("BLK", "101", [900] * 50)
    assert assess_incidents(slow).exceptions == []  # slow, but no standard to breach
    rows = []
    for w in range(19):
        day = FROM - timedelta(weeks=18 - w)
        seconds = [60.0, 70.0] * 5 if w % 2 else [65.0, 80.0] * 5  # medians 65 / 72.5 s
        rows += calls("BLK", "101", [300.0] * 10 if w == 18 else seconds, day=day)
    (e,) = assess_incidents(rows).exceptions
    assert (e.kind, e.criterion, e.rate, e.peel, e.iserve) == (
        ExceptionKind.SPECIAL_CAUSE,
        "RS04",
        None,
        "efficiency",
        ("response", "engagement"),
    )
    assert e.chart is not None and e.chart.direction == "lower" and e.chart.rules == ("outside_limits",)
    assert e.reason.startswith("The median 101 answer time was 300 seconds in week 2026-W47, higher than")


def test_threshold_metrics_are_charted_too() -> None:
    rows = []
    for w in range(19):
        day = FROM - timedelta(weeks=18 - w)
        within = 20 if w == 18 else (95 if w % 2 else 99)
        rows += calls("BLK", "999", [5] * within + [15] * (100 - within), day=day)
    found = assess_incidents(rows).exceptions
    assert kinds(found) == [("special_cause", "BLK", "M2", "RS03"), ("threshold", "BLK", "M2", "RS03")]
    spc = found[0]
    assert spc.reason.startswith("The share of 999 calls answered within 10 seconds was 20% in week 2026-W47")


# --------------------------------------------------------------------------- the whole picture


def test_a_mixed_scenario_raises_exactly_the_expected_exceptions_in_order() -> None:
    s = Scenario()
    s.cases("BLK", "SS01", passes=5, fails=25)  # below standard
    s.cases("BLK", "SS02", passes=10, fails=1)  # critical
    s.cases("BLK", "SS03", passes=16, fails=4)  # 80% against 80%: fine
    s.cases("RVS", "SS01", passes=2, fails=1)  # small sample: recorded only
    s.cases("RVS", "SS03", passes=8, fails=2, na=30)  # N/A: fine
    s.weekly("HLM", "IQ01", [*STABLE, *[15] * 7])  # shift: special cause
    s.weekly("RVS", "IQ01", [*STABLE, *[19] * 7])  # improvement: nothing
    rows = calls("BLK", "999", [5] * 80 + [15] * 20)
    incidents = agg.incidents_frame(rows, SETTINGS)
    outcomes = agg.outcomes_frame(s.rows, CRITERIA, MEASURES)
    found = assess_period(
        outcomes, FROM, TO, incidents=incidents, metric_standards=STANDARDS, place_settings=SETTINGS
    )
    assert kinds(found.exceptions) == [
        ("critical", "BLK", "D11", "SS02"),
        ("below_standard", "BLK", "D11", "SS01"),
        ("special_cause", "HLM", "D5", ""),
        ("threshold", "BLK", "M2", "RS03"),
    ]
    assert [(n.place, n.criterion) for n in found.small_samples] == [("RVS", "SS01")]
    assert find_exceptions(outcomes, FROM, TO) == [
        e for e in found.exceptions if e.kind is not ExceptionKind.THRESHOLD
    ]


def test_sort_order_is_kind_then_priority_place_measure_criterion() -> None:
    def exc(
        kind: ExceptionKind, priority: int, place: str, measure: str, criterion: str
    ) -> PerformanceException:
        return PerformanceException(
            place=place, priority=priority, measure=measure, peel="", iserve=(), ruleset="r", criterion=criterion,
            kind=kind, reason="", n=0, passed=0, rate=None, ci_low=None, ci_high=None, standard=None, cases=(),
        )  # fmt: skip

    items = [
        exc(ExceptionKind.THRESHOLD, 1, "AAA", "M2", "RS01"),
        exc(ExceptionKind.BELOW_STANDARD, 4, "BLK", "D11", "SS01"),
        exc(ExceptionKind.BELOW_STANDARD, 2, "BLK", "D5", "IQ01"),
        exc(ExceptionKind.BELOW_STANDARD, 2, "BLK", "M5", "CF01"),
        exc(ExceptionKind.BELOW_STANDARD, 2, "BLK", "M12", "X1"),
        exc(ExceptionKind.CRITICAL, 4, "ZZZ", "D11", "SS02"),
    ]
    got = [(e.kind.value, e.priority, e.measure) for e in sort_exceptions(items)]
    assert got == [
        ("critical", 4, "D11"),
        ("below_standard", 2, "M5"),
        ("below_standard", 2, "M12"),
        ("below_standard", 2, "D5"),
        ("below_standard", 4, "D11"),
        ("threshold", 1, "M2"),
    ]


# --------------------------------------------------------------------------- exceptions.json


def test_exceptions_json_has_exactly_the_contract_shape(tmp_path: Path) -> None:
    s = Scenario()
    s.cases("BLK", "SS01", passes=5, fails=25)
    s.cases("BLK", "SS02", passes=1, fails=1)
    found = s.assess().exceptions
    path = tmp_path / "2026-W47" / "exceptions.json"
    rulesets = [(SS, "1.0.0", "b" * 64), (IQ, "1.0.0", "a" * 64), (SS, "1.0.0", "b" * 64)]
    write_exceptions_json(FROM, TO, "2026-W47", rulesets, list(reversed(found)), path)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "period": {\n    "from": "2026-11-16"')
    doc = json.loads(text)
    assert list(doc) == ["period", "rulesets", "exceptions"]
    assert doc["period"] == {"from": "2026-11-16", "to": "2026-11-22", "label": "2026-W47"}
    assert doc["rulesets"] == [
        {"id": IQ, "version": "1.0.0", "sha256": "a" * 64},
        {"id": SS, "version": "1.0.0", "sha256": "b" * 64},
    ]
    assert [e["kind"] for e in doc["exceptions"]] == ["critical", "below_standard"]
    keys = ["place", "priority", "measure", "peel", "iserve", "ruleset", "criterion", "kind", "reason", "n",
            "passed", "rate", "ci_low", "ci_high", "standard", "cases"]  # fmt: skip
    assert all(list(e) == keys for e in doc["exceptions"])
    below = doc["exceptions"][1]
    assert (
        below["n"],
        below["passed"],
        below["rate"],
        below["ci_low"],
        below["ci_high"],
        below["standard"],
    ) == (
        30,
        5,
        0.167,
        0.073,
        0.336,
        0.9,
    )


def test_exceptions_json_is_deterministic_and_takes_a_run_id(tmp_path: Path) -> None:
    s = Scenario()
    s.cases("BLK", "SS01", passes=5, fails=25, note="Café stop: grounds missing")
    found = s.assess().exceptions
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_exceptions_json("2026-11-16", "2026-11-22", "2026-W47", [], found, a)
    write_exceptions_json("2026-11-16", "2026-11-22", "2026-W47", [], list(reversed(found)), b)
    assert a.read_bytes() == b.read_bytes()
    assert "run_id" not in json.loads(a.read_text(encoding="utf-8"))
    write_exceptions_json("2026-11-16", "2026-11-22", "2026-W47", [], found, b, run_id="run-7")
    doc = json.loads(b.read_text(encoding="utf-8"))
    assert list(doc) == ["period", "rulesets", "exceptions", "run_id"] and doc["run_id"] == "run-7"


def test_exceptions_json_keeps_non_ascii_text(tmp_path: Path) -> None:
    crit = [{**c, "text": "Motif de la fouille noté"} if c["criterion"] == "SS01" else c for c in CRITERIA]
    s = Scenario()
    s.cases("BLK", "SS01", passes=0, fails=10)
    found = find_exceptions(agg.outcomes_frame(s.rows, crit, MEASURES), FROM, TO)
    path = tmp_path / "exceptions.json"
    write_exceptions_json(FROM, TO, "2026-W47", [], found, path)
    assert "noté" in path.read_text(encoding="utf-8")


def test_unwritable_exceptions_json_is_a_report_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReportError, match="cannot write"):
        write_exceptions_json(FROM, TO, "2026-W47", [], [], blocker / "exceptions.json")

"""engine.analysis.findings: on a factory-built mixed scenario, exactly the exceptions a statistician
would raise (critical, below_standard, special_cause, threshold) and no others, in a fixed order."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from engine.analysis import daily
from engine.analysis.aggregate import aggregate
from engine.analysis.findings import PeriodFindings, assess_period, sort_exceptions
from engine.analysis.incidents import incidents_frame
from engine.analysis.outcomes import in_period, outcomes_frame
from engine.core.models import ExceptionKind, PerformanceException
from tests.analysis.scenarios import (
    CRITERIA,
    FROM,
    MEASURES,
    SETTINGS,
    STABLE,
    STANDARDS,
    TO,
    Scenario,
    assess,
    calls,
    kinds,
)


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
    incidents = incidents_frame(rows, SETTINGS)
    outcomes = outcomes_frame(s.rows, CRITERIA, MEASURES)
    found = assess(outcomes, incidents, metric_standards=STANDARDS, place_settings=SETTINGS)
    assert kinds(found.exceptions) == [
        ("critical", "BLK", "D11", "SS02"),
        ("below_standard", "BLK", "D11", "SS01"),
        ("special_cause", "HLM", "D5", ""),
        ("threshold", "BLK", "M2", "RS03"),
    ]
    assert [(n.place, n.criterion) for n in found.small_samples] == [("RVS", "SS01")]
    assert assess(outcomes).exceptions == [
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


def test_periods_ending_on_one_day_share_their_special_causes_and_find_what_they_find_alone() -> None:
    """A PEEL run's year and last quarter end on one day: what the second finds with the first's
    special causes kept (``shared``) is what it finds alone; a period ending earlier finds its own."""
    s = Scenario()
    s.weekly("HLM", "IQ01", [*STABLE, *[15] * 7])  # a shift: a special cause in the latest week
    s.cases("BLK", "SS01", passes=5, fails=25)
    incidents = daily.incident_days(incidents_frame(calls("BLK", "999", [5] * 80 + [15] * 20), SETTINGS))
    outcomes = outcomes_frame(s.rows, CRITERIA, MEASURES)

    def found(start: date, end: date, shared: dict[Any, Any] | None) -> PeriodFindings:
        table = aggregate(in_period(outcomes, start, end), "p", levels=("place",), dimensions=("criterion",))
        return assess_period(
            outcomes, start, end, aggregates=table, outcome_days=daily.outcome_days(outcomes),
            incident_days=incidents, metric_standards=STANDARDS, place_settings=SETTINGS, shared=shared,
        )  # fmt: skip

    shared: dict[Any, Any] = {}
    longer = found(FROM - timedelta(weeks=8), TO, shared)
    assert ("special_cause", "HLM", "D5", "") in kinds(longer.exceptions)
    assert found(FROM, TO, shared) == found(FROM, TO, None)
    earlier = TO - timedelta(weeks=3)
    assert found(FROM - timedelta(weeks=8), earlier, shared) == found(
        FROM - timedelta(weeks=8), earlier, None
    )

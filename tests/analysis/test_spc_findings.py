"""engine.analysis.spc_findings: a special cause only when the weekly series signals in the concerning
direction in the latest week (outside the limits, shift, trend, 2 of 3), for measures and for the
incidents' metrics; too short a history, a rebase or an improvement raises nothing."""

from __future__ import annotations

from datetime import date, timedelta

from engine.analysis.outcomes import outcomes_frame
from engine.analysis.spc_findings import SpcSettings
from engine.analysis.stats import wilson_interval
from engine.core.models import ExceptionKind
from engine.core.periods import week_label
from tests.analysis.scenarios import (
    CRITERIA,
    FROM,
    IQ,
    MEASURES,
    SS,
    STABLE,
    TO,
    Scenario,
    assess,
    assess_incidents,
    calls,
    kinds,
    special,
)


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
    first_new = week_label(TO - timedelta(weeks=12))
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
    outcomes = outcomes_frame(s.rows, CRITERIA, measures)
    (e,) = [e for e in assess(outcomes).exceptions if e.kind is ExceptionKind.SPECIAL_CAUSE]
    assert e.standard == 0.95 and e.chart is not None and e.chart.assurance == "hit_and_miss"


def test_101_answer_time_has_no_threshold_only_spc() -> None:
    slow = calls("BLK", "101", [900] * 50)
    assert assess_incidents(slow).exceptions == []  # slow, but no standard to breach
    rows = []
    for w in range(19):
        day = FROM - timedelta(weeks=18 - w)
        seconds = [60.0, 70.0] * 5 if w % 2 else [65.0, 80.0] * 5  # means 65 / 72.5 s
        rows += calls("BLK", "101", [300.0] * 10 if w == 18 else seconds, day=day)
    (e,) = assess_incidents(rows).exceptions
    assert (e.kind, e.criterion, e.rate, e.peel, e.iserve) == (
        ExceptionKind.SPECIAL_CAUSE,
        "RS04",
        300.0,  # the week's mean seconds
        "efficiency",
        ("response", "engagement"),
    )
    assert e.chart is not None and e.chart.direction == "lower" and e.chart.rules == ("outside_limits",)
    # charted on the weekly mean, as every time is
    assert e.reason.startswith("The mean 101 answer time was 300 seconds in week 2026-W47, higher than")


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


def _weeks(count: int) -> list[date]:
    """The assessment day of each of ``count`` weeks ending with the period's week."""
    return [TO - timedelta(weeks=count - 1 - w) - timedelta(days=5) for w in range(count)]


def test_a_measure_series_counts_each_case_once() -> None:
    # 10 searches a week; a failing search fails both SS01 and SS03 (two findings, one case)
    s = Scenario()
    passing = [8, 9] * 9 + [3]
    for day, k in zip(_weeks(len(passing)), passing, strict=True):
        for i in range(10):
            outcome = "pass" if i < k else "fail"
            s.case("BLK", {"SS01": outcome, "SS02": "na", "SS03": outcome}, day=day)
    (e,) = special(s.assess())
    assert (e.measure, e.criterion) == ("D11", "")
    assert e.chart is not None and [p.n for p in e.chart.points] == [10] * len(passing)
    assert [p.value for p in e.chart.points] == [k / 10 for k in passing]
    assert (e.n, e.passed, e.rate) == (10, 3, 0.3)
    assert (e.ci_low, e.ci_high) == wilson_interval(3, 10)
    # the week's 7 failing searches, each with the two criteria it failed
    assert len(e.cases) == 7 and len(e.details) == 14
    assert {d.criterion for d in e.details} == {"SS01", "SS03"}


def _drifting_grounds(s: Scenario, passes: list[int]) -> dict[str, list[str]]:
    """20 searches a week: SS01 met by ``passes`` of them, SS03 failed by 1 or 2 others (not the
    SS01 failures), SS02 not applicable. The SS01 failures of each week, by week."""
    failing: dict[str, list[str]] = {}
    for w, (day, k) in enumerate(zip(_weeks(len(passes)), passes, strict=True)):
        for i in range(20):
            ss03 = "fail" if i in (0, w % 2) else "pass"
            ref = s.case("BLK", {"SS01": "pass" if i < k else "fail", "SS02": "na", "SS03": ss03}, day=day)
            if i >= k:
                failing.setdefault(week_label(day), []).append(ref)
    return failing


def test_a_criterion_with_a_sustained_signal_of_its_own_is_a_special_cause() -> None:
    s = Scenario()
    # seven weeks below the baseline's mean (a shift), the last clearly worse than usual by itself
    failing = _drifting_grounds(s, [19, 18] * 6 + [17, 17, 16, 17, 16, 17, 10])
    criteria = [
        {**c, "guidance": "Inspector to brief the team"} if c["criterion"] == "SS01" else c for c in CRITERIA
    ]
    found = assess(outcomes_frame(s.rows, criteria, MEASURES))
    assert kinds(special(found)) == [
        ("special_cause", "BLK", "D11", ""),
        ("special_cause", "BLK", "D11", "SS01"),
    ]
    e = special(found)[1]
    assert (e.ruleset, e.criterion_text, e.guidance, e.standard) == (
        SS,
        "Grounds for the search are recorded",
        "Inspector to brief the team",
        0.9,
    )
    assert (e.n, e.passed, e.rate) == (20, 10, 0.5)
    assert (e.ci_low, e.ci_high) == wilson_interval(10, 20)
    assert e.chart is not None and [p.n for p in e.chart.points] == [20] * 19
    assert e.cases == tuple(sorted(failing["2026-W47"]))  # this week's failures only, not earlier weeks'
    assert {d.criterion for d in e.details} == {"SS01"} and len(e.details) == 10
    assert e.reason.startswith(
        "Grounds for the search are recorded: the share of searches meeting it was 50% in week 2026-W47, "
        "lower than this place's usual range of"
    )
    # the measure counts each search once: met by those that met SS01 and SS03
    d11 = special(found)[0]
    assert (d11.n, d11.passed) == (20, 9)
    assert len(d11.details) == 11 and {d.criterion for d in d11.details} == {"SS01", "SS03"}


def test_a_criterion_signal_within_the_weeks_sampling_noise_is_not_a_special_cause() -> None:
    """A criterion's share sits near 100% on a few dozen cases: seven weeks of one failure more than
    usual is a shift on its chart, but each week's interval still holds the usual mean; and one bad
    week outside narrow limits is no shift. The measure's series, counting the same cases, keeps
    the four rules."""
    s = Scenario()
    _drifting_grounds(s, [20, 19] * 6 + [19, 18, 19, 18, 19, 18, 19])
    found = assess(outcomes_frame(s.rows, CRITERIA, MEASURES))
    assert [e.criterion for e in special(found)] in ([], [""])  # never SS01's own
    # the same week two failures further down is clearly worse than usual: then it is raised
    s = Scenario()
    _drifting_grounds(s, [20, 19] * 6 + [19, 18, 19, 18, 19, 18, 14])
    assert "SS01" in [e.criterion for e in special(assess(outcomes_frame(s.rows, CRITERIA, MEASURES)))]
    s = Scenario()
    _drifting_grounds(s, [19, 18] * 9 + [10])  # far outside the limits, but no shift or trend
    assert "SS01" not in [e.criterion for e in special(assess(outcomes_frame(s.rows, CRITERIA, MEASURES)))]


def test_a_criterion_series_rebases_on_request() -> None:
    s = Scenario()
    _drifting_grounds(s, [19, 18] * 9 + [10])
    rebased = SpcSettings(rebase={("BLK", f"{SS}/SS01"): [week_label(TO)]})
    assert kinds(special(s.assess(spc=rebased))) == [("special_cause", "BLK", "D11", "")]


def test_a_critical_criterion_gets_no_special_cause_of_its_own() -> None:
    # every failure of SS02 is reported as critical already; SS03 makes D11's series differ from SS02's
    s = Scenario()
    passing = [20, 19] * 9 + [12]
    for w, (day, k) in enumerate(zip(_weeks(len(passing)), passing, strict=True)):
        for i in range(20):
            ss03 = "fail" if i == 0 and w % 3 == 0 else "pass"
            s.case("BLK", {"SS01": "na", "SS02": "pass" if i < k else "fail", "SS03": ss03}, day=day)
    found = s.assess()
    assert ("critical", "BLK", "D11", "SS02") in kinds(found.exceptions)
    assert [e.criterion for e in special(found)] == [""]


def test_assurance_does_not_promise_a_standard_the_week_missed() -> None:
    # limits from 95%/97% weeks lie wholly above a 90% minimum, but the latest week is 83%
    s = Scenario()
    s.weekly("BLK", "IQ01", [95, 97] * 6 + [83], n=100)
    measures = [{**vars(m), "minimum": 0.9} if m.id == "D5" else vars(m) for m in MEASURES]
    (e,) = special(assess(outcomes_frame(s.rows, CRITERIA, measures)))
    assert e.chart is not None and e.chart.lower_limit > 0.9 and e.rate == 0.83
    assert e.chart.assurance == "hit_and_miss"  # not consistently_pass
    # seven weeks below the mean: the process has changed
    s = Scenario()
    s.weekly("BLK", "IQ01", [95, 97] * 6 + [93] * 7, n=100)
    (e,) = special(assess(outcomes_frame(s.rows, CRITERIA, measures)))
    assert e.chart is not None and e.chart.rules == ("shift",) and e.chart.assurance == "process_changed"

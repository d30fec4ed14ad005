"""engine.analysis.team_findings: the place rules at team level. A team whose whole interval is below
the standard is raised (its reason names the place's count), one with too few cases is not, a team
holding all of its place's cases repeats nothing, a planted drift in one team's weekly series is a
team special cause; exceptions.json's "exceptions" stay exactly the place ones."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.analysis import daily
from engine.analysis.aggregate import aggregate
from engine.analysis.evidence import Catalogue
from engine.analysis.exceptions_file import write_exceptions_json
from engine.analysis.figure_findings import FigureData, figure_findings
from engine.analysis.findings import PeriodFindings, assess_period
from engine.analysis.outcomes import failing, in_period, outcomes_frame
from engine.analysis.stats import wilson_interval
from engine.analysis.team_findings import team_figure_thresholds, with_team_days
from engine.core.models import ExceptionKind
from tests.analysis.figure_rows import METRICS, fig
from tests.analysis.scenarios import CRITERIA, FROM, MEASURES, STABLE, TO, Scenario


def assess_teams(rows: list[dict[str, Any]]) -> PeriodFindings:
    """assess_period as a run calls it: place and team aggregates, day summaries with the teams'."""
    outcomes = outcomes_frame(rows, CRITERIA, MEASURES)
    table = aggregate(in_period(outcomes, FROM, TO), "2026-W47", levels=("place", "team"))
    return assess_period(outcomes, FROM, TO, aggregates=table, outcome_days=with_team_days(outcomes))


def two_teams() -> Scenario:
    """BLK: team A meets SS01 in 5 of 30 searches, team B in 40 of 40, team C in 1 of 2; RVS: fine."""
    s = Scenario()
    s.cases("BLK", "SS01", passes=5, fails=25, team="Response A")
    s.cases("BLK", "SS01", passes=40, team="Response B")
    s.cases("BLK", "SS01", passes=1, fails=1, team="Response C")
    s.cases("RVS", "SS01", passes=30, team="Response A")
    return s


def test_a_team_whose_interval_is_below_the_standard_is_raised_with_its_place_and_team() -> None:
    found = assess_teams(two_teams().rows)
    (e,) = found.team_exceptions
    assert (e.kind, e.place, e.team, e.criterion) == (
        ExceptionKind.BELOW_STANDARD,
        "BLK",
        "Response A",
        "SS01",
    )
    assert (e.n, e.passed, e.standard) == (30, 5, 0.9)
    assert len(e.cases) == 25 and {d.team for d in e.details} == {"Response A"}
    assert e.reason == (
        "Grounds for the search are recorded: met in 5 of 30 searches reviewed (17%); the minimum standard "
        "is 90%; even allowing for sampling the true rate is at most 34%. These are team Response A's 30 "
        "of the place's 72 searches reviewed; the place met it in 46 (64%); the place has the same "
        "exception on this criterion."
    )
    # the place's own exception is unchanged and listed apart
    assert [(x.kind, x.place, x.team) for x in found.exceptions] == [
        (ExceptionKind.BELOW_STANDARD, "BLK", "")
    ]


def test_a_team_with_too_few_cases_is_not_raised() -> None:
    # Response C met SS01 in 1 of 2 (50%): short of 90%, but its interval (9% to 91%) reaches it
    teams = {e.team for e in assess_teams(two_teams().rows).team_exceptions}
    assert "Response C" not in teams and "Response B" not in teams


def test_a_team_short_of_five_cases_is_never_raised_however_clear_its_shortfall() -> None:
    # Response D failed all 4 of its searches: its interval (0% to 49%) is wholly below 90%, but
    # four cases are the place's evidence (the place's own exception lists them), not a team pattern
    s = two_teams()
    s.cases("BLK", "SS01", passes=0, fails=4, team="Response D")
    s.cases("BLK", "SS01", passes=1, fails=4, team="Response E")
    found = assess_teams(s.rows)
    assert {e.team for e in found.team_exceptions} == {"Response A", "Response E"}


def test_team_figures_recomputed_from_the_stored_rows() -> None:
    s = two_teams()
    (e,) = assess_teams(s.rows).team_exceptions
    mine = [
        r
        for r in s.rows
        if (r["place"], r["team"], r["criterion"]) == (e.place, e.team, e.criterion) and r["outcome"] != "na"
    ]
    n, passed = len(mine), sum(r["outcome"] == "pass" for r in mine)
    low, high = wilson_interval(passed, n)
    assert (e.n, e.passed) == (n, passed)
    assert e.rate == passed / n
    assert (round(e.ci_low or 0, 9), round(e.ci_high or 0, 9)) == (round(low, 9), round(high, 9))
    assert set(e.cases) == {r["case_ref"] for r in mine if r["outcome"] == "fail"}


def test_a_team_holding_all_its_places_cases_repeats_nothing() -> None:
    s = Scenario()
    s.cases("BLK", "SS01", passes=5, fails=25, team="Response A")
    found = assess_teams(s.rows)
    assert [x.kind for x in found.exceptions] == [ExceptionKind.BELOW_STANDARD]
    assert found.team_exceptions == []


def test_exceptions_json_keeps_the_place_exceptions_exactly_and_adds_team_exceptions(tmp_path: Path) -> None:
    rows = two_teams().rows
    without = [{**r, "team": ""} for r in rows]
    docs = []
    for name, given in (("with", rows), ("without", without)):
        found = assess_teams(given)
        path = tmp_path / f"{name}.json"
        write_exceptions_json(
            FROM,
            TO,
            "2026-W47",
            [],
            found.exceptions,
            path,
            run_id="r1",
            team_exceptions=found.team_exceptions,
        )
        docs.append(json.loads(path.read_text(encoding="utf-8")))
    with_teams, no_teams = docs
    assert with_teams["exceptions"] == no_teams["exceptions"] and len(with_teams["exceptions"]) == 1
    assert list(with_teams) == ["period", "rulesets", "exceptions", "team_exceptions", "run_id"]
    assert no_teams["team_exceptions"] == []
    (entry,) = with_teams["team_exceptions"]
    assert list(entry) == ["place", "team", *[k for k in with_teams["exceptions"][0] if k != "place"]]
    assert (entry["place"], entry["team"], entry["n"], entry["passed"]) == ("BLK", "Response A", 30, 5)


def test_a_planted_drift_in_one_teams_weekly_series_is_a_team_special_cause() -> None:
    s = Scenario()
    first = TO - timedelta(weeks=len(STABLE))
    for w, k in enumerate([*STABLE, 4]):  # Response A: 12 ordinary weeks, then 4 of 20
        s.cases(
            "BLK", "SS03", k, 20 - k, day=first + timedelta(weeks=w) - timedelta(days=5), team="Response A"
        )
    for w, k in enumerate([*STABLE, 17]):  # Response B: ordinary throughout
        s.cases(
            "BLK", "SS03", k, 20 - k, day=first + timedelta(weeks=w) - timedelta(days=5), team="Response B"
        )
    found = assess_teams(s.rows)
    drift = [e for e in found.team_exceptions if e.kind is ExceptionKind.SPECIAL_CAUSE]
    # SS03's series is D11's week for week (its only criterion): one exception, the measure's
    (measure,) = drift
    assert (measure.team, measure.measure, measure.criterion) == ("Response A", "D11", "")
    assert (measure.n, measure.passed) == (20, 4)  # the team's latest week
    assert measure.chart is not None and len(measure.chart.points) == 13
    assert "this team's usual range" in measure.reason
    assert measure.reason.endswith(
        "Team Response A's weekly series counts its own reviewed cases (the cases with any applicable "
        "criterion of the measure): 20 of the place's 40 in week 2026-W47; the place has the same "
        "exception on this measure."
    )
    # its failing cases are the team's, of the latest week only
    assert {d.team for d in measure.details} == {"Response A"} and len(measure.cases) == 16
    assert all(d.assessed_on >= FROM.isoformat() for d in measure.details)


def test_without_the_teams_counts_there_is_no_team_special_cause() -> None:
    s = Scenario()
    s.weekly("BLK", "SS03", [*STABLE, 4], n=20)
    outcomes = outcomes_frame([{**r, "team": "Response A"} for r in s.rows], CRITERIA, MEASURES)
    table = aggregate(in_period(outcomes, FROM, TO), "2026-W47", levels=("place", "team"))
    found = assess_period(outcomes, FROM, TO, aggregates=table, outcome_days=daily.outcome_days(outcomes))
    assert found.team_exceptions == []


WEEK = (FROM, TO)
CAT = Catalogue({}, {"M1": {"priority": 1, "peel": "efficiency", "iserve": ["response"]}})
ATTENDANCE = {"ruleset": "hr", "criterion": "HR01", "metric": "attendance_rate", "measure": "M1",
              "text": "Attendance", "minimum": 0.95, "maximum": None, "direction": "higher"}  # fmt: skip


def test_a_declared_figure_of_a_team_beyond_its_threshold_is_a_team_exception() -> None:
    # October 2026 attendance: team X 400 of 500 days (80%), team Y 1,960 of 2,000 (98%); the place
    # 2,360 of 2,500 (94.4%, interval 93.4% to 95.3%) reaches the 95% minimum: no place exception
    rows = [
        fig("attendance_rate", "AAA", "2026-10", team="Team X", numerator=400, denominator=500),
        fig("attendance_rate", "AAA", "2026-10", team="Team Y", numerator=1960, denominator=2000),
    ]
    data = FigureData.of(rows, METRICS, [ATTENDANCE])
    assert [e for e in figure_findings(data, CAT, *WEEK) if e.place == "AAA"] == []
    (e,) = team_figure_thresholds(data, CAT, *WEEK, [])
    assert (e.kind, e.place, e.team, e.criterion) == (ExceptionKind.THRESHOLD, "AAA", "Team X", "HR01")
    assert (e.n, e.passed, e.rate, e.standard) == (500, 400, 0.8, 0.95)
    low, high = wilson_interval(400, 500)
    assert (e.ci_low, e.ci_high) == pytest.approx((low, high))
    assert e.reason.startswith("Working days attended: 80% in October 2026 (400 of 500 days)")
    assert e.reason.endswith("This is team Team X's figure: 500 of the place's 2,500 counted.")


def test_the_failing_rows_alone_give_every_finding_the_whole_frame_gives() -> None:
    # a run passes only the failing rows (outcomes.failing, made once for all its periods): the
    # critical, below_standard, special-cause and team exceptions, their cases and details, must be
    # exactly those found from every row
    s = two_teams()
    s.cases("RVS", "SS02", passes=10, fails=2, team="Response B")  # critical failures
    first = TO - timedelta(weeks=len(STABLE))
    for w, k in enumerate([*STABLE, 4]):
        s.cases(
            "BLK", "SS03", k, 20 - k, day=first + timedelta(weeks=w) - timedelta(days=5), team="Response A"
        )
    outcomes = outcomes_frame(s.rows, CRITERIA, MEASURES)
    table = aggregate(in_period(outcomes, FROM, TO), "2026-W47", levels=("place", "team"))
    days = with_team_days(outcomes)
    whole = assess_period(outcomes, FROM, TO, aggregates=table, outcome_days=days)
    only = failing(outcomes)
    assert len(only.frame) < len(outcomes.frame)
    assert {(e.kind, e.team) for e in whole.exceptions + whole.team_exceptions} >= {
        (ExceptionKind.CRITICAL, ""),
        (ExceptionKind.BELOW_STANDARD, ""),
        (ExceptionKind.SPECIAL_CAUSE, ""),
        (ExceptionKind.BELOW_STANDARD, "Response A"),
        (ExceptionKind.SPECIAL_CAUSE, "Response A"),
    }
    assert assess_period(only, FROM, TO, aggregates=table, outcome_days=days) == whole

"""The incidents' M2 figures by team and place: Grade 3 attendance within its standard, and the mean
and median attendance (Grade 1, 2, 3) and answer (999, 101) times, recomputed here from the rows by a
plain computation; thresholds on a mean (or median) time and SPC on the weekly mean."""

from __future__ import annotations

import math
import statistics
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from scipy import stats  # type: ignore[import-untyped]

from engine.analysis import daily
from engine.analysis.incidents import IncidentMetrics, incident_metric_rows, incidents_frame
from engine.analysis.outcomes import outcomes_frame
from engine.analysis.tables import records
from engine.core.figure_facts import figure_of
from engine.core.models import ExceptionKind
from engine.core.periods import Period, week_label
from engine.inputs.extracts import ResponseSettings
from engine.rules.catalogue import load_measure_catalogue
from tests.analysis.sample_rows import SETTINGS
from tests.analysis.scenarios import CRITERIA, FROM, MEASURES, STANDARDS, assess

MONDAY = datetime(2026, 11, 16)  # 2026-W47


def attended(
    ref: str, place: str, team: str | None, grade: int, minutes: float | None, *, day: int = 0, hour: int = 9
) -> dict[str, Any]:
    """An incident received ``day`` days into the week, attended after ``minutes`` (None: never)."""
    received = MONDAY + timedelta(days=day, hours=hour)
    return {
        "incident_ref": ref,
        "place": place,
        "team": team,
        "grade": grade,
        "channel": "999" if grade == 1 else "101",
        "received_at": received,
        "answered_at": received + timedelta(seconds=5 + len(ref) % 7),
        "arrived_at": None if minutes is None else received + timedelta(minutes=minutes),
    }


ROWS = [
    # Blackwater, Response A: two days with different times
    attended("A1", "BLK", "Response A", 1, 7.25, day=0),
    attended("A2", "BLK", "Response A", 1, 9.5, day=0),
    attended("A3", "BLK", "Response A", 1, 12.0, day=2),
    attended("A4", "BLK", "Response A", 1, 31.0, day=2),
    attended("A5", "BLK", "Response A", 1, None, day=3),  # never attended: no time, not within 15
    # Response B: a single Grade 1 incident
    attended("B1", "BLK", "Response B", 1, 16.0, day=4),
    # no team
    attended("N1", "BLK", None, 1, 8.0, day=5),
    attended("N2", "BLK", "", 2, 45.0, day=6),
    # Grade 3 within 24 hours (exactly), just over, and never attended
    attended("G1", "BLK", "Response A", 3, 24 * 60, day=1),
    attended("G2", "BLK", "Response A", 3, 24 * 60 + 1, day=1),
    attended("G3", "BLK", "Response B", 3, None, day=1),
    attended("G4", "BLK", "Response B", 3, 90, day=6),
    # Riverside (rural)
    attended("R1", "RVS", "Response A", 1, 18.0, day=0),
    attended("R2", "RVS", "Response A", 2, 61.0, day=1),
]

TIME_METRICS = {
    "g1_attendance_minutes": (1, "arrived"),
    "g2_attendance_minutes": (2, "arrived"),
    "g3_attendance_minutes": (3, "arrived"),
    "call999_answer_seconds": ("999", "answered"),
    "call101_answer_seconds": ("101", "answered"),
}


def _plain_times(rows: list[dict[str, Any]], metric: str) -> list[float]:
    """The metric's times worked out plainly: whole seconds (half up), in its unit."""
    of, stamp = TIME_METRICS[metric]
    out = []
    for r in rows:
        if (r["grade"] if isinstance(of, int) else r["channel"]) != of or r[f"{stamp}_at"] is None:
            continue
        seconds = math.floor((r[f"{stamp}_at"] - r["received_at"]).total_seconds() + 0.5)
        out.append(seconds / 60 if stamp == "arrived" else float(seconds))
    return out


def _plain_median(values: list[float], metric: str) -> float:
    """The median of the whole units: seconds, or minutes rounded to the nearest (half up)."""
    if TIME_METRICS[metric][1] == "arrived":
        return statistics.median(math.floor(v + 0.5) for v in values)
    return statistics.median(values)


def _groups(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Rows by (place, team): every place's own ("" team) and each named team's."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault((r["place"], ""), []).append(r)
        if r["team"]:
            out.setdefault((r["place"], r["team"]), []).append(r)
    return out


def test_means_and_medians_by_place_and_team_are_those_of_the_rows() -> None:
    days = daily.incident_days(incidents_frame(ROWS, SETTINGS))
    assert len(days) == 7  # the week's days, each with its own histogram
    table = daily.incident_metrics(days, "2026-W47", teams=True)
    got = {(r["place"], r["team"], r["metric"]): r for r in records(table)}
    checked = 0
    for (place, team), rows in _groups(ROWS).items():
        for metric in TIME_METRICS:
            values = _plain_times(rows, metric)
            row = got.get((place, team, metric))
            if not values:
                assert row is None
                continue
            checked += 1
            assert row["n"] == len(values)
            assert row["mean"] == pytest.approx(statistics.fmean(values), rel=1e-12)
            assert row["median"] == _plain_median(values, metric)
            if len(values) > 1:
                half = (row["ci_high"] - row["ci_low"]) / 2
                sd = statistics.stdev(values)
                assert half == pytest.approx(
                    stats.t.ppf(0.975, len(values) - 1) * sd / math.sqrt(len(values))
                )
            else:  # a team with a single incident: its time, no interval
                assert row["ci_low"] is None and row["ci_high"] is None
    assert checked > 12
    # Blackwater's Grade 1: five incidents of Response A, one attended never; B's one; two with no team
    a = got[("BLK", "Response A", "g1_attendance_minutes")]
    assert (a["n"], a["mean"], a["median"]) == (4, pytest.approx((7.25 + 9.5 + 12 + 31) / 4), 11.0)
    assert got[("BLK", "Response B", "g1_attendance_minutes")]["mean"] == 16.0
    assert got[("BLK", "", "g1_attendance_minutes")]["n"] == 6  # A's 4, B's 1, the one with no team
    assert ("RVS", "Response A", "g1_attendance_minutes") in got and (
        "RVS",
        "",
        "g2_attendance_minutes",
    ) in got


def test_the_week_pools_its_days_and_chunks_exactly() -> None:
    frame = incidents_frame(ROWS, SETTINGS)
    whole = daily.incident_days(frame)
    chunks = daily.merge(daily.incident_days(frame.iloc[i : i + 3]) for i in range(0, len(frame), 3))
    assert chunks == whole
    one_day = daily.incident_metrics(daily.between(whole, date(2026, 11, 18), date(2026, 11, 18)), "Wed")
    wed = records(one_day[(one_day["metric"] == "g1_attendance_minutes").to_numpy()])
    assert [(r["n"], r["mean"], r["median"]) for r in wed] == [(2, 21.5, 21.5)]  # 12 and 31 minutes


def test_grade_3_is_attended_within_its_standard_or_not() -> None:
    frame = incidents_frame(ROWS, SETTINGS)
    assert list(
        frame["g3_attended_within_standard__passed"][frame["g3_attended_within_standard__applicable"]]
    ) == [
        True,  # exactly 24 hours: within
        False,  # a minute over
        False,  # never attended
        True,
    ]
    table = daily.incident_metrics(daily.incident_days(frame), "2026-W47", teams=True)
    g3 = {
        (r["place"], r["team"]): (r["n"], r["passes"])
        for r in records(table)
        if r["metric"] == "g3_attended_within_standard"
    }
    assert g3 == {("BLK", ""): (4, 2), ("BLK", "Response A"): (2, 1), ("BLK", "Response B"): (2, 1)}
    longer = incidents_frame(ROWS, SETTINGS, ResponseSettings(g3_hours=48))
    assert int(longer["g3_attended_within_standard__passed"].sum()) == 3


def test_incident_metrics_csv_rows_by_force_place_and_team() -> None:
    days = daily.incident_days(incidents_frame(ROWS, SETTINGS))
    week = Period(FROM, FROM + timedelta(days=6), "2026-W47")
    standards = [*STANDARDS, {"ruleset": "response-standards", "criterion": "RS05", "measure": "M2",
                              "metric": "g1_attendance_minutes", "text": "Grade 1 attendance time"}]  # fmt: skip
    rows = incident_metric_rows(IncidentMetrics.of(days, [week]), standards, load_measure_catalogue()) or []
    rs05 = [
        (r["level"], r["key"], r["n"], r["unit"], r["passes"], r["rate"])
        for r in rows
        if r["criterion"] == "RS05"
    ]
    assert rs05 == [
        ("force", "FORCE", 7, "minutes", None, None),
        ("place", "BLK", 6, "minutes", None, None),
        ("team", "Response A", 4, "minutes", None, None),
        ("team", "Response B", 1, "minutes", None, None),
        ("place", "RVS", 1, "minutes", None, None),
        ("team", "Response A", 1, "minutes", None, None),
    ]
    single = next(r for r in rows if r["criterion"] == "RS05" and r["key"] == "Response B")
    assert (single["mean"], single["median"], single["ci_low"]) == (16.0, 16.0, None)
    rs01 = next(r for r in rows if r["criterion"] == "RS01" and r["key"] == "BLK")
    assert (rs01["n"], rs01["passes"], rs01["unit"], rs01["mean"]) == (7, 4, "incidents", None)


# --------------------------------------------------------------------------- thresholds and SPC

MAX_G1 = {
    "ruleset": "response-standards",
    "criterion": "RS05",
    "metric": "g1_attendance_minutes",
    "text": "Grade 1 attendance time",
    "measure": "M2",
    "maximum": 12.0,
    "direction": "lower",
}


def _assess(rows: list[dict[str, Any]], standards: list[dict[str, Any]]) -> Any:
    return assess(
        outcomes_frame([], CRITERIA, MEASURES),
        incidents_frame(rows, SETTINGS),
        metric_standards=standards,
        place_settings=SETTINGS,
    )


def _g1(place: str, team: str, minutes: list[float], *, week: int = 0) -> list[dict[str, Any]]:
    return [
        attended(f"{place}-{team}-{week}-{i}", place, team, 1, m, day=i % 7 - 7 * week, hour=i % 24)
        for i, m in enumerate(minutes)
    ]


def test_a_mean_time_over_its_maximum_is_a_threshold_exception_naming_the_teams() -> None:
    rows = _g1("BLK", "Response A", [13, 14, 15, 16] * 10) + _g1("BLK", "Response B", [17] * 20)
    rows += _g1("RVS", "Response A", [10, 11, 25])  # mean 15.3 minutes, but only 3: not sure
    found = _assess(rows, [MAX_G1])
    (e,) = found.exceptions
    assert (e.kind, e.place, e.criterion, e.n, e.standard) == (
        ExceptionKind.THRESHOLD,
        "BLK",
        "RS05",
        60,
        12.0,
    )
    assert e.rate == pytest.approx((14.5 * 40 + 17 * 20) / 60) and e.ci_low is not None and e.ci_low > 12
    facts = figure_of(e)
    assert facts is not None and (facts.statistic, facts.bound, facts.standard, facts.period) == (
        "mean",
        "maximum",
        12.0,
        "2026-W47",
    )
    assert e.reason.startswith(
        "Grade 1 attendance time was a mean of 15.3 minutes in 2026-W47 (60 attended; median 15.5 minutes); "
        "the maximum is 12.0 minutes; even allowing for chance the true mean is at least 14.9 minutes; "
        "by team: Response B 17.0 minutes (20), Response A 14.5 minutes (40)."
    )
    (note,) = found.small_samples
    assert (note.place, note.criterion, note.n) == ("RVS", "RS05", 3)
    # within the maximum: nothing
    assert _assess(_g1("BLK", "Response A", [8, 9, 10] * 20), [MAX_G1]).exceptions == []


def test_a_median_threshold_is_judged_on_the_median_and_its_own_interval() -> None:
    # most attendances quick, a few very slow: the mean is over 12 minutes, the median well under
    rows = _g1("BLK", "Response A", [6] * 40 + [90] * 10)
    assert [e.criterion for e in _assess(rows, [MAX_G1]).exceptions] == ["RS05"]
    assert _assess(rows, [{**MAX_G1, "statistic": "median"}]).exceptions == []
    slow = _g1("BLK", "Response A", [14] * 30 + [16] * 30)
    (e,) = _assess(slow, [{**MAX_G1, "statistic": "median"}]).exceptions
    assert (e.rate, e.ci_low, e.ci_high) == (15.0, 14.0, 16.0)
    assert (
        "was a median of 15.0 minutes" in e.reason and "the true median is at least 14.0 minutes" in e.reason
    )


def test_a_weekly_mean_time_is_watched_by_spc() -> None:
    rows: list[dict[str, Any]] = []
    for w in range(18, -1, -1):  # 19 weeks up to 2026-W47: steady around 9-10 minutes, then 20
        minutes = [20.0] * 10 if w == 0 else ([9.0, 10.0] * 5 if w % 2 else [9.5, 10.5] * 5)
        rows += _g1("BLK", "Response A", minutes, week=w)
    assert week_label((MONDAY - timedelta(weeks=18)).date()) == "2026-W29"
    spec = {**MAX_G1, "maximum": None}  # no maximum: SPC alone
    found = _assess(rows, [spec])
    (e,) = found.exceptions
    assert (e.kind, e.criterion, e.rate, e.ci_low, e.standard) == (
        ExceptionKind.SPECIAL_CAUSE,
        "RS05",
        20.0,
        20.0,
        None,
    )
    facts = figure_of(e)  # what the briefing shows: the week's mean time in minutes, of 10 attended
    assert facts is not None and (facts.kind, facts.unit, facts.n, facts.mean, facts.median) == (
        "time",
        "minutes",
        10,
        20.0,
        20.0,
    )
    assert e.chart is not None and e.chart.direction == "lower" and e.chart.rules == ("outside_limits",)
    assert e.reason.startswith(
        "The mean Grade 1 attendance time was 20.0 minutes in week 2026-W47, higher than this place's usual range"
    )
    assert e.reason.endswith("; by team: Response A 20.0 minutes (10).")


def test_two_places_signalling_in_one_week_each_name_their_own_teams() -> None:
    rows: list[dict[str, Any]] = []
    for place, team, late in (("BLK", "Response A", 20.0), ("RVS", "Response B", 30.0)):
        for w in range(18, -1, -1):  # steady around 9-10 minutes, then late in 2026-W47
            minutes = [late] * 10 if w == 0 else ([9.0, 10.0] * 5 if w % 2 else [9.5, 10.5] * 5)
            rows += _g1(place, team, minutes, week=w)
    found = _assess(rows, [{**MAX_G1, "maximum": None}])
    reasons = {e.place: e.reason for e in found.exceptions if e.kind == ExceptionKind.SPECIAL_CAUSE}
    assert reasons["BLK"].endswith("; by team: Response A 20.0 minutes (10).")
    assert reasons["RVS"].endswith("; by team: Response B 30.0 minutes (10).")


def test_a_period_pooled_from_its_parts_is_the_period_pooled_whole() -> None:
    """A PEEL rerun's period is added up from its quarters: the same figures as the period read whole."""
    days = daily.incident_days(incidents_frame(ROWS, SETTINGS))
    whole = Period(FROM, FROM + timedelta(days=6), "W47")
    halves = [
        Period(FROM, FROM + timedelta(days=2), "a"),
        Period(FROM + timedelta(days=3), FROM + timedelta(days=6), "b"),
    ]
    from_parts = IncidentMetrics.of(days, [whole, *halves])
    alone = IncidentMetrics.of(days, [whole])
    assert (from_parts.force[0], from_parts.places[0], from_parts.teams[0]) == (
        alone.force[0],
        alone.places[0],
        alone.teams[0],
    )
    assert from_parts.teams[0][("BLK", "Response A", "g1_attendance_minutes")]["median"] == 11.0
    assert from_parts.places[1][("BLK", "g1_attendance_minutes")]["n"] == 4  # A1-A4, by Wednesday


def test_summaries_kept_in_another_format_are_not_used() -> None:
    """Day summaries keep each histogram as [first bin, count, gap, count, ...] (format 3); a run keys
    its stored summaries on the format, so those an engine kept as [bin, count, ...] (format 2) are
    made again from the rows rather than misread."""
    from engine.analysis.incident_days import INCIDENT_SUMMARY_FORMAT, decode_histograms
    from engine.runs.gather import INCIDENT_SUMMARY_FORMAT as used

    assert INCIDENT_SUMMARY_FORMAT == used == 3
    assert decode_histograms([[7, 2, 3, 1], [5, 1]]).tolist() == [7, 2, 10, 1, 5, 1]

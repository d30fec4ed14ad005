"""engine.analysis.daily: day summaries of outcomes and incidents, the weekly series for SPC and the
incident metrics worked out from them."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest

from engine.analysis import daily
from engine.analysis.incidents import incidents_frame
from engine.analysis.stats import wilson_interval
from engine.core.periods import week_label, week_range
from tests.analysis.sample_rows import SETTINGS, SS, T0, frame, incident, one, row


def test_measure_weekly_series_counts_cases_and_marks_empty_weeks() -> None:
    rows = [
        row("BLK", "SS01", "pass", "A", assessed_on=date(2026, 11, 3)),
        row("BLK", "SS03", "fail", "A", assessed_on=date(2026, 11, 3)),
        row("BLK", "SS01", "na", "B", assessed_on=date(2026, 11, 17)),
        row("BLK", "SS01", "pass", "C", assessed_on=date(2026, 11, 18)),
    ]
    weeks = week_range("2026-W45", "2026-W47")
    assert weeks == ["2026-W45", "2026-W46", "2026-W47"]
    # case A met SS01 but failed SS03: one case, not meeting D11 (not 2 findings, 1 met)
    assert daily.measure_weekly_series(daily.outcome_days(frame(rows)), weeks) == {
        ("BLK", "D11"): [(1, 0), (0, 0), (1, 1)]
    }


def test_outcome_day_summaries_count_cases_for_measures_and_findings_for_criteria() -> None:
    day = date(2026, 11, 17)
    rows = []
    for i in range(10):  # each case fails SS01 and SS03, meets SS02
        rows += [row("BLK", c, o, f"S{i}") for c, o in (("SS01", "fail"), ("SS02", "pass"), ("SS03", "fail"))]
    rows += [row("BLK", "SS01", "fail", "T"), row("BLK", "SS02", "na", "T"), row("BLK", "SS03", "na", "T")]
    rows += [row("BLK", "VC01", "pass", "V"), row("RVS", "SS01", "na", "N")]
    assert daily.outcome_days(frame(rows)) == {
        day: {
            "BLK": {
                "M8": [1, 1],
                "D11": [11, 0],  # 11 cases, none meeting every applicable criterion (not 31 findings, 10 met)
                "criterion:stop-search-legitimacy/SS01": [11, 0],
                "criterion:stop-search-legitimacy/SS02": [10, 10],
                "criterion:stop-search-legitimacy/SS03": [10, 0],
                "criterion:victims-code-compliance/VC01": [1, 1],
            },
            "RVS": {},  # reviewed that day, nothing applicable
        }
    }


def test_outcome_day_summaries_add_up_over_days() -> None:
    rng = random.Random(47)
    rows = []
    for i in range(200):
        on, place = date(2026, 11, 2) + timedelta(days=rng.randint(0, 20)), rng.choice(["BLK", "RVS"])
        for criterion in ("SS01", "SS02", "SS03"):
            outcome = rng.choice(["pass", "pass", "fail", "na"])
            rows.append(row(place, criterion, outcome, f"S{i}", assessed_on=on))
    whole = daily.outcome_days(frame(rows))
    by_day = [daily.outcome_days(frame([r for r in rows if r["assessed_on"] == d])) for d in whole]
    assert daily.merge(by_day) == whole
    weeks = week_range("2026-W45", "2026-W47")
    halves = [daily.outcome_days(frame(rows[:300])), daily.outcome_days(frame(rows[300:]))]
    assert daily.measure_weekly_series(daily.merge(halves), weeks) == daily.measure_weekly_series(
        whole, weeks
    )
    assert daily.criterion_weekly_series(whole, weeks)[("BLK", SS, "SS01")] == [
        (
            sum(1 for r in rows if r["place"] == "BLK" and r["criterion"] == "SS01" and r["outcome"] != "na"
                and week_label(r["assessed_on"]) == w),
            sum(1 for r in rows if r["place"] == "BLK" and r["criterion"] == "SS01" and r["outcome"] == "pass"
                and week_label(r["assessed_on"]) == w),
        )
        for w in weeks
    ]  # fmt: skip


def test_call_metrics() -> None:
    rows = [
        incident("A", "BLK", 3, "999", 10, None),  # exactly 10 s: within
        incident("B", "BLK", 3, "999", 10.5, None),
        incident("C", "BLK", 3, "999", None, None),  # not answered: not within 10 s
        incident("D", "BLK", 2, "101", 30, 45),
        incident("E", "BLK", 2, "101", 60, 61),
        incident("F", "BLK", 3, "101", 300, None),
        incident("G", "BLK", 3, "101", None, None),  # unanswered 101: no answer time
        incident("H", "BLK", 3, "online", None, None),
    ]
    m = daily.incident_metrics(daily.incident_days(incidents_frame(rows, SETTINGS)), period="2026-W47")
    c999 = one(m, metric="call999_answered_within_10s")
    assert (c999["n"], c999["passes"], c999["period"]) == (3, 1, "2026-W47")
    assert (c999["ci_low"], c999["ci_high"]) == pytest.approx(wilson_interval(1, 3))
    g2 = one(m, metric="g2_attended_within_60")
    assert (g2["n"], g2["passes"]) == (2, 1)
    c101 = one(m, metric="call101_answer_seconds")
    assert (c101["n"], c101["median"], c101["p90"]) == (3, 60.0, pytest.approx(252.0))
    assert math.isnan(c101["rate"])
    c999_time = one(m, metric="call999_answer_seconds")  # 10 and 10.5 s: whole seconds 10 and 11
    assert (c999_time["n"], c999_time["mean"], c999_time["median"]) == (2, 10.5, 10.5)
    # no Grade 1 incident, so no Grade 1 row; Grade 3 incidents, none attended: no Grade 3 time row
    assert list(m["metric"]) == [
        "g2_attended_within_60",
        "g3_attended_within_standard",
        "call999_answered_within_10s",
        "g2_attendance_minutes",
        "call999_answer_seconds",
        "call101_answer_seconds",
    ]


def test_incident_weeks_series_and_period() -> None:
    rows = [
        incident("A", "BLK", 3, "999", 5, None),
        {**incident("B", "BLK", 3, "999", 20, None), "received_at": T0 + timedelta(days=14)},
    ]
    rows[1]["answered_at"] = rows[1]["received_at"] + timedelta(seconds=20)
    inc = incidents_frame(rows, SETTINGS)
    assert list(inc["week"].astype(str)) == ["2026-W47", "2026-W49"]
    series = daily.incident_weekly_series(daily.incident_days(inc), week_range("2026-W47", "2026-W49"))
    assert series[("BLK", "call999_answered_within_10s")] == [(1, 1, 1.0), (0, 0, None), (1, 0, 0.0)]
    assert list(daily.between(daily.incident_days(inc), date(2026, 11, 30), date(2026, 12, 6))) == [
        date(2026, 11, 30)
    ]

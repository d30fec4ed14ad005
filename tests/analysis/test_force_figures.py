"""engine.analysis.figure_force: the force's figure judged beside the places' -- the places' figures
added up (a time's mean from every value and count, not the places' means averaged), or the figure
sent for the FORCE, said so in the reason; a force figure of one place's alone is not judged again."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.analysis.evidence import Catalogue
from engine.analysis.figure_findings import FigureData, figure_findings
from engine.core.models import ExceptionKind
from tests.analysis.figure_rows import METRICS, fig

WEEK = (dt.date(2026, 11, 16), dt.date(2026, 11, 22))
CAT = Catalogue({}, {m: {"priority": 1, "peel": "efficiency", "iserve": ["response"]} for m in ("M1", "M2")})
BASE = {"priority": None, "peel": None, "iserve": None, "direction": "higher", "guidance": ""}
ATTENDANCE = {**BASE, "ruleset": "hr", "criterion": "HR01", "metric": "attendance_rate", "measure": "M1",
              "text": "Attendance", "minimum": 0.95, "maximum": None}  # fmt: skip
RESPONSE = {**BASE, "ruleset": "resp", "criterion": "RT01", "metric": "g1_minutes", "measure": "M2",
            "text": "Grade 1 attendance time", "minimum": None, "maximum": 15.0}  # fmt: skip


def _found(rows: list, threshold: dict) -> dict:
    found = figure_findings(FigureData.of(rows, METRICS, [threshold]), CAT, *WEEK)
    return {(e.kind, e.place): e for e in found}


def test_a_time_s_force_mean_is_every_value_over_their_count_not_the_places_means_averaged() -> None:
    rows = []
    for place, bins in (("AAA", ((17.0, 150), (15.0, 150))), ("BBB", ((13.0, 50), (15.0, 50)))):
        rows += [fig("g1_minutes", place, "2026-11-18", value=v, count=c) for v, c in bins]
    got = _found(rows, RESPONSE)
    force = got[(ExceptionKind.THRESHOLD, "FORCE")]
    # (17 x 150 + 15 x 150 + 13 x 50 + 15 x 50) / 400 = 15.5 minutes; the places' means, 16 and 14,
    # averaged would be 15, on the maximum
    assert (force.n, force.rate) == (400, pytest.approx(15.5))
    assert force.ci_low is not None and force.ci_low > 15.0
    assert force.reason.endswith(
        "The force's figure adds up the values and their counts of 2 places with figures for 2026-W47 "
        "(AAA, BBB), every place that sends them."
    )


def test_a_figure_sent_for_the_force_is_judged_as_sent() -> None:
    rows = [
        fig("attendance_rate", "FORCE", "2026-10", numerator=9000, denominator=10000),
        fig("attendance_rate", "AAA", "2026-10", numerator=960, denominator=1000),
        fig("attendance_rate", "BBB", "2026-10", numerator=965, denominator=1000),
    ]
    got = _found(rows, ATTENDANCE)
    assert set(got) == {(ExceptionKind.THRESHOLD, "FORCE")}
    force = got[(ExceptionKind.THRESHOLD, "FORCE")]
    assert (force.n, force.passed) == (10000, 9000)
    assert force.reason.endswith("The force's figure is the one sent for the force as a whole.")


def test_a_force_figure_of_a_single_place_is_not_judged_twice() -> None:
    rows = [fig("attendance_rate", "AAA", "2026-10", numerator=840, denominator=1000)]
    assert set(_found(rows, ATTENDANCE)) == {(ExceptionKind.THRESHOLD, "AAA")}

"""engine.analysis.figures and figure_findings: the declared metrics' figures pooled by kind and
checked against plain sums, the point a weekly run uses (the week; the latest closed month,
labelled; nothing when stale), and the exceptions raised on them."""

from __future__ import annotations

import datetime as dt
import math
import statistics

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from engine.analysis.evidence import Catalogue
from engine.analysis.figure_findings import FigureData, figure_findings
from engine.analysis.figure_stats import weighted_median_interval
from engine.analysis.figures import (
    _medians,
    figure_frame,
    levels,
    live_event_metrics,
    records_of,
    span_figures,
)
from engine.analysis.spc_findings import SpcSettings
from engine.core.models import ExceptionKind
from tests.analysis.figure_rows import METRICS, fig, months

WEEK = (dt.date(2026, 11, 16), dt.date(2026, 11, 22))
CAT = Catalogue(
    {},
    {
        m: {"priority": p, "peel": "efficiency", "iserve": ["response"]}
        for m, p in (("M1", 1), ("M2", 1), ("D6", 2), ("D9", 4), ("D12", 4))
    },
)


def _span(rows: list, start: dt.date, end: dt.date) -> dict[tuple[str, str, str, str], dict]:
    table = span_figures(levels(figure_frame(rows, METRICS)), METRICS, start, end)
    return {(r["metric"], r["level"], r["place"], r["team"]): r for r in records_of(table)}


def test_a_week_pools_its_days_and_times_by_value_and_count() -> None:
    rows = []
    values: dict[str, list[float]] = {"AAA": [], "BBB": []}
    for d in range(14):  # two weeks of daily histograms: only 2026-W47's count
        day = dt.date(2026, 11, 9) + dt.timedelta(days=d)
        for place, bins in (("AAA", ((9.0, 3), (14.5, 2))), ("BBB", ((20.0, 1), (31.0, 4)))):
            for v, c in bins:
                rows.append(fig("g1_minutes", place, day.isoformat(), team="Response A", value=v, count=c))
                if day >= WEEK[0]:
                    values[place] += [v] * c
    got = _span(rows, *WEEK)
    for place, seen in values.items():
        row = got[("g1_minutes", "place", place, "")]
        assert (row["n"], row["value"], row["median"]) == pytest.approx(
            (len(seen), statistics.fmean(seen), statistics.median(seen))
        )
        assert row["label"] == "2026-W47"
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(DescrStatsW(seen).tconfint_mean())
        assert got[("g1_minutes", "team", place, "Response A")]["n"] == len(seen)
    force = got[("g1_minutes", "force", "FORCE", "")]
    everything = values["AAA"] + values["BBB"]
    assert (force["n"], force["value"]) == pytest.approx((len(everything), statistics.fmean(everything)))


def test_a_month_is_used_by_the_weeks_after_it_labelled_and_never_when_stale() -> None:
    rows = [fig("attendance_rate", "AAA", m, numerator=900 + i, denominator=1000) for i, m in
            enumerate(months((2026, 1), (2026, 10)))]  # fmt: skip
    rows += [fig("attendance_rate", "BBB", "2026-08", numerator=70, denominator=100)]
    got = _span(rows, *WEEK)
    row = got[("attendance_rate", "place", "AAA", "")]
    assert (row["label"], row["period"], row["n"], row["k"]) == ("October 2026", "2026-10", 1000, 909)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(proportion_confint(909, 1000, method="wilson"))
    # BBB's latest is August: September and October have ended since, so it is stale (not measured)
    assert ("attendance_rate", "place", "BBB", "") not in got
    # the force: October pooled over the places that sent it
    assert got[("attendance_rate", "force", "FORCE", "")]["label"] == "October 2026"
    # September's weeks use August for BBB (only one month has ended since)
    assert (
        _span(rows, dt.date(2026, 9, 21), dt.date(2026, 9, 27))[("attendance_rate", "place", "BBB", "")][
            "label"
        ]
        == "August 2026"
    )


def test_a_quarter_pools_the_months_inside_it() -> None:
    rows = [
        fig("attendance_rate", "AAA", m, numerator=90, denominator=100) for m in months((2026, 6), (2026, 10))
    ]
    got = _span(rows, dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    row = got[("attendance_rate", "place", "AAA", "")]
    assert (row["n"], row["k"], row["label"], row["period"]) == (
        300,
        270,
        "July to September 2026",
        "2026-07 to 2026-09",
    )


def test_survey_count_and_event_figures() -> None:
    rows = [
        fig("feel_safe", "AAA", "2026-Q3", value=0.62, count=400),
        fig("feel_safe", "BBB", "2026-Q3", numerator=150, denominator=200),
        fig("complaints", "AAA", "2026-Q3", numerator=12, denominator=48_000),
        fig(
            "homicide",
            "BBB",
            "2026-11-18",
            event_ref="HI-1",
            event_on=dt.date(2026, 11, 18),
            detail="Stabbing",
        ),
        fig(
            "homicide",
            "BBB",
            "2026-11-02",
            event_ref="HI-0",
            event_on=dt.date(2026, 11, 2),
            detail="Shooting",
        ),
    ]
    got = _span(rows, *WEEK)
    survey = got[("feel_safe", "place", "AAA", "")]
    assert (survey["n"], survey["k"], survey["label"]) == (400, pytest.approx(248), "2026-Q3")
    assert (survey["ci_low"], survey["ci_high"]) == pytest.approx(
        proportion_confint(248 / 1.5, 400 / 1.5, method="wilson")
    )
    force = got[("feel_safe", "force", "FORCE", "")]
    assert force["value"] == pytest.approx((248 + 150) / 600)
    rate = got[("complaints", "place", "AAA", "")]
    assert rate["value"] == pytest.approx(0.25)  # 12 in 48,000 = 0.25 per 1,000
    assert got[("homicide", "place", "BBB", "")]["n"] == 1  # the one in the week


def test_an_event_log_is_live_for_two_months_and_covers_all_its_metrics() -> None:
    one = [fig("homicide", "BBB", "2026-09-02", event_ref="X", event_on=dt.date(2026, 9, 2))]
    rows = levels(figure_frame(one, METRICS))
    # an event since 1 September keeps the log live in November: no homicide since is no news
    assert live_event_metrics(rows, METRICS, dt.date(2026, 11, 22)) == ("homicide",)
    assert live_event_metrics(rows, METRICS, dt.date(2026, 12, 1)) == ()
    assert live_event_metrics(rows, METRICS, dt.date(2026, 8, 31)) == ()  # not sent yet


def _thresholds(**more: object) -> list[dict[str, object]]:
    base = {"ruleset": "hr", "priority": None, "peel": None, "iserve": None, "direction": "higher",
            "guidance": "The HR business partner reviews absence cases with the place leader."}  # fmt: skip
    return [
        {**base, "criterion": "HR01", "metric": "attendance_rate", "measure": "M1", "text": "Attendance",
         "minimum": 0.95, "maximum": None},
        {**base, "ruleset": "hi", "criterion": "HI01", "metric": "homicide", "measure": "D6", "text": "Homicide",
         "minimum": None, "maximum": None},
        {**base, "ruleset": "resp", "criterion": "RT01", "metric": "g1_minutes", "measure": "M2",
         "text": "Grade 1 attendance time", "minimum": None, "maximum": 15.0, **more},
    ]  # fmt: skip


def _drifting() -> list[dict[str, object]]:
    """AAA's attendance drifting down over 2026, BBB's steady, a homicide at BBB, and a week of
    attendance times at both."""
    rows = []
    for i, m in enumerate(months((2025, 1), (2026, 10))):
        k = 960 if i < 16 else 960 - 20 * (i - 15)  # AAA drifts down from May 2026 to 840 in October
        rows += [fig("attendance_rate", "AAA", m, numerator=k, denominator=1000)]
        rows += [fig("attendance_rate", "BBB", m, numerator=955 + (i % 3), denominator=1000)]
    rows.append(fig("homicide", "BBB", "2026-11-18", event_ref="HI-1", event_on=dt.date(2026, 11, 18),
                    detail="Man stabbed outside a bar"))  # fmt: skip
    for d in range(7):
        day = (WEEK[0] + dt.timedelta(days=d)).isoformat()
        rows += [
            fig("g1_minutes", "AAA", day, value=18.0, count=30),
            fig("g1_minutes", "AAA", day, value=12.0, count=10),
        ]
        rows += [
            fig("g1_minutes", "BBB", day, value=14.0, count=30),
            fig("g1_minutes", "BBB", day, value=17.0, count=10),
        ]
    return rows


def test_threshold_special_cause_and_event_exceptions() -> None:
    rows = _drifting()
    found = figure_findings(FigureData.of(rows, METRICS, _thresholds()), CAT, *WEEK, SpcSettings())
    got = {(e.kind, e.place, e.criterion): e for e in found}
    assert set(got) == {
        (ExceptionKind.THRESHOLD, "AAA", "HR01"),
        (ExceptionKind.SPECIAL_CAUSE, "AAA", "HR01"),
        (ExceptionKind.CRITICAL, "BBB", "HI01"),
        (ExceptionKind.THRESHOLD, "AAA", "RT01"),  # a mean of 16.5 minutes against a 15-minute maximum
        # the force: both places' figures added up (figure_force), below 95% and over 15 minutes too
        (ExceptionKind.THRESHOLD, "FORCE", "HR01"),
        (ExceptionKind.SPECIAL_CAUSE, "FORCE", "HR01"),
        (ExceptionKind.THRESHOLD, "FORCE", "RT01"),
    }
    t = got[(ExceptionKind.THRESHOLD, "AAA", "HR01")]
    assert (t.n, t.passed, t.rate, t.standard) == (1000, 840, 0.84, 0.95)
    assert t.reason.startswith("Working days attended: 84% in October 2026 (840 of 1,000 days)")
    assert t.figure is not None and t.figure.period == "October 2026"
    assert t.guidance.startswith("The HR business partner")
    spc = got[(ExceptionKind.SPECIAL_CAUSE, "AAA", "HR01")]
    assert spc.chart is not None and spc.chart.points[-1].week == "2026-10"
    event = got[(ExceptionKind.CRITICAL, "BBB", "HI01")]
    assert event.cases == ("HI-1",) and "18 November 2026" in event.reason and "HI-1" in event.reason
    time = got[(ExceptionKind.THRESHOLD, "AAA", "RT01")]
    assert time.rate == pytest.approx(16.5) and time.n == 280
    # on the median instead: AAA's is 18 minutes (breach), BBB's 14 (none)
    by_median = figure_findings(FigureData.of(rows, METRICS, _thresholds(statistic="median")), CAT, *WEEK)
    medians = {(e.place, e.criterion): e for e in by_median if e.kind is ExceptionKind.THRESHOLD}
    assert medians[("AAA", "RT01")].rate == 18.0 and ("BBB", "RT01") not in medians


def test_spans_ending_on_one_day_chart_once_and_find_what_they_find_alone() -> None:
    """A PEEL year and its last quarter end on one day: the quarter's special causes, charted once
    for the year (FigureData.causes), are what the quarter finds on data of its own."""
    rows = _drifting()
    data = FigureData.of(rows, METRICS, _thresholds())
    year = figure_findings(data, CAT, WEEK[1] - dt.timedelta(days=364), WEEK[1])
    assert any(e.kind is ExceptionKind.SPECIAL_CAUSE for e in year) and data.causes
    # the quarter and the week end on the year's day; the last quarter before them ends earlier
    for span in (
        (WEEK[1] - dt.timedelta(days=90), WEEK[1]),
        WEEK,
        (dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
    ):
        assert figure_findings(data, CAT, *span) == figure_findings(
            FigureData.of(rows, METRICS, _thresholds()), CAT, *span
        )


def test_no_threshold_exception_while_the_interval_reaches_the_standard() -> None:
    rows = [fig("attendance_rate", "AAA", "2026-10", numerator=18, denominator=20)]  # 90%, interval to 97%
    assert figure_findings(FigureData.of(rows, METRICS, _thresholds()), CAT, *WEEK) == []


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 60), st.integers(0, 9)), min_size=1, max_size=80))
@settings(max_examples=60, deadline=None)
def test_every_groups_median_and_interval_at_once_equal_one_group_at_a_time(
    rows: list[tuple[int, int, int]],
) -> None:
    frame = pd.DataFrame(
        {"metric": [f"m{g}" for g, _, _ in rows], "value": [float(v) for _, v, _ in rows],
         "n_i": [float(c) for _, _, c in rows]}
    )  # fmt: skip
    got = {r["metric"]: r for r in records_of(_medians(frame, ["metric"]))}
    for name, group in frame.groupby("metric"):
        expected = weighted_median_interval(group["value"].tolist(), group["n_i"].tolist())
        if group["n_i"].sum() == 0:
            assert name not in got
            continue
        found = tuple(
            math.nan if got[name][c] is None else got[name][c]
            for c in ("median", "median_low", "median_high")
        )
        assert found == pytest.approx(expected, nan_ok=True)

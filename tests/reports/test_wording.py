"""engine.reports.wording: percentages, intervals, periods, kind counts and evidence in plain words."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.reports.wording import (
    assurance_text,
    evidence,
    interval,
    kind_counts_text,
    pct,
    period_text,
)
from tests.reports.briefing_cases import place_exceptions


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.1666, "17%"), (0.125, "13%"), (0.005, "1%"), (0.0, "0%"), (1.0, "100%"), (None, "no data")],
)
def test_percentages_have_no_decimals(value: float | None, text: str) -> None:
    assert pct(value) == text


def test_percentages_read_100_only_when_exactly_so_and_tell_neighbours_apart() -> None:
    assert pct(0.9996) == "99.96%"
    assert pct(0.98, 0.975) == "98.0%"
    assert pct(0.98, None) == "98%"
    assert interval(0.972, 0.974) == "97.2%-97.4%"


def test_evidence_never_shows_a_rate_as_its_standard() -> None:
    below = replace(place_exceptions()[0], n=1000, passed=897, rate=0.897, ci_low=0.877, ci_high=0.914)
    rows = dict(evidence(below, "searches"))
    assert rows["Met the criterion"] == "897 of 1,000 (89.7%)"
    assert rows["Minimum standard"] == "90.0%"
    assert rows["95% interval"] == "87.7%-91.4%"


def test_assurance_wording_says_nothing_for_a_key_it_does_not_know() -> None:
    assert assurance_text("process_changed") == (
        "the process has changed; its limits will be recalculated when enough new points exist"
    )
    assert assurance_text("hit_and_miss") is not None
    assert assurance_text("a_key_from_a_newer_analysis") is None
    assert assurance_text(None) is None


def test_interval_and_period_wording() -> None:
    assert interval(0.34, 0.705) == "34%-71%"
    assert period_text("2026-11-16", "2026-11-22") == "16-22 November 2026"
    assert period_text("2026-11-30", "2026-12-06") == "30 November - 6 December 2026"
    assert period_text("2026-12-28", "2027-01-03") == "28 December 2026 - 3 January 2027"


def test_kind_counts_wording() -> None:
    assert kind_counts_text(place_exceptions()[:2]) == "2 exceptions: 1 critical failure, 1 below standard"


def test_evidence_for_a_measured_series_gives_the_latest_week() -> None:
    seconds = replace(place_exceptions()[-1], n=900, passed=0, rate=None, ci_low=None, ci_high=None)
    assert evidence(seconds, "incidents") == (
        ("Extract", "900 incidents measured"),
        ("Latest week (2026-W47)", "47"),
    )


def test_a_whole_measures_figure_counts_cases_that_met_every_criterion() -> None:
    criterion = replace(place_exceptions()[0], n=33, passed=13, rate=13 / 33, ci_low=0.25, ci_high=0.56)
    measure = replace(criterion, criterion="")
    assert dict(evidence(criterion, "searches"))["Met the criterion"] == "13 of 33 (39%)"
    assert dict(evidence(measure, "searches"))["Met every criterion"] == "13 of 33 (39%)"

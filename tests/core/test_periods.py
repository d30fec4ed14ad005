"""Periods: ISO weeks, date ranges and calendar quarters, and their labels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from engine.core.errors import UsageError
from engine.core.periods import Period, parse_date, parse_week, week_label, week_monday, week_range


def test_quarters_are_calendar_quarters_cut_to_the_period() -> None:
    got = [
        (q.label, q.start.isoformat(), q.end.isoformat())
        for q in Period.of(dt.date(2026, 2, 15), dt.date(2027, 1, 10)).quarters()
    ]
    assert got == [
        ("2026-Q1", "2026-02-15", "2026-03-31"),
        ("2026-Q2", "2026-04-01", "2026-06-30"),
        ("2026-Q3", "2026-07-01", "2026-09-30"),
        ("2026-Q4", "2026-10-01", "2026-12-31"),
        ("2027-Q1", "2027-01-01", "2027-01-10"),
    ]
    assert [q.label for q in Period.of(dt.date(2026, 5, 5), dt.date(2026, 5, 5)).quarters()] == ["2026-Q2"]


def test_a_range_is_labelled_by_its_days_and_refused_backwards() -> None:
    period = Period.of(dt.date(2026, 11, 1), dt.date(2026, 11, 10))
    assert period.label == "2026-11-01_2026-11-10"
    assert Period.of(period.start, period.end, "peel-x").label == "peel-x"
    with pytest.raises(UsageError, match="--to 2026-11-01 is before --from 2026-11-10"):
        Period.of(dt.date(2026, 11, 10), dt.date(2026, 11, 1))


def test_a_period_comes_back_from_its_json() -> None:
    week = parse_week("2026-W47")
    assert week.to_json() == {"from": "2026-11-16", "to": "2026-11-22", "label": "2026-W47"}
    assert Period.from_json(week.to_json()) == week


def test_weeks_are_iso_weeks() -> None:
    assert week_label(dt.date(2026, 11, 16)) == "2026-W47"
    assert week_label(dt.date(2027, 1, 1)) == "2026-W53"  # ISO years have 52 or 53 weeks
    assert week_monday("2026-W47") == dt.date(2026, 11, 16)
    assert week_range("2026-W52", "2027-W02") == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    assert Period.of(dt.date(2026, 12, 30), dt.date(2027, 1, 12)).weeks() == [
        "2026-W53",
        "2027-W01",
        "2027-W02",
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: parse_week("0001-W01"), "week '0001-W01' is outside the dates QAM works with"),
        (lambda: parse_week("9999-W52"), "week '9999-W52' is outside"),
        (lambda: parse_date("0001-01-01", "--from"), "--from 0001-01-01 is outside"),
        (lambda: Period.of(dt.date(2026, 1, 1), dt.date.max), "--to 9999-12-31 is outside"),
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_a_usage_error_not_an_overflow(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        call()

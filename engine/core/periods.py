"""Periods: ISO weeks, date ranges and calendar quarters with their labels, and parsing them from
the command line. The one place a period's days and label are worked out."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from engine.core.errors import UsageError

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
#: a quarter's label, e.g. "2026-Q2" (calendar quarters: Q1 = January to March)
QUARTER_LABEL = "{year}-Q{quarter}"
#: the days a period may cover: runs reach a year back for their history and a week on, so dates at
#: the ends of the calendar (0001-01-01, 9999-12-31) cannot be worked with
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


@dataclass(frozen=True)
class Period:
    """A reporting period: first and last day (inclusive) and its label."""

    start: dt.date
    end: dt.date
    label: str

    @classmethod
    def of(cls, start: dt.date, end: dt.date, label: str | None = None) -> Period:
        """The days from ``start`` to ``end`` given as --from and --to, labelled ``label`` (by
        default 'START_END'); UsageError when the range runs backwards."""
        if end < start:
            raise UsageError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
        _check_in_range(start, f"--from {start.isoformat()}")
        _check_in_range(end, f"--to {end.isoformat()}")
        return cls(start, end, label or f"{start.isoformat()}_{end.isoformat()}")

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> Period:
        """The period :meth:`to_json` gave (as a run manifest records it)."""
        return cls(dt.date.fromisoformat(data["from"]), dt.date.fromisoformat(data["to"]), data["label"])

    def to_json(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "label": self.label}

    def quarters(self) -> list[Period]:
        """The calendar quarters that meet the period, each cut to it: 2026-04-15..2026-08-01 gives
        2026-Q2 (04-15..06-30) and 2026-Q3 (07-01..08-01)."""
        out: list[Period] = []
        q_start = dt.date(self.start.year, 3 * ((self.start.month - 1) // 3) + 1, 1)
        while q_start <= self.end:
            next_start = dt.date(q_start.year + (q_start.month == 10), (q_start.month + 2) % 12 + 1, 1)
            name = QUARTER_LABEL.format(year=q_start.year, quarter=(q_start.month - 1) // 3 + 1)
            out.append(
                Period(max(q_start, self.start), min(next_start - dt.timedelta(days=1), self.end), name)
            )
            q_start = next_start
        return out

    def weeks(self) -> list[str]:
        """The labels of the ISO weeks the period touches, in order."""
        return week_range(week_label(self.start), week_label(self.end))


def parse_week(label: str) -> Period:
    """'2026-W47' -> Monday 2026-11-16 .. Sunday 2026-11-22."""
    m = _WEEK.match(label.strip())
    if not m:
        raise UsageError(f"invalid week '{label}': use the ISO form YYYY-Www, e.g. 2026-W47")
    year, week = int(m.group(1)), int(m.group(2))
    try:
        start = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise UsageError(f"invalid week '{label}': {year} has no ISO week {week}") from None
    _check_in_range(start, f"week '{label}'")
    return Period(start, start + dt.timedelta(days=6), f"{year}-W{week:02d}")


def _check_in_range(day: dt.date, what: str) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise UsageError(
            f"{what} is outside the dates QAM works with ({FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()})"
        )


def week_label(day: dt.date) -> str:
    """ISO week label of a date, e.g. date(2026, 11, 16) -> "2026-W47"."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(label: str) -> dt.date:
    """The Monday that starts an ISO week label ("2026-W47" -> 2026-11-16)."""
    year, week = label.split("-W")
    return dt.date.fromisocalendar(int(year), int(week), 1)


def week_range(first: str, last: str) -> list[str]:
    """Every ISO week label from ``first`` to ``last`` inclusive."""
    start, end = week_monday(first), week_monday(last)
    return [week_label(start + dt.timedelta(weeks=i)) for i in range((end - start).days // 7 + 1)]


def parse_date(text: str, option: str) -> dt.date:
    """A date given as ``option`` on the command line; UsageError naming the option when it is not
    YYYY-MM-DD or lies outside FIRST_DAY..LAST_DAY."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"invalid date for {option}: '{text}' (use YYYY-MM-DD)") from None
    _check_in_range(day, f"{option} {text}")
    return day


def as_utc(moment: dt.datetime) -> dt.datetime:
    """Aware UTC; a naive time is UTC already (SQLite hands stored times back naive)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


#: the grains a figure's period may have (docs/extracts.md, "figures"), shortest first
GRAINS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
_GRAIN_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("day", re.compile(r"(\d{4})-(\d{2})-(\d{2})")),
    ("week", re.compile(r"(\d{4})-W(\d{2})")),
    ("month", re.compile(r"(\d{4})-(\d{2})")),
    ("quarter", re.compile(r"(\d{4})-Q(\d)")),
    ("year", re.compile(r"(\d{4})")),
)
#: how a figure's period is written, for messages
PERIOD_FORMS = "2026-11-16 (day), 2026-W47 (ISO week), 2026-11 (month), 2026-Q3 (quarter) or 2026 (year)"


@dataclass(frozen=True)
class GrainPeriod:
    """A figure's period as written (``label``), its grain and its first and last day (inclusive)."""

    label: str
    grain: str
    start: dt.date
    end: dt.date


def parse_grain_period(label: str) -> GrainPeriod:
    """'2026-11-16', '2026-W47', '2026-11', '2026-Q3' or '2026' -> its grain and days; ValueError
    saying what is wrong otherwise. Example: ``parse_grain_period("2026-Q3").end == date(2026, 9, 30)``"""
    for grain, form in _GRAIN_FORMS:
        m = form.fullmatch(label)
        if m is None:
            continue
        year, *rest = (int(g) for g in m.groups())
        try:
            start, end = _grain_days(grain, year, rest)
        except ValueError:
            raise ValueError(f"'{label}' is not a {grain} that exists") from None
        if not (FIRST_DAY <= start and end <= LAST_DAY):
            raise ValueError(
                f"'{label}' is outside the dates QAM works with ({FIRST_DAY.year} to {LAST_DAY.year})"
            )
        return GrainPeriod(label, grain, start, end)
    raise ValueError(f"'{label}' is not a period: write {PERIOD_FORMS}")


def _grain_days(grain: str, year: int, rest: list[int]) -> tuple[dt.date, dt.date]:
    if grain == "day":
        day = dt.date(year, rest[0], rest[1])
        return day, day
    if grain == "week":
        monday = dt.date.fromisocalendar(year, rest[0], 1)
        return monday, monday + dt.timedelta(days=6)
    if grain == "year":
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if grain == "quarter" and not 1 <= rest[0] <= 4:
        raise ValueError(grain)
    first, months = (rest[0], 1) if grain == "month" else (3 * rest[0] - 2, 3)
    start = dt.date(year, first, 1)
    last = first + months - 1
    after = dt.date(year + 1, 1, 1) if last == 12 else dt.date(year, last + 1, 1)
    return start, after - dt.timedelta(days=1)

"""Periods: ISO weeks, date ranges and their labels, and parsing them from the command line."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from engine.core.errors import UsageError

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Period:
    """A reporting period: first and last day (inclusive) and its label."""

    start: dt.date
    end: dt.date
    label: str

    def to_json(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "label": self.label}


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
    return Period(start, start + dt.timedelta(days=6), f"{year}-W{week:02d}")


def week_label(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"invalid date for {option}: '{text}' (use YYYY-MM-DD)") from None


def as_utc(moment: dt.datetime) -> dt.datetime:
    """Aware UTC; a naive time is UTC already (SQLite hands stored times back naive)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)

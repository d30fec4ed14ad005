"""ISO week labels ("2026-W47"): the periods of the weekly series and of a weekly run."""

from __future__ import annotations

from datetime import date, timedelta


def week_label(day: date) -> str:
    """ISO week label of a date, e.g. date(2026, 11, 16) -> "2026-W47"."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(label: str) -> date:
    """The Monday that starts an ISO week label ("2026-W47" -> 2026-11-16)."""
    year, week = label.split("-W")
    return date.fromisocalendar(int(year), int(week), 1)


def week_range(first: str, last: str) -> list[str]:
    """Every ISO week label from ``first`` to ``last`` inclusive."""
    start, end = week_monday(first), week_monday(last)
    return [week_label(start + timedelta(weeks=i)) for i in range((end - start).days // 7 + 1)]

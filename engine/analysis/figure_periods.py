"""The periods of declared metrics' figures (the tidy figures extract): a period's grain from how it
is written, a point's labels (as the extract writes it and as a briefing names it), and stepping
from one period of a grain to the next, for the series SPC charts and for staleness."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from engine.core.periods import week_label

#: the grains of points, finest first (days are pooled into weeks)
GRAINS: tuple[str, ...] = ("week", "month", "quarter", "year")
#: the fewest days a period of each grain has: a grain longer than a span cannot lie inside it
GRAIN_DAYS = {"week": 7, "month": 28, "quarter": 90, "year": 365}
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PATTERNS = (
    ("week", re.compile(r"^\d{4}-W\d{2}$")),
    ("month", re.compile(r"^\d{4}-\d{2}$")),
    ("quarter", re.compile(r"^\d{4}-Q[1-4]$")),
    ("year", re.compile(r"^\d{4}$")),
)


def grain_of(period: str) -> str:
    """'2026-11-16' and '2026-W47' -> 'week'; '2026-11' -> 'month'; '2026-Q3' -> 'quarter'; '2026' -> 'year'."""
    if _DAY.match(period):
        return "week"
    for grain, pattern in _PATTERNS:
        if pattern.match(period):
            return grain
    raise ValueError(f"not a period of the figures extract: {period!r}")


def period_label(grain: str, start: dt.date) -> str:
    """A point's period as the extract writes it: 2026-W47, 2026-10, 2026-Q3 or 2026."""
    if grain == "week":
        return week_label(start)
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def display_label(grain: str, start: dt.date) -> str:
    """A point's period as a briefing names it: '2026-W47', 'October 2026', '2026-Q3', '2026'."""
    return f"{start:%B %Y}" if grain == "month" else period_label(grain, start)


@lru_cache(maxsize=65536)
def shift(grain: str, start: dt.date, periods: int) -> tuple[dt.date, dt.date]:
    """(first, last day) of the period ``periods`` on from the one starting ``start``."""
    if grain == "week":
        first = start + dt.timedelta(weeks=periods)
        return first, first + dt.timedelta(days=6)
    months = {"month": 1, "quarter": 3, "year": 12}[grain] * periods
    total = start.year * 12 + start.month - 1 + months
    first = dt.date(total // 12, total % 12 + 1, 1)
    step = {"month": 1, "quarter": 3, "year": 12}[grain]
    after = first.year * 12 + first.month - 1 + step
    return first, dt.date(after // 12, after % 12 + 1, 1) - dt.timedelta(days=1)


def point_starts(grain: str, first: dt.date, last: dt.date) -> list[dt.date]:
    """The starts of every period of ``grain`` from the one starting ``first`` to ``last``'s."""
    out, start = [], first
    while start <= last:
        out.append(start)
        start = shift(grain, start, 1)[0]
    return out


def series_labels(grain: str, first: dt.date, last: dt.date) -> list[tuple[str, dt.date]]:
    """(period, start) of every point of ``grain`` from the one starting ``first`` to ``last``'s."""
    return [(period_label(grain, s), s) for s in point_starts(grain, first, last)]

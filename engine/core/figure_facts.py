"""What a briefing needs to show an exception raised on a declared metric's figure (the tidy figures
extract): the figure in its own terms, the period it covers, its unit and interval, the standard,
or the events themselves. A FigureException carries them; exceptions.json never shows them (its
entry is exactly PerformanceException's).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.models import PerformanceException


@dataclass(frozen=True)
class FigureEvent:
    """One event of an event metric (a homicide, a KSI collision...), as the extract sent it."""

    ref: str
    on: str  # ISO date
    place: str
    team: str
    detail: str


@dataclass(frozen=True)
class FigureFacts:
    """A metric's figure for one place (or the force) and period, as an exception states it.

    ``kind``: proportion | survey | time | count | event. ``value`` is the figure the standard is
    judged on (a share 0-1, a mean or median time in ``unit``, a rate per ``per`` of ``exposure``),
    ``low``/``high`` its 95% interval; ``n`` what was counted (denominators, respondents, values
    timed, the count, or events) and ``k`` the numerator where there is one."""

    metric: str
    kind: str
    text: str
    unit: str
    period: str  # the period it covers, as shown: "2026-W47", "October 2026", "2026-Q3"
    start: str  # ISO date
    end: str  # ISO date
    n: float
    k: float | None = None
    value: float | None = None
    low: float | None = None
    high: float | None = None
    #: a time's median and mean (``value`` is the one ``statistic`` names)
    median: float | None = None
    mean: float | None = None
    statistic: str = "mean"
    #: a count's rate per ``per`` units of ``exposure`` ("population", "fte"); exposure_total = its sum
    per: float | None = None
    exposure: str = ""
    exposure_total: float | None = None
    design_effect: float = 1.0
    standard: float | None = None
    bound: str = ""  # "minimum" | "maximum" | "" (SPC only)
    events: tuple[FigureEvent, ...] = ()


@dataclass(frozen=True)
class FigureException(PerformanceException):
    """A performance exception on a declared metric's figure, or one of its events."""

    figure: FigureFacts | None = None


def figure_of(e: PerformanceException) -> FigureFacts | None:
    """The figure an exception is on (None for one on reviewed cases or the incidents)."""
    return e.figure if isinstance(e, FigureException) else None

"""What a Learning Review pack holds (docs/reviews.md), as plain values, and the rows of its
review.csv: the theme's items as the PEEL report's sections for the quarter (the same figures
`qam peel` cites), the teams' figures, charts with a baseline, the exceptions of the quarter's weeks,
improvements, real stories and actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from engine.analysis.aggregate import FORCE_KEY
from engine.analysis.recognition import Recognition
from engine.analysis.review import ItemCharts, Raised, Story, TeamFigure
from engine.core.reviews import Theme
from engine.reports.peel_data import Figure, MeasureSection, MetricFigure, PeelReport
from engine.store.actions import Action

REVIEW_CSV_COLUMNS: tuple[str, ...] = (
    "quarter",
    "item",
    "source",
    "figure",
    "level",
    "place",
    "team",
    "n",
    "passes",
    "value",
    "ci_low",
    "ci_high",
    "standard",
)
#: what review.csv's ``source`` says a row counts
CASES, CRITERION, INCIDENTS, FIGURES = "reviewed cases", "criterion", "incidents", "figures"


@dataclass(frozen=True)
class ReviewPack:
    """Everything review.pdf shows; pure data (review_pdf renders it)."""

    force_name: str
    theme: Theme
    theme_text: str  # "priority 3, Supporting vulnerable people & victims: M7, M8, D7" or "items D7, M8"
    items: tuple[str, ...]
    run_id: str
    #: the PEEL report of the quarter: its period, rulesets and the sections of every item
    report: PeelReport
    sections: tuple[MeasureSection, ...]  # the theme's items, in the theme's order
    charts: Mapping[str, ItemCharts]
    teams: tuple[TeamFigure, ...]
    place_names: Mapping[str, str]
    weeks: tuple[str, ...]  # the quarter's weeks whose exceptions were worked out
    weeks_not_ended: tuple[str, ...]  # the quarter's weeks not yet over when the pack was written
    raised: tuple[Raised, ...]
    improvements: tuple[Recognition, ...]
    stories: tuple[Story, ...]
    actions: tuple[Action, ...]  # open ones (any item), then those closed in the quarter
    as_of: dt.date  # the day the pack was written: actions overdue as of it
    catalogue_version: str
    calendar_version: str
    last_weeks: int


def quarter_only(s: MeasureSection) -> MeasureSection:
    """An item's PEEL section with the quarter's figures alone: a PEEL report of one quarter shows
    them twice (the period, then its one quarter)."""
    return replace(
        s,
        figures=s.figures[:1],
        places=tuple(replace(p, quarters=()) for p in s.places),
        metrics=tuple(
            replace(t, figures=t.figures[:1], places=tuple(replace(p, quarters=()) for p in t.places))
            for t in s.metrics
        ),
        declared=tuple(
            replace(d, figures=d.figures[:1], places=tuple(replace(p, quarters=()) for p in d.places))
            for d in s.declared
        ),
    )


def _num(x: Any) -> Any:
    return "" if x is None else x


def _figure_row(item: str, source: str, figure: str, level: str, place: str, team: str, f: Figure,
                standard: float | None) -> dict[str, Any]:  # fmt: skip
    value = f.mean if f.mean is not None else f.rate
    return {
        "item": item, "source": source, "figure": figure, "level": level, "place": place, "team": team,
        "n": f.n, "passes": f.passes if f.mean is None and f.n else "", "value": _num(value if f.n else None),
        "ci_low": _num(f.ci_low if f.n else None), "ci_high": _num(f.ci_high if f.n else None),
        "standard": _num(standard),
    }  # fmt: skip


def _metric_row(item: str, figure: str, level: str, place: str, f: MetricFigure) -> dict[str, Any]:
    return {
        "item": item, "source": FIGURES, "figure": figure, "level": level, "place": place, "team": "",
        "n": f.n if f.has_data else 0, "passes": "", "value": _num(f.value), "ci_low": _num(f.low),
        "ci_high": _num(f.high), "standard": "",
    }  # fmt: skip


def csv_rows(pack: ReviewPack) -> list[dict[str, Any]]:
    """review.csv: one row per figure of the pack, tidy (docs/reviews.md#reviewcsv): each item's
    reviewed cases at force, place and team level and its criteria at force level, then its
    incident metrics and loaded figures at force and place level. ``value`` is a rate (0-1), a mean
    time or a figure's value; blank when nothing was counted."""
    rows: list[dict[str, Any]] = []
    for s in pack.sections:
        m = s.measure.id
        minima = {c.minimum for c in s.criteria}
        standard = minima.pop() if len(minima) == 1 else None
        if s.has_cases:
            rows.append(_figure_row(m, CASES, m, "force", FORCE_KEY, "", s.figures[0], standard))
            rows += [_figure_row(m, CASES, m, "place", p.code, "", p.period, standard) for p in s.places]
            rows += [
                _figure_row(
                    m,
                    CASES,
                    m,
                    "team",
                    t.place,
                    t.team,
                    Figure("", t.n, t.passes, t.rate, t.ci_low, t.ci_high),
                    standard,
                )  # fmt: skip
                for t in pack.teams
                if t.measure == m
            ]
            rows += [
                _figure_row(
                    m, CRITERION, f"{c.ruleset}/{c.criterion}", "force", FORCE_KEY, "", c.figure, c.minimum
                )
                for c in s.criteria
                if c.figure.n
            ]
        for t in s.metrics:
            if t.has_data:
                rows.append(
                    _figure_row(m, INCIDENTS, t.metric, "force", FORCE_KEY, "", t.figures[0], t.minimum)
                )
                rows += [
                    _figure_row(m, INCIDENTS, t.metric, "place", p.code, "", p.period, t.minimum)
                    for p in t.places
                    if p.period.n
                ]
        for d in s.declared:
            if d.figures and d.figures[0].has_data:
                rows.append(_metric_row(m, d.metric, "force", FORCE_KEY, d.figures[0]))
                rows += [
                    _metric_row(m, d.metric, "place", p.code, p.period) for p in d.places if p.period.has_data
                ]
    return [{"quarter": pack.theme.quarter, **r} for r in rows]

"""Figures-extract rows and metric definitions for the analysis tests, built directly (as
engine.store.figures.current_figures returns them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.inputs.extract_definitions import MetricDefinition
from engine.store.figures import FigureRecord


def metric(
    id: str,
    item: str,
    kind: str,
    *,
    unit: str = "days",
    direction: str | None = "higher",
    periods: tuple[str, ...] = ("month",),
    per: float | None = None,
    exposure: str | None = None,
    design_effect: float = 1.0,
    text: str = "",
) -> MetricDefinition:
    return MetricDefinition(
        id=id, extract="test", item=item, kind=kind, text=text or id.replace("_", " ").capitalize(),
        unit=unit, direction=direction, periods=periods, per=per, exposure=exposure,
        design_effect=design_effect,
    )  # fmt: skip


METRICS = {
    m.id: m
    for m in (
        metric("attendance_rate", "M1", "proportion", text="Working days attended"),
        metric("g1_minutes", "M2", "time", unit="minutes", direction="lower", periods=("day",)),
        metric(
            "complaints",
            "D12",
            "count",
            unit="complaints",
            direction="lower",
            periods=("quarter",),
            per=1000,
            exposure="population",
        ),  # fmt: skip
        metric("feel_safe", "D9", "survey", unit="respondents", periods=("quarter",), design_effect=1.5),
        metric("homicide", "D6", "event", unit="offences", direction=None, periods=("day",)),
    )
}


def _grain_days(period: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a figure's period: 2026-11-16, 2026-W47, 2026-11, 2026-Q3, 2026."""
    if len(period) == 10:
        day = dt.date.fromisoformat(period)
        return day, day
    if "-W" in period:
        monday = dt.date.fromisocalendar(int(period[:4]), int(period[6:]), 1)
        return monday, monday + dt.timedelta(days=6)
    year = int(period[:4])
    if len(period) == 4:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    first, months = (3 * int(period[6]) - 2, 3) if "-Q" in period else (int(period[5:]), 1)
    after = year * 12 + first - 1 + months
    return dt.date(year, first, 1), dt.date(after // 12, after % 12 + 1, 1) - dt.timedelta(days=1)


def fig(metric_id: str, place: str, period: str, *, team: str = "", **values: Any) -> FigureRecord:
    """One stored figure row; ``values``: numerator, denominator, value, count, event_ref, event_on, detail."""
    start, end = _grain_days(period)
    cols = ("numerator", "denominator", "value", "count", "event_ref", "event_on", "detail")
    return FigureRecord(
        METRICS[metric_id].item, metric_id, place, team, period, start, end, *(values.get(c) for c in cols)
    )


def months(first: tuple[int, int], last: tuple[int, int]) -> list[str]:
    """'2025-01' ... labels of every month from ``first`` to ``last`` (year, month)."""
    out = []
    y, m = first
    while (y, m) <= last:
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out

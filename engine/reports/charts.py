"""The briefings' two small charts, drawn with reportlab.graphics shapes: a rate with its 95%
interval against the standard, and the SPC (XmR) chart with limits, baseline and signal weeks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors

from engine.core.models import PerformanceException, SeriesPoint, SpcChart
from engine.reports.layout import ACCENT, BAND, FONT, FONT_BOLD, GREY, INK, RULE, WIDTH, drawable
from engine.reports.wording import pct, pcts, plain_number, value_format


def _label(x: float, y: float, text: str, *, size: float = 7, anchor: str = "start", **kw: Any) -> String:
    return String(
        x,
        y,
        drawable(text),
        fontName=kw.pop("fontName", FONT),
        fontSize=size,
        textAnchor=anchor,
        fillColor=kw.pop("fillColor", GREY),
        **kw,
    )


def rate_chart(e: PerformanceException) -> Drawing:
    """This period's rate with its 95% interval, on a 0-100% scale, against the standard."""
    assert e.rate is not None
    h = 62
    d = Drawing(WIDTH, h)
    x0, x1 = 4, WIDTH - 60
    scale = x1 - x0

    def x(v: float) -> float:
        return x0 + max(0.0, min(1.0, v)) * scale

    axis_y, bar_y, bar_h = 16, 24, 14
    d.add(Line(x0, axis_y, x1, axis_y, strokeColor=RULE, strokeWidth=0.6))
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        d.add(Line(x(t), axis_y - 2.5, x(t), axis_y, strokeColor=RULE, strokeWidth=0.6))
        d.add(_label(x(t), axis_y - 11, pct(t), anchor="middle"))
    d.add(Rect(x0, bar_y, x(e.rate) - x0, bar_h, fillColor=colors.HexColor("#c6d4e5"), strokeColor=None))
    mid = bar_y + bar_h / 2
    if e.ci_low is not None and e.ci_high is not None:
        lo, hi = x(e.ci_low), x(e.ci_high)
        d.add(Line(lo, mid, hi, mid, strokeColor=INK, strokeWidth=1.2))
        for v in (lo, hi):
            d.add(Line(v, mid - 4.5, v, mid + 4.5, strokeColor=INK, strokeWidth=1.2))
    d.add(Circle(x(e.rate), mid, 3, fillColor=INK, strokeColor=colors.white, strokeWidth=0.6))
    # read together, as in the evidence row: a rate of 89.7% must not read as its 90% standard
    rate_text, standard_text, low_text, high_text = pcts([e.rate, e.standard, e.ci_low, e.ci_high])
    if e.ci_low is not None and e.ci_high is not None:
        rate_text += f" (95% interval {low_text}-{high_text})"
    d.add(_label(x0, bar_y + bar_h + 6, rate_text, size=8, fillColor=INK, fontName=FONT_BOLD))
    if e.standard is not None:
        sx = x(e.standard)
        d.add(Line(sx, axis_y, sx, h - 4, strokeColor=ACCENT, strokeWidth=1.2, strokeDashArray=[3, 2]))
        d.add(_label(sx + 4, h - 10, f"Standard {standard_text}", size=7.5, fillColor=ACCENT))
    return d


#: the series (its points and mean) fills at least 1/REACH of the chart's height: a limit or the
#: standard further away than that is named at the chart's edge instead of squashing the series
REACH = 3.0
#: the smallest span of values a chart shows (a rate's is 2 percentage points), so that a steady
#: series does not look like wild swings
MIN_RATE_SPAN = 0.02
MIN_NUMBER_SPAN_SHARE = 0.1
#: empty room above and below the values, as a share of their span, before rounding out to ticks
PAD = 0.05
_NICE = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


@dataclass(frozen=True)
class Axis:
    """A value axis: its range and its ticks, each tick's label different from every other's."""

    lo: float
    hi: float
    ticks: tuple[float, ...]
    labels: tuple[str, ...]


def value_range(core: Sequence[float], extras: Sequence[float], *, rate: bool) -> tuple[float, float]:
    """The values a chart shows: all of ``core`` (the series and its mean), padded, and of
    ``extras`` (limits, the standard) those that keep the core at least 1/REACH of the height.
    A rate's range stays within 0-1. Example: a series in 0.95-1.0 with a lower limit of 0.4 gives
    about (0.947, 1.0), not (0.4, 1.0)."""
    values = list(core) or list(extras) or [0.0]
    lo, hi = min(values), max(values)
    least = MIN_RATE_SPAN if rate else max(abs(lo), abs(hi)) * MIN_NUMBER_SPAN_SHARE or 1.0
    if hi - lo < least:
        mid = (lo + hi) / 2
        lo, hi = mid - least / 2, mid + least / 2
        if rate:  # slide back inside 0-1 rather than cut the span short
            lo, hi = (0.0, least) if lo < 0 else (1.0 - least, 1.0) if hi > 1 else (lo, hi)
    reach = (hi - lo) * REACH
    for v in sorted(extras, key=lambda v: max(lo - v, v - hi)):
        if max(hi, v) - min(lo, v) <= reach:
            lo, hi = min(lo, v), max(hi, v)
    pad = (hi - lo) * PAD
    lo, hi = lo - pad, hi + pad
    return (max(lo, 0.0), min(hi, 1.0)) if rate else (lo, hi)


def value_axis(lo: float, hi: float, *, rate: bool, target: int = 5) -> Axis:
    """The axis from ``lo`` to ``hi`` rounded out to whole steps of 1, 2, 2.5 or 5 times a power of
    ten, about ``target`` steps; labels carry the decimals the step needs, so no two read alike.
    Example: (0.9747, 0.9981) as a rate -> ticks 97.0% 97.5% ... 100.0%."""
    scale = 100 if rate else 1
    span = max(hi - lo, 1e-12) * scale
    raw = Decimal(repr(span / target))
    power = Decimal(1).scaleb(raw.adjusted())
    step = next(m * power for m in _NICE if m * power >= raw)
    places = max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]
    first = math.floor(lo * scale / float(step) + 1e-9)
    last = math.ceil(hi * scale / float(step) - 1e-9)
    marks = [k * step for k in range(first, max(last, first + 1) + 1)]
    if rate:  # a rate's axis never passes 0% or 100%
        marks = [m for m in marks if 0 <= m <= 100]
    suffix = "%" if rate else ""
    return Axis(
        lo=float(marks[0]) / scale,
        hi=float(marks[-1]) / scale,
        ticks=tuple(float(m) / scale for m in marks),
        labels=tuple(f"{m:,.{places}f}{suffix}" for m in marks),
    )


def line_texts(values: Sequence[float], *, rate: bool) -> list[str]:
    """The values of a chart's lines (mean, limits, standard), each reading differently from the
    others: ``[0.9812, 0.9768]`` -> ``['98.1%', '97.7%']``. Numbers are whole, or have 1 decimal
    when one of them is not whole (as wording.plain_number), or 2 when 1 does not tell them apart."""
    if rate:
        return pcts(values)
    distinct = set(values)
    whole = all(plain_number(v) == plain_number(round(v)) for v in distinct)
    places = next(
        (d for d in range(0 if whole else 1, 2) if len({f"{v:.{d}f}" for v in distinct}) == len(distinct)),
        2,
    )
    return [f"{v:,.{places}f}" for v in values]


def spc_chart(e: PerformanceException, chart: SpcChart) -> Drawing:
    """The XmR chart: weekly points, mean, process limits, standard, baseline weeks shaded,
    the weeks of the signal drawn large. The value axis fits the series; a limit or standard too
    far away to draw without squashing the series is named at the top or bottom edge with an arrow."""
    fmt = value_format(e)
    is_rate = fmt is pct
    pts = chart.points
    h = 178
    left, right, top, bottom = 38, 92, 14, 24
    d = Drawing(WIDTH, h)
    pw, ph = WIDTH - left - right, h - top - bottom
    values = [p.value for p in pts if p.value is not None]
    lines = {"Upper limit": chart.upper_limit, "Mean": chart.mean, "Lower limit": chart.lower_limit}
    if is_rate:  # a rate cannot leave 0-100%, whatever mean +/- 2.66 mR says (as the notes say)
        lines = {k: min(max(v, 0.0), 1.0) for k, v in lines.items()}
    if e.standard is not None:
        lines["Standard"] = e.standard
    extras = [v for k, v in lines.items() if k != "Mean"]
    axis = value_axis(*value_range([*values, chart.mean], extras, rate=is_rate), rate=is_rate)
    lo, hi = axis.lo, axis.hi

    def y(v: float) -> float:
        return bottom + (v - lo) / (hi - lo) * ph

    slot = pw / max(len(pts), 1)

    def x(i: int) -> float:
        return left + slot * (i + 0.5)

    base = min(chart.baseline_weeks, len(pts))
    if base:
        d.add(Rect(left, bottom, slot * base, ph, fillColor=BAND, strokeColor=None))
        noun = "week" if "-W" in pts[-1].week else "quarter" if "-Q" in pts[-1].week else "month"
        d.add(_label(left + 3, bottom + ph + 4, f"Baseline: first {base} {noun}s"))
    d.add(Rect(left, bottom, pw, ph, fillColor=None, strokeColor=RULE, strokeWidth=0.6))
    for tick, text in zip(axis.ticks, axis.labels, strict=True):
        d.add(Line(left - 3, y(tick), left, y(tick), strokeColor=RULE, strokeWidth=0.6))
        d.add(_label(left - 5, y(tick) - 2.5, text, anchor="end"))
    every = max(1, math.ceil(len(pts) * 22 / pw))
    for i, p in enumerate(pts):
        if (len(pts) - 1 - i) % every == 0:
            d.add(_label(x(i), bottom - 11, p.week.split("-")[-1], anchor="middle"))
    styles = {
        "Upper limit": {"strokeColor": GREY, "strokeDashArray": [4, 2.5], "strokeWidth": 0.9},
        "Lower limit": {"strokeColor": GREY, "strokeDashArray": [4, 2.5], "strokeWidth": 0.9},
        "Mean": {"strokeColor": INK, "strokeWidth": 1.0},
        "Standard": {"strokeColor": ACCENT, "strokeDashArray": [1, 2], "strokeWidth": 1.4},
    }
    labels: list[tuple[float, str, Any, int]] = []
    for (name, v), text in zip(lines.items(), line_texts(list(lines.values()), rate=is_rate), strict=True):
        colour = styles[name]["strokeColor"]
        if lo <= v <= hi:
            d.add(Line(left, y(v), left + pw, y(v), **styles[name]))
            labels.append((y(v), f"{name} {text}", colour, 0))
        else:  # off the chart: named at the edge it lies beyond, an arrow pointing its way
            labels.append((bottom + ph if v > hi else bottom, f"{name} {text}", colour, 1 if v > hi else -1))
    for ly, text, colour, arrow in _spread(labels, 9, bottom, bottom + ph):
        lx = left + pw + 4
        if arrow:
            tip = ly + 3.5 * arrow
            d.add(Polygon([lx, ly, lx + 5, ly, lx + 2.5, tip], fillColor=colour, strokeColor=None))
            lx += 7
        d.add(_label(lx, ly - 2.5, text, size=7, fillColor=colour))
    run: list[float] = []
    ended: tuple[SeriesPoint | None, ...] = (*pts, None)  # the end closes the last run like a gap
    for i, point in enumerate(ended):
        if point is None or point.value is None:
            if len(run) >= 4:
                d.add(PolyLine(run, strokeColor=GREY, strokeWidth=0.9))
            run = []
        else:
            run += [x(i), y(point.value)]
    for i, p in enumerate(pts):
        if p.value is None:
            continue
        if p.flagged:
            d.add(Circle(x(i), y(p.value), 3.8, fillColor=ACCENT, strokeColor=colors.white, strokeWidth=0.8))
        else:
            d.add(Circle(x(i), y(p.value), 2.1, fillColor=GREY, strokeColor=None))
    return d


def _spread(
    labels: list[tuple[float, str, Any, int]], gap: float, lo: float, hi: float
) -> list[tuple[float, str, Any, int]]:
    """Move line labels apart vertically so that none overlap, keeping them inside [lo, hi]."""
    items = sorted(labels, key=lambda t: t[0])
    ys = [t[0] for t in items]
    for i in range(1, len(ys)):
        ys[i] = max(ys[i], ys[i - 1] + gap)
    overflow = ys[-1] - hi if ys else 0
    if overflow > 0:
        ys = [v - overflow for v in ys]
        for i in range(len(ys) - 2, -1, -1):
            ys[i] = min(ys[i], ys[i + 1] - gap)
    ys = [max(v, lo) if i == 0 else v for i, v in enumerate(ys)]
    return [(v, *t[1:]) for v, t in zip(ys, items, strict=True)]

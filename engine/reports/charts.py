"""The briefings' two small charts, drawn with reportlab.graphics shapes: a rate with its 95%
interval against the standard, and the SPC (XmR) chart with limits, baseline and signal weeks.
"""

from __future__ import annotations

import math
from typing import Any

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors

from engine.core.models import PerformanceException, SeriesPoint, SpcChart
from engine.reports.layout import ACCENT, BAND, FONT, FONT_BOLD, GREY, INK, RULE, WIDTH, drawable
from engine.reports.wording import interval, pct, value_format


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
    rate_text = pct(e.rate)
    if e.ci_low is not None and e.ci_high is not None:
        rate_text += f" (95% interval {interval(e.ci_low, e.ci_high)})"
    d.add(_label(x0, bar_y + bar_h + 6, rate_text, size=8, fillColor=INK, fontName=FONT_BOLD))
    if e.standard is not None:
        sx = x(e.standard)
        d.add(Line(sx, axis_y, sx, h - 4, strokeColor=ACCENT, strokeWidth=1.2, strokeDashArray=[3, 2]))
        d.add(_label(sx + 4, h - 10, f"Standard {pct(e.standard)}", size=7.5, fillColor=ACCENT))
    return d


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / target
    mag: float = 10 ** math.floor(math.log10(raw))  # an int from 1 up, a float below
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def spc_chart(e: PerformanceException, chart: SpcChart) -> Drawing:
    """The XmR chart: weekly points, mean, process limits, standard, baseline weeks shaded,
    the weeks of the signal drawn large."""
    fmt = value_format(e)
    is_rate = fmt is pct
    pts = chart.points
    h = 178
    left, right, top, bottom = 34, 84, 14, 24
    d = Drawing(WIDTH, h)
    pw, ph = WIDTH - left - right, h - top - bottom
    values = [p.value for p in pts if p.value is not None]
    lines = {"Upper limit": chart.upper_limit, "Mean": chart.mean, "Lower limit": chart.lower_limit}
    if e.standard is not None:
        lines["Standard"] = e.standard
    span_values = values + list(lines.values())
    lo, hi = min(span_values), max(span_values)
    pad = (hi - lo) * 0.06 or 0.05
    lo, hi = lo - pad, hi + pad
    if is_rate:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    step = _nice_step(hi - lo)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step

    def y(v: float) -> float:
        return bottom + (v - lo) / (hi - lo) * ph

    slot = pw / max(len(pts), 1)

    def x(i: int) -> float:
        return left + slot * (i + 0.5)

    base = min(chart.baseline_weeks, len(pts))
    if base:
        d.add(Rect(left, bottom, slot * base, ph, fillColor=BAND, strokeColor=None))
        d.add(_label(left + 3, bottom + ph + 4, f"Baseline: first {base} weeks"))
    d.add(Rect(left, bottom, pw, ph, fillColor=None, strokeColor=RULE, strokeWidth=0.6))
    tick = lo
    while tick <= hi + step / 2:
        d.add(Line(left - 3, y(tick), left, y(tick), strokeColor=RULE, strokeWidth=0.6))
        d.add(_label(left - 5, y(tick) - 2.5, fmt(round(tick, 9)), anchor="end"))
        tick += step
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
    labels = []
    for name, v in lines.items():
        if lo <= v <= hi:
            d.add(Line(left, y(v), left + pw, y(v), **styles[name]))
            labels.append((y(v), f"{name} {fmt(v)}", styles[name]["strokeColor"]))
    for ly, text, colour in _spread(labels, 9, bottom, bottom + ph):
        d.add(_label(left + pw + 4, ly - 2.5, text, size=7, fillColor=colour))
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
    labels: list[tuple[float, str, Any]], gap: float, lo: float, hi: float
) -> list[tuple[float, str, Any]]:
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
    return [(v, t[1], t[2]) for v, t in zip(ys, items, strict=True)]

"""The wording of exceptions raised on declared metrics' figures: each kind's figure in its own terms
("91.2% of 4,310 days", "a mean of 14.2 minutes", "4.1 per 1,000 population"), and the one
plain-English reason of a threshold breach, a special cause (by the SPC rule that fired, in the
series' own periods: weeks, months, quarters or years) or an event.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from engine.analysis.reasons import SIDE_WORDS, count_text, pct_text
from engine.core.figure_facts import FigureFacts
from engine.core.text import percents

#: what one point of a series is called, by grain
GRAIN_NOUNS = {"week": "week", "month": "month", "quarter": "quarter", "year": "year"}

FIGURE_REASONS: dict[str, str] = {
    "threshold_minimum": (
        "{what}: {figure} in {period} ({counted}); the minimum is {standard}; even allowing for "
        "chance the true figure is at most {high}."
    ),
    "threshold_maximum": (
        "{what}: {figure} in {period} ({counted}); the maximum is {standard}; even allowing for "
        "chance the true figure is at least {low}."
    ),
    "outside_limits": (
        "{what}: {value} in {point}, {worse} than this place's usual range of {usual_low} to {usual_high}."
    ),
    "shift": (
        "{what}: {side} this place's usual average of {mean} for {run} {nouns} running, "
        "most recently {value} in {point}."
    ),
    "trend": "{what}: {moved} {steps} {nouns} in a row, to {value} in {point}.",
    "two_of_three": (
        "{what}: near the {edge} of this place's usual range in 2 of the last 3 {nouns}, "
        "most recently {value} in {point}."
    ),
    "event": "{what} on {date} (ref {ref}{team}): {detail}. Each one is reported.",
}


def number_text(x: float) -> str:
    """14.25 -> '14.3'; 142.5 -> '143'; 3.0 -> '3'; 0.0432 -> '0.043' (three significant figures
    below 10, one decimal below 100, whole above)."""
    if math.isnan(x):
        return "no data"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10 or x == 0:
        text = f"{x:,.1f}"
    else:
        text = f"{x:.{max(2 - math.floor(math.log10(abs(x))), 1)}f}"
    return text[:-2] if text.endswith(".0") else text


def per_text(per: float | None, exposure: str) -> str:
    """(1000, 'population') -> 'per 1,000 population'; (100, 'fte') -> 'per 100 FTE'; no exposure -> ''."""
    if not exposure or exposure == "none" or per is None:
        return ""
    whom = "FTE" if exposure == "fte" else exposure
    return f"per {per:,.0f} {whom}"


def value_text(f: FigureFacts, x: float | None) -> str:
    """A value in the figure's own terms: '91.2%'; '14.2 minutes'; '4.1 per 1,000 population'."""
    if x is None or math.isnan(x):
        return "no data"
    if f.kind in ("proportion", "survey"):
        return pct_text(x)
    if f.kind == "time":
        return f"{number_text(x)} {f.unit}"
    if f.kind == "count":
        per = per_text(f.per, f.exposure)
        return f"{number_text(x)} {per}".strip() if per else f"{number_text(x)} {f.unit}"
    return number_text(x)


def counted_text(f: FigureFacts) -> str:
    """What the figure was worked out from: '3,930 of 4,310 days'; '410 respondents'; '312 timed';
    '12 complaints in a population of 48,000'."""
    n = int(round(f.n))
    if f.kind == "proportion":
        return f"{count_text(int(round(f.k or 0)))} of {count_text(n)} {f.unit}".strip()
    if f.kind == "survey":
        deff = f", design effect {number_text(f.design_effect)}" if f.design_effect != 1 else ""
        return f"{count_text(n)} respondents{deff}"
    if f.kind == "time":
        other = f.median if f.statistic == "mean" else f.mean
        name = "median" if f.statistic == "mean" else "mean"
        extra = f"; {name} {value_text(f, other)}" if other is not None else ""
        return f"{count_text(n)} timed{extra}"
    if f.kind == "count":
        if f.exposure_total is not None and f.exposure and f.exposure != "none":
            whom = "FTE" if f.exposure == "fte" else f.exposure
            return f"{count_text(n)} {f.unit} in a {whom} of {count_text(int(round(f.exposure_total)))}"
        return f"{count_text(n)} {f.unit}"
    return f"{count_text(n)} {f.unit}".strip()


def figure_text(f: FigureFacts) -> str:
    """The figure judged: 'a mean of 14.2 minutes', 'a median of 11 minutes', '62%', '4.1 per ...'."""
    if f.kind == "time":
        return f"a {f.statistic} of {value_text(f, f.value)}"
    return value_text(f, f.value)


def threshold_reason(f: FigureFacts) -> str:
    """The reason of a threshold breach: the whole interval beyond the minimum or maximum."""
    assert f.standard is not None
    figure, standard, low, high = (
        figure_text(f), value_text(f, f.standard), value_text(f, f.low), value_text(f, f.high)
    )  # fmt: skip
    if f.kind in ("proportion", "survey"):  # 89.7% must not read as its 90% standard
        figure, standard, low, high = percents([_nan(x) for x in (f.value, f.standard, f.low, f.high)])
    return FIGURE_REASONS["threshold_maximum" if f.bound == "maximum" else "threshold_minimum"].format(
        what=_what(f), figure=figure, period=f.period, counted=counted_text(f), standard=standard, low=low,
        high=high,
    )  # fmt: skip


def _nan(x: float | None) -> float:
    return math.nan if x is None else x


def spc_reason(
    f: FigureFacts,
    rule: str,
    *,
    grain: str,
    direction: str,
    run: int,
    value: float,
    mean: float,
    usual_low: float,
    usual_high: float,
) -> str:
    """The reason of a special cause on the series of the metric's ``grain`` (see FIGURE_REASONS)."""
    noun = GRAIN_NOUNS.get(grain, "period")
    share = f.kind in ("proportion", "survey")
    low, high = (max(usual_low, 0.0), min(usual_high, 1.0)) if share else (max(usual_low, 0.0), usual_high)
    words = SIDE_WORDS["lower" if direction == "lower" else "higher"]
    shown = [value_text(f, x) for x in (value, low, high, mean)]
    if share:  # told apart: 92.6% must not read as the 93% its range starts from
        shown = percents([value, low, high, mean, *([] if f.standard is None else [f.standard])])[:4]
    facts: dict[str, Any] = {
        "what": _what(f) if f.kind != "time" else f"{_what(f)} (the {f.statistic})",
        "point": f.period,
        "value": shown[0],
        "usual_low": shown[1],
        "usual_high": shown[2],
        "mean": shown[3],
        "run": run,
        "steps": run - 1,
        "nouns": noun + "s",
        **words,
    }
    return FIGURE_REASONS[rule].format(**facts)


def event_reason(text: str, detail: str, on: dt.date, ref: str, team: str) -> str:
    """'Homicide (murder, manslaughter, infanticide) on 18 November 2026 (ref HI-2026-0412): man
    stabbed outside a bar. Each one is reported.'"""
    return FIGURE_REASONS["event"].format(
        what=text,
        detail=detail.strip().rstrip(".") or "no description sent",
        date=f"{on.day} {on:%B %Y}",
        ref=ref,
        team=f", {team}" if team else "",
    )


def _what(f: FigureFacts) -> str:
    return f.text[:1].upper() + f.text[1:]

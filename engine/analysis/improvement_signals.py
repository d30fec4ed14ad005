"""Improving SPC signals of the reviewed cases' weekly series, for recognition
(engine.analysis.recognition): the same XmR chart, rules and settings as special causes
(engine.analysis.stats, spc_findings.SpcSettings), read on the improving side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.analysis.reasons import REASONS, SIDE_WORDS, pct_text
from engine.analysis.spc_findings import SpcSettings, series_chart
from engine.analysis.stats import CHANGE_RULES, IMPROVEMENT, RULES, XmrChart, wilson_interval
from engine.core.models import SeriesPoint, SpcChart


def improving_rules(chart: XmrChart, i: int) -> tuple[str, ...]:
    """The rules that flag point i in the improving direction (in MDC rule order)."""
    sign = -1 if chart.direction in ("lower", "decrease") else 1
    found = {rule for rule, side in chart.signals[i] if side * sign > 0}
    return tuple(r for r in RULES if r in found)


def _run_to(chart: XmrChart, i: int, rule: str) -> int:
    """How many present points in a row, ending at i, the rule's improving signal covers."""
    sign = -1 if chart.direction in ("lower", "decrease") else 1
    run = 0
    for j in range(i, -1, -1):
        if chart.values[j] is None:
            continue
        if (rule, sign) not in chart.signals[j]:
            break
        run += 1
    return run


@dataclass(frozen=True)
class Signal:
    chart: XmrChart
    weeks: list[str]
    ns: list[int]
    passes: list[int]
    at: int  # the signal's point (index into weeks)


def improving_signal(
    points: Sequence[tuple[int, int]],
    weeks: Sequence[str],
    first_week: str,
    direction: str,
    rebase_key: tuple[str, str],
    spc: SpcSettings,
    *,
    criterion: bool,
    min_cases: int = 1,
) -> Signal | None:
    """The latest improving signal of a weekly (n, passes) series at a week from ``first_week`` on
    with at least ``min_cases`` cases, charted as spc_findings charts it (from its first week with
    data), or None."""
    values = [p / n if n else None for n, p in points]
    start = next((i for i, v in enumerate(values) if v is not None), None)
    if start is None:
        return None
    first = weeks.index(first_week) if first_week in weeks else 0
    if all(n < min_cases for n, _ in points[first:]):
        return None  # no week of the period has enough cases: not charted at all
    used = list(weeks[start:])
    values, ns, passes = values[start:], [n for n, _ in points][start:], [p for _, p in points][start:]
    chart = series_chart(used, values, direction, rebase_key, spc)
    if values[-1] is not None and chart.concern_rules(len(values) - 1):
        return None  # the period ends on a concern: not good news
    for i in range(len(values) - 1, -1, -1):
        if used[i] < first_week:
            break
        if chart.point_type[i] != IMPROVEMENT or ns[i] < min_cases:
            continue
        group = [v for v, g in zip(values, chart.group, strict=True) if g == chart.group[i] and v is not None]
        if len(group) < spc.min_points:
            continue
        rules = improving_rules(chart, i)
        if criterion:
            low, high = wilson_interval(passes[i], ns[i])
            clear = high < chart.mean[i] if direction in ("lower", "decrease") else low > chart.mean[i]
            if not clear or not any(r in CHANGE_RULES for r in rules):
                continue
        return Signal(chart, used, ns, passes, i)
    return None


def improvement_reason(s: Signal, what: str) -> str:
    """The improving signal worded as special causes are, with the improving side's words."""
    chart, i = s.chart, s.at
    rule = improving_rules(chart, i)[0]
    # the words of the concerning side of the opposite direction are this direction's improving side
    words = SIDE_WORDS["higher" if chart.direction in ("lower", "decrease") else "lower"]
    run = _run_to(chart, i, rule)
    value = chart.values[i]
    return REASONS[rule].format(
        what=what,
        week=s.weeks[i],
        value=pct_text(value if value is not None else 0.0),
        usual_low=pct_text(max(chart.lower[i], 0.0)),
        usual_high=pct_text(min(chart.upper[i], 1.0)),
        mean=pct_text(chart.mean[i]),
        run=run,
        steps=run - 1,
        **words,
    )


def improvement_chart(s: Signal, target: float | None) -> SpcChart:
    """The chart a report draws, up to the signal's week, its improving points flagged."""
    chart, end = s.chart, s.at + 1
    return SpcChart(
        points=tuple(
            SeriesPoint(week=w, value=v, n=n, flagged=t == IMPROVEMENT)
            for w, v, n, t in zip(
                s.weeks[:end], chart.values[:end], s.ns[:end], chart.point_type[:end], strict=True
            )
        ),
        mean=chart.mean[s.at],
        lower_limit=chart.lower[s.at],
        upper_limit=chart.upper[s.at],
        baseline_weeks=chart.baseline_points,
        rules=improving_rules(chart, s.at),
        assurance=chart.assurance(target),
        direction=chart.direction,
    )


def week_figures(s: Signal) -> dict[str, Any]:
    n, k = s.ns[s.at], s.passes[s.at]
    low, high = wilson_interval(k, n)
    return {"n": n, "passed": k, "rate": k / n, "ci_low": low, "ci_high": high, "week": s.weeks[s.at]}

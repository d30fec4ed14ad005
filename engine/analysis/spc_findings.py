"""Special-cause exceptions: a weekly series charted as XmR (each place's measures and criteria
from the QA reviews, and each response standard's metric from the incidents) that signals in the
concerning direction in the period's latest week.

A measure's weekly point is the share of the week's reviewed cases that met every applicable
criterion of the measure; a criterion's, the share of the cases it applied to that met it. Each
case counts once in a series, however many of its criteria failed (engine.analysis.daily).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import numpy as np

from engine.analysis import daily
from engine.analysis.evidence import Catalogue, case_details, group_rows, unique
from engine.analysis.frames import blank
from engine.analysis.outcomes import Outcomes, failures, in_period
from engine.analysis.reasons import SIDE_WORDS, case_noun, lower_first, pct_text, reason
from engine.analysis.spc_screen import latest_may_concern
from engine.analysis.stats import (
    CHANGE_RULES,
    CONCERN,
    DEFAULT_BASELINE,
    RULES,
    XmrChart,
    wilson_interval,
    xmr_chart,
)
from engine.analysis.threshold_findings import time_text, week_rows, week_time_facts
from engine.core.figure_facts import FigureException
from engine.core.metrics import TIME_METRICS
from engine.core.models import ExceptionKind, PerformanceException, SeriesPoint, SpcChart
from engine.core.periods import week_monday, week_range


@dataclass(frozen=True)
class SpcSettings:
    """How weekly series are charted. ``rebase`` maps (place, measure, metric or
    "<ruleset>/<criterion>") to the weeks at which a new baseline starts (on request only, after a
    real process change)."""

    baseline: int = DEFAULT_BASELINE
    #: fewer present weeks than this in the current baseline group: no SPC exception (limits too unsure)
    min_points: int = DEFAULT_BASELINE
    screen_outliers: bool = True
    rebase: Mapping[tuple[str, str], Sequence[str]] = field(default_factory=dict)


def series_chart(
    weeks: Sequence[str],
    values: Sequence[float | None],
    direction: str,
    key: tuple[str, str],
    spc: SpcSettings,
) -> XmrChart:
    """The XmR chart of a weekly series (from its first week with data) under ``spc``: its baseline,
    outlier screening and the rebases recorded for ``key``."""
    rebase_at = [weeks.index(w) for w in spc.rebase.get(key, ()) if w in weeks]
    return xmr_chart(
        values,
        direction=direction,
        baseline=spc.baseline,
        rebase_at=rebase_at,
        screen_outliers=spc.screen_outliers,
    )


def _chart(
    weeks: Sequence[str],
    values: Sequence[float | None],
    ns: Sequence[int],
    *,
    direction: str,
    key: tuple[str, str],
    spc: SpcSettings,
) -> tuple[XmrChart, list[str]] | None:
    """The XmR chart of a series from its first week with data, or None when it is too short."""
    first = next((i for i, v in enumerate(values) if v is not None), None)
    if first is None or values[-1] is None:
        return None
    weeks, values, ns = weeks[first:], values[first:], ns[first:]
    chart = series_chart(weeks, values, direction, key, spc)
    current = [v for v, g in zip(values, chart.group, strict=True) if g == chart.group[-1] and v is not None]
    if len(current) < spc.min_points or chart.point_type[-1] != CONCERN:
        return None
    return chart, list(weeks)


def as_spc_chart(chart: XmrChart, weeks: Sequence[str], ns: Sequence[int], target: float | None) -> SpcChart:
    """The chart a briefing draws: the series' ``weeks`` (the last of ``ns`` are their counts), the
    latest limits and the signal's rules, and its assurance against ``target``."""
    ns = list(ns)[len(ns) - len(weeks) :]
    return SpcChart(
        points=tuple(
            SeriesPoint(week=w, value=v, n=n, flagged=t == CONCERN)
            for w, v, n, t in zip(weeks, chart.values, ns, chart.point_type, strict=True)
        ),
        mean=chart.mean[-1],
        lower_limit=chart.lower[-1],
        upper_limit=chart.upper[-1],
        baseline_weeks=chart.baseline_points,
        rules=chart.concern_rules(len(weeks) - 1),
        assurance=chart.assurance(target),
        direction=chart.direction,
    )


def _run_length(chart: XmrChart, rule: str) -> int:
    """How many of the latest points in a row the rule's signal covers."""
    run = 0
    for i in range(len(chart.values) - 1, -1, -1):
        if chart.values[i] is None:
            continue
        if not any(r == rule for r, _ in chart.signals[i]):
            break
        run += 1
    return run


def _spc_reason(chart: XmrChart, what: str, week: str, fmt: Any, proportion: bool = True) -> str:
    """The reason of the signal in the latest week, its values worded by ``fmt``."""
    rule = chart.concern_rules(len(chart.values) - 1)[0]
    words = SIDE_WORDS["lower" if chart.direction in ("lower", "decrease") else "higher"]
    run = _run_length(chart, rule)
    high = min(chart.upper[-1], 1.0) if proportion else chart.upper[-1]
    return reason(
        rule,
        what=what,
        week=week,
        value=fmt(chart.values[-1]),
        usual_low=fmt(max(chart.lower[-1], 0.0)),
        usual_high=fmt(high),
        mean=fmt(chart.mean[-1]),
        run=run,
        steps=run - 1,
        **words,
    )


#: a weekly (n, passes) series' chart: the chart, the weeks it covers, and every week's n and passes
_Charted = tuple[XmrChart, list[str], list[int], list[int]]


def _proportion_charts(
    series: Mapping[Any, Sequence[tuple[int, int]]],
    weeks: Sequence[str],
    directions: Mapping[Any, str],
    rebase_keys: Mapping[Any, tuple[str, str]],
    spc: SpcSettings,
    rules: Sequence[str] = RULES,
    week_beyond_mean: bool = False,
) -> dict[Any, _Charted]:
    """The charts of the weekly (n, passes) ``series`` (those in ``directions``) that signal a
    concern in the latest week; of those that could be flagged by ``rules`` only, when given, and
    with ``week_beyond_mean`` of those whose latest week's interval could lie wholly on the
    concerning side of the mean (_criterion_signal)."""
    charts: dict[Any, _Charted] = {}
    keys = [k for k in series if k in directions]
    for key in _may_concern(series, keys, directions, rebase_keys, spc, rules, week_beyond_mean):
        points = series[key]
        ns = [n for n, _ in points]
        values = [p / n if n else None for n, p in points]
        made = _chart(weeks, values, ns, direction=directions[key], key=rebase_keys[key], spc=spc)
        if made:
            charts[key] = (made[0], made[1], ns, [p for _, p in points])
    return charts


def _may_concern(
    series: Mapping[Any, Sequence[tuple[int, int]]],
    keys: Sequence[Any],
    directions: Mapping[Any, str],
    rebase_keys: Mapping[Any, tuple[str, str]],
    spc: SpcSettings,
    rules: Sequence[str],
    week_beyond_mean: bool,
) -> list[Any]:
    """The ``keys`` whose chart might signal a concern in the latest week, in order: a rebased
    series, and any other that stats.latest_may_concern does not rule out (all at once, without
    charting each)."""
    plain = [k for k in keys if directions[k] in _SIGN and not spc.rebase.get(rebase_keys[k])]
    maybe = set(keys).difference(plain)
    if plain:
        if isinstance(series, daily.SeriesView):
            counts = series.counts(plain)
        else:
            counts = np.asarray([series[k] for k in plain], dtype=np.float64).reshape(len(plain), -1, 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(counts[:, :, 0] > 0, counts[:, :, 1] / counts[:, :, 0], np.nan)
        signs = np.asarray([_SIGN.get(directions[k], 1) for k in plain], dtype=np.int64)
        week = wilson_interval(counts[:, -1, 1], counts[:, -1, 0]) if week_beyond_mean else None
        screen = latest_may_concern(
            values,
            signs,
            baseline=spc.baseline,
            min_points=spc.min_points,
            screen_outliers=spc.screen_outliers,
            rules=rules,
            interval=week,
        )
        maybe.update(k for k, m in zip(plain, screen.tolist(), strict=True) if m)
    return [k for k in keys if k in maybe]


#: a direction's sign for latest_may_concern (a series of any other direction is charted, to fail)
_SIGN = {"higher": 1, "increase": 1, "lower": -1, "decrease": -1, "neutral": 0}


def _latest(charted: _Charted) -> dict[str, Any]:
    """n, passed, rate and interval of a chart's latest week: the cases reviewed that week."""
    _, _, ns, passes = charted
    n, k = ns[-1], passes[-1]
    low, high = wilson_interval(k, n)
    return {"n": n, "passed": k, "rate": k / n, "ci_low": low, "ci_high": high}


def _week_rows(history: Outcomes, week: str) -> Outcomes:
    monday = week_monday(week)
    return in_period(history, monday, monday + timedelta(days=6))


def outcome_special_causes(
    history: Outcomes,
    summed: daily.OutcomeWeeks | None,
    cat: Catalogue,
    spc: SpcSettings,
) -> list[PerformanceException]:
    """SPC signals in the latest week of each (place, measure) and each (place, ruleset, criterion)
    weekly series of the reviewed cases (``summed``: the weeks up to the latest and the day
    summaries' sums over them, day_sums.weeks_to; None: no week; see measure_special_causes and
    criterion_special_causes); the failing cases named are the latest week's, from the ``history``
    rows."""
    if summed is None:
        return []
    sums = summed.sums
    # only the catalogue's measures and the criteria are charted (not, say, the teams' counts)
    rows = [
        i for i, (_, k) in enumerate(sums.names) if k in cat.measures or k.startswith(daily.CRITERION_KEY)
    ]
    return series_special_causes(
        history, sums.rows(rows, [sums.names[i] for i in rows]), summed.weeks, cat, spc
    )


def series_special_causes(
    history: Outcomes, sums: daily.WeeklySums, weeks: Sequence[str], cat: Catalogue, spc: SpcSettings
) -> list[PerformanceException]:
    """outcome_special_causes of weekly sums already made (daily.weekly_sums over ``weeks``)."""
    measures, criteria = daily.series_of(sums)
    return measure_special_causes(history, measures, weeks, cat, spc) + criterion_special_causes(
        history, criteria, measures, weeks, cat, spc
    )


def measure_special_causes(
    history: Outcomes,
    series: Mapping[tuple[str, str], Sequence[tuple[int, int]]],
    weeks: Sequence[str],
    cat: Catalogue,
    spc: SpcSettings,
) -> list[PerformanceException]:
    """SPC signals in the last of ``weeks`` of each (place, measure) weekly ``series`` of the cases
    (daily.measure_weekly_series): n = the cases with an applicable criterion of the measure, passes =
    those that failed none. The failing cases named are the week's, from the ``history`` rows."""
    latest_week = weeks[-1]
    charts = _proportion_charts(
        series,
        weeks,
        # the share of cases failing none of the item's criteria: higher is better even where the
        # item itself has no direction (M6, D6, D12: counts to watch, not to push up or down)
        {k: str(cat.measures[k[1]]["direction"] or "higher") for k in series if k[1] in cat.measures},
        {k: k for k in series},
        spc,
    )
    fails = group_rows(
        failures(history, measure_weeks=[(p, m, latest_week) for p, m in charts]), "place", "measure"
    )
    out: list[PerformanceException] = []
    for (place, measure), charted in charts.items():
        rows = fails.get((place, measure), [])
        target = cat.measure_standard(measure)
        chart, weeks_used, ns, _ = charted
        rulesets = {c["ruleset"] for c in cat.criteria.values() if c["measure"] == measure}
        out.append(
            PerformanceException(
                place=place,
                ruleset=rulesets.pop() if len(rulesets) == 1 else "",
                criterion="",
                kind=ExceptionKind.SPECIAL_CAUSE,
                reason=_spc_reason(
                    chart,
                    f"Compliance with {lower_first(str(cat.measures[measure]['name']))}",
                    latest_week,
                    pct_text,
                ),
                **_latest(charted),
                standard=target,
                cases=unique(r["case_ref"] for r in rows),
                criterion_text=str(cat.measures[measure]["name"]),
                details=case_details(rows),
                chart=as_spc_chart(chart, weeks_used, ns, target),
                **cat.tags(measure),
            )
        )
    return out


def _criterion_signal(charted: _Charted) -> bool:
    """Whether a criterion's chart signal is raised: the latest week is part of a shift or trend
    (stats.CHANGE_RULES) *and* that week alone is clearly worse than usual (its 95% interval wholly
    on the concerning side of the chart's mean).

    A criterion's share is usually near 100% on a few dozen cases a week. Its weekly values are a
    handful of distinct fractions, its XmR limits are often as narrow as those (a baseline of
    perfect weeks gives limits of 100% to 100%), and its mean falls between two of them, so most
    weeks sit on one side of it. On the demo's 2026-W47 the four rules alone raised 30 criterion
    special causes where the planted problems raised 4; shifts alone raised 9 (a week of 31 of 33
    against a mean of 97%); the week's interval alone raised 15 (31 of 33 against 12 perfect
    weeks). The measure's series, which counts the same cases, keeps the four rules alone."""
    chart = charted[0]
    if not any(rule in CHANGE_RULES for rule in chart.concern_rules(len(chart.values) - 1)):
        return False
    week = _latest(charted)
    mean = chart.mean[-1]
    if chart.direction in ("lower", "decrease"):
        return bool(week["ci_low"] > mean)
    return bool(week["ci_high"] < mean)


def _same_weeks(a: Mapping[Any, Any], key: Any, b: Mapping[Any, Any], other: Any) -> bool:
    """Whether series ``a[key]`` is ``b[other]`` week for week (False when ``b`` has no ``other``)."""
    if isinstance(a, daily.SeriesView) and isinstance(b, daily.SeriesView):
        return a.same(key, b, other)
    return bool(a[key] == b.get(other))


def criterion_special_causes(
    history: Outcomes,
    series: Mapping[tuple[str, str, str], Sequence[tuple[int, int]]],
    measures: Mapping[tuple[str, str], Sequence[tuple[int, int]]],
    weeks: Sequence[str],
    cat: Catalogue,
    spc: SpcSettings,
) -> list[PerformanceException]:
    """SPC signals in the last of ``weeks`` of each (place, ruleset, criterion) weekly ``series`` of
    the cases it applied to (daily.criterion_weekly_series), for the criteria that are not critical
    (every failure of those is reported already) and whose series is not their measure's in
    ``measures`` week for week (that would repeat the measure's exception). The failing cases named
    are the week's, from the ``history`` rows. Rebased by SpcSettings.rebase[(place,
    "<ruleset>/<criterion>")]."""
    latest_week = weeks[-1]
    directions: dict[Any, str] = {}
    for key in series:
        meta = cat.criteria.get((key[1], key[2]))
        # a series that is its measure's, week for week (the measure's only criterion that applied),
        # would repeat the measure's exception
        if (
            meta is None
            or meta["critical"]
            or _same_weeks(series, key, measures, (key[0], str(meta["measure"])))
        ):
            continue
        directions[key] = str(meta["direction"] or "higher")
    rebase_keys = {(p, r, c): (p, f"{r}/{c}") for p, r, c in series}
    charts = {
        key: charted
        # _criterion_signal needs a shift or trend: no other series is charted
        for key, charted in _proportion_charts(
            series, weeks, directions, rebase_keys, spc, CHANGE_RULES, True
        ).items()
        if _criterion_signal(charted)
    }
    fails = group_rows(
        failures(_week_rows(history, latest_week), cells=list(charts)), "place", "ruleset", "criterion"
    )
    out: list[PerformanceException] = []
    for (place, ruleset, criterion), charted in charts.items():
        meta = cat.criteria[(ruleset, criterion)]
        rows = fails.get((place, ruleset, criterion), [])
        target = None if blank(meta["minimum"]) else float(meta["minimum"])
        noun = case_noun(meta, rows)
        text = str(meta["text"])
        chart, weeks_used, ns, _ = charted
        out.append(
            PerformanceException(
                place=place,
                ruleset=ruleset,
                criterion=criterion,
                kind=ExceptionKind.SPECIAL_CAUSE,
                reason=_spc_reason(chart, f"{text}: the share of {noun} meeting it", latest_week, pct_text),
                **_latest(charted),
                standard=target,
                cases=unique(r["case_ref"] for r in rows),
                criterion_text=text,
                details=case_details(rows),
                chart=as_spc_chart(chart, weeks_used, ns, target),
                guidance="" if blank(meta.get("guidance")) else str(meta.get("guidance")),
                **cat.tags(str(meta["measure"]), meta),
            )
        )
    return out


def metric_special_causes(
    incidents: daily.Days,
    standards: Sequence[Mapping[str, Any]],
    cat: Catalogue,
    latest_week: str,
    spc: SpcSettings,
) -> list[PerformanceException]:
    """SPC signals in the latest week of each (place, metric) weekly series of the incidents' day
    summaries, for the metrics that have a response standard in ``standards``."""
    specs = {s["metric"]: s for s in standards}
    seen = daily.weeks_present(incidents)
    if not seen or not specs or seen[0] > latest_week:
        return []
    weeks = week_range(seen[0], latest_week)
    out: list[PerformanceException] = []
    latest: list[dict[str, Any]] | None = None  # the latest week's rows, made for its first timed signal
    for (place, metric), series in daily.incident_weekly_series(incidents, weeks).items():
        spec = specs.get(metric)
        if spec is None:
            continue
        ns = [n for n, _, _ in series]
        values = [v for _, _, v in series]
        timed = metric in TIME_METRICS  # charted on the weekly mean (daily.incident_weekly_series)
        direction = "lower" if timed else str(spec.get("direction") or "higher")
        made = _chart(weeks, values, ns, direction=direction, key=(place, metric), spc=spc)
        if not made:
            continue
        chart, weeks_used = made
        n, k, value = series[-1]
        target = None if spec.get("minimum") is None else float(spec["minimum"])
        low: float | None = None
        high: float | None = None
        fmt: Callable[[float], str]
        made_as: Any = PerformanceException
        extra: dict[str, Any] = {}
        teams = ""
        if timed:  # the week's mean time, its interval and the teams' (threshold_findings)
            latest = week_rows(incidents, latest_week) if latest is None else latest
            facts, teams = week_time_facts(latest, latest_week, place, metric, spec)
            fmt, rate, low, high = partial(time_text, unit=facts.unit), facts.value, facts.low, facts.high
            what, target = f"The mean {facts.text}", facts.standard
            made_as, extra = FigureException, {"figure": facts}
        else:
            low, high = wilson_interval(k, n)
            fmt, rate = pct_text, value
            what = f"The share of {lower_first(str(spec.get('text') or metric))}"
        out.append(
            made_as(
                place=place,
                ruleset=str(spec["ruleset"]),
                criterion=str(spec["criterion"]),
                kind=ExceptionKind.SPECIAL_CAUSE,
                reason=_spc_reason(chart, what, latest_week, fmt, proportion=not timed)[:-1] + teams + ".",
                n=n,
                passed=k,
                rate=rate,
                ci_low=low,
                ci_high=high,
                standard=target,
                cases=(),
                criterion_text=str(spec.get("text") or metric),
                chart=as_spc_chart(chart, weeks_used, ns, target),
                **cat.tags(str(spec["measure"]), spec),
                **extra,
            )
        )
    return out

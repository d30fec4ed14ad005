"""Threshold exceptions on the incidents' response metrics: a place's share of incidents meeting a
response standard (Grade 1, 2 and 3 attendance, 999 answering) whose whole interval misses the
standard's minimum, or a place's attendance or answer time whose whole interval (of the mean, or of
the median with ``statistic: median``) lies beyond the standard's maximum; or a SmallSample.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from engine.analysis import daily
from engine.analysis.evidence import Catalogue, RateCheck, SmallSample, guidance_of
from engine.analysis.incident_days import NO_TEAM
from engine.analysis.reasons import count_text, reason
from engine.analysis.tables import records
from engine.core.figure_facts import FigureException, FigureFacts
from engine.core.metrics import INCIDENT_METRICS, PROPORTION, TIME_METRICS
from engine.core.models import ExceptionKind, PerformanceException
from engine.core.periods import week_label, week_monday
from engine.inputs.extracts import (
    CALL999_ANSWERED,
    G1_ATTENDED,
    G2_ATTENDED,
    G3_ATTENDED,
    ResponseSettings,
)


def time_text(value: float, unit: str) -> str:
    """8.44 minutes -> '8.4 minutes'; 66.5 seconds -> '67 seconds' (an hour or more of minutes in
    hours: '26.3 hours')."""
    if unit == "minutes" and value >= 120:
        return f"{value / 60:,.1f} hours"
    if unit == "minutes":
        return f"{value:,.1f} minutes"
    return f"{value:,.0f} seconds"


def _metric_phrase(
    metric: str, place: str, place_settings: Mapping[str, str], response: ResponseSettings
) -> tuple[str, str]:
    """(what was achieved, unit noun) for a proportion metric's reason."""
    if metric == G1_ATTENDED:
        setting = place_settings.get(place)
        within = f"{response.g1_minutes(setting):g} minutes" if setting else "the standard time"
        return f"Grade 1 incidents were attended within {within}", "incidents"
    if metric == G2_ATTENDED:
        return f"Grade 2 incidents were attended within {response.g2_minutes:g} minutes", "incidents"
    if metric == G3_ATTENDED:
        return f"Grade 3 incidents were attended within {response.g3_hours:g} hours", "incidents"
    if metric == CALL999_ANSWERED:
        return f"999 calls were answered within {response.call999_seconds:g} seconds", "calls"
    return metric, "incidents"


def _bound(spec: Mapping[str, Any]) -> tuple[float | None, str]:
    """A threshold's standard and which side it bounds: (maximum, "maximum") or (minimum, "minimum")."""
    if spec.get("maximum") is not None:
        return float(spec["maximum"]), "maximum"
    if spec.get("minimum") is not None:
        return float(spec["minimum"]), "minimum"
    return None, ""


def _number(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def team_text(rows: Sequence[Mapping[str, Any]], statistic: str, unit: str) -> str:
    """'by team: Response Team A 8.1 minutes (54), Response Team B 12.6 minutes (61)': each named
    team's mean (or median) and how many it counts, worst first."""
    shown = [(r["team"], _number(r[statistic]), int(r["n"])) for r in rows]
    shown = sorted((s for s in shown if s[1] is not None), key=lambda s: (-(s[1] or 0.0), s[0]))
    parts = [f"{team} {time_text(value or 0.0, unit)} ({count_text(n)})" for team, value, n in shown]
    return f"; by team: {', '.join(parts)}" if parts else ""


def time_facts(
    row: Mapping[str, Any], spec: Mapping[str, Any], period: str, start: date, end: date
) -> FigureFacts:
    """A place's time (an incident metrics row) as the figure an exception states: the mean, or the
    median with ``statistic: median``, its interval, the other statistic, and the threshold's bound."""
    metric = INCIDENT_METRICS[str(row["metric"])]
    standard, bound = _bound(spec)
    statistic = "median" if spec.get("statistic") == "median" else "mean"
    mean, median = _number(row["mean"]), _number(row["median"])
    value = median if statistic == "median" else mean
    low = _number(row["median_low" if statistic == "median" else "ci_low"])
    high = _number(row["median_high" if statistic == "median" else "ci_high"])
    return FigureFacts(
        metric=metric.id, kind="time", text=metric.text, unit=metric.unit, period=period,
        start=start.isoformat(), end=end.isoformat(), n=float(row["n"]), value=value, low=low,
        high=high, median=median, mean=mean, statistic=statistic, standard=standard, bound=bound,
    )  # fmt: skip


def week_rows(incidents: daily.Days, week: str) -> list[dict[str, Any]]:
    """The week's incident metrics of every place and named team (daily.incident_metrics): what
    week_time_facts reads, made once for all the week's signals."""
    monday = week_monday(week)
    return records(
        daily.incident_metrics(daily.between(incidents, monday, monday + timedelta(days=6)), week, teams=True)
    )


def week_time_facts(
    rows: Sequence[Mapping[str, Any]], week: str, place: str, metric: str, spec: Mapping[str, Any]
) -> tuple[FigureFacts, str]:
    """The week's mean time of ``place`` (what its SPC chart's latest point is) as FigureFacts, and
    team_text of its named teams' means; ``rows``: week_rows of the week."""
    monday = week_monday(week)
    sunday = monday + timedelta(days=6)
    mine = [r for r in rows if r["place"] == place and r["metric"] == metric]
    (own,) = [r for r in mine if r["team"] == NO_TEAM]
    teams = [r for r in mine if r["team"] != NO_TEAM]
    facts = time_facts(own, {**spec, "statistic": "mean"}, week, monday, sunday)
    return facts, team_text(teams, "mean", facts.unit)


def _span(incidents: daily.Days, latest_week: str) -> tuple[str, date, date]:
    """The label and first and last day of the incidents' span: the week, or the days it runs over."""
    days = sorted(d for d, places in incidents.items() if places)
    first, last = days[0], days[-1]
    if week_label(first) == week_label(last) == latest_week:
        monday = week_monday(latest_week)
        return latest_week, monday, monday + timedelta(days=6)
    return f"{first.day} {first:%B %Y} to {last.day} {last:%B %Y}", first, last


def time_check(
    row: Mapping[str, Any],
    spec: Mapping[str, Any],
    teams: Sequence[Mapping[str, Any]],
    cat: Catalogue,
    min_cases: int,
    span: tuple[str, date, date],
) -> tuple[PerformanceException | None, SmallSample | None]:
    """A place's time (the mean, or the median with ``statistic: median``) against a threshold's
    maximum (or minimum): an exception when the whole 95% interval lies beyond it and at least
    ``min_cases`` were timed; a SmallSample when only the figure does."""
    f = time_facts(row, spec, *span)
    metric = INCIDENT_METRICS[f.metric]
    if f.standard is None or f.value is None:
        return None, None
    n, over = int(f.n), f.bound == "maximum"
    if not (f.value > f.standard if over else f.value < f.standard):
        return None, None
    sure = (
        (f.low is not None and f.low > f.standard) if over else (f.high is not None and f.high < f.standard)
    )
    other, other_value = ("median", f.median) if f.statistic == "mean" else ("mean", f.mean)
    counted = "attended" if metric.grade else "answered"
    facts = (
        f"{metric.text} was a {f.statistic} of {time_text(f.value, f.unit)} in {f.period} "
        f"({count_text(n)} {counted}"
        + (f"; {other} {time_text(other_value, f.unit)}" if other_value is not None else "")
        + f"); the {f.bound} is {time_text(f.standard, f.unit)}"
    )
    if sure and n >= min_cases:
        edge = f.low if over else f.high
        why = (
            f"{facts}; even allowing for chance the true {f.statistic} is "
            f"{'at least' if over else 'at most'} {time_text(edge or 0.0, f.unit)}"
            f"{team_text(teams, f.statistic, f.unit)}."
        )
        return (
            FigureException(
                place=str(row["place"]),
                ruleset=str(spec["ruleset"]),
                criterion=str(spec["criterion"]),
                kind=ExceptionKind.THRESHOLD,
                reason=why,
                n=n,
                passed=0,
                rate=f.value,
                ci_low=f.low,
                ci_high=f.high,
                standard=f.standard,
                cases=(),
                criterion_text=str(spec.get("text") or metric.text),
                guidance=guidance_of(spec),
                figure=f,
                **cat.tags(str(spec["measure"]), spec),
            ),  # fmt: skip
            None,
        )
    note = f"{facts}, but with {count_text(n)} {counted} the {f.statistic} may be within it by chance."
    return None, SmallSample(
        place=str(row["place"]), ruleset=str(spec["ruleset"]), criterion=str(spec["criterion"]),
        measure=str(spec["measure"]), n=n, passed=0, rate=f.value,
        ci_low=math.nan if f.low is None else f.low, ci_high=math.nan if f.high is None else f.high,
        standard=f.standard, direction="lower" if over else "higher", cases_needed=None, note=note,
    )  # fmt: skip


def thresholds(
    incidents: daily.Days,
    standards: Sequence[Mapping[str, Any]],
    cat: Catalogue,
    place_settings: Mapping[str, str],
    response: ResponseSettings,
    min_cases: int,
    latest_week: str,
) -> tuple[list[PerformanceException], list[SmallSample]]:
    """threshold exceptions of the period's incident day summaries, for the incident metrics with a
    minimum (a proportion) or a maximum (a time) in ``standards``; the shortfalls too small to be
    sure of as SmallSample."""
    specs = [s for s in standards if s["metric"] in INCIDENT_METRICS and _bound(s)[0] is not None]
    out: list[PerformanceException] = []
    notes: list[SmallSample] = []
    if not specs or not incidents:
        return out, notes
    # the teams, medians and histograms only where a time has a bound (a PEEL year's take seconds)
    timed = {s["metric"] for s in specs if s["metric"] in TIME_METRICS}
    medians = {m for m in timed if any(s["metric"] == m and s.get("statistic") == "median" for s in specs)}
    span = _span(incidents, latest_week)
    rows = records(
        daily.incident_metrics(
            incidents, period=latest_week, teams=bool(timed), medians=timed, median_intervals=medians
        )
    )
    teams: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["team"] != NO_TEAM:
            teams.setdefault((r["place"], r["metric"]), []).append(r)
    for row in rows:
        if row["team"] != NO_TEAM or not row["n"]:
            continue
        for spec in specs:
            if spec["metric"] != row["metric"]:
                continue
            if INCIDENT_METRICS[row["metric"]].kind != PROPORTION:
                found, note = time_check(
                    row, spec, teams.get((row["place"], row["metric"]), []), cat, min_cases, span
                )
                out += [found] if found else []
                notes += [note] if note else []
                continue
            if spec.get("minimum") is None:
                continue
            rate = RateCheck(
                row["place"], str(spec["ruleset"]), str(spec["criterion"]), str(spec["measure"]), int(row["n"]),
                int(row["passes"]), row["rate"], row["ci_low"], row["ci_high"], float(spec["minimum"]),
                str(spec.get("direction") or "higher"),
            )  # fmt: skip
            verdict = rate.verdict(min_cases)
            what, noun = _metric_phrase(row["metric"], row["place"], place_settings, response)
            if verdict == "short":
                notes.append(rate.small_sample(what, noun, "small_sample_extract"))
            elif verdict == "breach":
                out.append(
                    rate.exception(
                        ExceptionKind.THRESHOLD,
                        reason("threshold", **rate.facts(what, noun)),
                        meta=spec,
                        cases=(),
                        criterion_text=str(spec.get("text") or what),
                        **cat.tags(rate.measure, spec),
                    )
                )
    return out, notes

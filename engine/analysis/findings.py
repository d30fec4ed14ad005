"""Performance exceptions (not Python errors: those are engine/core/errors.py): which to raise, and why.

The rules are DOMAIN.md Part A "When is something an exception"; every exception carries one
plain-English reason, all worded in :func:`reason`. Choices (see each finder):

- critical: one exception per (place, criterion) listing every failing case with its trace;
  critical criteria get no below_standard exception on top.
- below_standard / threshold: the whole Wilson 95 % interval is on the wrong side of the
  standard (for a reviewed sample with a recorded frame, the interval narrowed by the
  finite-population correction). Shortfalls too small to be sure of are returned as SmallSample
  records instead.
- special_cause: the (place, measure) weekly series signals in the concerning direction *and the
  signal includes the period's latest week*; a signal that ended weeks ago is old news and was
  reported then. Extract metrics get the same SPC per (place, metric).
"""

from __future__ import annotations

import json
import math
import operator
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

from engine.analysis import aggregate as agg
from engine.analysis import daily
from engine.analysis.stats import (
    CONCERN,
    DEFAULT_BASELINE,
    XmrChart,
    cases_needed,
    interval_breaches,
    wilson_interval,
    xmr_chart,
)
from engine.core.errors import ReportError
from engine.core.metrics import PROPORTION_METRICS
from engine.core.models import CaseDetail, ExceptionKind, PerformanceException, SeriesPoint, SpcChart
from engine.inputs.extracts import (
    CALL101_SECONDS,
    CALL999_ANSWERED,
    G1_ATTENDED,
    G2_ATTENDED,
    ResponseSettings,
)

KIND_ORDER: tuple[ExceptionKind, ...] = tuple(ExceptionKind)

CASE_NOUNS: dict[str, str] = {
    "stop_search": "searches",
    "victim_care": "victim cases",
    "crime_file": "case files",
    "investigation": "investigations",
    "domestic_abuse": "domestic abuse cases",
}


@dataclass(frozen=True)
class SpcSettings:
    """How weekly series are charted. ``rebase`` maps (place, measure or metric) to the weeks at
    which a new baseline starts (on request only, after a real process change)."""

    baseline: int = DEFAULT_BASELINE
    #: fewer present weeks than this in the current baseline group: no SPC exception (limits too unsure)
    min_points: int = DEFAULT_BASELINE
    screen_outliers: bool = True
    rebase: Mapping[tuple[str, str], Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class RateCheck:
    """A place's rate on one criterion or metric in the period, against its standard."""

    place: str
    ruleset: str
    criterion: str
    measure: str
    n: int
    passed: int
    rate: float
    ci_low: float
    ci_high: float
    standard: float
    direction: str

    def verdict(self, min_cases: int) -> str | None:
        """'breach' (the whole interval misses the standard), 'short' (only the rate does) or None."""
        if self.n >= min_cases and interval_breaches(
            self.ci_low, self.ci_high, self.standard, self.direction
        ):
            return "breach"
        short = self.rate < self.standard if self.direction == "higher" else self.rate > self.standard
        return "short" if short else None

    def facts(self, what: str, noun: str) -> dict[str, Any]:
        """The wording inputs of its reason."""
        return {
            "what": what,
            "passed": _count(self.passed),
            "n": _count(self.n),
            "noun": noun,
            "rate": _pct(self.rate),
            "standard": _pct(self.standard),
            "ci_low": _pct(self.ci_low),
            "ci_high": _pct(self.ci_high),
        }

    def small_sample(self, what: str, noun: str, template: str) -> SmallSample:
        """The record of a shortfall too small to be sure of, with the cases it would need."""
        needed = cases_needed(self.rate, self.standard, self.direction)
        facts = self.facts(what, noun)
        facts["needed"] = (
            f"about {_count(needed)} {noun} at this rate would confirm it" if needed else "more are needed"
        )
        mine = {f.name: getattr(self, f.name) for f in fields(RateCheck)}
        return SmallSample(**mine, cases_needed=needed, note=reason(template, **facts))

    def exception(self, kind: ExceptionKind, why: str, **more: Any) -> PerformanceException:
        """The exception this check raises, with the given kind, reason and briefing fields."""
        return PerformanceException(
            place=self.place,
            ruleset=self.ruleset,
            criterion=self.criterion,
            kind=kind,
            reason=why,
            n=self.n,
            passed=self.passed,
            rate=self.rate,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            standard=self.standard,
            **more,
        )


@dataclass(frozen=True)
class SmallSample(RateCheck):
    """A shortfall too small to be sure of: no exception, but recorded with the cases it would need."""

    cases_needed: int | None
    note: str


@dataclass(frozen=True)
class PeriodFindings:
    """Everything the exception rules found for one period."""

    exceptions: list[PerformanceException]
    small_samples: list[SmallSample]


# --------------------------------------------------------------------------- wording


def _pct(x: float) -> str:
    return f"{math.floor(x * 100 + 0.5)}%"


def _count(x: int) -> str:
    return f"{x:,}"


def _seconds(x: float) -> str:
    return f"{x:.0f} seconds"


_SIDE_WORDS = {
    # improvement direction -> words for the concerning side
    "higher": {"worse": "lower", "side": "below", "moved": "fallen", "edge": "bottom"},
    "lower": {"worse": "higher", "side": "above", "moved": "risen", "edge": "top"},
}

#: every exception reason, keyed by kind (special causes by the rule that fired)
REASONS: dict[str, str] = {
    "critical": "{what}: not met in {cases_text}; this is a critical standard, so every failure is reported.",
    "below_standard": (
        "{what}: met in {passed} of {n} {noun} reviewed ({rate}); the minimum standard is {standard}; "
        "even allowing for sampling the true rate is at most {ci_high}."
    ),
    "below_standard_max": (
        "{what}: met in {passed} of {n} {noun} reviewed ({rate}); the maximum allowed is {standard}; "
        "even allowing for sampling the true rate is at least {ci_low}."
    ),
    "threshold": (
        "{what} in {passed} of {n} {noun} ({rate}); the standard is {standard}; "
        "even allowing for normal variation the true rate is at most {ci_high}."
    ),
    "outside_limits": (
        "{what} was {value} in week {week}, {worse} than this place's usual range of {usual_low} to {usual_high}."
    ),
    "shift": (
        "{what} has been {side} this place's usual average of {mean} for {run} weeks running, "
        "most recently {value} in week {week}."
    ),
    "trend": "{what} has {moved} {steps} weeks in a row, to {value} in week {week}.",
    "two_of_three": (
        "{what} was near the {edge} of this place's usual range in 2 of the last 3 weeks, "
        "most recently {value} in week {week}."
    ),
    "small_sample": (
        "{what}: met in {passed} of {n} {noun} reviewed ({rate}), short of the {standard} standard, but too few "
        "cases to be sure; {needed}."
    ),
    "small_sample_extract": (
        "{what} in {passed} of {n} {noun} ({rate}), short of the {standard} standard, but too few to be sure; "
        "{needed}."
    ),
}


def reason(template: str, **facts: Any) -> str:
    """The one plain-English sentence for an exception (or small-sample note), from REASONS."""
    return REASONS[template].format(**facts)


# --------------------------------------------------------------------------- helpers


def _measure_key(measure: str) -> tuple[int, int, str]:
    """M1..M12 before D1..D12, numerically."""
    head, tail = measure[:1], measure[1:]
    order = {"M": 0, "D": 1}.get(head, 2)
    return (order, int(tail), "") if tail.isdigit() else (order, 0, measure)


def sort_exceptions(items: Iterable[PerformanceException]) -> list[PerformanceException]:
    """Most serious kind first, then priority, place, measure, criterion, ruleset."""
    return sorted(
        items,
        key=lambda e: (
            KIND_ORDER.index(e.kind),
            e.priority,
            e.place,
            _measure_key(e.measure),
            e.criterion,
            e.ruleset,
        ),
    )


_DETAIL_FIELDS = operator.itemgetter(
    "case_ref", "team", "officer", "reviewer", "assessed_on", "criterion_text"
)


def _details(rows: Iterable[Mapping[str, Any]]) -> tuple[CaseDetail, ...]:
    # positional, in CaseDetail's field order: thousands of failing cases in a long period
    return tuple(CaseDetail(*_DETAIL_FIELDS(r), r["trace"], r["note"]) for r in rows)


def _group(rows: Iterable[Mapping[str, Any]], *keys: str) -> dict[tuple[str, ...], list[Mapping[str, Any]]]:
    key_of = operator.itemgetter(*keys)
    out: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for r in rows:
        out.setdefault(key_of(r), []).append(r)
    return out


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


@dataclass(frozen=True)
class _Catalogue:
    criteria: dict[tuple[str, str], dict[str, Any]]
    measures: dict[str, dict[str, Any]]

    def tags(self, measure: str, own: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """priority, measure, peel and iserve of an exception: a criterion's own tags win."""
        m, own = self.measures[measure], own or {}
        return {
            "priority": int(m["priority"] if own.get("priority") is None else own["priority"]),
            "measure": measure,
            "peel": str(own.get("peel") or m["peel"]),
            "iserve": tuple(own.get("iserve") or m["iserve"]),
        }

    def measure_standard(self, measure: str) -> float | None:
        """The measure's own minimum, else the one minimum all its criteria share, else None."""
        own = self.measures[measure].get("minimum")
        if own is not None and not (isinstance(own, float) and math.isnan(own)):
            return float(own)
        mins = {c["minimum"] for c in self.criteria.values() if c["measure"] == measure}
        return mins.pop() if len(mins) == 1 and None not in mins else None


def _catalogue(outcomes: agg.Outcomes) -> _Catalogue:
    crit = {(r["ruleset"], r["criterion"]): r for r in agg.records(outcomes.criteria)}
    meas = {r["id"]: r for r in agg.records(outcomes.measures)}
    return _Catalogue(crit, meas)


# --------------------------------------------------------------------------- the finders


def assess_period(
    outcomes: agg.Outcomes,
    period_from: date,
    period_to: date,
    *,
    outcome_days: daily.Days | None = None,
    incidents: Any = None,
    incident_days: daily.Days | None = None,
    metric_standards: Sequence[Mapping[str, Any]] = (),
    place_settings: Mapping[str, str] | None = None,
    response: ResponseSettings | None = None,
    spc: SpcSettings | None = None,
    min_cases: int = 1,
    aggregates: Any = None,
    frames: Mapping[tuple[str, str], int] | None = None,
) -> PeriodFindings:
    """Find every exception for the period, plus the small-sample shortfalls for the record.

    ``outcomes``: from aggregate.outcomes_frame, holding the period (later rows are ignored) and,
    unless ``outcome_days`` is given, the weeks before it for SPC. ``outcome_days``: day summaries
    (engine.analysis.daily.outcome_days) of the outcomes over the SPC history and the period, e.g. kept from
    earlier runs. ``incidents``: from aggregate.incidents_frame, or None; or ``incident_days``, their
    day summaries (engine.analysis.daily.incident_days). ``metric_standards``: rows {ruleset, criterion,
    metric, text, measure, minimum (None = SPC only), direction} from the response-standards
    ruleset. ``place_settings`` (place -> urban / rural) only words the Grade 1 reason.
    ``min_cases``: the fewest applicable cases for a below_standard or threshold exception (1 = the
    pure Wilson rule of DOMAIN.md). ``aggregates``: the period's aggregate table when already
    computed (for the CSV), to reuse; it must have been computed with the same ``frames``.
    ``frames``: {(place, ruleset): N}, the sample frame of the place's reviews of that ruleset's case
    type where recorded: the (place, criterion) intervals then carry the finite-population correction
    (see aggregate.aggregate) and the exceptions name N ("30 of 212 searches reviewed").
    """
    spc = spc or SpcSettings()
    cat = _catalogue(outcomes)
    history = agg.in_period(outcomes, None, period_to)
    period = agg.in_period(history, period_from, period_to)
    if outcome_days is None:
        outcome_days = daily.outcome_days(history)
    if incident_days is None and incidents is not None:
        incident_days = daily.incident_days(incidents)
    latest_week = agg.week_label(period_to)
    found: list[PerformanceException] = []
    small: list[SmallSample] = []

    frames = frames or {}
    cells = agg.criterion_cells(period, aggregates, frames)
    found += _critical(period, cells, cat, frames)
    below, notes = _below_standard(period, cells, cat, min_cases, frames)
    found += below
    small += notes
    found += _special_causes(history, daily.between(outcome_days, None, period_to), cat, latest_week, spc)
    if incident_days is not None and metric_standards:
        inc = daily.between(incident_days, None, period_to)
        t, notes = _thresholds(
            daily.between(inc, period_from, period_to),
            metric_standards,
            cat,
            place_settings or {},
            response or ResponseSettings(),
            min_cases,
            latest_week,
        )
        found += t
        small += notes
        found += _metric_special_causes(inc, metric_standards, cat, latest_week, spc)
    small.sort(key=lambda s: (s.place, _measure_key(s.measure), s.ruleset, s.criterion))
    return PeriodFindings(sort_exceptions(found), small)


def find_exceptions(
    outcomes: agg.Outcomes, period_from: date, period_to: date, **options: Any
) -> list[PerformanceException]:
    """The exceptions of the period, deterministically sorted (see :func:`assess_period`)."""
    return assess_period(outcomes, period_from, period_to, **options).exceptions


def _critical(
    period: agg.Outcomes,
    cells: list[dict[str, Any]],
    cat: _Catalogue,
    frames: Mapping[tuple[str, str], int],
) -> list[PerformanceException]:
    counts = {(c["place"], c["ruleset"], c["dimension_key"]): c for c in cells}
    out: list[PerformanceException] = []
    for (place, ruleset, criterion), rows in _group(
        agg.failures(period, critical=True), "place", "ruleset", "criterion"
    ).items():
        meta = cat.criteria[(ruleset, criterion)]
        cell = counts[(place, ruleset, criterion)]
        refs = _unique(r["case_ref"] for r in rows)
        shown = ", ".join(refs[:3]) + (f" and {len(refs) - 3} more" if len(refs) > 3 else "")
        cases_text = f"case {refs[0]}" if len(refs) == 1 else f"{len(refs)} cases ({shown})"
        out.append(
            PerformanceException(
                place=place,
                ruleset=ruleset,
                criterion=criterion,
                kind=ExceptionKind.CRITICAL,
                reason=reason("critical", what=meta["text"], cases_text=cases_text),
                n=int(cell["n"]),
                passed=int(cell["passes"]),
                rate=cell["rate"],
                ci_low=cell["ci_low"],
                ci_high=cell["ci_high"],
                standard=meta["minimum"],
                cases=refs,
                criterion_text=meta["text"],
                details=_details(rows),
                frame_size=frames.get((place, ruleset)),
                **cat.tags(meta["measure"], meta),
            )
        )
    return out


def _below_standard(
    period: agg.Outcomes,
    cells: list[dict[str, Any]],
    cat: _Catalogue,
    min_cases: int,
    frames: Mapping[tuple[str, str], int],
) -> tuple[list[PerformanceException], list[SmallSample]]:
    judged: list[tuple[RateCheck, str, dict[str, Any]]] = []
    for c in cells:
        meta = cat.criteria[(c["ruleset"], c["dimension_key"])]
        if meta["minimum"] is None or meta["critical"] or not c["n"]:
            continue
        rate = RateCheck(
            c["place"], c["ruleset"], c["dimension_key"], meta["measure"], int(c["n"]), int(c["passes"]),
            c["rate"], c["ci_low"], c["ci_high"], float(meta["minimum"]), meta["direction"],
        )  # fmt: skip
        verdict = rate.verdict(min_cases)
        if verdict:
            judged.append((rate, verdict, meta))
    wanted = [(r.place, r.ruleset, r.criterion) for r, _, _ in judged]
    fails = _group(agg.failures(period, cells=wanted), "place", "ruleset", "criterion")

    out: list[PerformanceException] = []
    notes: list[SmallSample] = []
    for rate, verdict, meta in judged:
        rows = fails.get((rate.place, rate.ruleset, rate.criterion), [])
        noun = CASE_NOUNS.get(rows[0]["case_type"], "cases") if rows else "cases"
        if verdict == "short":
            notes.append(rate.small_sample(meta["text"], noun, "small_sample"))
            continue
        template = "below_standard" if rate.direction == "higher" else "below_standard_max"
        out.append(
            rate.exception(
                ExceptionKind.BELOW_STANDARD,
                reason(template, **rate.facts(meta["text"], noun)),
                cases=_unique(r["case_ref"] for r in rows),
                criterion_text=meta["text"],
                details=_details(rows),
                frame_size=frames.get((rate.place, rate.ruleset)),
                **cat.tags(meta["measure"], meta),
            )
        )
    return out, notes


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
    rebase_at = [weeks.index(w) for w in spc.rebase.get(key, ()) if w in weeks]
    chart = xmr_chart(
        values,
        direction=direction,
        baseline=spc.baseline,
        rebase_at=rebase_at,
        screen_outliers=spc.screen_outliers,
    )
    current = [v for v, g in zip(values, chart.group, strict=True) if g == chart.group[-1] and v is not None]
    if len(current) < spc.min_points or chart.point_type[-1] != CONCERN:
        return None
    return chart, list(weeks)


def _spc_chart(chart: XmrChart, weeks: Sequence[str], ns: Sequence[int], target: float | None) -> SpcChart:
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
    rule = chart.concern_rules(len(chart.values) - 1)[0]
    words = _SIDE_WORDS["lower" if chart.direction in ("lower", "decrease") else "higher"]
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


def _lower_first(text: str) -> str:
    """'Investigation quality' -> 'investigation quality' (not 'DASH ...' or '999 ...')."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _special_causes(
    history: agg.Outcomes, days: daily.Days, cat: _Catalogue, latest_week: str, spc: SpcSettings
) -> list[PerformanceException]:
    """SPC signals in the latest week of each (place, measure) weekly series (from the day summaries
    ``days``); the failing cases named come from the ``history`` rows of that week."""
    weeks_seen = daily.weeks_present(days)
    if not weeks_seen or weeks_seen[0] > latest_week:
        return []
    weeks = agg.week_range(weeks_seen[0], latest_week)
    charts: dict[tuple[str, str], tuple[XmrChart, list[str], list[int], list[int]]] = {}
    for (place, measure), series in daily.measure_weekly_series(days, weeks).items():
        ns = [n for n, _ in series]
        values = [p / n if n else None for n, p in series]
        direction = str(cat.measures[measure]["direction"])
        made = _chart(weeks, values, ns, direction=direction, key=(place, measure), spc=spc)
        if made:
            charts[(place, measure)] = (made[0], made[1], ns, [p for _, p in series])
    fails = _group(
        agg.failures(history, measure_weeks=[(p, m, latest_week) for p, m in charts]), "place", "measure"
    )
    out: list[PerformanceException] = []
    for (place, measure), (chart, weeks_used, ns, passes) in charts.items():
        rows = fails.get((place, measure), [])
        target = cat.measure_standard(measure)
        n, k = ns[-1], passes[-1]
        low, high = wilson_interval(k, n)
        rulesets = {c["ruleset"] for c in cat.criteria.values() if c["measure"] == measure}
        out.append(
            PerformanceException(
                place=place,
                ruleset=rulesets.pop() if len(rulesets) == 1 else "",
                criterion="",
                kind=ExceptionKind.SPECIAL_CAUSE,
                reason=_spc_reason(
                    chart,
                    f"Compliance with {_lower_first(str(cat.measures[measure]['name']))}",
                    latest_week,
                    _pct,
                ),
                n=n,
                passed=k,
                rate=k / n,
                ci_low=low,
                ci_high=high,
                standard=target,
                cases=_unique(r["case_ref"] for r in rows),
                criterion_text=str(cat.measures[measure]["name"]),
                details=_details(rows),
                chart=_spc_chart(chart, weeks_used, ns, target),
                **cat.tags(measure),
            )
        )
    return out


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
    if metric == CALL999_ANSWERED:
        return f"999 calls were answered within {response.call999_seconds:g} seconds", "calls"
    return metric, "incidents"


def _thresholds(
    incidents: daily.Days,
    standards: Sequence[Mapping[str, Any]],
    cat: _Catalogue,
    place_settings: Mapping[str, str],
    response: ResponseSettings,
    min_cases: int,
    latest_week: str,
) -> tuple[list[PerformanceException], list[SmallSample]]:
    by_metric = {
        s["metric"]: s
        for s in standards
        if s.get("minimum") is not None and s["metric"] in PROPORTION_METRICS
    }
    out: list[PerformanceException] = []
    notes: list[SmallSample] = []
    if not by_metric or not incidents:
        return out, notes
    for row in agg.records(daily.incident_metrics(incidents, period=latest_week)):
        spec = by_metric.get(row["metric"])
        if spec is None or not row["n"]:
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
                    cases=(),
                    criterion_text=str(spec.get("text") or what),
                    **cat.tags(rate.measure, spec),
                )
            )
    return out, notes


def _metric_special_causes(
    incidents: daily.Days,
    standards: Sequence[Mapping[str, Any]],
    cat: _Catalogue,
    latest_week: str,
    spc: SpcSettings,
) -> list[PerformanceException]:
    specs = {s["metric"]: s for s in standards}
    seen = daily.weeks_present(incidents)
    if not seen or not specs or seen[0] > latest_week:
        return []
    weeks = agg.week_range(seen[0], latest_week)
    out: list[PerformanceException] = []
    for (place, metric), series in daily.incident_weekly_series(incidents, weeks).items():
        spec = specs.get(metric)
        if spec is None:
            continue
        ns = [n for n, _, _ in series]
        values = [v for _, _, v in series]
        seconds = metric == CALL101_SECONDS
        direction = "lower" if seconds else str(spec.get("direction") or "higher")
        made = _chart(weeks, values, ns, direction=direction, key=(place, metric), spc=spc)
        if not made:
            continue
        chart, weeks_used = made
        n, k, value = series[-1]
        target = None if spec.get("minimum") is None else float(spec["minimum"])
        low: float | None = None
        high: float | None = None
        if seconds:
            fmt, what, rate = _seconds, "The median 101 answer time", None
        else:
            low, high = wilson_interval(k, n)
            fmt, rate = _pct, value
            what = f"The share of {_lower_first(str(spec.get('text') or metric))}"
        out.append(
            PerformanceException(
                place=place,
                ruleset=str(spec["ruleset"]),
                criterion=str(spec["criterion"]),
                kind=ExceptionKind.SPECIAL_CAUSE,
                reason=_spc_reason(chart, what, latest_week, fmt, proportion=not seconds),
                n=n,
                passed=k,
                rate=rate,
                ci_low=low,
                ci_high=high,
                standard=target,
                cases=(),
                criterion_text=str(spec.get("text") or metric),
                chart=_spc_chart(chart, weeks_used, ns, target),
                **cat.tags(str(spec["measure"]), spec),
            )
        )
    return out


# --------------------------------------------------------------------------- exceptions.json


def write_exceptions_json(
    period_from: date | str,
    period_to: date | str,
    label: str,
    rulesets: Iterable[tuple[str, str, str]],
    exceptions: Iterable[PerformanceException],
    path: str | Path,
    run_id: str | None = None,
) -> None:
    """Write ``exceptions.json`` exactly as DOMAIN.md Part A describes, deterministically.

    ``rulesets`` are (id, version, sha256). Rulesets and exceptions are sorted, keys keep the
    contract's order, "run_id" is added at the top level only when given; UTF-8, indent 2,
    trailing newline, replaced atomically. ReportError when it cannot be written.
    """
    doc: dict[str, Any] = {
        "period": {"from": str(period_from), "to": str(period_to), "label": label},
        "rulesets": [{"id": i, "version": v, "sha256": h} for i, v, h in sorted(set(rulesets))],
        "exceptions": [e.to_json() for e in sort_exceptions(exceptions)],
    }
    if run_id is not None:
        doc["run_id"] = run_id
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        raise ReportError(f"cannot write {target}: {exc.strerror or exc}") from exc

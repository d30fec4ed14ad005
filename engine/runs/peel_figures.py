"""The PEEL report's figures: per pillar and measure, force and places, for the period and each
quarter, with the force's weekly SPC charts, the response standards' incident metrics, and the rows
of incident_metrics.csv (worked out as a weekly run's, by analysis.incidents)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.analysis import aggregate as agg
from engine.analysis import daily
from engine.analysis.day_sums import measure_series
from engine.analysis.incidents import IncidentMetrics
from engine.analysis.spc_findings import as_spc_chart
from engine.analysis.stats import xmr_chart
from engine.analysis.tables import records
from engine.core.models import ExceptionKind, PerformanceException, SpcChart
from engine.core.periods import Period
from engine.reports.peel_data import (
    Comparison,
    CriterionFigure,
    Figure,
    MeasureSection,
    MetricSection,
    PeelReport,
    PillarSection,
    PlaceFigures,
)
from engine.rules.catalogue import Measure
from engine.runs.analysis import PeriodAnalysis, Prepared, figure_metrics, figure_thresholds
from engine.runs.context import RunContext, criteria_rows, metric_rows
from engine.runs.peel_declared import declared_sections, span_tables


def _figure(row: Mapping[str, Any] | None, name: str, exceptions: int = 0) -> Figure:
    """A Figure from an aggregate row, or an incident metric row (daily.incident_metrics)."""
    if row is None or not row["n"]:
        return Figure(name, 0, 0, None, None, None, exceptions)
    if row.get("mean") is not None:  # a measured time: the mean and its interval, no passes, no rate
        return Figure(name, int(row["n"]), 0, None, row["ci_low"], row["ci_high"], exceptions, row["median"],
                      row["p90"], row["mean"])  # fmt: skip
    return Figure(
        name, int(row["n"]), int(row["passes"]), row["rate"], row["ci_low"], row["ci_high"], exceptions
    )


def _rows(table: Any, level: str, dimension: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(key, dimension key) -> aggregate row, for one level and dimension of a period's table."""
    chosen = table[(table["level"] == level).to_numpy() & (table["dimension"] == dimension).to_numpy()]
    return {(r["key"], r["dimension_key"]): r for r in records(chosen.drop(columns=["cases"]))}


def _counts(exceptions: Sequence[PerformanceException]) -> dict[str, int]:
    got = Counter(e.kind.value for e in exceptions)
    return {k.value: got.get(k.value, 0) for k in ExceptionKind}


def _force_chart(
    measure: Measure,
    series: Sequence[tuple[int, int, float | None]],
    weeks: Sequence[str],
    standard: float | None,
    *,
    direction: str,
    text: str,
) -> PerformanceException | None:
    """The XmR chart of the force's weekly values (n, passes, value: a rate or seconds) over the
    period's weeks, from its first week with any; None with fewer than two such weeks."""
    first = next((i for i, (n, _, _) in enumerate(series) if n), None)
    if first is None or sum(1 for n, _, _ in series if n) < 2:
        return None
    series, weeks = series[first:], weeks[first:]
    ns = [n for n, _, _ in series]
    chart: SpcChart = as_spc_chart(
        xmr_chart([v for *_, v in series], direction=direction), weeks, ns, standard
    )
    # charts.spc_chart draws an exception's chart; this carrier holds the force's series the same way
    return PerformanceException(
        place=agg.FORCE_KEY, priority=measure.priority, measure=measure.id, peel=measure.peel,
        iserve=measure.iserve, ruleset="", criterion="", kind=ExceptionKind.SPECIAL_CAUSE, reason="",
        n=sum(ns), passed=sum(p for _, p, _ in series), rate=None, ci_low=None, ci_high=None,
        standard=standard, cases=(), criterion_text=text, chart=chart,
    )  # fmt: skip


def build_report(
    context: RunContext,
    prepared: Prepared,
    whole: tuple[Period, PeriodAnalysis],
    parts: Sequence[tuple[Period, PeriodAnalysis]],
    *,
    as_of: dt.date | None,
    run_id: str,
    cases_reviewed: int,
    comparison: Comparison | None,
    incidents: _IncidentFigures | None = None,
) -> PeelReport:
    """The report's figures: per PEEL pillar, per measure, force and places, period and quarters.
    ``incidents``: the incident metrics when already worked out (incident_figures)."""
    period, analysis = whole
    crit_rows = criteria_rows(context)
    analyses = [analysis, *(a for _, a in parts)]  # the period's, then each quarter's
    tables = [a.table for a in analyses]
    force_measure = [_rows(t, "force", "measure") for t in tables]
    place_measure = [_rows(t, "place", "measure") for t in tables]
    force_criterion = _rows(analysis.table, "force", "criterion")
    labels = [period.label] + [p.label for p, _ in parts]
    exceptions = [a.findings.exceptions for a in analyses]
    weeks = period.weeks()
    weekly: dict[str, list[tuple[int, int]]] = {}
    for (_, m), series in measure_series(prepared.outcome_sums, period.start, period.end, weeks).items():
        total = weekly.setdefault(m, [(0, 0)] * len(weeks))
        weekly[m] = [(a + n, b + p) for (a, b), (n, p) in zip(total, series, strict=True)]
    places = {p.code: p.name for p in context.force.places}
    spans = [period, *(p for p, _ in parts)]
    declared_metrics = figure_metrics(context)
    specs = [t for t in metric_rows(context) if t["metric"] not in declared_metrics]
    incidents = incidents or incident_figures(prepared, period)
    in_order = _in_definition_order(context, declared_metrics)
    declared_thresholds = figure_thresholds(context)
    every_span = [(period, analysis), *parts]
    figure_tables = span_tables(every_span) if declared_metrics else []

    def section(m: Measure) -> MeasureSection:
        figures = tuple(
            _figure(rows.get(("FORCE", m.id)), name, sum(1 for e in found if e.measure == m.id))
            for rows, name, found in zip(force_measure, labels, exceptions, strict=True)
        )
        per_place = tuple(
            PlaceFigures(
                code,
                places.get(code, code),
                _figure(place_measure[0].get((code, m.id)), period.label),
                tuple(
                    _figure(rows.get((code, m.id)), name)
                    for rows, name in zip(place_measure[1:], labels[1:], strict=True)
                ),
            )
            for code in sorted({k for k, mid in place_measure[0] if mid == m.id})
            if place_measure[0][(code, m.id)]["n"]
        )
        own = [c for c in crit_rows if c["measure"] == m.id]
        minima = {c["minimum"] for c in own}
        standard = minima.pop() if len(minima) == 1 else None
        criteria = tuple(
            CriterionFigure(
                c["ruleset"],
                c["criterion"],
                c["text"],
                c["minimum"],
                _figure(force_criterion.get(("FORCE", c["criterion"])), period.label),
            )  # fmt: skip
            for c in sorted(own, key=lambda c: (c["ruleset"], c["criterion"]))
        )
        chart = None
        if m.id in weekly:
            series = [(n, p, p / n if n else None) for n, p in weekly[m.id]]
            chart = _force_chart(m, series, weeks, standard, direction=m.direction or "neutral", text=m.name)
        mine = tuple(e for e in analysis.findings.exceptions if e.measure == m.id)
        metrics = tuple(
            _metric_section(m, spec, incidents, spans, exceptions, weeks, places)
            for spec in specs
            if spec["measure"] == m.id
        )
        declared = declared_sections(
            m, prepared.figures, in_order, declared_thresholds, every_span, places, figure_tables
        )
        return MeasureSection(m, figures, per_place, criteria, chart, mine, metrics, declared)

    catalogue = context.catalogue
    pillars = tuple(
        PillarSection(
            pillar,
            description,
            tuple(section(m) for m in catalogue.measures.values() if m.peel == pillar),
            catalogue.pillar_name(pillar),
        )
        for pillar, description in catalogue.peel_pillars.items()
    )
    return PeelReport(
        force_name=context.force.name,
        period=period,
        quarters=tuple(p for p, _ in parts),
        as_of=as_of.isoformat() if as_of else "latest published",
        rulesets=context.refs(),
        run_id=run_id,
        cases_reviewed=cases_reviewed,
        exception_counts=tuple((lab, _counts(found)) for lab, found in zip(labels, exceptions, strict=True)),
        pillars=pillars,
        comparison=comparison,
        draft=context.draft,
        not_defined=catalogue.undefined,
        team_exception_counts=tuple(
            (lab, len(a.findings.team_exceptions)) for lab, a in zip(labels, analyses, strict=True)
        ),
    )


def _in_definition_order(context: RunContext, metrics: Mapping[str, Any]) -> list[Any]:
    """The declared metrics whose figures are loaded, by extract id and in each file's order."""
    if context.extracts is None:
        return []
    return [
        metrics[mid]
        for ext in sorted(context.extracts.extracts.values(), key=lambda e: e.id)
        for mid in ext.metrics
        if mid in metrics
    ]


@dataclass(frozen=True)
class _IncidentFigures:
    """A period's incident metrics, worked out once for every threshold that shows them and for
    incident_metrics.csv: the period's and each quarter's (analysis.incidents.IncidentMetrics), and
    the force's weekly series."""

    metrics: IncidentMetrics
    weekly: dict[tuple[str, str], list[tuple[int, int, float | None]]]

    @classmethod
    def of(cls, days: daily.Days, spans: Sequence[Period], weeks: Sequence[str]) -> _IncidentFigures:
        """From the day summaries of the whole period (``spans[0]``) and its quarters."""
        return cls(
            IncidentMetrics.of(days, spans),
            daily.incident_weekly_series(
                daily.between(days, spans[0].start, spans[0].end), weeks, pool=agg.FORCE_KEY
            ),
        )


def incident_figures(prepared: Prepared, period: Period) -> _IncidentFigures:
    """The incident metrics the PEEL report shows of ``period`` and its quarters."""
    return _IncidentFigures.of(prepared.incident_days or {}, [period, *period.quarters()], period.weeks())


def _metric_section(
    m: Measure,
    spec: Mapping[str, Any],
    figures: _IncidentFigures,
    spans: Sequence[Period],
    exceptions: Sequence[Sequence[PerformanceException]],
    weeks: Sequence[str],
    places: Mapping[str, str],
) -> MetricSection:
    """One threshold of an extract ruleset (a context.metric_rows row) as the PEEL report shows it;
    ``exceptions``: each span's."""
    metric, minimum, text = str(spec["metric"]), spec.get("minimum"), str(spec["text"])
    threshold = (spec["ruleset"], spec["criterion"])
    force = tuple(
        _figure(rows.get((agg.FORCE_KEY, metric)), p.label, sum(1 for e in raised if (e.ruleset, e.criterion) == threshold))
        for rows, p, raised in zip(figures.metrics.force, spans, exceptions, strict=True)
    )  # fmt: skip
    per_place = tuple(
        PlaceFigures(
            code,
            places.get(code, code),
            _figure(figures.metrics.places[0][(code, metric)], spans[0].label),
            tuple(
                _figure(r.get((code, metric)), p.label)
                for r, p in zip(figures.metrics.places[1:], spans[1:], strict=True)
            ),
        )  # fmt: skip
        for code, of in sorted(figures.metrics.places[0])
        if of == metric
    )
    series = figures.weekly.get((agg.FORCE_KEY, metric))
    direction = str(spec.get("direction") or "higher")
    chart = (
        None if series is None else _force_chart(m, series, weeks, minimum, direction=direction, text=text)
    )
    return MetricSection(
        str(spec["ruleset"]), str(spec["criterion"]), text, minimum, metric, force, per_place, chart
    )  # fmt: skip

"""The PEEL report's declared metrics: for each catalogue item, every metric the extract definitions
declare for it (whose figures are loaded), with the force's and the places' figures for the period
and each quarter (as the period's analysis pooled them: engine.analysis.figures), the force's series
chart over the period, the thresholds on it, and an event metric's events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.analysis.aggregate import FORCE_KEY
from engine.analysis.figure_findings import FigureData, chart_of, metric_series
from engine.analysis.figure_periods import series_labels
from engine.analysis.figure_rows import unit_of
from engine.analysis.figures import records_of
from engine.analysis.spc_findings import as_spc_chart
from engine.core.figure_facts import FigureEvent, FigureException, FigureFacts, figure_of
from engine.core.models import ExceptionKind, PerformanceException
from engine.core.periods import Period
from engine.core.text import percent
from engine.inputs.extract_definitions import MetricDefinition
from engine.reports.peel_data import DeclaredMetricSection, MetricFigure, PlaceMetricFigures
from engine.rules.catalogue import Measure
from engine.runs.analysis import PeriodAnalysis

_Rows = dict[tuple[str, str, str], dict[str, Any]]


def _by_key(table: Any) -> _Rows:
    """(metric, level, place) -> the span figure row of the force or a place (teams left out)."""
    if table is None or not len(table):
        return {}
    return {(r["metric"], r["level"], r["place"]): r for r in records_of(table) if r["level"] != "team"}


def span_tables(spans: Sequence[tuple[Period, PeriodAnalysis]]) -> list[_Rows]:
    """Each span's figures by (metric, level, place): what declared_sections reads, worked out once."""
    return [_by_key(a.figures) for _, a in spans]


def _figure(row: Mapping[str, Any] | None, label: str, exceptions: int = 0) -> MetricFigure:
    if row is None:
        return MetricFigure(label, exceptions=exceptions)
    return MetricFigure(
        label, str(row["label"] or ""), float(row["n"] or 0), row["value"], row["ci_low"], row["ci_high"],
        row["median"], exceptions,
    )  # fmt: skip


def standard_text(metric: MetricDefinition, t: Mapping[str, Any]) -> str:
    """'workforce HR02: minimum 95%'; 'response-times RT05: maximum 15 minutes (on the median)';
    'high-impact-crime HI01: every event is reported'."""
    head = f"{t['ruleset']} {t['criterion']}"
    bound = "maximum" if t.get("maximum") is not None else "minimum" if t.get("minimum") is not None else ""
    if metric.kind == "event":
        return f"{head}: every event is reported"
    if not bound:
        return f"{head}: watched for special-cause variation only"
    value = float(t[bound])
    text = percent(value) if metric.kind in ("proportion", "survey") else f"{value:g} {unit_of(metric)}"
    median = " (on the median)" if metric.kind == "time" and t.get("statistic") == "median" else ""
    return f"{head}: {bound} {text}{median}"


def _force_chart(
    data: FigureData, metric: MetricDefinition, m: Measure, grain: str, period: Period
) -> PerformanceException | None:
    """The force's series of ``grain`` over the period as the briefings draw a chart (None with fewer
    than two points)."""
    series = metric_series(data, metric.id, "force", FORCE_KEY, grain, period.end)
    series = [p for p in series if p is None or p["start"] >= period.start]
    while series and series[0] is None:
        series = series[1:]
    if sum(p is not None for p in series) < 2 or series[0] is None or series[-1] is None:
        return None
    labels = [lab for lab, _ in series_labels(grain, series[0]["start"], series[-1]["start"])]
    chart = chart_of(series, metric, direction=metric.direction or "neutral")
    ns = [0 if p is None else int(round(p["n"])) for p in series]
    # a figure exception's carrier: the chart then shows the metric's values in its own terms
    kind = FigureFacts(metric.id, metric.kind, metric.text, metric.unit, period.label, "", "", 0.0)
    return FigureException(
        figure=kind,
        place=FORCE_KEY, priority=m.priority, measure=m.id, peel=m.peel, iserve=m.iserve, ruleset="",
        criterion="", kind=ExceptionKind.SPECIAL_CAUSE, reason="", n=sum(ns), passed=0, rate=None,
        ci_low=None, ci_high=None, standard=None, cases=(), criterion_text=metric.text,
        chart=as_spc_chart(chart, labels, ns, None),
    )  # fmt: skip


def declared_sections(
    m: Measure,
    data: FigureData | None,
    metrics: Sequence[MetricDefinition],
    thresholds: Sequence[Mapping[str, Any]],
    spans: Sequence[tuple[Period, PeriodAnalysis]],
    places: Mapping[str, str],
    tables: Sequence[_Rows] | None = None,
) -> tuple[DeclaredMetricSection, ...]:
    """The measure's declared metrics (``metrics``, in their definitions' order) as the PEEL report
    shows them; ``spans``: the whole period's analysis, then each quarter's (``tables``: their
    span_tables, when already worked out)."""
    mine = [d for d in metrics if d.item == m.id]
    if data is None or not mine:
        return ()
    period = spans[0][0]
    tables = span_tables(spans) if tables is None else tables
    out = []
    for metric in mine:
        raised = [
            sum(1 for e in a.findings.exceptions if getattr(figure_of(e), "metric", None) == metric.id)
            for _, a in spans
        ]
        force = tuple(
            _figure(t.get((metric.id, "force", FORCE_KEY)), p.label, x)
            for t, (p, _), x in zip(tables, spans, raised, strict=True)
        )
        codes = sorted({place for (mid, level, place) in tables[0] if mid == metric.id and level == "place"})
        per_place = tuple(
            PlaceMetricFigures(
                code,
                places.get(code, code),
                _figure(tables[0].get((metric.id, "place", code)), period.label),
                tuple(
                    _figure(t.get((metric.id, "place", code)), p.label)
                    for t, (p, _) in zip(tables[1:], spans[1:], strict=True)
                ),
            )  # fmt: skip
            for code in codes
        )
        whole = tables[0].get((metric.id, "force", FORCE_KEY))
        chart = None
        if whole is not None and whole["grain"]:
            chart = _force_chart(data, metric, m, str(whole["grain"]), period)
        events = tuple(
            FigureEvent(str(e["event_ref"]), e["event_on"].isoformat(), str(e["place"]), str(e["team"]), str(e["detail"]))
            for e in data.events(period.start, period.end)
            if e["metric"] == metric.id
        )  # fmt: skip
        out.append(
            DeclaredMetricSection(
                metric=metric.id,
                extract=metric.extract,
                text=metric.text,
                kind=metric.kind,
                unit=unit_of(metric),
                standards=tuple(standard_text(metric, t) for t in thresholds if t["metric"] == metric.id),
                figures=force,
                places=per_place,
                chart=chart,
                events=events,
            )
        )
    return tuple(out)

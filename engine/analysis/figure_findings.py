"""Exceptions on declared metrics' figures (docs/outputs.md "Figures from extracts"), for the metrics a
ruleset's threshold names:

- threshold: the place's figure for the period (figures.span_figures: the week, the latest closed
  month..., or the span pooled) has its whole 95% interval beyond the threshold's minimum or maximum
  (on the mean of a time, or its median with ``statistic: median``);
- special_cause: the place's series of the metric's grain, charted by kind (p-chart for a proportion
  or survey share, XmR on a time's mean, u-chart for a rate), signals in the concerning direction at
  its latest point, which is the period's figure (one per place and metric, whichever thresholds
  name it);
- critical: each event of an event metric in the period, one exception line each.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from engine.analysis.evidence import Catalogue, guidance_of
from engine.analysis.figure_force import judged, with_coverage
from engine.analysis.figure_periods import series_labels
from engine.analysis.figure_reasons import event_reason, spc_reason, threshold_reason
from engine.analysis.figure_stats import attribute_chart, beyond
from engine.analysis.figures import (
    Metrics,
    SpanRows,
    event_rows,
    figure_frame,
    levels,
    points,
    records_of,
    span_figures,
)
from engine.analysis.spc_findings import SpcSettings, as_spc_chart
from engine.analysis.stats import CONCERN, XmrChart, xmr_chart
from engine.core.figure_facts import FigureEvent, FigureException, FigureFacts
from engine.core.models import ExceptionKind, PerformanceException


@dataclass(frozen=True)
class FigureData:
    """A run's stored figures framed once: at every level (figures.levels), their points (for the
    series), the declared metrics, and the thresholds on them (rows with ruleset, criterion,
    metric, text, measure, priority, peel, iserve, minimum, maximum, direction, statistic, guidance)."""

    levelled: pd.DataFrame
    points: pd.DataFrame
    metrics: Metrics
    thresholds: tuple[Mapping[str, Any], ...]
    #: the points by (metric, level, place, grain), each series in time order (what SPC reads)
    series: Mapping[tuple[str, str, str, str], list[dict[str, Any]]]
    #: span figures already worked out, by (start, end): a period's are read by its findings and
    #: its report alike
    spans: dict[tuple[dt.date, dt.date], pd.DataFrame] = field(default_factory=dict, compare=False)
    event_spans: dict[tuple[dt.date, dt.date], list[dict[str, Any]]] = field(
        default_factory=dict, compare=False
    )
    #: {"rows": figures.SpanRows of levelled}, made with the data (:meth:`of`) or for the first span
    span_rows: dict[str, SpanRows] = field(default_factory=dict, compare=False)
    #: the special cause (or None) at each series' point ending on a day, by the series, that day and
    #: the threshold: periods ending on the same day (a PEEL year and its last quarter) chart it once
    causes: dict[tuple[Any, ...], PerformanceException | None] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, rows: Any, metrics: Metrics, thresholds: Sequence[Mapping[str, Any]] = ()) -> FigureData:
        levelled = levels(figure_frame(rows, metrics))
        named = tuple(t for t in thresholds if str(t.get("metric")) in metrics)
        table = points(levelled, metrics)
        series: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
        for r in records_of(table[table["level"].to_numpy() != "team"]):
            series.setdefault((r["metric"], r["level"], r["place"], r["grain"]), []).append(r)
        for found in series.values():
            found.sort(key=lambda r: r["start"])
        # the span rows are arranged now, not for the first span: a PEEL run's quarters' worker,
        # forked after this, would otherwise arrange its own copy
        return cls(levelled, table, metrics, named, series, span_rows={"rows": SpanRows.of(levelled)})

    def events(self, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
        """The events of the span (figures.event_rows), worked out once."""
        key = (start, end)
        if key not in self.event_spans:
            self.event_spans[key] = event_rows(self.levelled, start, end)
        return self.event_spans[key]

    def span(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """The figures of the span at every level (figures.span_figures, from rows arranged once
        for every span: figures.SpanRows)."""
        if (start, end) not in self.spans:
            if "rows" not in self.span_rows:
                self.span_rows["rows"] = SpanRows.of(self.levelled)
            rows = self.span_rows["rows"]
            self.spans[(start, end)] = span_figures(
                self.levelled, self.metrics, start, end, self.points, rows
            )
        return self.spans[(start, end)]


def _bound(t: Mapping[str, Any]) -> tuple[float | None, str]:
    if t.get("maximum") is not None:
        return float(t["maximum"]), "maximum"
    if t.get("minimum") is not None:
        return float(t["minimum"]), "minimum"
    return None, ""


def facts_of(row: Mapping[str, Any], metric: Any, t: Mapping[str, Any] | None) -> FigureFacts:
    """A span figure's row (figures.POINT_COLUMNS) as the facts an exception carries."""
    standard, bound = _bound(t or {})
    statistic = str((t or {}).get("statistic") or "mean") if metric.kind == "time" else "mean"
    value, low, high = row["value"], row["ci_low"], row["ci_high"]
    if statistic == "median":
        value, low, high = row["median"], row["median_low"], row["median_high"]

    def num(x: Any) -> float | None:
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

    return FigureFacts(
        metric=metric.id,
        kind=metric.kind,
        text=str(metric.text),
        unit=str(metric.unit or ""),
        period=str(row["label"]),
        start=row["start"].isoformat(),
        end=row["end"].isoformat(),
        n=float(row["n"] or 0),
        k=num(row["k"]),
        value=num(value),
        low=num(low),
        high=num(high),
        median=num(row["median"]),
        mean=num(row["value"]) if metric.kind == "time" else None,
        statistic=statistic,
        per=metric.per,
        exposure=str(metric.exposure or ""),
        exposure_total=num(row["exposure"]),
        design_effect=float(metric.design_effect or 1.0),
        standard=standard,
        bound=bound,
    )


def _exception(
    place: str,
    t: Mapping[str, Any],
    cat: Catalogue,
    kind: ExceptionKind,
    why: str,
    f: FigureFacts,
    **more: Any,
) -> PerformanceException:
    """An exception on a figure: n what was counted, passed the numerator where there is one, rate
    the figure judged, its interval, the threshold's standard."""
    passed = int(round(f.k)) if f.k is not None and f.kind in ("proportion", "survey") else 0
    fields: dict[str, Any] = {
        "place": place,
        "ruleset": str(t["ruleset"]),
        "criterion": str(t["criterion"]),
        "kind": kind,
        "reason": why,
        "n": int(round(f.n)),
        "passed": passed,
        "rate": f.value,
        "ci_low": f.low,
        "ci_high": f.high,
        "standard": f.standard,
        "cases": (),
        "criterion_text": str(t.get("text") or f.text),
        "guidance": guidance_of(t),
        "figure": f,
        **cat.tags(str(t["measure"]), t),
    }
    fields.update(more)
    return FigureException(**fields)


def figure_findings(
    data: FigureData, cat: Catalogue, start: dt.date, end: dt.date, spc: SpcSettings | None = None
) -> list[PerformanceException]:
    """The threshold, special-cause and event exceptions of the period ``start``..``end`` at each
    place and the FORCE (figure_force), for every threshold on a declared metric."""
    spc = spc or SpcSettings()
    if not data.thresholds:
        return []
    span = data.span(start, end)
    own = judged(span)  # each place's figure, and the force's (figure_force)
    out: list[PerformanceException] = []
    charted: set[tuple[str, str]] = set()
    by_metric: dict[str, list[dict[str, Any]]] = {}  # the span's rows by metric, in the span's order
    for row in records_of(own):
        by_metric.setdefault(row["metric"], []).append(row)
    ordered = sorted(data.thresholds, key=lambda t: (str(t["ruleset"]), str(t["criterion"])))
    settings = repr(spc)  # part of each chart's key in data.causes (its rebase mapping is unhashable)
    for t in ordered:
        metric = data.metrics[str(t["metric"])]
        if metric.kind == "event":
            out += _events(data, t, cat, start, end)
            continue
        standard, bound = _bound(t)
        for row in by_metric.get(metric.id, ()):
            f = facts_of(row, metric, t)
            if standard is not None and f.low is not None and f.high is not None:
                if beyond(f.low, f.high, standard, bound):
                    out.append(
                        _exception(row["place"], t, cat, ExceptionKind.THRESHOLD, threshold_reason(f), f)
                    )
            if (row["place"], metric.id) not in charted and row["grain"]:
                charted.add((row["place"], metric.id))
                key = (
                    metric.id,
                    row["level"],
                    row["place"],
                    row["grain"],
                    row["end"],
                    id(t),
                    f.statistic,
                    settings,
                )
                if key not in data.causes:
                    data.causes[key] = _special_cause(data, row, metric, t, cat, f, spc)
                found = data.causes[key]
                if found is not None:
                    out.append(found)
    return with_coverage(out, data.levelled)


def _events(
    data: FigureData, t: Mapping[str, Any], cat: Catalogue, start: dt.date, end: dt.date
) -> list[PerformanceException]:
    """Each event of the threshold's metric in the period: a critical exception line of its own."""
    metric = data.metrics[str(t["metric"])]
    out = []
    for e in data.events(start, end):
        if e["metric"] != metric.id:
            continue
        on: dt.date = e["event_on"]
        event = FigureEvent(
            str(e["event_ref"]), on.isoformat(), str(e["place"]), str(e["team"]), str(e["detail"])
        )
        f = FigureFacts(
            metric=metric.id, kind="event", text=str(metric.text), unit=str(metric.unit or ""),
            period=f"{on.day} {on:%B %Y}", start=on.isoformat(), end=on.isoformat(), n=1.0, events=(event,),
        )  # fmt: skip
        why = event_reason(str(metric.text), event.detail, on, event.ref, event.team)
        out.append(
            _exception(
                event.place, t, cat, ExceptionKind.CRITICAL, why, f, n=1, rate=None, cases=(event.ref,)
            )
        )
    return out


def metric_series(
    data: FigureData, metric: str, level: str, place: str, grain: str, last: dt.date
) -> list[dict[str, Any] | None]:
    """The points of one metric at one place (or FORCE), of ``grain``, from its first point to the one
    ending ``last`` (None for a period with none): what its SPC chart is drawn from."""
    mine = [r for r in data.series.get((metric, level, place, grain), ()) if r["end"] <= last]
    if not mine:
        return []
    by_period = {r["period"]: r for r in mine}
    return [by_period.get(label) for label, _ in series_labels(grain, mine[0]["start"], mine[-1]["start"])]


def chart_of(
    series: Sequence[dict[str, Any] | None], metric: Any, *, direction: str, rebase_at: Sequence[int] = ()
) -> XmrChart:
    """The series charted by kind: p-chart (proportion; survey on n / deff), u-chart (count: per
    ``per`` of exposure, or a c-chart of the counts without one), XmR on a time's mean."""
    if metric.kind == "time":
        return xmr_chart(
            [None if p is None else p["value"] for p in series], direction=direction, rebase_at=rebase_at
        )
    if metric.kind in ("proportion", "survey"):
        deff = float(metric.design_effect or 1.0) if metric.kind == "survey" else 1.0
        ks = [None if p is None else p["k"] / deff for p in series]
        ns = [None if p is None else p["n"] / deff for p in series]
        return attribute_chart(ks, ns, kind="p", direction=direction)
    exposed = bool(metric.exposure) and metric.exposure != "none"
    ks = [None if p is None else p["k"] for p in series]
    sizes = [None if p is None else (p["exposure"] if exposed else 1.0) for p in series]
    scale = float(metric.per or 1.0) if exposed else 1.0
    return attribute_chart(ks, sizes, kind="u", direction=direction, scale=scale)


def _run_length(chart: XmrChart, rule: str) -> int:
    run = 0
    for i in range(len(chart.values) - 1, -1, -1):
        if chart.values[i] is None:
            continue
        if not any(r == rule for r, _ in chart.signals[i]):
            break
        run += 1
    return run


def _special_cause(
    data: FigureData,
    row: Mapping[str, Any],
    metric: Any,
    t: Mapping[str, Any],
    cat: Catalogue,
    f: FigureFacts,
    spc: SpcSettings,
) -> PerformanceException | None:
    """A special cause at the place's latest point of the metric's series, if it signals a concern."""
    direction = str(metric.direction or t.get("direction") or "higher")
    series = metric_series(data, metric.id, str(row["level"]), row["place"], row["grain"], row["end"])
    first, last = (series[0], series[-1]) if series else (None, None)
    if first is None or last is None or last["end"] != row["end"]:
        return None
    if sum(p is not None for p in series) < spc.min_points:  # too few points for limits to judge by
        return None
    keys = [lab for lab, _ in series_labels(row["grain"], first["start"], last["start"])]
    rebase = [keys.index(w) for w in spc.rebase.get((row["place"], metric.id), ()) if w in keys]
    chart = chart_of(series, metric, direction=direction, rebase_at=rebase)
    present = [
        v for v, g in zip(chart.values, chart.group, strict=True) if v is not None and g == chart.group[-1]
    ]
    if len(present) < spc.min_points or chart.point_type[-1] != CONCERN:
        return None
    rule = chart.concern_rules(len(chart.values) - 1)[0]
    # the figure charted: the latest point's (a time's mean), whatever the span pooled
    median = metric.kind == "time" and f.statistic == "median"
    point = facts_of(
        last, metric, {**t, "statistic": "mean", "minimum": None, "maximum": None} if median else t
    )
    why = spc_reason(
        point, rule, grain=str(row["grain"]), direction=direction, run=_run_length(chart, rule),
        value=float(chart.values[-1] or 0.0), mean=chart.mean[-1], usual_low=chart.lower[-1],
        usual_high=chart.upper[-1],
    )  # fmt: skip
    ns = [0 if p is None else int(round(p["n"])) for p in series]
    drawn = as_spc_chart(chart, keys, ns, point.standard)
    return _exception(str(row["place"]), t, cat, ExceptionKind.SPECIAL_CAUSE, why, point, chart=drawn)

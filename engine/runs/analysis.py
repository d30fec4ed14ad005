"""A run's analysis: the gathered rows framed once, then each period (a week, a PEEL period or
quarter) aggregated and its exceptions found, with its sample frames where they are known, and the
declared metrics' figures of the period (engine.analysis.figures) with their exceptions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.analysis import aggregate as agg
from engine.analysis import daily
from engine.analysis.cases import RowCodes, row_codes
from engine.analysis.day_sums import DaySums
from engine.analysis.figure_findings import FigureData
from engine.analysis.figures import live_event_metrics
from engine.analysis.findings import PeriodFindings, assess_period
from engine.analysis.outcomes import Outcomes, failing, outcomes_frame, period_rows
from engine.analysis.recognition import Recognition, week_improvements
from engine.core.periods import Period
from engine.inputs.extract_definitions import MetricDefinition
from engine.inputs.extracts import ResponseSettings
from engine.runs.context import RunContext, criteria_rows, metric_rows, response_settings
from engine.runs.gather import FiguresRead, Gathered, read_figures
from engine.store.db import Database


@dataclass(frozen=True)
class PeriodAnalysis:
    findings: PeriodFindings
    table: Any  # the tidy aggregates table (a DataFrame; only engine.analysis touches it)
    #: the declared metrics' figures of the period at every level (figures.span_figures; a DataFrame)
    figures: Any = None
    #: the event metrics whose extract is live at the period's end (measured though nothing happened)
    live_events: tuple[str, ...] = ()
    #: a week's improvements beyond normal variation, for force.pdf, worked out when called (None:
    #: the period is not a week; engine.analysis.recognition)
    recognise: Callable[[], tuple[Recognition, ...]] | None = None


@dataclass(frozen=True)
class Prepared:
    """Gathered rows framed once for analysis, so several periods (a PEEL run's quarters) share them,
    with the day summaries of the whole span (as arrays: made once, only read by each period)."""

    outcomes: Outcomes
    #: the outcome day summaries of the history and the rows, with the teams' counts
    #: (team_findings.with_team_days)
    outcome_sums: DaySums
    #: the failing rows (outcomes.failing), which the exception finders select each period's from:
    #: made once, before a PEEL run forks its quarters' worker, so both processes share them
    failing: Outcomes
    incident_days: dict[dt.date, daily.DayCounts] | None
    response: ResponseSettings | None
    #: the stored figures of the declared metrics, framed (None when no metric is declared)
    figures: FigureData | None = None
    #: what aggregation needs of each outcome row (cases.row_codes), made once for every period
    row_codes: RowCodes | None = None
    #: what the periods' findings share (findings.assess_period's ``shared``)
    shared: dict[Any, Any] = field(default_factory=dict, compare=False)


def prepare(
    context: RunContext,
    gathered: Gathered,
    *,
    release: bool = False,
    figures_apart: Callable[[], FiguresRead] | None = None,
) -> Prepared:
    """Frame the gathered outcome rows (the slow part of :func:`analyse`) and add their day summaries
    to the history's. With ``release``, the gathered rows are emptied once framed (a year's rows are
    large; the hashes and reviewed counts are kept). ``figures_apart``: the figures read and framed
    by another process (frame_figures in a worker), asked for once the outcomes are framed and kept
    in ``gathered``."""
    outcomes = outcomes_frame(
        gathered.outcome_columns, criteria_rows(context), context.catalogue.measures.values()
    )
    if release:
        gathered.outcome_columns = {}
    # each place's counts carry its teams' (the teams' weekly series: team_findings); made from the
    # frame's columns, not as day summaries' dicts (a year's are about a million small objects)
    outcome_sums = DaySums.of_days(gathered.outcome_history.days).then(DaySums.of_outcomes(outcomes))
    failing_rows, codes = failing(outcomes), row_codes(outcomes)
    if figures_apart is not None:
        gathered.figures_read = figures_apart()
    incidents = gathered.incident_days.days if gathered.incident_days else None
    read = gathered.figures_read
    figures = read.framed if read is not None else framed_figures(context, gathered.figures)
    return Prepared(
        outcomes,
        outcome_sums,
        failing_rows,
        incidents or None,
        response_settings(context) if incidents else None,
        figures,
        codes,
    )


def framed_figures(context: RunContext, rows: Sequence[Any]) -> FigureData | None:
    """The figures framed for analysis (None when no metric is declared)."""
    metrics = figure_metrics(context)
    return FigureData.of(rows, metrics, figure_thresholds(context)) if metrics else None


def frame_figures(database: Database, context: RunContext, first: dt.date, last: dt.date) -> FiguresRead:
    """The figures a run over ``first`` to ``last`` reads (gather.read_figures), counted, hashed and
    framed: what a PEEL run's worker does while this process reads the outcomes."""
    rows = read_figures(database, context, first, last)
    return FiguresRead.of(rows, framed_figures(context, rows))


def figure_metrics(context: RunContext) -> dict[str, MetricDefinition]:
    """The metrics declared by extract definitions whose figures are loaded (source: figures), by id."""
    if context.extracts is None:
        return {}
    return {m.id: m for m in context.extracts.metrics.values() if m.source == "figures"}


def figure_thresholds(context: RunContext) -> list[dict[str, Any]]:
    """The thresholds (context.metric_rows) on metrics whose figures are loaded."""
    metrics = figure_metrics(context)
    return [t for t in metric_rows(context) if t["metric"] in metrics]


def incident_thresholds(context: RunContext) -> list[dict[str, Any]]:
    """The thresholds on the metrics QAM works out from the incidents extract (the response standards)."""
    metrics = figure_metrics(context)
    return [t for t in metric_rows(context) if t["metric"] not in metrics]


def analyse(context: RunContext, gathered: Gathered, period: Period, *, prepared: Prepared) -> PeriodAnalysis:
    """Aggregate the period and find its exceptions (weekly series reach back over the history), from
    the gathered rows framed once by :func:`prepare` (a PEEL rerun analyses several periods of one)."""
    frames = ruleset_frames(context, period_frames(gathered, period))
    # the period's rows by position: a copy of them (in_period) is memory a PEEL run's forked
    # worker would not share
    table = agg.aggregate(
        prepared.outcomes,
        period.label,
        with_cases=True,
        frames=frames,
        rows=period_rows(prepared.outcomes, period.start, period.end),
        row_codes=prepared.row_codes,
    )
    place_settings = {p.code: p.setting for p in context.force.places}
    findings = assess_period(
        prepared.failing,
        period.start,
        period.end,
        outcome_days=prepared.outcome_sums,
        incident_days=prepared.incident_days,
        metric_standards=incident_thresholds(context),
        figures=prepared.figures,
        place_settings=place_settings,
        response=prepared.response,
        aggregates=table,
        frames=frames,
        shared=prepared.shared,
    )
    recognise = week_improvements(
        prepared.outcomes, period.start, period.end, aggregates=table, outcome_days=prepared.outcome_sums
    )
    if prepared.figures is None:
        return PeriodAnalysis(findings, table, recognise=recognise)
    data = prepared.figures
    live = live_event_metrics(data.levelled, data.metrics, period.end)
    return PeriodAnalysis(findings, table, data.span(period.start, period.end), live, recognise)


def period_frames(gathered: Gathered, period: Period) -> dict[tuple[str, str], int]:
    """{(place, case type): N} when the gathered frames are for this period, else {} (a PEEL
    quarter: its frames were not read, so its intervals stay uncorrected)."""
    return gathered.frames if gathered.frames_period == (period.start, period.end) else {}


def ruleset_frames(context: RunContext, frames: Mapping[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    """{(place, case type): N} -> {(place, ruleset id): N}, as aggregation and exceptions key them."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for r in context.assessment_rulesets:
        by_type[r.case_type or ""].append(r.id)
    return {(place, rid): n for (place, case_type), n in frames.items() for rid in by_type.get(case_type, ())}

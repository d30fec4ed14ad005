"""The weekly run: score what is new, gather the week and the history its SPC charts reach back over
(and the declared metrics' stored figures), find the week's exceptions, write exceptions.json,
aggregates.csv (with the figures' rows), incident_metrics.csv, coverage.csv, the briefings and each
briefed place's cases CSV all at once, and record the run. Nothing here reads the clock into an output file: when a run happened is recorded
in the database only."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from engine.analysis.coverage import COVERAGE_COLUMNS, Coverage, measure_coverage
from engine.analysis.exceptions_file import write_exceptions_json
from engine.analysis.figure_rows import figure_rows, write_aggregates
from engine.analysis.incidents import IncidentMetrics, incident_metric_rows
from engine.analysis.tables import write_incident_metrics, write_rows_csv
from engine.core.memory import paused_gc
from engine.core.models import ExceptionKind, PerformanceException
from engine.core.periods import Period
from engine.reports.briefing_data import DEFAULT_MEASURE_UNITS, BriefingRun, build_place_briefings
from engine.reports.cases_csv import CASES_CSV_COLUMNS, case_rows, cases_csv_name
from engine.reports.force_data import build_force_summary
from engine.reports.render_pool import render_briefings
from engine.runs.analysis import (
    PeriodAnalysis,
    analyse,
    figure_metrics,
    incident_thresholds,
    period_frames,
    prepare,
)
from engine.runs.context import RunContext, criteria_rows
from engine.runs.gather import (
    DEFAULT_HISTORY_WEEKS,
    Gathered,
    gather,
    outcome_basis,
    outcome_summaries,
    read_incidents,
)
from engine.runs.manifest import (
    Manifest,
    Replaced,
    folder_before,
    manifest_for,
    record_manifest,
    write_outputs,
)
from engine.runs.scoring import ScoreSummary, score_pending
from engine.store.db import Database


@dataclass(frozen=True)
class RunResult:
    """What a weekly or PEEL run did and wrote (``replaced``: what its folder held before, if anything)."""

    run_id: str
    folder: Path
    period: Period
    scored: ScoreSummary
    exceptions: tuple[PerformanceException, ...]
    files: Mapping[str, str]
    places_briefed: tuple[str, ...]
    cases_reviewed: int
    draft: bool
    replaced: Replaced | None = None
    #: the team exceptions (exceptions.json's "team_exceptions"), apart from ``exceptions``
    team_exceptions: tuple[PerformanceException, ...] = ()

    def counts_by_kind(self) -> dict[str, int]:
        counts = Counter(e.kind.value for e in self.exceptions)
        return {k.value: counts.get(k.value, 0) for k in ExceptionKind}


def run_week(
    database: Database,
    context: RunContext,
    week: Period,
    out: Path,
    *,
    now: Callable[[], dt.datetime],
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """`qam weekly --week W [--draft]`: the week's run, its files written to ``out``/W/."""
    return run_period(
        database,
        context,
        week,
        out,
        kind="weekly",
        command=f"qam weekly --week {week.label}" + (" --draft" if context.draft else ""),
        arguments={"week": week.label, "draft": context.draft},
        folder_name=week.label,
        now=now,
        workers=workers,
        progress=progress,
    )


@paused_gc()
def run_period(
    database: Database,
    context: RunContext,
    period: Period,
    out: Path,
    *,
    kind: str,
    command: str,
    arguments: Mapping[str, Any],
    folder_name: str,
    now: Callable[[], dt.datetime],
    history_weeks: int = DEFAULT_HISTORY_WEEKS,
    workers: int | None = None,
    extra: Callable[[Path], None] | None = None,
    cutoff: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Score, gather, analyse, write, record: one weekly or PEEL run (``cutoff``: see gather), with
    the garbage collector paused. ``progress`` is told each stage as it starts (the CLI shows it on
    a terminal)."""
    say = progress or (lambda _stage: None)
    started = now()
    say("scoring new assessments")
    stored = score_pending(
        database, context, until=period.end, scored_at=started, workers=workers, with_rows=True
    )
    scored = stored.summary
    history_from = period.start - dt.timedelta(weeks=history_weeks)
    say("reading outcomes and incidents")
    gathered = gather(
        database, context, history_from=history_from, period=period, cutoff=cutoff, fresh=stored.rows
    )
    del stored
    say("aggregating and finding exceptions")
    analysis = analyse(context, gathered, period, prepared=prepare(context, gathered))
    say("writing briefings")
    manifest = manifest_for(context, gathered, kind=kind, command=command, arguments=arguments)
    before = folder_before(out / folder_name)
    hashes, briefed = write_period(
        out / folder_name, context, manifest, period, analysis, gathered, extra=extra
    )
    manifest.outputs = hashes
    document = manifest.to_json()
    document["registry_head"] = context.registry_head
    document["period"] = period.to_json()
    document["small_samples"] = len(analysis.findings.small_samples)
    record_manifest(database, manifest, document, started=started, finished=now())
    return RunResult(
        run_id=manifest.run_id,
        folder=out / folder_name,
        period=period,
        scored=scored,
        exceptions=tuple(analysis.findings.exceptions),
        files=hashes,
        places_briefed=briefed,
        cases_reviewed=reviewed_count(gathered.reviewed),
        draft=context.draft,
        replaced=before.replaced_by(manifest.run_id, hashes) if before else None,
        team_exceptions=tuple(analysis.findings.team_exceptions),
    )


def write_period(
    target: Path,
    context: RunContext,
    manifest: Manifest,
    period: Period,
    analysis: PeriodAnalysis,
    gathered: Gathered,
    *,
    extra: Callable[[Path], None] | None = None,
) -> tuple[dict[str, str], tuple[str, ...]]:
    """exceptions.json, aggregates.csv, incident_metrics.csv (when an extract ruleset is in force),
    coverage.csv, <place>.pdf and <place>-cases.csv for each place with exceptions or team exceptions, force.pdf (and
    whatever ``extra`` writes), all written at once. Returns (file hashes, places briefed)."""
    exceptions = analysis.findings.exceptions
    teams = analysis.findings.team_exceptions
    refs = context.refs()
    catalogue = context.catalogue
    run = BriefingRun(
        context.force.name,
        period.label,
        period.start.isoformat(),
        period.end.isoformat(),
        refs,
        manifest.run_id,
        draft=context.draft,
        measure_names={m.id: m.name for m in catalogue.measures.values()},
        priority_names=dict(catalogue.priorities),
        measure_priorities={m.id: m.priority for m in catalogue.measures.values()},
        measure_case_types=measure_case_types(context),
        measure_units={**DEFAULT_MEASURE_UNITS, **case_nouns(context)},
        case_labels={t: f.label for t, f in context.forms.items()},
    )
    incident_rows = period_incident_rows(context, gathered, period)
    coverage = period_coverage(context, analysis, incident_rows or ())
    frames_by_place: dict[str, dict[str, int]] = defaultdict(dict)
    for (place, case_type), size in period_frames(gathered, period).items():
        frames_by_place[place][case_type] = size
    briefings = build_place_briefings(
        exceptions,
        context.force.places,
        gathered.reviewed,
        run,
        frame_sizes_by_place=frames_by_place,
        not_measured_by_place=coverage.not_measured_by_place(),
        team_exceptions=teams,
    )
    summary = build_force_summary(
        exceptions, context.force.places, run, not_measured=coverage.not_measured(), team_exceptions=teams
    )
    recognised = analysis.recognise() if analysis.recognise else ()
    summary = replace(summary, recognition=recognised)  # listed after the exceptions

    def build(folder: Path) -> None:
        write_exceptions_json(
            period.start,
            period.end,
            period.label,
            refs,
            exceptions,
            folder / "exceptions.json",
            run_id=manifest.run_id,
            team_exceptions=teams,
        )
        write_aggregates(
            analysis.table, period_figure_rows(context, analysis, period), folder / "aggregates.csv"
        )
        if incident_rows is not None:
            write_incident_metrics(incident_rows, folder, parquet=False)
        write_rows_csv(coverage.csv_rows(), COVERAGE_COLUMNS, folder / "coverage.csv")
        for name, data in render_briefings(briefings, summary).items():
            (folder / name).write_bytes(data)
        for b in briefings:  # every failing case a briefing lists (or counts as 'and N more')
            write_rows_csv(case_rows(b), CASES_CSV_COLUMNS, folder / cases_csv_name(b.place.code))
        if extra is not None:
            extra(folder)

    hashes = write_outputs(target, build)
    return hashes, tuple(b.place.code for b in briefings)


def period_incident_rows(
    context: RunContext, gathered: Gathered, period: Period
) -> list[dict[str, Any]] | None:
    """incident_metrics.csv's rows for the period (analysis.incidents.incident_metric_rows, as a PEEL
    rerun writes them): each response standard at force level, then each place with any incident it
    counts. None when no extract ruleset is in force (no file then)."""
    days = gathered.incident_days.days if gathered.incident_days else {}
    return incident_metric_rows(
        IncidentMetrics.of(days, [period]), incident_thresholds(context), context.catalogue
    )


def period_figure_rows(context: RunContext, analysis: PeriodAnalysis, period: Period) -> Any:
    """aggregates.csv's rows of the declared metrics' figures for the period (analysis.figure_rows)."""
    metrics = figure_metrics(context)
    return figure_rows(analysis.figures, period.label, metrics, {m: d.extract for m, d in metrics.items()})


def measure_case_types(context: RunContext) -> dict[str, str]:
    """{measure id: case type} for each measure whose criteria come from one case type's rulesets,
    and {ruleset id: case type} for every assessment ruleset (several case types may feed D7)."""
    types: dict[str, set[str]] = defaultdict(set)
    for r in context.assessment_rulesets:
        for c in r.criteria:
            types[c.measure].add(r.case_type or "")
    by_measure = {m: next(iter(found)) for m, found in sorted(types.items()) if len(found) == 1}
    return by_measure | {r.id: r.case_type or "" for r in context.assessment_rulesets}


def case_nouns(context: RunContext) -> dict[str, str]:
    """What one case is called ("missing episodes"), from the forms: by ruleset id, and by measure
    for a measure whose cases are of one type; "cases" for a measure several types feed (D7)."""
    forms = context.forms
    rulesets = [(r.id, r.case_type) for r in context.assessment_rulesets if r.case_type in forms]
    nouns = {rid: forms[str(case_type)].noun for rid, case_type in rulesets}
    by_measure = measure_case_types(context)
    measures = {c.measure for r in context.assessment_rulesets for c in r.criteria}
    return nouns | {m: forms[by_measure[m]].noun if by_measure.get(m) in forms else "cases" for m in measures}


def period_coverage(
    context: RunContext, analysis: PeriodAnalysis, incident_rows: Sequence[Mapping[str, Any]]
) -> Coverage:
    """Which catalogue items had data at the force and each place this period (analysis.coverage)."""
    return measure_coverage(
        analysis.table,
        incident_rows,
        context.catalogue,
        [p.code for p in context.force.places],
        criteria=criteria_rows(context),
        thresholds=incident_thresholds(context),
        figures=analysis.figures,
        figure_items={m: d.item for m, d in figure_metrics(context).items()},
        live_events=analysis.live_events,
    )


def reviewed_count(reviewed: Mapping[str, Counter[str]]) -> int:
    return sum(sum(c.values()) for c in reviewed.values())


def summarise_history(
    database: Database,
    context: RunContext,
    *,
    before: dt.date,
    scored_at: dt.datetime,
    history_weeks: int = DEFAULT_HISTORY_WEEKS,
    workers: int | None = None,
) -> ScoreSummary:
    """Score what is pending before ``before`` and keep the day summaries a weekly run from that day
    reads for its history, as the weekly runs of those weeks would have: for a database loaded with
    many past weeks at once (the demo, data moved from another system), so that its first weekly
    run reads only its own week."""
    last = before - dt.timedelta(days=1)
    scored = score_pending(database, context, until=last, scored_at=scored_at, workers=workers).summary
    first = before - dt.timedelta(weeks=history_weeks)
    outcome_summaries(database, outcome_basis(context), first, last)
    read_incidents(database, context, first, last)
    return scored

"""The batch runs: score what is pending, gather outcomes and incidents, find the period's
exceptions and write exceptions.json, the aggregates CSV and the briefings, all at once.

Shared by `qam weekly`, `qam peel` and `qam demo`. Nothing here reads the clock into an output
file: when a run happened is recorded in the database only.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from engine import registry
from engine.analysis import aggregate as agg
from engine.analysis import daily
from engine.analysis.exceptions_file import write_exceptions_json
from engine.analysis.findings import PeriodFindings, assess_period
from engine.analysis.outcomes import Outcomes, in_period, outcomes_frame
from engine.analysis.tables import write_aggregates_csv
from engine.core.config import Force, Settings
from engine.core.errors import RulesetError
from engine.core.hashing import hash_days
from engine.core.memory import paused_gc
from engine.core.models import ExceptionKind, PerformanceException
from engine.core.periods import Period
from engine.inputs.extracts import ResponseSettings
from engine.inputs.forms import Form
from engine.reports.briefing_data import BriefingRun, RulesetRef, build_force_summary, build_place_briefings
from engine.reports.render_pool import render_briefings
from engine.rules.catalogue import MeasureCatalogue, load_measure_catalogue
from engine.rules.ruleset_loader import load_rulesets
from engine.rules.rulesets import Ruleset
from engine.rules.scoring import score_cases
from engine.runs import history
from engine.runs.manifest import Manifest, write_outputs
from engine.store import case_scores, runs, sampling
from engine.store.db import Database

#: how far back the weekly series for SPC reach (Making Data Count: 2-3 year windows at most)
DEFAULT_HISTORY_WEEKS = 104
#: score in worker processes when at least this many cases are pending (forking costs ~0.1 s)
PARALLEL_FROM = 20_000


@dataclass(frozen=True)
class RunContext:
    """Everything a run reads besides the stored rows: force, forms, rulesets, measures."""

    force: Force
    forms: Mapping[str, Form]
    rulesets: tuple[Ruleset, ...]
    catalogue: MeasureCatalogue
    draft: bool
    registry_head: str = ""

    @property
    def assessment_rulesets(self) -> tuple[Ruleset, ...]:
        return tuple(r for r in self.rulesets if r.case_type)

    @property
    def extract_rulesets(self) -> tuple[Ruleset, ...]:
        return tuple(r for r in self.rulesets if r.extract)

    def refs(self) -> list[dict[str, str]]:
        return [
            {"id": r.id, "version": r.version, "sha256": r.sha256}
            for r in sorted(self.rulesets, key=lambda r: r.id)
        ]


def run_context(
    database: Database,
    settings: Settings,
    force: Force,
    forms: Mapping[str, Form],
    *,
    draft: bool,
    as_of: dt.datetime | None = None,
) -> RunContext:
    """The rulesets a run uses: the published versions (in force at ``as_of``), or with ``draft``
    the working tree's files. An official run refuses unpublished edits."""
    fields = {case_type: f.field_specs() for case_type, f in forms.items()}
    if draft:
        rulesets = load_rulesets(
            settings.rulesets_dir,
            fields,
            setting_overrides=force.setting_overrides,
            overrides_source=force.path,
        )
    else:
        if as_of is None:
            registry.require_published(database, settings.rulesets_dir)
        rulesets = registry.load_published(
            database,
            fields,
            as_of=as_of,
            setting_overrides=force.setting_overrides,
            overrides_source=force.path,
        )
        if not rulesets:
            when = f" at {as_of.isoformat()}" if as_of else ""
            raise RulesetError(
                f"no published rulesets{when}",
                [],
                hint="Run `qam rulesets publish` first, or pass --draft for a dry run on the working tree.",
            )
    return RunContext(
        force=force,
        forms=forms,
        rulesets=tuple(sorted(rulesets, key=lambda r: r.id)),
        catalogue=load_measure_catalogue(),
        draft=draft,
        registry_head="" if draft else registry.registry_head(database),
    )


@dataclass(frozen=True)
class ScoreSummary:
    """How many assessments a run scored, by ruleset."""

    scored: Mapping[str, int]
    #: the assessment keys scored, in order
    keys: tuple[int, ...] = ()
    #: the recorded scoring run, when a `qam score` run scored anything
    run_id: str = ""

    @property
    def total(self) -> int:
        return sum(self.scored.values())


def score_pending(
    database: Database,
    context: RunContext,
    *,
    until: dt.date,
    since: dt.date | None = None,
    run_id: str | None = None,
    scored_at: dt.datetime,
    workers: int | None = None,
    progress: Callable[[str, int], None] | None = None,
    fresh: list[tuple[Any, ...]] | None = None,
) -> ScoreSummary:
    """Score every current assessment up to ``until`` that has no score under the run's ruleset
    versions; scores already stored are kept (rescoring is idempotent). Each ruleset's scores are
    stored in one transaction, so an interrupted run leaves none half-stored. ``progress(ruleset
    id, n)`` is called after each ruleset with how many it scored. ``fresh``: a list to receive the
    stored scores as case_scores.scored_row rows (for gather, which then need not read them back), by
    assessment key.

    A ruleset's scores are stored by a thread while the next ruleset's cases are read and scored:
    the database's share of a store (PostgreSQL's COPY into three indexes, SQLite's inserts) then
    overlaps this process's scoring. One store runs at a time, in ruleset order, and an interrupted
    run waits for the store under way to commit."""
    counts: dict[str, int] = {}
    keys: list[int] = []
    with ThreadPoolExecutor(1, thread_name_prefix="qam-store") as storer:
        storing: tuple[str, Future[int]] | None = None

        def stored() -> None:
            """Wait for the store under way (its error is raised here) and report it."""
            if storing is not None:
                ruleset_id, future = storing
                counts[ruleset_id] = future.result()
                if progress is not None:
                    progress(ruleset_id, counts[ruleset_id])

        for ruleset in context.assessment_rulesets:
            with database.session() as session:
                pending = case_scores.pending_assessments(
                    session,
                    ruleset.case_type or "",
                    ruleset.sha256,
                    draft=context.draft,
                    until=until,
                    since=since,
                )
            if not pending:
                stored()
                storing = None
                counts[ruleset.id] = 0
                if progress is not None:
                    progress(ruleset.id, 0)
                continue
            cases = [{**p.answers, "__key": p.pk} for p in pending]
            n_workers = workers or (2 if len(cases) >= PARALLEL_FROM else 1)
            scores = score_cases(ruleset, cases, key="__key", workers=n_workers)
            rows = []
            for s, p in zip(scores, pending, strict=True):
                texts = s.outcomes.texts()
                traces = {c: list(s.traces[c]) for c, o in texts.items() if o == "fail"}
                rows.append(
                    {
                        "assessment_pk": s.key,
                        "ruleset_id": s.ruleset_id,
                        "ruleset_version": s.ruleset_version,
                        "ruleset_sha256": s.ruleset_sha256,
                        "outcomes": texts,
                        "traces": traces,
                        "score": s.score,
                        "critical_failures": list(s.critical_failures),
                        "draft": context.draft,
                        "run_id": run_id,
                        "scored_at": scored_at,
                    }
                )
                if fresh is not None:
                    fresh.append(
                        case_scores.scored_row(p, s.ruleset_id, s.ruleset_version, texts, traces, s.score)
                    )
            days = {p.assessed_on for p in pending}
            keys.extend(p.pk for p in pending)
            stored()
            storing = (ruleset.id, storer.submit(_store_scores, database, rows, days))
        stored()
    if fresh is not None:
        fresh.sort(key=itemgetter(0))
    return ScoreSummary(counts, tuple(keys))


def _store_scores(database: Database, rows: list[dict[str, Any]], days: set[dt.date]) -> int:
    """One ruleset's scores, in a transaction of their own (score_pending's storing thread)."""
    with database.session() as session:
        return case_scores.store_scores(session, rows, days=days)


@dataclass
class Gathered:
    """The rows a period's analysis reads, the day summaries its weekly series and incident metrics
    come from, and the hashes of what was read."""

    outcome_columns: Mapping[str, list[Any]]
    #: outcome day summaries of the history before the rows in outcome_columns (a weekly run's SPC
    #: history, read from stored summaries); empty when the rows hold the whole span
    outcome_history: history.DaySet
    #: incident day summaries over the span; None when no response-standards ruleset is in force
    incident_days: history.DaySet | None
    #: {day: hash of its assessments' content hashes} over the whole span (history and rows)
    assessment_inputs: dict[dt.date, str]
    assessments_read: int = 0
    reviewed: dict[str, Counter[str]] = field(default_factory=dict)
    #: {(place, case type): N}: the sample frames the period's reviews were drawn from, where known
    #: (sampling.period_frame_sizes), and the (start, end) of the period they are for
    frames: dict[tuple[str, str], int] = field(default_factory=dict)
    frames_period: tuple[dt.date, dt.date] | None = None

    @property
    def incidents_read(self) -> int:
        return self.incident_days.rows if self.incident_days else 0

    def input_hashes(self) -> dict[str, str]:
        """{"assessments": hash, "incidents": hash} of what was read, as a run manifest records them."""
        incidents = self.incident_days.inputs.items() if self.incident_days else ()
        return {"assessments": hash_days(self.assessment_inputs.items()), "incidents": hash_days(incidents)}


def outcome_basis(context: RunContext) -> history.OutcomeBasis:
    return history.OutcomeBasis(
        {r.case_type or "": r.sha256 for r in context.assessment_rulesets},
        context.draft,
        criteria_rows(context),
        list(context.catalogue.measures.values()),
    )


def incident_basis(context: RunContext) -> history.IncidentBasis | None:
    response = response_settings(context)
    if response is None:
        return None
    return history.IncidentBasis(dict(sorted((p.code, p.setting) for p in context.force.places)), response)


def read_incidents(
    database: Database,
    context: RunContext,
    first: dt.date,
    last: dt.date,
    *,
    cutoff: dt.datetime | None = None,
) -> history.DaySet | None:
    """Incident day summaries from ``first`` to ``last`` (see history.incident_summaries), or None
    when no response-standards ruleset is in force."""
    on = incident_basis(context)
    return None if on is None else history.incident_summaries(database, on, first, last, cutoff=cutoff)


def gather(
    database: Database,
    context: RunContext,
    *,
    history_from: dt.date,
    period: Period,
    cutoff: dt.datetime | None = None,
    with_incidents: bool = True,
    fresh: Sequence[tuple[Any, ...]] = (),
) -> Gathered:
    """The period's outcome rows (one per assessment and criterion), day summaries of the outcomes
    from ``history_from`` up to the period (stored ones, where current) and of the incidents from
    ``history_from`` to the period's end; the period's reviewed-case counts and sample frame sizes
    by place and case type. With ``cutoff``, the data as it stood then (assessment revisions current
    at that time, incidents and samples by then), every row read again and no stored summary used:
    how an audit re-reads what a past run read. Without ``with_incidents`` the caller reads
    incidents itself (read_incidents). ``fresh``: the scores this run stored (score_pending), which
    need not be read back when they are all the period's."""
    division = {p.code: p.division for p in context.force.places}
    on = outcome_basis(context)
    past = history.DaySet()
    first = history_from
    if cutoff is None:
        past = history.outcome_summaries(database, on, history_from, period.start - dt.timedelta(days=1))
        first = period.start
    with database.session() as session:
        rows = history.read_outcomes(
            session, on.versions, draft=context.draft, division=division, first=first, last=period.end,
            cutoff=cutoff, reviewed_from=period.start, fresh=fresh,
        )  # fmt: skip
        frames = sampling.period_frame_sizes(session, period.start, period.end, cutoff=cutoff)
    incidents = None
    if with_incidents:
        incidents = read_incidents(database, context, history_from, period.end, cutoff=cutoff)
    return Gathered(
        rows.columns,
        past,
        incidents,
        {**past.inputs, **history.day_inputs(rows.hashes)},
        past.rows + rows.assessments,
        rows.reviewed,
        frames,
        (period.start, period.end),
    )


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
    scored = score_pending(database, context, until=last, scored_at=scored_at, workers=workers)
    first = before - dt.timedelta(weeks=history_weeks)
    history.outcome_summaries(database, outcome_basis(context), first, last)
    read_incidents(database, context, first, last)
    return scored


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


def incident_window(history_from: dt.date, period: Period) -> tuple[dt.datetime, dt.datetime]:
    """The received_at range [start, end) of the incidents a run reads."""
    return dt.datetime.combine(history_from, dt.time()), dt.datetime.combine(
        period.end + dt.timedelta(days=1), dt.time()
    )


def response_settings(context: RunContext) -> ResponseSettings | None:
    """The response standards' settings (None when no extract ruleset is in force)."""
    if not context.extract_rulesets:
        return None
    return ResponseSettings(**{k: v for k, v in context.extract_rulesets[0].settings.items()})


def criteria_rows(context: RunContext) -> list[dict[str, Any]]:
    return [
        {
            "ruleset": r.id,
            "criterion": c.id,
            "text": c.text,
            "measure": c.measure,
            "priority": r.priority,
            "peel": c.peel,
            "iserve": c.iserve,
            "minimum": c.minimum,
            "direction": c.direction,
            "critical": c.critical,
        }
        for r in context.assessment_rulesets
        for c in r.criteria
    ]


def metric_rows(context: RunContext) -> list[dict[str, Any]]:
    return [
        {
            "ruleset": r.id,
            "criterion": t.id,
            "metric": t.metric,
            "text": t.text,
            "measure": t.measure,
            "priority": r.priority,
            "peel": t.peel,
            "iserve": t.iserve,
            "minimum": t.minimum,
            "direction": t.direction,
        }
        for r in context.extract_rulesets
        for t in r.thresholds
    ]


@dataclass(frozen=True)
class PeriodAnalysis:
    findings: PeriodFindings
    table: Any  # the tidy aggregates table (a DataFrame; only engine.analysis touches it)


@dataclass(frozen=True)
class Prepared:
    """Gathered rows framed once for analysis, so several periods (a PEEL run's quarters) share them,
    with the day summaries of the whole span."""

    outcomes: Outcomes
    outcome_days: dict[dt.date, daily.DayCounts]
    incident_days: dict[dt.date, daily.DayCounts] | None
    response: ResponseSettings | None


def prepare(context: RunContext, gathered: Gathered, *, release: bool = False) -> Prepared:
    """Frame the gathered outcome rows (the slow part of :func:`analyse`) and add their day summaries
    to the history's. With ``release``, the gathered rows are emptied once framed (a year's rows are
    large; the hashes and reviewed counts are kept)."""
    outcomes = outcomes_frame(
        gathered.outcome_columns, criteria_rows(context), context.catalogue.measures.values()
    )
    if release:
        gathered.outcome_columns = {}
    outcome_days = {**gathered.outcome_history.days, **daily.outcome_days(outcomes)}
    incidents = gathered.incident_days.days if gathered.incident_days else None
    return Prepared(
        outcomes, outcome_days, incidents or None, response_settings(context) if incidents else None
    )


def analyse(
    context: RunContext, gathered: Gathered, period: Period, *, prepared: Prepared | None = None
) -> PeriodAnalysis:
    """Aggregate the period and find its exceptions (weekly series reach back over the history)."""
    prepared = prepared or prepare(context, gathered)
    frames = ruleset_frames(context, period_frames(gathered, period))
    table = agg.aggregate(
        in_period(prepared.outcomes, period.start, period.end),
        period.label,
        with_cases=True,
        frames=frames,
    )
    place_settings = {p.code: p.setting for p in context.force.places}
    findings = assess_period(
        prepared.outcomes,
        period.start,
        period.end,
        outcome_days=prepared.outcome_days,
        incident_days=prepared.incident_days,
        metric_standards=metric_rows(context),
        place_settings=place_settings,
        response=prepared.response,
        aggregates=table,
        frames=frames,
    )
    return PeriodAnalysis(findings, table)


@dataclass(frozen=True)
class RunResult:
    """What a weekly or PEEL run did and wrote."""

    run_id: str
    folder: Path
    period: Period
    scored: ScoreSummary
    exceptions: tuple[PerformanceException, ...]
    files: Mapping[str, str]
    places_briefed: tuple[str, ...]
    cases_reviewed: int
    draft: bool

    def counts_by_kind(self) -> dict[str, int]:
        counts = Counter(e.kind.value for e in self.exceptions)
        return {k.value: counts.get(k.value, 0) for k in ExceptionKind}


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
    """exceptions.json, aggregates.csv, <place>.pdf for each place with exceptions, force.pdf (and
    whatever ``extra`` writes), all written at once. Returns (file hashes, places briefed)."""
    exceptions = analysis.findings.exceptions
    refs = tuple(RulesetRef(r["id"], r["version"], r["sha256"]) for r in context.refs())
    run = BriefingRun(
        context.force.name,
        period.label,
        period.start.isoformat(),
        period.end.isoformat(),
        refs,
        manifest.run_id,
        draft=context.draft,
        measure_names={m.id: m.name for m in context.catalogue.measures.values()},
        priority_names=dict(context.catalogue.priorities),
    )
    frames_by_place: dict[str, dict[str, int]] = defaultdict(dict)
    for (place, case_type), size in period_frames(gathered, period).items():
        frames_by_place[place][case_type] = size
    briefings = build_place_briefings(
        exceptions, context.force.places, gathered.reviewed, run, frame_sizes_by_place=frames_by_place
    )
    summary = build_force_summary(exceptions, context.force.places, run)

    def build(folder: Path) -> None:
        write_exceptions_json(
            period.start,
            period.end,
            period.label,
            [(r.id, r.version, r.sha256) for r in refs],
            exceptions,
            folder / "exceptions.json",
            run_id=manifest.run_id,
        )
        write_aggregates_csv(analysis.table, folder / "aggregates.csv")
        for name, data in render_briefings(briefings, summary).items():
            (folder / name).write_bytes(data)
        if extra is not None:
            extra(folder)

    hashes = write_outputs(target, build)
    return hashes, tuple(b.place.code for b in briefings)


def record_manifest(
    database: Database,
    manifest: Manifest,
    document: Mapping[str, Any],
    *,
    started: dt.datetime,
    finished: dt.datetime,
) -> None:
    """Store a run's manifest document (or refresh it, for an identical rerun) and this execution."""
    with database.session() as session:
        runs.record_run(
            session,
            run_id=manifest.run_id,
            kind=manifest.kind,
            command=manifest.command,
            arguments=manifest.arguments,
            engine_version=manifest.engine,
            draft=manifest.draft,
            manifest=document,
            started_at=started,
            finished_at=finished,
        )


def manifest_for(
    context: RunContext, gathered: Gathered, *, kind: str, command: str, arguments: Mapping[str, Any]
) -> Manifest:
    m = Manifest(
        kind=kind,
        command=command,
        arguments=dict(arguments),
        rulesets=context.refs(),
        force_sha256=context.force.sha256,
        inputs=gathered.input_hashes(),
        draft=context.draft,
    )
    return m


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
    """Score, gather, analyse, write, record: one weekly or PEEL run (``cutoff``: see gather).
    ``progress`` is told each stage as it starts (the CLI shows it on a terminal)."""
    with paused_gc():
        return _run_period(database, context, period, out, kind=kind, command=command, arguments=arguments,
                           folder_name=folder_name, now=now, history_weeks=history_weeks, workers=workers,
                           extra=extra, cutoff=cutoff, progress=progress)  # fmt: skip


def _run_period(
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
    history_weeks: int,
    workers: int | None,
    extra: Callable[[Path], None] | None,
    cutoff: dt.datetime | None,
    progress: Callable[[str], None] | None,
) -> RunResult:
    say = progress or (lambda _stage: None)
    started = now()
    say("scoring new assessments")
    fresh: list[tuple[Any, ...]] = []
    scored = score_pending(
        database, context, until=period.end, scored_at=started, workers=workers, fresh=fresh
    )
    history_from = period.start - dt.timedelta(weeks=history_weeks)
    say("reading outcomes and incidents")
    gathered = gather(database, context, history_from=history_from, period=period, cutoff=cutoff, fresh=fresh)
    del fresh
    say("aggregating and finding exceptions")
    analysis = analyse(context, gathered, period)
    say("writing briefings")
    manifest = manifest_for(context, gathered, kind=kind, command=command, arguments=arguments)
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
    )


def reviewed_count(reviewed: Mapping[str, Counter[str]]) -> int:
    return sum(sum(c.values()) for c in reviewed.values())

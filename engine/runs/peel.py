"""PEEL self-assessment reruns (issue 8): rescore a period under the ruleset versions published at a
date, aggregate and find exceptions for the period and each calendar quarter in it, compare with the
scores first recorded, and write peel.pdf, exceptions.json, aggregates.csv, incident_metrics.csv,
compare.csv and manifest.json (the tables also as Parquet when pyarrow is installed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from engine.analysis.exceptions_file import write_exceptions_json
from engine.analysis.figure_rows import ReviewedAhead, coarse_rows, write_ahead, write_peel_aggregates
from engine.analysis.figure_stats import special
from engine.analysis.incidents import incident_metric_rows
from engine.analysis.tables import write_incident_metrics
from engine.core import parallel
from engine.core.memory import give_back, paused_gc
from engine.core.parallel import Gate, in_background, in_background_each
from engine.core.periods import Period
from engine.reports.peel_data import Comparison, PeelReport
from engine.runs.analysis import (
    PeriodAnalysis,
    Prepared,
    analyse,
    figure_metrics,
    frame_figures,
    incident_thresholds,
    prepare,
)
from engine.runs.compare import compare_with_original, write_compare_csv
from engine.runs.context import RunContext
from engine.runs.gather import (
    FiguresRead,
    Gathered,
    gather,
    incident_basis,
    incident_summaries,
    incident_window,
    incidents_unsummarised,
)
from engine.runs.manifest import Manifest, folder_before, manifest_for, record_manifest, write_outputs
from engine.runs.peel_figures import build_report, incident_figures
from engine.runs.scoring import score_pending
from engine.runs.weekly import RunResult, period_figure_rows, reviewed_count
from engine.store import incidents
from engine.store.db import Database, open_database

KIND = "peel"

T = TypeVar("T")

#: progress(what is being done, steps done, steps in all): drives the CLI's progress bar
Progress = Callable[[str, int, int], None]


def rerun_period(start: dt.date, end: dt.date) -> Period:
    """The rerun's period, labelled as its output folder: 'peel-2026-04-01-2027-03-31'; UsageError
    when it runs backwards."""
    return Period.of(start, end, f"peel-{start.isoformat()}-{end.isoformat()}")


def end_of_day(day: dt.date) -> dt.datetime:
    """--as-of DATE means the versions published by the end of that day, UTC."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)


@dataclass(frozen=True)
class PeelResult:
    """What `qam peel` did and wrote."""

    run: RunResult
    quarters: tuple[tuple[Period, int], ...]  # each quarter and its number of exceptions
    comparison: Comparison | None
    as_of: dt.date | None


def _write_tables(
    context: RunContext,
    whole: tuple[Period, PeriodAnalysis],
    parts: Sequence[tuple[Period, PeriodAnalysis]],
    incident_rows: Sequence[Mapping[str, Any]] | None,
    folder: Path,
    ahead: ReviewedAhead | None = None,
) -> None:
    """aggregates.csv (the reviewed cases' rows, then the declared metrics') and (with
    ``incident_rows``) incident_metrics.csv, each also as Parquet when pyarrow is installed; see
    engine.analysis.tables and figure_rows. ``ahead``: the period's rows formatted already."""
    rows = [period_figure_rows(context, a, p) for p, a in (whole, *parts)]
    write_peel_aggregates(whole[1].table, [a.table for _, a in parts], rows[0], rows[1:], folder, ahead=ahead)
    if incident_rows is not None:
        write_incident_metrics(incident_rows, folder)


def run_peel(
    database: Database,
    context: RunContext,
    period: Period,
    out: Path,
    *,
    as_of: dt.date | None,
    compare_original: bool,
    now: Callable[[], dt.datetime],
    progress: Progress | None = None,
    workers: int | None = None,
) -> PeelResult:
    """Rescore, gather, analyse the period and its quarters, compare, write, record: one PEEL rerun.

    Scores already stored under a version's exact sha256 are reused; new ones are stored a ruleset
    per transaction before anything is read, so an interrupted rerun leaves complete scores only,
    and no output folder (write_outputs). History for SPC is the period's own weeks.
    """
    with paused_gc():
        return _run(database, context, period, out, as_of=as_of, compare_original=compare_original, now=now,
                    progress=progress, workers=workers)  # fmt: skip


def _run(
    database: Database,
    context: RunContext,
    period: Period,
    out: Path,
    *,
    as_of: dt.date | None,
    compare_original: bool,
    now: Callable[[], dt.datetime],
    progress: Progress | None,
    workers: int | None,
) -> PeelResult:
    start, end = period.start, period.end
    steps = len(context.assessment_rulesets) + 3 + len(period.quarters()) + int(compare_original)
    done = 0

    def advance(what: str) -> None:
        """Report a finished step (what it did) and count it."""
        nonlocal done
        done += 1
        if progress is not None:
            progress(what, done, steps)

    if progress is not None:
        progress("scoring", 0, steps)
    started = now()
    on = incident_basis(context)
    apart = (workers or 2) >= 2
    # a first rerun of the period reads its incidents' rows: with both cores, in a worker meanwhile
    summarise = (
        on is not None
        and apart
        and incidents_unsummarised(database, on, start, end)
        and _count_incidents(database, period) >= parallel.PEEL_INCIDENTS_PARALLEL_FROM
    )
    incidents_job = _on_own_connection(
        database.url, lambda db: incident_summaries(db, on, start, end) if on is not None else None
    )
    # the figures need nothing this run scores or reads, and the comparison reads the scores once
    # stored: with both cores, one worker forked at the run's start makes them, in that order, while
    # this process scores, gathers and prepares. On SQLite it frames the figures meanwhile from the
    # start; on PostgreSQL, whose server stores the scores on the second core (a worker framing
    # beside it made rescored and cold runs slower), once the scores are stored. Forked before any
    # score is held, it shares none of them: forked after scoring, a PostgreSQL worker kept the
    # scores' rows this process let go, and the two held 1.03-1.05 GB (a rescored year)
    sqlite = database.engine.dialect.name == "sqlite"
    with_figures = bool(figure_metrics(context))
    in_worker = apart and (with_figures or compare_original)
    figures_in_worker = in_worker and with_figures
    scored_gate = Gate()
    if in_worker:
        _import_before_forking()

    def compare(db: Database) -> Comparison:
        scored_gate.wait()
        return compare_with_original(db, context, start, end)

    def frame(db: Database) -> FiguresRead:
        if not sqlite:
            scored_gate.wait()
        return frame_figures(db, context, start, end)

    # a worker's jobs, the one needed first first: the figures, then the comparison
    jobs = [
        *([_on_own_connection(database.url, frame)] if figures_in_worker else []),
        *([_on_own_connection(database.url, compare)] if compare_original else []),
    ]
    with (
        scored_gate,
        in_background(incidents_job, parallel=summarise) as incidents,
        in_background_each(jobs, parallel=in_worker) as worker,
    ):
        stored = score_pending(
            database,
            context,
            until=end,
            since=start,
            scored_at=started,
            workers=workers,
            progress=lambda ruleset_id, n: advance(f"scored {n:,} under {ruleset_id}"),
            with_rows=True,
        )
        scored = stored.summary
        scored_gate.open()
        gathered = gather(
            database, context, history_from=period.start, period=period, with_incidents=not summarise,
            with_figures=not figures_in_worker, fresh=stored.rows,
        )  # fmt: skip
        del stored
        give_back()  # the scores' rows, gathered: out of this process's peak beside the worker
        if summarise:
            gathered.incident_days = incidents()
        compared = worker[-1] if compare_original and in_worker else None
        figures_apart = worker[0] if figures_in_worker else None
        # held only by this list, which write_folder's argument empties: see its release
        prepared = [prepare(context, gathered, release=True, figures_apart=figures_apart)]
        advance(
            f"read {gathered.assessments_read:,} scores and {gathered.incidents_read:,} incidents' day summaries"
        )
        command = f"qam peel --from {start.isoformat()} --to {end.isoformat()}"
        command += f" --as-of {as_of.isoformat()}" if as_of else " --published"
        command += " --compare-original" if compare_original else ""
        arguments = {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "as_of": as_of.isoformat() if as_of else None,
            "compare_original": compare_original,
        }
        manifest = manifest_for(context, gathered, kind=KIND, command=command, arguments=arguments)
        before = folder_before(out / period.label)
        written = write_folder(
            out / period.label,
            database,
            context,
            manifest,
            gathered,
            prepared.pop(),
            period,
            as_of=as_of,
            compare_original=compare_original,
            advance=advance,
            workers=workers,
            compared=compared,
            release=True,
        )
    manifest.outputs = hashes = written.hashes
    document = written.document
    record_manifest(database, manifest, document, started=started, finished=now())
    advance(f"wrote {len(hashes)} files")
    result = RunResult(
        run_id=manifest.run_id,
        folder=out / period.label,
        period=period,
        scored=scored,
        exceptions=tuple(written.whole.findings.exceptions),
        team_exceptions=tuple(written.whole.findings.team_exceptions),
        files=hashes,
        places_briefed=(),
        cases_reviewed=reviewed_count(gathered.reviewed),
        draft=context.draft,
        replaced=before.replaced_by(manifest.run_id, hashes) if before else None,
    )
    quarter_counts = tuple((q, len(a.findings.exceptions)) for q, a in written.parts)
    return PeelResult(result, quarter_counts, written.comparison, as_of)


@dataclass(frozen=True)
class PeelFolder:
    """What write_folder analysed and wrote: the files' hashes and the manifest document (with them)."""

    hashes: dict[str, str]
    document: dict[str, Any]
    whole: PeriodAnalysis
    #: each quarter and its analysis, whose table has the rows written and reported of a quarter
    #: (force, division and place level: figure_rows.coarse_rows)
    parts: tuple[tuple[Period, PeriodAnalysis], ...]
    comparison: Comparison | None


def write_folder(
    target: Path,
    database: Database,
    context: RunContext,
    manifest: Manifest,
    gathered: Gathered,
    prepared: Prepared,
    period: Period,
    *,
    as_of: dt.date | None,
    compare_original: bool,
    read: Collection[int] | None = None,
    cutoff: dt.datetime | None = None,
    advance: Callable[[str], None] = lambda _what: None,
    workers: int | None = None,
    compared: Callable[[], Comparison] | None = None,
    release: bool = False,
) -> PeelFolder:
    """Analyse the period and its quarters, compare with the original scores (``read``: see
    compare_with_original) and write the folder ``target`` at once from the gathered data: what a
    rerun writes and `qam audit` re-derives. Reads no scores but the originals; stores nothing.
    With ``workers`` >= 2 (by default from PEEL_ANALYSIS_PARALLEL_FROM outcome rows on), all but
    the last of every four quarters are analysed in a forked worker process meanwhile, and peel.pdf
    is rendered by one while this process writes the tables (from PEEL_TABLES_PARALLEL_FROM rows;
    both in core.parallel).
    ``compared``: returns the comparison when it is being made elsewhere (a worker started earlier).
    With ``release`` (the caller keeps no other reference to ``prepared``, and needs only the counts
    and hashes of ``gathered`` afterwards), the framed rows and day summaries are let go once
    analysed, and their memory given back, before the files are written (and the report's worker
    forked): a year's are 320 MB the writing does not need."""
    periods = period.quarters()
    n_workers = workers or (2 if len(prepared.outcomes.frame) >= parallel.PEEL_ANALYSIS_PARALLEL_FROM else 1)
    quarters_apart = n_workers >= 2 and bool(periods)
    # with a worker, this process analyses the whole period and the last of every four quarters: a
    # year's whole period takes about as long as two quarters, so both then finish together
    theirs = periods[: len(periods) - len(periods) // 4] if quarters_apart else periods

    def quarter(q: Period) -> PeriodAnalysis:
        """A quarter's analysis with only the aggregate rows the folder writes and reports (the rest,
        team and officer rows, was 95% of what a worker sent back and this process kept)."""
        analysis = analyse(context, gathered, q, prepared=prepared)
        return dataclasses.replace(analysis, table=coarse_rows(analysis.table))

    def analyse_quarters() -> list[PeriodAnalysis]:
        return [quarter(q) for q in theirs]

    if quarters_apart:
        give_back()  # what reading freed (on PostgreSQL the driver's buffered rows) stays out of the fork
        _import_before_forking()
    ahead: ReviewedAhead | None = None
    try:
        with in_background(analyse_quarters, parallel=quarters_apart) as later:
            whole = analyse(context, gathered, period, prepared=prepared)
            advance(f"analysed {period.label}")
            mine = [quarter(q) for q in periods[len(theirs) :]]
            incidents = incident_figures(prepared, period)  # while the worker analyses its quarters
            comparison = None
            if compare_original:
                if compared is not None:
                    comparison = compared()
                else:
                    comparison = compare_with_original(
                        database, context, period.start, period.end, read=read, cutoff=cutoff
                    )
                advance(f"compared: {len(comparison.moved):,} findings moved")
            # for as long as the worker still analyses its quarters, the period's rows of aggregates.csv
            # are formatted (a chunk at a time: none once it is done)
            with_metrics = whole.figures is not None and not whole.figures.empty
            ahead = write_ahead(whole.table, with_metrics=with_metrics, while_=later.running)
            parts = []
            for q, analysis in zip(periods, [*later(), *mine], strict=True):
                parts.append((q, analysis))
                advance(f"analysed {q.label}")
        report = build_report(
            context,
            prepared,
            (period, whole),
            parts,
            as_of=as_of,
            run_id=manifest.run_id,
            cases_reviewed=reviewed_count(gathered.reviewed),
            comparison=comparison,
            incidents=incidents,
        )
        document = _document(manifest, context, period, [q for q, _ in parts], as_of)
        tables_apart = n_workers >= 2 and len(whole.table) >= parallel.PEEL_TABLES_PARALLEL_FROM
        incident_rows = incident_metric_rows(
            incidents.metrics, incident_thresholds(context), context.catalogue
        )
        if release:
            del prepared, incidents  # prepared: the closure analyse_quarters shares this cell
            gathered.release_summaries()
            give_back()

        def build(folder: Path) -> None:
            _build(
                folder, context, manifest, document, period, whole, parts, report, incident_rows,
                parallel=tables_apart, ahead=ahead,
            )  # fmt: skip

        hashes = write_outputs(target, build)
    finally:
        if ahead is not None:
            ahead.close()
    document["outputs"] = dict(sorted(hashes.items()))
    return PeelFolder(hashes, document, whole, tuple(parts), comparison)


def _import_before_forking() -> None:
    """Import here what a PEEL run's workers and this process all use but import only when first
    needed, so that each worker inherits it: scipy.special (the figures' and incidents' intervals)
    took 0.2-0.3 s of CPU in each worker that imported it itself."""
    special()


def _on_own_connection(url: str, work: Callable[[Database], T]) -> Callable[[], T]:
    """``work`` on a database connection of its own: what a worker process runs (the connections it
    inherits through fork are this process's, not to be shared)."""

    def job() -> T:
        database = open_database(url)
        try:
            return work(database)
        finally:
            database.close()

    return job


def _count_incidents(database: Database, period: Period) -> int:
    with database.session() as session:
        return incidents.count_incidents(
            session, *incident_window(period.start, period), up_to=parallel.PEEL_INCIDENTS_PARALLEL_FROM
        )


def _document(
    manifest: Manifest, context: RunContext, period: Period, parts: Sequence[Period], as_of: dt.date | None
) -> dict[str, Any]:
    document = manifest.to_json()
    document["registry_head"] = context.registry_head
    document["period"] = period.to_json()
    document["quarters"] = [q.to_json() for q in parts]
    document["as_of"] = end_of_day(as_of).isoformat() if as_of else None
    return document


def _build(
    folder: Path,
    context: RunContext,
    manifest: Manifest,
    document: dict[str, Any],
    period: Period,
    whole: PeriodAnalysis,
    parts: Sequence[tuple[Period, PeriodAnalysis]],
    report: PeelReport,
    incident_rows: Sequence[Mapping[str, Any]] | None,
    *,
    parallel: bool = False,
    ahead: ReviewedAhead | None = None,
) -> None:
    """Write the folder's files; with ``parallel``, peel.pdf and the exceptions files in a forked
    worker while this process writes the tables. The worker reads only the report and the findings
    (small): a worker writing the tables read a year's aggregate rows, hundreds of thousands of
    Python objects whose pages it then copied from this process (300 MB of memory more).
    ``incident_rows``: incident_metrics.csv's, whenever an extract ruleset is in force (None: no file)."""

    def report_files() -> None:
        from engine.reports.peel_pdf import peel_pdf  # reportlab loads only when a report is written

        refs = context.refs()
        for p, a in [(period, whole), *parts]:
            name = "exceptions.json" if p is period else f"exceptions-{p.label}.json"
            write_exceptions_json(
                p.start, p.end, p.label, refs, a.findings.exceptions, folder / name, run_id=manifest.run_id,
                team_exceptions=a.findings.team_exceptions,
            )  # fmt: skip
        if report.comparison is not None:
            write_compare_csv(report.comparison, folder / "compare.csv")
        (folder / "peel.pdf").write_bytes(peel_pdf(report).data)

    with in_background(report_files, parallel=parallel) as report_written:
        _write_tables(context, (period, whole), parts, incident_rows, folder, ahead)
        report_written()
    outputs = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}
    (folder / "manifest.json").write_text(
        json.dumps({**document, "outputs": outputs}, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )


__all__ = [
    "KIND",
    "PeelFolder",
    "PeelResult",
    "end_of_day",
    "rerun_period",
    "run_peel",
    "write_folder",
]

"""PEEL self-assessment reruns (issue 8): rescore a period under the ruleset versions published at a
date, aggregate and find exceptions for the period and each calendar quarter in it, compare with the
scores first recorded, and write peel.pdf, exceptions.json, aggregates.csv, incident_metrics.csv,
compare.csv and manifest.json (the tables also as Parquet when pyarrow is installed).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import multiprocessing
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from engine import registry
from engine.analysis import aggregate as agg
from engine.analysis import daily
from engine.analysis.exceptions_file import write_exceptions_json
from engine.analysis.spc_findings import as_spc_chart
from engine.analysis.stats import xmr_chart
from engine.analysis.tables import records, write_aggregates_with_quarters, write_incident_metrics
from engine.analysis.weeks import week_label, week_range
from engine.core.errors import UsageError
from engine.core.memory import paused_gc
from engine.core.models import ExceptionKind, PerformanceException, SpcChart
from engine.core.periods import Period
from engine.reports.briefing_data import RulesetRef
from engine.reports.peel_data import (
    ChangeSummary,
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
from engine.runs.history import incident_summaries, incidents_unsummarised
from engine.runs.manifest import Manifest, write_outputs
from engine.runs.pipeline import (
    Gathered,
    PeriodAnalysis,
    Prepared,
    RunContext,
    RunResult,
    analyse,
    criteria_rows,
    gather,
    incident_basis,
    incident_window,
    manifest_for,
    metric_rows,
    prepare,
    record_manifest,
    reviewed_count,
    score_pending,
)
from engine.store import case_scores, incidents
from engine.store.db import Database, open_database

KIND = "peel"
T = TypeVar("T")
#: read and frame incidents in a worker process from this many on (forking costs ~0.1 s)
PARALLEL_INCIDENTS_FROM = 100_000
#: analyse the quarters in a worker process from this many outcome rows on (a year of a force has
#: ~1.2 million; the quarters then take ~2.5 s of a rerun's ~12 s on this 2-core machine)
PARALLEL_ANALYSIS_FROM = 200_000
#: write aggregates.csv in a worker process beside peel.pdf from this many rows of the whole period's
#: aggregate table on (a year of a force has ~35,000: a 21 MB file, ~1 s; the PDF ~0.5 s)
PARALLEL_TABLES_FROM = 10_000
#: a quarter's label, e.g. "2026-Q2" (calendar quarters: Q1 = January to March)
QUARTER_LABEL = "{year}-Q{quarter}"
COMPARE_COLUMNS = (
    "ruleset",
    "original_version",
    "rerun_version",
    "criterion",
    "cause",
    "place",
    "assessment_id",
    "case_ref",
    "assessed_on",
    "original_outcome",
    "rerun_outcome",
    "original_score",
    "rerun_score",
)

#: progress(what is being done, steps done, steps in all): drives the CLI's progress bar
Progress = Callable[[str, int, int], None]


def label(start: dt.date, end: dt.date) -> str:
    """The period label and output folder name: 'peel-2026-04-01-2027-03-31'."""
    return f"peel-{start.isoformat()}-{end.isoformat()}"


def period_of(start: dt.date, end: dt.date) -> Period:
    """The whole rerun period; UsageError when it runs backwards."""
    if end < start:
        raise UsageError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    return Period(start, end, label(start, end))


def quarters(start: dt.date, end: dt.date) -> list[Period]:
    """The calendar quarters that meet [start, end], each cut to it: 2026-04-15..2026-08-01 gives
    2026-Q2 (04-15..06-30) and 2026-Q3 (07-01..08-01)."""
    out: list[Period] = []
    q_start = dt.date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
    while q_start <= end:
        next_start = dt.date(q_start.year + (q_start.month == 10), (q_start.month + 2) % 12 + 1, 1)
        name = QUARTER_LABEL.format(year=q_start.year, quarter=(q_start.month - 1) // 3 + 1)
        out.append(Period(max(q_start, start), min(next_start - dt.timedelta(days=1), end), name))
        q_start = next_start
    return out


def end_of_day(day: dt.date) -> dt.datetime:
    """--as-of DATE means the versions published by the end of that day, UTC."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)


# --------------------------------------------------------------------------- comparison with the original


def _score_text(score: float | None) -> str:
    return "" if score is None else f"{score:.6f}"


class _Causes:
    """Which ruleset change explains a moved finding, from registry.diff (computed once per pair)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._diffs: dict[tuple[str, str, str], registry.RulesetDiff] = {}

    def cause(self, ruleset: str, old: str, new: str, criterion: str) -> str:
        key = (ruleset, old, new)
        if key not in self._diffs:
            self._diffs[key] = registry.diff(self._database, ruleset, old, new)
        d = self._diffs[key]
        for item in d.items:
            if item.kind == "criterion" and item.id == criterion:
                if item.change != "changed":
                    return f"{criterion} {item.change}"
                return f"{criterion} changed ({', '.join(f.field for f in item.fields)})"
        settings = [i.id for i in d.items if i.kind == "setting"]
        if settings:
            return f"settings changed ({', '.join(settings)})"
        if d.ruleset_fields:
            return f"ruleset changed ({', '.join(f.field for f in d.ruleset_fields)})"
        return "no recorded change to this criterion"


def compare_with_original(
    database: Database,
    context: RunContext,
    start: dt.date,
    end: dt.date,
    *,
    read: Collection[int] | None = None,
    cutoff: dt.datetime | None = None,
) -> Comparison:
    """Compare every assessment's first recorded official score with its score under the run's
    ruleset versions (stored by score_pending beforehand), finding by finding. ``read``: only these
    assessment revisions (an audit's, read at the run's cut-off, so later submissions stay out)."""
    rerun = {r.id: r.sha256 for r in context.assessment_rulesets}
    causes = _Causes(database)
    compared = same = changed = 0
    moved: list[dict[str, str]] = []
    with database.session() as session:
        rows = case_scores.official_scores(session, date_from=start, date_to=end, cutoff=cutoff)
        groups: dict[tuple[int, str], list[tuple[Any, ...]]] = {}
        for row in rows:
            if read is None or row[0] in read:
                groups.setdefault((row[0], row[5]), []).append(row)
    for (_, ruleset), scores in groups.items():
        first = scores[0]
        now_row = next((s for s in scores if s[7] == rerun.get(ruleset)), None)
        if now_row is None:  # a ruleset not in force at --as-of, or an assessment outside it
            continue
        compared += 1
        if first[7] == now_row[7]:
            same += 1
            continue
        before, after = first[8], now_row[8]
        differs = sorted(c for c in set(before) | set(after) if before.get(c) != after.get(c))
        if differs:
            changed += 1
        for criterion in differs:
            moved.append(
                {
                    "ruleset": ruleset,
                    "original_version": first[6],
                    "rerun_version": now_row[6],
                    "criterion": criterion,
                    "cause": causes.cause(ruleset, first[6], now_row[6], criterion),
                    "place": first[3],
                    "assessment_id": first[1],
                    "case_ref": first[2],
                    "assessed_on": str(first[4]),
                    "original_outcome": before.get(criterion, "absent"),
                    "rerun_outcome": after.get(criterion, "absent"),
                    "original_score": _score_text(first[9]),
                    "rerun_score": _score_text(now_row[9]),
                }
            )
    moved.sort(key=lambda m: tuple(m[c] for c in COMPARE_COLUMNS))
    return Comparison(compared, same, changed, tuple(moved), _summarise(moved))


def _summarise(moved: Iterable[Mapping[str, str]]) -> tuple[ChangeSummary, ...]:
    places: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    moves: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for m in moved:
        key = (m["ruleset"], m["original_version"], m["rerun_version"], m["criterion"], m["cause"])
        places[key][m["place"]] += 1
        moves[key][f"{m['original_outcome']} -> {m['rerun_outcome']}"] += 1

    def most_first(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
        return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    return tuple(
        ChangeSummary(*key, sum(places[key].values()), most_first(moves[key]), most_first(places[key]))
        for key in sorted(places)
    )


def write_compare_csv(comparison: Comparison, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COMPARE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(comparison.moved)


# --------------------------------------------------------------------------- the report's figures


def _figure(row: Mapping[str, Any] | None, name: str, exceptions: int = 0) -> Figure:
    """A Figure from an aggregate row, or an incident metric row (daily.incident_metrics)."""
    if row is None or not row["n"]:
        return Figure(name, 0, 0, None, None, None, exceptions)
    if row.get("median") is not None:  # a measured metric: no passes, no rate
        return Figure(name, int(row["n"]), 0, None, None, None, exceptions, row["median"], row["p90"])
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
    tables = [analysis.table] + [a.table for _, a in parts]
    force_measure = [_rows(t, "force", "measure") for t in tables]
    place_measure = [_rows(t, "place", "measure") for t in tables]
    force_criterion = _rows(analysis.table, "force", "criterion")
    labels = [period.label] + [p.label for p, _ in parts]
    exceptions = [analysis.findings.exceptions] + [a.findings.exceptions for _, a in parts]
    weeks = _weeks(period)
    weekly: dict[str, list[tuple[int, int]]] = {}
    for (_, m), series in daily.measure_weekly_series(
        daily.between(prepared.outcome_days, period.start, period.end), weeks
    ).items():
        total = weekly.setdefault(m, [(0, 0)] * len(weeks))
        weekly[m] = [(a + n, b + p) for (a, b), (n, p) in zip(total, series, strict=True)]
    places = {p.code: p.name for p in context.force.places}
    spans = [period, *(p for p, _ in parts)]
    specs = metric_rows(context)
    incidents = incidents or incident_figures(prepared, period)

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
            chart = _force_chart(m, series, weeks, standard, direction=m.direction, text=m.name)
        mine = tuple(e for e in analysis.findings.exceptions if e.measure == m.id)
        metrics = tuple(
            _metric_section(m, spec, incidents, spans, exceptions, weeks, places)
            for spec in specs
            if spec["measure"] == m.id
        )
        return MeasureSection(m, figures, per_place, criteria, chart, mine, metrics)

    catalogue = context.catalogue
    pillars = tuple(
        PillarSection(
            pillar,
            description,
            tuple(section(m) for m in catalogue.measures.values() if m.peel == pillar),
        )
        for pillar, description in catalogue.peel_pillars.items()
    )
    return PeelReport(
        force_name=context.force.name,
        period=period,
        quarters=tuple(p for p, _ in parts),
        as_of=as_of.isoformat() if as_of else "latest published",
        rulesets=tuple(RulesetRef(r["id"], r["version"], r["sha256"]) for r in context.refs()),
        run_id=run_id,
        cases_reviewed=cases_reviewed,
        exception_counts=tuple((lab, _counts(found)) for lab, found in zip(labels, exceptions, strict=True)),
        pillars=pillars,
        comparison=comparison,
        draft=context.draft,
    )


@dataclass(frozen=True)
class _IncidentFigures:
    """A period's incident metrics, worked out once for every threshold that shows them: by (place
    or FORCE, metric), for the whole period then each quarter; and the force's weekly series."""

    force: list[dict[tuple[str, str], dict[str, Any]]]
    places: list[dict[tuple[str, str], dict[str, Any]]]
    weekly: dict[tuple[str, str], list[tuple[int, int, float | None]]]

    @classmethod
    def of(cls, days: daily.Days, spans: Sequence[Period], weeks: Sequence[str]) -> _IncidentFigures:
        """From the day summaries of the whole period (``spans[0]``) and its quarters."""
        days = daily.between(days, spans[0].start, spans[0].end)

        def rows(p: Period, pool: str | None) -> dict[tuple[str, str], dict[str, Any]]:
            table = daily.incident_metrics(daily.between(days, p.start, p.end), p.label, pool=pool)
            return {(r["place"], r["metric"]): r for r in records(table)}

        return cls(
            [rows(p, agg.FORCE_KEY) for p in spans],
            [rows(p, None) for p in spans],
            daily.incident_weekly_series(days, weeks, pool=agg.FORCE_KEY),
        )


def _weeks(period: Period) -> list[str]:
    """The ISO weeks the period touches, in order."""
    return week_range(week_label(period.start), week_label(period.end))


def incident_figures(prepared: Prepared, period: Period) -> _IncidentFigures:
    """The incident metrics the PEEL report shows of ``period`` and its quarters."""
    weeks = _weeks(period)
    return _IncidentFigures.of(
        prepared.incident_days or {}, [period, *quarters(period.start, period.end)], weeks
    )


def _metric_section(
    m: Measure,
    spec: Mapping[str, Any],
    figures: _IncidentFigures,
    spans: Sequence[Period],
    exceptions: Sequence[Sequence[PerformanceException]],
    weeks: Sequence[str],
    places: Mapping[str, str],
) -> MetricSection:
    """One threshold of an extract ruleset (a pipeline.metric_rows row) as the PEEL report shows it;
    ``exceptions``: each span's."""
    metric, minimum, text = str(spec["metric"]), spec.get("minimum"), str(spec["text"])
    threshold = (spec["ruleset"], spec["criterion"])
    force = tuple(
        _figure(rows.get((agg.FORCE_KEY, metric)), p.label, sum(1 for e in raised if (e.ruleset, e.criterion) == threshold))
        for rows, p, raised in zip(figures.force, spans, exceptions, strict=True)
    )  # fmt: skip
    per_place = tuple(
        PlaceFigures(
            code,
            places.get(code, code),
            _figure(figures.places[0][(code, metric)], spans[0].label),
            tuple(
                _figure(r.get((code, metric)), p.label)
                for r, p in zip(figures.places[1:], spans[1:], strict=True)
            ),
        )  # fmt: skip
        for code, of in sorted(figures.places[0])
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


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class PeelResult:
    """What `qam peel` did and wrote."""

    run: RunResult
    quarters: tuple[tuple[Period, int], ...]  # each quarter and its number of exceptions
    comparison: Comparison | None
    as_of: dt.date | None


def incident_metric_rows(report: PeelReport) -> list[dict[str, Any]]:
    """incident_metrics.csv's rows (daily.INCIDENT_METRIC_COLUMNS) from what peel.pdf shows of
    the measures fed by the incidents: the period, then each quarter; in each, every response
    standard at force level and then each place with any incident it counts."""
    rows: list[dict[str, Any]] = []
    for i, span in enumerate((report.period, *report.quarters)):
        for t in report.thresholds:
            cells = [("force", "", agg.FORCE_KEY, t.figures[i])]
            cells += [("place", p.code, p.code, (p.period, *p.quarters)[i]) for p in t.places]
            rows += [
                {
                    "period": span.label,
                    "level": level,
                    "place": place,
                    "key": key,
                    "ruleset": t.ruleset,
                    "criterion": t.criterion,
                    "metric": t.metric,
                    "n": f.n,
                    "passes": None if t.measured else f.passes,
                    "rate": f.rate,
                    "ci_low": f.ci_low,
                    "ci_high": f.ci_high,
                    "median_seconds": f.median,
                    "p90_seconds": f.p90,
                }  # fmt: skip
                for level, place, key, f in cells
                if f.n
            ]
    return rows


def _write_tables(
    whole: Any, quarter_tables: Sequence[Any], incident_rows: Sequence[Mapping[str, Any]] | None, folder: Path
) -> None:
    """aggregates.csv and (with ``incident_rows``) incident_metrics.csv, each also as Parquet when
    pyarrow is installed; see engine.analysis.tables."""
    write_aggregates_with_quarters(whole, quarter_tables, folder)
    if incident_rows is not None:
        write_incident_metrics(incident_rows, folder)


def run_peel(
    database: Database,
    context: RunContext,
    start: dt.date,
    end: dt.date,
    out: Path,
    *,
    as_of: dt.date | None,
    compare_original: bool,
    command: str,
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
        return _run(database, context, start, end, out, as_of=as_of, compare_original=compare_original,
                    command=command, now=now, progress=progress, workers=workers)  # fmt: skip


def _run(
    database: Database,
    context: RunContext,
    start: dt.date,
    end: dt.date,
    out: Path,
    *,
    as_of: dt.date | None,
    compare_original: bool,
    command: str,
    now: Callable[[], dt.datetime],
    progress: Progress | None,
    workers: int | None,
) -> PeelResult:
    period = period_of(start, end)
    steps = len(context.assessment_rulesets) + 3 + len(quarters(start, end)) + int(compare_original)
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
    # a first rerun of the period reads its incidents' rows: with both cores, in a worker meanwhile
    summarise = (
        on is not None
        and (workers or 2) >= 2
        and incidents_unsummarised(database, on, start, end)
        and _count_incidents(database, period) >= PARALLEL_INCIDENTS_FROM
    )
    incidents_job = _on_own_connection(
        database.url, lambda db: incident_summaries(db, on, start, end) if on is not None else None
    )
    fresh: list[tuple[Any, ...]] = []
    with _in_a_worker(incidents_job, summarise) as incidents:
        scored = score_pending(
            database,
            context,
            until=end,
            since=start,
            scored_at=started,
            workers=workers,
            progress=lambda ruleset_id, n: advance(f"scored {n:,} under {ruleset_id}"),
            fresh=fresh,
        )
        # the comparison reads only the original scores: with both cores it is made meanwhile
        parallel_compare = compare_original and (workers or 2) >= 2
        comparison_job = _on_own_connection(
            database.url, lambda db: compare_with_original(db, context, start, end)
        )
        with _in_a_worker(comparison_job, parallel_compare) as compared:
            gathered = gather(
                database, context, history_from=period.start, period=period, with_incidents=not summarise,
                fresh=fresh,
            )  # fmt: skip
            del fresh
            if summarise:
                gathered.incident_days = incidents()
            prepared = prepare(context, gathered, release=True)
            advance(
                f"read {gathered.assessments_read:,} scores and {gathered.incidents_read:,} incidents' day summaries"
            )
            arguments = {
                "from": start.isoformat(),
                "to": end.isoformat(),
                "as_of": as_of.isoformat() if as_of else None,
                "compare_original": compare_original,
            }
            manifest = manifest_for(context, gathered, kind=KIND, command=command, arguments=arguments)
            written = write_folder(
                out / period.label,
                database,
                context,
                manifest,
                gathered,
                prepared,
                period,
                as_of=as_of,
                compare_original=compare_original,
                advance=advance,
                workers=workers,
                compared=compared if parallel_compare else None,
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
        files=hashes,
        places_briefed=(),
        cases_reviewed=reviewed_count(gathered.reviewed),
        draft=context.draft,
    )
    quarter_counts = tuple((q, len(a.findings.exceptions)) for q, a in written.parts)
    return PeelResult(result, quarter_counts, written.comparison, as_of)


@dataclass(frozen=True)
class PeelFolder:
    """What write_folder analysed and wrote: the files' hashes and the manifest document (with them)."""

    hashes: dict[str, str]
    document: dict[str, Any]
    whole: PeriodAnalysis
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
) -> PeelFolder:
    """Analyse the period and its quarters, compare with the original scores (``read``: see
    compare_with_original) and write the folder ``target`` at once from the gathered data: what a
    rerun writes and `qam audit` re-derives. Reads no scores but the originals; stores nothing.
    With ``workers`` >= 2 (by default from PARALLEL_ANALYSIS_FROM outcome rows on), all but the last
    of every four quarters are analysed in a forked worker process meanwhile, and aggregates.csv is
    written by one (from PARALLEL_TABLES_FROM rows). ``compared``: returns the comparison when it is
    being made elsewhere (a worker started earlier)."""
    periods = quarters(period.start, period.end)
    n_workers = workers or (2 if len(prepared.outcomes.frame) >= PARALLEL_ANALYSIS_FROM else 1)
    parallel = n_workers >= 2 and bool(periods)
    # with a worker, this process analyses the whole period and the last of every four quarters: a
    # year's whole period takes about as long as two quarters, so both then finish together
    theirs = periods[: len(periods) - len(periods) // 4] if parallel else periods

    def analyse_quarters() -> list[PeriodAnalysis]:
        return [analyse(context, gathered, q, prepared=prepared) for q in theirs]

    with _in_a_worker(analyse_quarters, parallel) as later:
        whole = analyse(context, gathered, period, prepared=prepared)
        advance(f"analysed {period.label}")
        mine = [analyse(context, gathered, q, prepared=prepared) for q in periods[len(theirs) :]]
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
    tables_apart = n_workers >= 2 and len(whole.table) >= PARALLEL_TABLES_FROM

    def build(folder: Path) -> None:
        _build(folder, context, manifest, document, period, whole, parts, report, parallel=tables_apart)

    hashes = write_outputs(target, build)
    document["outputs"] = dict(sorted(hashes.items()))
    return PeelFolder(hashes, document, whole, tuple(parts), comparison)


#: the job a forked worker runs (set just before the fork, so it and its inputs are inherited, not pickled)
_SHARED: dict[str, Callable[[], Any]] = {}


def _run_shared() -> Any:
    return _SHARED["job"]()


@contextmanager
def _in_a_worker(job: Callable[[], T], parallel: bool) -> Iterator[Callable[[], T]]:
    """Run ``job`` in a forked worker process while the caller goes on (``parallel``), or later in
    this one; yields the function that returns its result. The worker must not use this process's
    database connections (a job opens its own). It exits as soon as its job is done: an idle worker
    kept the memory its job had used (300-350 MB for a year's incidents or comparison) until the
    caller took the result."""
    if not parallel:
        yield job
        return
    _SHARED["job"] = job
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            future = pool.submit(_run_shared)  # the worker is forked here, after _SHARED is set
            _SHARED.clear()
            pool.shutdown(wait=False)  # the job still runs and its result comes; then the worker exits
            yield future.result
    finally:
        _SHARED.clear()


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
            session, *incident_window(period.start, period), up_to=PARALLEL_INCIDENTS_FROM
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
    *,
    parallel: bool = False,
) -> None:
    """Write the folder's files; with ``parallel``, the aggregates in a forked worker meanwhile."""
    from engine.reports.peel_pdf import peel_pdf  # reportlab loads only when a report is written

    # the response standards' figures, whenever an extract ruleset is in force (none: no file)
    incident_rows = incident_metric_rows(report) if report.thresholds else None

    def tables() -> None:
        _write_tables(whole.table, [a.table for _, a in parts], incident_rows, folder)

    with _in_a_worker(tables, parallel) as tables_written:
        refs = [(r["id"], r["version"], r["sha256"]) for r in context.refs()]
        for p, a in [(period, whole), *parts]:
            name = "exceptions.json" if p is period else f"exceptions-{p.label}.json"
            write_exceptions_json(
                p.start, p.end, p.label, refs, a.findings.exceptions, folder / name, run_id=manifest.run_id
            )
        if report.comparison is not None:
            write_compare_csv(report.comparison, folder / "compare.csv")
        (folder / "peel.pdf").write_bytes(peel_pdf(report).data)
        tables_written()
    outputs = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}
    (folder / "manifest.json").write_text(
        json.dumps({**document, "outputs": outputs}, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )


__all__ = [
    "COMPARE_COLUMNS",
    "KIND",
    "ChangeSummary",
    "Comparison",
    "PeelReport",
    "PeelFolder",
    "PeelResult",
    "compare_with_original",
    "end_of_day",
    "label",
    "quarters",
    "run_peel",
    "write_folder",
]

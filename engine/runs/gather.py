"""What a run reads: scored outcome rows, and day summaries of outcomes and incidents, gathered for
a period and the history its weekly series reach back over.

A weekly run analyses its own week's rows, but its SPC charts reach back up to two years. Rather
than re-read (and re-frame) every assessment and incident of those years each week, a run keeps a
summary of each day it reads (engine.analysis.daily: counts by place, plus the hash of the day's rows) in
the database, and later runs read those. A summary is tied to what its counts depend on (the
ruleset versions and draft flag, or the response-time settings and place settings) and to its day's
epoch, which every write of that day's rows moves on (engine.store.summaries), so a late submission,
an amendment, a new score or a reloaded incident makes the day be read afresh.

The declared metrics' figures (the tidy figures extract) are few beside those rows: a run reads the
current ones of its whole span each time (and of the three years before it for metrics sent only
quarterly or yearly, whose latest point may be older than the span).

An audit reads the data as it stood at a past moment: it never uses stored summaries, and works the
same summaries out from the rows instead (``rows=True``), so both paths give the same figures and
the same input hashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from engine.analysis import daily
from engine.analysis.frames import CaseColumns
from engine.analysis.incidents import incidents_frame
from engine.analysis.outcomes import outcomes_frame
from engine.analysis.team_findings import with_team_days
from engine.core.hashing import hash_days, hash_inputs
from engine.core.periods import Period
from engine.inputs.extracts import ResponseSettings
from engine.runs.context import RunContext, criteria_rows, response_settings
from engine.store import case_scores, figures, incidents, sampling, summaries
from engine.store.db import Database
from engine.store.summaries import ASSESSMENTS, INCIDENTS, StoredDay

#: how far back the weekly series for SPC reach (Making Data Count: 2-3 year windows at most)
DEFAULT_HISTORY_WEEKS = 104

#: bump when the outcome summaries' counts change meaning, so summaries kept by an older engine are
#: not used (they are made again from the rows). 2: a measure's counts are cases (each once, passing
#: when it failed none of the measure's applicable criteria), not its criteria's findings pooled;
#: each criterion's counts are kept too (daily.outcome_days). 3: each team's counts too
#: (team_findings.with_team_days)
SUMMARY_FORMAT = 3
#: the same for the incident summaries (their format is analysis.daily's)
INCIDENT_SUMMARY_FORMAT = daily.INCIDENT_SUMMARY_FORMAT


@dataclass
class OutcomeRows:
    """Scored outcome rows (one per assessment and criterion, as frames.CaseColumns), the content
    hashes of the assessments read by day, and how many were reviewed by place and case type."""

    columns: CaseColumns
    hashes: dict[dt.date, list[str]] = field(default_factory=dict)
    reviewed: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def assessments(self) -> int:
        return sum(len(h) for h in self.hashes.values())


_PER_CASE = ("assessment_key", "case_ref", "case_type", "place", "division", "team", "officer", "reviewer",
             "assessed_on", "ruleset", "ruleset_version", "note")  # fmt: skip


def read_outcomes(
    session: Any,
    versions: Mapping[str, str],
    *,
    draft: bool,
    division: Mapping[str, str],
    first: dt.date,
    last: dt.date,
    cutoff: dt.datetime | None = None,
    reviewed_from: dt.date | None = None,
    fresh: Sequence[tuple[Any, ...]] = (),
) -> OutcomeRows:
    """The current assessments from ``first`` to ``last`` scored under ``versions`` ({case type:
    ruleset sha256}), as outcome columns (see case_scores.scored_assessments for ``cutoff``);
    assessments from ``reviewed_from`` on are counted as reviewed. ``fresh``: rows this run has just
    scored and stored (scoring.score_pending), not read back when they are all the range's rows."""
    per_case: dict[str, list[Any]] = {name: [] for name in _PER_CASE}
    appends = [per_case[name].append for name in _PER_CASE]
    criteria: list[str] = []
    results: list[str] = []
    trace_column: list[tuple[str, ...]] = []
    counts: list[int] = []
    hashes: dict[dt.date, list[str]] = defaultdict(list)
    reviewed: dict[str, Counter[str]] = defaultdict(Counter)
    no_trace: tuple[str, ...] = ()
    # each outcome ("pass", "fail", ...) kept as one object: orjson makes a new one each time, and a
    # year's 1.3 million took 60 MB until framed (0.04 s)
    same: dict[str, str] = {}
    shared = same.setdefault
    for row in case_scores.scored_assessments(
        session, versions, draft=draft, date_from=first, date_to=last, cutoff=cutoff, fresh=fresh
    ):
        (pk, _aid, case_ref, case_type, place, team, officer, reviewer, assessed_on, note, chash, ruleset,
         version, outcomes, traces, _score) = row  # fmt: skip
        hashes[assessed_on].append(chash)
        if reviewed_from is not None and assessed_on >= reviewed_from:
            reviewed[place][case_type] += 1
        values = (pk, case_ref, case_type, place, division.get(place, ""), team, officer, reviewer,
                  assessed_on, ruleset, version, note or "")  # fmt: skip
        for append, value in zip(appends, values, strict=True):
            append(value)
        counts.append(len(outcomes))
        criteria.extend(outcomes)
        results.extend(map(shared, outcomes.values(), outcomes.values()))
        if traces:
            trace_column.extend(
                tuple(traces.get(c, ())) if o == "fail" else no_trace for c, o in outcomes.items()
            )
        else:  # most cases fail nothing (four in five of a year's)
            trace_column.extend([no_trace] * len(outcomes))
    columns = CaseColumns(
        per_case, {"criterion": criteria, "outcome": results, "trace": trace_column}, counts
    )
    return OutcomeRows(columns, dict(hashes), dict(reviewed))


@dataclass
class DaySet:
    """Day summaries over a span: the counts of each day with rows, and each such day's input hash
    (hash_inputs of its rows' content hashes)."""

    days: dict[dt.date, daily.DayCounts] = field(default_factory=dict)
    inputs: dict[dt.date, str] = field(default_factory=dict)
    rows: int = 0

    @classmethod
    def of(cls, stored: Mapping[dt.date, StoredDay]) -> DaySet:
        kept = {d: s for d, s in sorted(stored.items()) if s.rows}
        return cls(
            {d: s.counts for d, s in kept.items()},
            {d: s.inputs_sha256 for d, s in kept.items()},
            sum(s.rows for s in kept.values()),
        )


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _sha(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class OutcomeBasis:
    """What outcome summaries depend on besides the rows: the scores' ruleset versions and draft flag
    (scope), and the criteria's measures and the catalogue (basis)."""

    versions: Mapping[str, str]
    draft: bool
    criteria: Sequence[Mapping[str, Any]]
    measures: Sequence[Any]

    @property
    def scope(self) -> str:
        return _sha({"versions": sorted(self.versions.items()), "draft": self.draft})

    @property
    def basis(self) -> str:
        crit = sorted((str(c["ruleset"]), str(c["criterion"]), str(c["measure"])) for c in self.criteria)
        return _sha({"format": SUMMARY_FORMAT, "criteria": crit, "measures": [m.id for m in self.measures]})


def outcome_days_of(rows: OutcomeRows, on: OutcomeBasis) -> dict[dt.date, daily.DayCounts]:
    if not rows.columns.counts:
        return {}
    return with_team_days(outcomes_frame(rows.columns, on.criteria, on.measures))


def outcome_summaries(database: Database, on: OutcomeBasis, first: dt.date, last: dt.date) -> DaySet:
    """Outcome day summaries from ``first`` to ``last``: stored ones where current, the others read
    from the scored rows, summarised and stored for the next run."""

    def read(
        session: Any, start: dt.date, end: dt.date
    ) -> tuple[Mapping[dt.date, Any], Mapping[dt.date, Any]]:
        rows = read_outcomes(session, on.versions, draft=on.draft, division={}, first=start, last=end)
        return outcome_days_of(rows, on), rows.hashes

    return _summaries(database, ASSESSMENTS, on.scope, on.basis, first, last, read)


#: a day's content hashes: text, or (incident_rows) an array of ASCII bytes
DayHashes = Sequence[str] | NDArray[np.bytes_]

_Read = Callable[[Any, dt.date, dt.date], tuple[Mapping[dt.date, Any], Mapping[dt.date, DayHashes]]]


def _summaries(
    database: Database, source: str, scope: str, basis: str, first: dt.date, last: dt.date, read: _Read
) -> DaySet:
    """Day summaries of ``source`` from ``first`` to ``last``: the stored ones that are current, and
    for the other days ``read(session, start, end)`` -> (counts by day, content hashes by day) of the
    rows, kept with the epochs their days had before the rows were read."""
    if first > last:
        return DaySet()
    with database.session() as session:
        day_epochs = summaries.epochs(session, source, first, last)
        stored = summaries.current_summaries(session, source, scope, basis, first, last)
        missing = [d for d in _days(first, last) if d not in stored]
        fresh: dict[dt.date, StoredDay] = {}
        if missing:
            counts, hashes = read(session, missing[0], missing[-1])
            fresh = {d: _stored(hashes.get(d, ()), counts.get(d, {})) for d in missing}
    if fresh:
        with database.session() as session:
            summaries.store_summaries(session, source, scope, basis, fresh, day_epochs)
    return DaySet.of({**stored, **fresh})


def _stored(hashes: DayHashes, counts: daily.DayCounts) -> StoredDay:
    return StoredDay(len(hashes), _inputs_hash(hashes) if len(hashes) else "", counts)


def _inputs_hash(hashes: DayHashes) -> str:
    """hash_inputs of a day's content hashes, given as text or as an array of ASCII bytes (sorted
    alike: byte order is text order for ASCII)."""
    if isinstance(hashes, np.ndarray):
        return hashlib.sha256(b"".join(h + b"\n" for h in np.sort(hashes).tolist())).hexdigest()
    return hash_inputs(hashes)


def day_inputs(hashes: Mapping[dt.date, Sequence[str]]) -> dict[dt.date, str]:
    """{day: hash_inputs of its rows' content hashes} for the days with rows."""
    return {d: hash_inputs(h) for d, h in sorted(hashes.items()) if h}


# --------------------------------------------------------------------------- incidents


@dataclass(frozen=True)
class IncidentBasis:
    """What incident summaries depend on besides the rows: each place's urban/rural setting and the
    response-time standards."""

    place_settings: Mapping[str, str]
    response: ResponseSettings

    @property
    def basis(self) -> str:
        return _sha(
            {
                "format": INCIDENT_SUMMARY_FORMAT,
                "places": sorted(self.place_settings.items()),
                "response": sorted(vars(self.response).items()),
            }
        )


def incident_rows(
    session: Any, on: IncidentBasis, first: dt.date, last: dt.date, *, cutoff: dt.datetime | None = None
) -> tuple[dict[dt.date, daily.DayCounts], dict[dt.date, NDArray[np.bytes_]]]:
    """Day summaries of the incidents received from ``first`` to ``last`` read from their rows chunk
    by chunk (with ``cutoff``: those loaded by then), and their content hashes by day, as arrays of
    ASCII bytes: a year's million kept as str objects held 120 MB until summarised."""
    start = dt.datetime.combine(first, dt.time())
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    parts: list[dict[dt.date, daily.DayCounts]] = []
    hashes: dict[dt.date, list[NDArray[np.bytes_]]] = defaultdict(list)
    for columns, part_hashes in incidents.incident_chunks(session, start, end, cutoff=cutoff):
        frame = incidents_frame(columns, on.place_settings, on.response)
        parts.append(daily.incident_days(frame))
        text = part_hashes.astype(bytes)
        for day, rows in daily.by_day(frame["received_day"], np.arange(len(text))).items():
            hashes[day].append(text[np.asarray(rows, dtype=np.intp)])
    return daily.merge(parts), {d: np.concatenate(h) for d, h in hashes.items()}


def incident_summaries(
    database: Database, on: IncidentBasis, first: dt.date, last: dt.date, *, cutoff: dt.datetime | None = None
) -> DaySet:
    """Incident day summaries from ``first`` to ``last``. Without ``cutoff``: stored ones where
    current, the others read from the rows, summarised and stored; with it, all from the rows as
    they stood then, nothing stored."""
    if cutoff is not None:
        with database.session() as session:
            counts, hashes = incident_rows(session, on, first, last, cutoff=cutoff)
        return DaySet.of({d: _stored(h, counts.get(d, {})) for d, h in hashes.items()})

    def read(
        session: Any, start: dt.date, end: dt.date
    ) -> tuple[Mapping[dt.date, Any], Mapping[dt.date, Any]]:
        return incident_rows(session, on, start, end)

    return _summaries(database, INCIDENTS, INCIDENTS, on.basis, first, last, read)


def incidents_unsummarised(database: Database, on: IncidentBasis, first: dt.date, last: dt.date) -> bool:
    """Whether any day from ``first`` to ``last`` has no current incident summary (its rows must be read)."""
    with database.session() as session:
        kept = summaries.count_current(session, INCIDENTS, INCIDENTS, on.basis, first, last)
    return kept < (last - first).days + 1


# --------------------------------------------------------------------------- a period's rows and history


@dataclass
class Gathered:
    """The rows a period's analysis reads, the day summaries its weekly series and incident metrics
    come from, and the hashes of what was read."""

    outcome_columns: Mapping[str, list[Any]]
    #: outcome day summaries of the history before the rows in outcome_columns (a weekly run's SPC
    #: history, read from stored summaries); empty when the rows hold the whole span
    outcome_history: DaySet
    #: incident day summaries over the span; None when no response-standards ruleset is in force
    incident_days: DaySet | None
    #: {day: hash of its assessments' content hashes} over the whole span (history and rows)
    assessment_inputs: dict[dt.date, str]
    assessments_read: int = 0
    reviewed: dict[str, Counter[str]] = field(default_factory=dict)
    #: {(place, case type): N}: the sample frames the period's reviews were drawn from, where known
    #: (sampling.period_frame_sizes), and the (start, end) of the period they are for
    frames: dict[tuple[str, str], int] = field(default_factory=dict)
    frames_period: tuple[dt.date, dt.date] | None = None
    #: the current stored figures of the declared metrics over the span (store.figures.FigureRecord)
    figures: list[Any] = field(default_factory=list)
    #: the figures when read and framed apart (a PEEL run's worker: analysis.frame_figures), in
    #: place of ``figures``
    figures_read: FiguresRead | None = None

    @property
    def incidents_read(self) -> int:
        return self.incident_days.rows if self.incident_days else 0

    def release_summaries(self) -> None:
        """Let go of the day summaries once analysed (a year's incidents' are tens of MB), keeping
        their counts and input hashes: what a run records once it has its figures."""
        for days in (self.outcome_history, self.incident_days):
            if days is not None:
                days.days = {}

    def input_hashes(self) -> dict[str, str]:
        """{"assessments": hash, "incidents": hash} of what was read, as a run manifest records them."""
        incidents = self.incident_days.inputs.items() if self.incident_days else ()
        hashes = {"assessments": hash_days(self.assessment_inputs.items()), "incidents": hash_days(incidents)}
        read = self.figures_read or FiguresRead.of(self.figures)
        if read.count:
            hashes["figures"] = read.sha
        return hashes


@dataclass(frozen=True)
class FiguresRead:
    """A run's figures as read: how many rows, the hash of their values a manifest records, and
    (when framed apart from the run's other rows) analysis.FigureData of them."""

    count: int
    sha: str
    framed: Any = None

    @classmethod
    def of(cls, rows: Sequence[Any], framed: Any = None) -> FiguresRead:
        return cls(len(rows), hash_inputs(_row_sha(row) for row in rows) if rows else "", framed)


def _row_sha(row: Any) -> str:
    """sha256 of a figure row's values, in its columns' order (a dataclass with slots, or a tuple)."""
    names = getattr(row, "__slots__", None) or getattr(row, "_fields", None)
    values = [getattr(row, n) for n in names] if names else list(row)
    return hashlib.sha256(repr(values).encode("utf-8")).hexdigest()


def outcome_basis(context: RunContext) -> OutcomeBasis:
    return OutcomeBasis(
        {r.case_type or "": r.sha256 for r in context.assessment_rulesets},
        context.draft,
        criteria_rows(context),
        list(context.catalogue.measures.values()),
    )


def incident_basis(context: RunContext) -> IncidentBasis | None:
    response = response_settings(context)
    if response is None:
        return None
    return IncidentBasis(dict(sorted((p.code, p.setting) for p in context.force.places)), response)


def read_incidents(
    database: Database,
    context: RunContext,
    first: dt.date,
    last: dt.date,
    *,
    cutoff: dt.datetime | None = None,
) -> DaySet | None:
    """Incident day summaries from ``first`` to ``last`` (see incident_summaries), or None
    when no response-standards ruleset is in force."""
    on = incident_basis(context)
    return None if on is None else incident_summaries(database, on, first, last, cutoff=cutoff)


def gather(
    database: Database,
    context: RunContext,
    *,
    history_from: dt.date,
    period: Period,
    cutoff: dt.datetime | None = None,
    with_incidents: bool = True,
    with_figures: bool = True,
    fresh: Sequence[tuple[Any, ...]] = (),
) -> Gathered:
    """The period's outcome rows (one per assessment and criterion), day summaries of the outcomes
    from ``history_from`` up to the period (stored ones, where current) and of the incidents from
    ``history_from`` to the period's end; the period's reviewed-case counts and sample frame sizes
    by place and case type. With ``cutoff``, the data as it stood then (assessment revisions current
    at that time, incidents and samples by then), every row read again and no stored summary used:
    how an audit re-reads what a past run read. Without ``with_incidents`` the caller reads
    incidents itself (read_incidents), without ``with_figures`` its figures (read_figures).
    ``fresh``: the scores this run stored (score_pending), which need not be read back when they
    are all the period's."""
    division = {p.code: p.division for p in context.force.places}
    on = outcome_basis(context)
    past = DaySet()
    first = history_from
    if cutoff is None:
        past = outcome_summaries(database, on, history_from, period.start - dt.timedelta(days=1))
        first = period.start
    with database.session() as session:
        rows = read_outcomes(
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
        {**past.inputs, **day_inputs(rows.hashes)},
        past.rows + rows.assessments,
        rows.reviewed,
        frames,
        (period.start, period.end),
        read_figures(database, context, history_from, period.end, as_of=cutoff) if with_figures else [],
    )


#: how far back a run reads the figures of metrics sent only quarterly or yearly
COARSE_FIGURE_YEARS = 3


def read_figures(
    database: Database,
    context: RunContext,
    first: dt.date,
    last: dt.date,
    *,
    as_of: dt.datetime | None = None,
) -> list[Any]:
    """The current figures of the metrics declared with source figures whose period meets ``first``
    to ``last``, and those of the metrics sent only quarterly or yearly from COARSE_FIGURE_YEARS
    before ``last`` (their latest point may be older than the span). [] when none is declared.
    With ``as_of`` (an audit's cut-off, the run's first execution), the figures current then: those
    replaced since are read as they were, those loaded since are left out."""
    if context.extracts is None:
        return []
    declared = [m for m in context.extracts.metrics.values() if m.source == "figures"]
    if not declared:
        return []
    coarse = sorted(m.id for m in declared if set(m.periods) <= {"quarter", "year"})
    fine = sorted(m.id for m in declared if m.id not in coarse)
    since = min(first, dt.date(last.year - COARSE_FIGURE_YEARS, 1, 1))
    rows = figures.current_figures(database, start=first, end=last, metrics=fine, as_of=as_of) if fine else []
    if coarse:
        rows += figures.current_figures(database, start=since, end=last, metrics=coarse, as_of=as_of)
    return rows


def incident_window(history_from: dt.date, period: Period) -> tuple[dt.datetime, dt.datetime]:
    """The received_at range [start, end) of the incidents a run reads."""
    return dt.datetime.combine(history_from, dt.time()), dt.datetime.combine(
        period.end + dt.timedelta(days=1), dt.time()
    )

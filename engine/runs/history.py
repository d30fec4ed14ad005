"""What a batch run reads: scored outcome rows, and day summaries of outcomes and incidents.

A weekly run analyses its own week's rows, but its SPC charts reach back up to two years. Rather
than re-read (and re-frame) every assessment and incident of those years each week, a run keeps a
summary of each day it reads (engine.analysis.daily: counts by place, plus the hash of the day's rows) in
the database, and later runs read those. A summary is tied to what its counts depend on (the
ruleset versions and draft flag, or the response-time settings and place settings) and to its day's
epoch, which every write of that day's rows moves on (engine.store.summaries), so a late submission,
an amendment, a new score or a reloaded incident makes the day be read afresh.

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

from engine.analysis import daily
from engine.analysis.frames import CaseColumns
from engine.analysis.incidents import incidents_frame
from engine.analysis.outcomes import outcomes_frame
from engine.core.hashing import hash_inputs
from engine.inputs.extracts import ResponseSettings
from engine.store import case_scores, incidents, summaries
from engine.store.db import Database
from engine.store.summaries import ASSESSMENTS, INCIDENTS, StoredDay

#: bump when the summaries' counts change meaning, so summaries kept by an older engine are not used
SUMMARY_FORMAT = 1


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
    scored and stored (pipeline.score_pending), not read back when they are all the range's rows."""
    per_case: dict[str, list[Any]] = {name: [] for name in _PER_CASE}
    appends = [per_case[name].append for name in _PER_CASE]
    criteria: list[str] = []
    results: list[str] = []
    trace_column: list[tuple[str, ...]] = []
    counts: list[int] = []
    hashes: dict[dt.date, list[str]] = defaultdict(list)
    reviewed: dict[str, Counter[str]] = defaultdict(Counter)
    no_trace: tuple[str, ...] = ()
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
        results.extend(outcomes.values())
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
    return daily.outcome_days(outcomes_frame(rows.columns, on.criteria, on.measures))


def outcome_summaries(database: Database, on: OutcomeBasis, first: dt.date, last: dt.date) -> DaySet:
    """Outcome day summaries from ``first`` to ``last``: stored ones where current, the others read
    from the scored rows, summarised and stored for the next run."""

    def read(
        session: Any, start: dt.date, end: dt.date
    ) -> tuple[Mapping[dt.date, Any], Mapping[dt.date, Any]]:
        rows = read_outcomes(session, on.versions, draft=on.draft, division={}, first=start, last=end)
        return outcome_days_of(rows, on), rows.hashes

    return _summaries(database, ASSESSMENTS, on.scope, on.basis, first, last, read)


_Read = Callable[[Any, dt.date, dt.date], tuple[Mapping[dt.date, Any], Mapping[dt.date, Sequence[str]]]]


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


def _stored(hashes: Sequence[str], counts: daily.DayCounts) -> StoredDay:
    return StoredDay(len(hashes), hash_inputs(hashes) if hashes else "", counts)


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
                "format": SUMMARY_FORMAT,
                "places": sorted(self.place_settings.items()),
                "response": sorted(vars(self.response).items()),
            }
        )


def incident_rows(
    session: Any, on: IncidentBasis, first: dt.date, last: dt.date, *, cutoff: dt.datetime | None = None
) -> tuple[dict[dt.date, daily.DayCounts], dict[dt.date, list[str]]]:
    """Day summaries of the incidents received from ``first`` to ``last`` read from their rows chunk
    by chunk (with ``cutoff``: those loaded by then), and their content hashes by day."""
    start = dt.datetime.combine(first, dt.time())
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    parts: list[dict[dt.date, daily.DayCounts]] = []
    hashes: dict[dt.date, list[str]] = defaultdict(list)
    for columns, part_hashes in incidents.incident_chunks(session, start, end, cutoff=cutoff):
        frame = incidents_frame(columns, on.place_settings, on.response)
        parts.append(daily.incident_days(frame))
        for day, day_hashes in daily.by_day(frame["received_day"], part_hashes).items():
            hashes[day].extend(day_hashes)
    return daily.merge(parts), dict(hashes)


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

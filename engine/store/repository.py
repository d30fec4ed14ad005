"""The only place that issues queries: assessments, scores, incidents, registry entries and runs."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from sqlalchemy import JSON, Date, String, and_, case, func, insert, or_, select, type_coerce, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from engine.core.errors import Location, Problem, SubmissionError
from engine.inputs.extracts import METRIC_INPUT_COLUMNS
from engine.inputs.submissions import ValidRow
from engine.store.db import Assessment, CaseScore, Database, Incident, Run, RunExecution, json_text
from engine.store.summaries import ASSESSMENTS, INCIDENTS, bump_epochs

#: a second reference to the assessments table, for correlated subqueries over other revisions
Assessment_ = aliased(Assessment)

#: how many ids go into one IN (...) list (SQLite's default host-parameter limit is 32766)
_CHUNK = 5000

COMMON_FIELDS = ("case_type", "case_ref", "place", "team", "officer", "reviewer", "assessed_on", "case_date")


@dataclass
class StoreSummary:
    """What one `qam submit` did, counted by (case type, place)."""

    stored: Counter[tuple[str, str]] = field(default_factory=Counter)
    unchanged: Counter[tuple[str, str]] = field(default_factory=Counter)
    amended: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def totals(self) -> tuple[int, int, int]:
        return sum(self.stored.values()), sum(self.unchanged.values()), sum(self.amended.values())


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _show(value: Any) -> str:
    if value is None:
        return "blank"
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(value)


def _differences(stored: Assessment, row: ValidRow) -> list[str]:
    diffs = [
        f"{name}: stored {_show(getattr(stored, name))}, submitted {_show(getattr(row, name))}"
        for name in COMMON_FIELDS
        if getattr(stored, name) != getattr(row, name)
    ]
    for q in sorted(set(stored.answers) | set(row.answers)):
        old, new = stored.answers.get(q), row.answers.get(q)
        if old != new:
            diffs.append(f"{q}: stored {_show(old)}, submitted {_show(new)}")
    return diffs


def current_assessments(session: Session, assessment_ids: Iterable[str]) -> dict[str, Assessment]:
    ids = sorted(set(assessment_ids))
    found: dict[str, Assessment] = {}
    for chunk in _chunks(ids):
        rows = session.scalars(
            select(Assessment).where(Assessment.assessment_id.in_(chunk), Assessment.is_current.is_(True))
        )
        found.update((a.assessment_id, a) for a in rows)
    return found


def store_assessments(
    session: Session,
    rows: Sequence[ValidRow],
    *,
    amend: bool,
    submitted_at: dt.datetime,
    calibration_set: str | None = None,
) -> StoreSummary:
    """Store valid rows in the caller's transaction: new ids as revision 1, identical rows skipped,
    changed rows as a new revision only with ``amend``; otherwise raise SubmissionError naming
    every conflicting row and field (the caller rolls back, so nothing is half-stored)."""
    existing = current_assessments(session, (r.assessment_id for r in rows))
    summary = StoreSummary()
    problems: list[Problem] = []
    new_objects: list[Assessment] = []
    superseded: list[int] = []
    for row in rows:
        key = (row.case_type, row.place)
        old = existing.get(row.assessment_id)
        if old is not None and old.content_hash == row.content_hash:
            summary.unchanged[key] += 1
            continue
        if old is not None and not amend:
            diffs = _differences(old, row)
            problems.append(
                Problem(
                    Location(row.source_file, row.source_row, "assessment_id"),
                    f"assessment {row.assessment_id} is already stored (revision {old.revision}, "
                    f"from {old.source_file}:{old.source_row}) with different content: "
                    + "; ".join(diffs or ["raw values differ"])
                    + ". Resubmit with --amend to store this as a new revision.",
                )
            )
            continue
        revision = 1
        if old is not None:
            revision = old.revision + 1
            superseded.append(old.pk)
            summary.amended[key] += 1
        else:
            summary.stored[key] += 1
        new_objects.append(
            Assessment(
                assessment_id=row.assessment_id,
                revision=revision,
                is_current=True,
                case_type=row.case_type,
                case_ref=row.case_ref,
                place=row.place,
                team=row.team,
                officer=row.officer,
                reviewer=row.reviewer,
                assessed_on=row.assessed_on,
                case_date=row.case_date,
                answers=dict(row.answers),
                raw=dict(row.raw),
                content_hash=row.content_hash,
                source_file=row.source_file,
                source_row=row.source_row,
                submitted_at=submitted_at,
                calibration_set=calibration_set,
            )
        )
    if problems:
        raise SubmissionError(
            f"{len(problems)} row{'s' if len(problems) != 1 else ''} conflict with stored assessments; "
            "nothing was stored",
            problems,
        )
    for chunk in _chunks(superseded):
        session.execute(update(Assessment).where(Assessment.pk.in_(chunk)).values(is_current=False))
    session.add_all(new_objects)
    session.flush()
    days = [a.assessed_on for a in new_objects]
    days += [old.assessed_on for old in existing.values() if old.pk in set(superseded)]
    bump_epochs(session, ASSESSMENTS, days)
    return summary


def assessment_revisions(session: Session, assessment_id: str) -> list[Assessment]:
    return list(
        session.scalars(
            select(Assessment).where(Assessment.assessment_id == assessment_id).order_by(Assessment.revision)
        )
    )


def list_assessments(
    session: Session,
    *,
    place: str | None = None,
    case_type: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    include_calibration: bool = False,
) -> list[Assessment]:
    """Current revisions, filtered; ordered by date then id."""
    q = select(Assessment).where(Assessment.is_current.is_(True))
    if place:
        q = q.where(Assessment.place == place)
    if case_type:
        q = q.where(Assessment.case_type == case_type)
    if date_from:
        q = q.where(Assessment.assessed_on >= date_from)
    if date_to:
        q = q.where(Assessment.assessed_on <= date_to)
    if not include_calibration:
        q = q.where(Assessment.calibration_set.is_(None))
    return list(session.scalars(q.order_by(Assessment.assessed_on, Assessment.assessment_id)))


def existing_incident_hashes(session: Session, refs: Iterable[str]) -> dict[str, str]:
    refs = sorted(set(refs))
    out: dict[str, str] = {}
    for chunk in _chunks(refs):
        rows = session.execute(
            select(Incident.incident_ref, Incident.content_hash).where(Incident.incident_ref.in_(chunk))
        )
        out.update((ref, digest) for ref, digest in rows)
    return out


def recorded_registry_heads(database: Database) -> list[str]:
    """The registry heads that run manifests recorded, so `verify` can detect deleted newest entries."""
    with database.session() as session:
        manifests = session.scalars(select(Run.manifest))
        return sorted({m["registry_head"] for m in manifests if m.get("registry_head")})


@dataclass(frozen=True)
class IncidentLoad:
    """What loading one incidents extract did."""

    file: str
    new: int
    updated: int
    unchanged: int

    def summary(self) -> str:
        total = self.new + self.updated + self.unchanged
        return (
            f"Loaded {total} incidents from {self.file}: {self.new} new, {self.updated} updated "
            f"(the extract's newer values replace the stored ones), {self.unchanged} unchanged."
        )


def store_incidents(
    session: Session, rows: Sequence[Any], *, source_file: str, loaded_at: dt.datetime
) -> IncidentLoad:
    """Insert new incidents and update changed ones (keyed on incident_ref) in the caller's transaction."""
    existing = existing_incident_hashes(session, (r.incident_ref for r in rows))
    new_rows: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    unchanged = 0
    for r in rows:
        values = {
            "incident_ref": r.incident_ref,
            "place": r.place,
            "grade": r.grade,
            "channel": r.channel,
            "received_at": r.received_at,
            "answered_at": r.answered_at,
            "arrived_at": r.arrived_at,
            "content_hash": r.content_hash,
            "source_file": source_file,
            "source_row": r.line,
            "loaded_at": loaded_at,
        }
        old = existing.get(r.incident_ref)
        if old is None:
            new_rows.append(values)
        elif old != r.content_hash:
            changed.append(values)
        else:
            unchanged += 1
    # the days the rows fall on, as stored and in UTC (the day a run counts them on), old and new
    stamps = [v["received_at"] for v in (*new_rows, *changed)]
    for chunk in _chunks([v["incident_ref"] for v in changed]):
        stamps += [received for (received,) in session.execute(
            select(Incident.received_at).where(Incident.incident_ref.in_(chunk))
        )]  # fmt: skip
    days = {s.date() for s in stamps} | {s.astimezone(dt.UTC).date() for s in stamps if s.tzinfo}
    bump_epochs(session, INCIDENTS, days)
    for chunk in _chunks(new_rows):
        session.execute(insert(Incident), list(chunk))
    for values in changed:
        session.execute(
            update(Incident).where(Incident.incident_ref == values["incident_ref"]).values(**values)
        )
    return IncidentLoad(source_file, len(new_rows), len(changed), unchanged)


def incident_chunks(
    session: Session, start: dt.datetime, end: dt.datetime, *, cutoff: dt.datetime | None = None
) -> Iterator[tuple[dict[str, Sequence[Any]], Sequence[str]]]:
    """Incidents received in [start, end) as the columns their metrics are worked out from
    (extracts.METRIC_INPUT_COLUMNS: not the reference, 0.3 s of a year's read) plus their content hashes,
    all numpy object arrays, in chunks of _FETCH_ROWS rows (a year's million incidents are never
    held as rows of text at once); with ``cutoff``, only those loaded (or last reloaded) at or
    before it.

    Timestamps come back as the driver gives them without SQLAlchemy's per-value parsing (ISO text
    on SQLite, datetimes on PostgreSQL): the framing parses whole columns at once."""
    q = select(
        Incident.place,
        Incident.grade,
        Incident.channel,
        type_coerce(Incident.received_at, String),
        type_coerce(Incident.answered_at, String),
        type_coerce(Incident.arrived_at, String),
        Incident.content_hash,
    )
    received = _unindexed(Incident.received_at) if _wide(session, end - start) else Incident.received_at
    q = q.where(received >= start, received < end)
    if cutoff is not None:
        q = q.where(Incident.loaded_at <= cutoff)
    import numpy as np  # here, not at the top: the CLI's start-up does without it

    # a chunk's columns live only until it is framed (places and channels become categoricals), so
    # its repeated strings are not shared: that cost 2 million dict look-ups a year's read; and
    # numpy turns rows into columns in one C pass (zip(*chunk) took 0.8 s of the million)
    for chunk in _row_chunks(session, q):
        table = np.array(chunk, dtype=object)
        yield {c: table[:, i] for i, c in enumerate(METRIC_INPUT_COLUMNS)}, table[:, -1]


def _row_chunks(session: Session, q: Any) -> Iterator[Sequence[Sequence[Any]]]:
    """The query's rows in chunks of _FETCH_ROWS, as the driver's own tuples: building a million
    SQLAlchemy Row objects would take longer than the query. On PostgreSQL from a server-side
    cursor (psycopg's client would otherwise buffer every row at once) of psycopg's own: SQLAlchemy's
    makes Rows and prefetches one of them, and a year's million incidents came 1.2 s later through it.
    So only for queries whose parameters need no conversion by SQLAlchemy."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        result = connection.execute(q)
        cursor = result.cursor
        closing: Any = result
    else:
        compiled = q.compile(dialect=connection.dialect)
        cursor = closing = connection.connection.driver_connection.cursor(name="qam_row_chunks")
        cursor.execute(str(compiled), compiled.params)
    try:
        while chunk := cursor.fetchmany(_FETCH_ROWS) if cursor else []:
            yield chunk
    finally:
        closing.close()


#: incident rows fetched at a time
_FETCH_ROWS = 50_000


# --------------------------------------------------------------------------- scoring and runs


#: what a run reads of a scored case besides its key, note, content hash and score (SCORED_COLUMNS)
_CASE_COLUMNS = (
    Assessment.assessment_id,
    Assessment.case_ref,
    Assessment.case_type,
    Assessment.place,
    Assessment.team,
    Assessment.officer,
    Assessment.reviewer,
    Assessment.assessed_on,
)


class Pending(NamedTuple):
    """An assessment to score, with what scored_assessments reads of it (see scored_row)."""

    pk: int
    answers: dict[str, Any]
    assessment_id: str
    case_ref: str
    case_type: str
    place: str
    team: str
    officer: str
    reviewer: str
    assessed_on: dt.date
    content_hash: str


def scored_row(
    pending: Pending,
    ruleset_id: str,
    ruleset_version: str,
    outcomes: Mapping[str, str],
    traces: Mapping[str, list[str]],
    score: float | None,
) -> tuple[Any, ...]:
    """The SCORED_COLUMNS row of a pending assessment once its score is stored: what
    scored_assessments would read back (so that a run can go on without reading it)."""
    pk, answers, *case, content_hash = pending
    return (
        pk,
        *case,
        answers.get("notes"),
        content_hash,
        ruleset_id,
        ruleset_version,
        outcomes,
        traces,
        score,
    )


def pending_assessments(
    session: Session,
    case_type: str,
    ruleset_sha256: str,
    *,
    draft: bool,
    until: dt.date,
    since: dt.date | None = None,
) -> list[Pending]:
    """Current, non-calibration assessments of a case type with no score under this ruleset version
    yet, assessed on or before ``until``, by pk."""
    scored = select(CaseScore.pk).where(
        CaseScore.assessment_pk == Assessment.pk,
        CaseScore.ruleset_sha256 == ruleset_sha256,
        CaseScore.draft.is_(draft),
    )
    q = select(Assessment.pk, Assessment.answers, *_CASE_COLUMNS, Assessment.content_hash).where(
        Assessment.case_type == case_type,
        Assessment.is_current.is_(True),
        Assessment.assessed_on <= until,
        Assessment.calibration_set.is_(None),
        ~scored.exists(),  # an index probe per assessment, not a scan of every score
    )
    if since is not None:
        q = q.where(Assessment.assessed_on >= since)
    return [Pending._make(r) for r in _typed_rows(session, q.order_by(Assessment.pk))]


def store_scores(
    session: Session, rows: Sequence[Mapping[str, Any]], *, days: Iterable[dt.date] | None = None
) -> int:
    """Bulk-insert case_scores rows (dicts with the table's columns) in the caller's transaction.
    ``days``: the days the scored assessments were assessed on, when the caller has them (else they
    are read: 2.3 s for a year's 99,000 scores on PostgreSQL)."""
    connection = session.connection()
    if rows and connection.dialect.name == "postgresql":
        _copy_scores(connection, rows)
    elif rows:
        _insert_scores(connection, rows)
    if days is None:
        days = set()
        for chunk in _chunks([r["assessment_pk"] for r in rows]):
            q = select(Assessment.assessed_on).where(Assessment.pk.in_(chunk)).distinct()
            days.update(day for (day,) in session.execute(q))
    bump_epochs(session, ASSESSMENTS, set(days))
    return len(rows)


def _score_columns(rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """case_scores' columns but the key, every one of which each row must give."""
    columns = [c for c in CaseScore.__table__.columns if not c.primary_key]
    missing = [c.name for c in columns if c.name not in rows[0]]
    if missing:
        raise ValueError(f"score rows lack column(s) {', '.join(missing)}")
    return columns


def _insert_scores(connection: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """One executemany of SQLite's driver for a batch of scores, each value converted by its column type's
    own bind processor: what Core's insert does, without building a parameter dict per row (a
    year's 99,000 scores: 2.5 s -> 1.2 s on SQLite)."""
    columns = _score_columns(rows)
    dialect = connection.dialect
    convert = [(c.name, c.type._cached_bind_processor(dialect)) for c in columns]
    table = CaseScore.__table__.name
    sql = (
        f"INSERT INTO {table} ({', '.join(c.name for c in columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    connection.exec_driver_sql(
        sql, [tuple(row[n] if f is None else f(row[n]) for n, f in convert) for row in rows]
    )


def _copy_scores(connection: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """PostgreSQL's COPY for a batch of scores: ten times quicker than INSERTs of 100,000 rows."""
    table = CaseScore.__table__
    names = [c.name for c in _score_columns(rows)]
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    to_text = [n in json_columns for n in names]
    raw = connection.connection.driver_connection  # the psycopg connection, in this transaction
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [json_text(row[n]) if as_json else row[n] for n, as_json in zip(names, to_text, strict=True)]
            )


SCORED_COLUMNS = (
    "assessment_key",
    "assessment_id",
    "case_ref",
    "case_type",
    "place",
    "team",
    "officer",
    "reviewer",
    "assessed_on",
    "note",
    "content_hash",
    "ruleset",
    "ruleset_version",
    "outcomes",
    "traces",
    "score",
)


def scored_assessments(
    session: Session,
    versions: Mapping[str, str],
    *,
    draft: bool,
    date_from: dt.date,
    date_to: dt.date,
    cutoff: dt.datetime | None = None,
    fresh: Sequence[tuple[Any, ...]] = (),
) -> Iterable[tuple[Any, ...]]:
    """Current, non-calibration assessments in the date range with their scores under the given
    ruleset versions ({case_type: sha256}); rows in SCORED_COLUMNS order, by assessment. With
    ``cutoff``, the revisions that were current then (see current_at) instead of today's.

    ``fresh``: rows (scored_row) of scores this run has just stored, by assessment. They are given
    instead of being read back when they are every row of the range, by count: a late, amended or
    concurrent row sends the read to the table."""
    if not versions:
        return []
    where = [
        *_assessed_between(session, date_from, date_to, cutoff),
        Assessment.calibration_set.is_(None),
        CaseScore.draft.is_(draft),
        or_(*(CaseScore.ruleset_sha256 == sha for sha in versions.values())),
    ]
    joined = select(Assessment.pk).join(CaseScore, CaseScore.assessment_pk == Assessment.pk).where(*where)
    if cutoff is None and fresh:
        mine = [r for r in fresh if date_from <= r[8] <= date_to]  # r[8]: assessed_on
        if mine and len(mine) == session.scalar(select(func.count()).select_from(joined.subquery())):
            return mine
    q = joined.with_only_columns(
        Assessment.pk,
        *_CASE_COLUMNS,
        Assessment.answers["notes"].as_string(),
        Assessment.content_hash,
        CaseScore.ruleset_id,
        CaseScore.ruleset_version,
        CaseScore.outcomes,
        CaseScore.traces,
        CaseScore.score,
    )
    return _typed_rows(session, q.order_by(Assessment.pk))


def _typed_rows(session: Session, q: Any) -> Iterator[tuple[Any, ...]]:
    """The query's rows as the driver's own tuples, its JSON parsed and its dates made dates, made a
    chunk at a time as the caller reads them. SQLAlchemy's result processing (a Row per row, a
    function per value) doubled the time of a year's 99,000 scored rows: psycopg parses JSON (with
    orjson, which the dialect sets) and dates itself, and SQLite's stored text is parsed here by
    orjson and date.fromisoformat. So only for queries with no other type SQLAlchemy would process,
    and no NULL JSON or date."""
    if session.connection().dialect.name == "sqlite":
        parse = [
            (i, orjson.loads if isinstance(c.type, JSON) else dt.date.fromisoformat)
            for i, c in enumerate(q.selected_columns)
            if isinstance(c.type, JSON | Date)
        ]
        for chunk in _row_chunks(session, q.with_only_columns(*_raw_columns(q))):
            for row in chunk:
                values = list(row)
                for i, convert in parse:
                    values[i] = convert(values[i])
                yield tuple(values)
        return
    # a client-side cursor: a server-side one was 0.5 s slower for a year's scored rows, all kept
    result = session.connection().execute(q)
    cursor = result.cursor
    try:
        while chunk := cursor.fetchmany(_FETCH_ROWS // 5):
            yield from chunk
    finally:
        result.close()


def _raw_columns(q: Any) -> list[Any]:
    """The query's columns with SQLAlchemy's result processing switched off (text as stored)."""
    return [type_coerce(c, String) if isinstance(c.type, JSON | Date) else c for c in q.selected_columns]


def record_run(
    session: Session,
    *,
    run_id: str,
    kind: str,
    command: str,
    arguments: Mapping[str, Any],
    engine_version: str,
    draft: bool,
    manifest: Mapping[str, Any],
    started_at: dt.datetime,
    finished_at: dt.datetime,
) -> None:
    """Store (or refresh) a run manifest and add this execution's times."""
    run = session.get(Run, run_id)
    if run is None:
        session.add(
            Run(
                run_id=run_id,
                kind=kind,
                command=command,
                arguments=dict(arguments),
                engine_version=engine_version,
                draft=draft,
                manifest=dict(manifest),
                first_run_at=started_at,
                last_run_at=finished_at,
            )
        )
    else:
        run.manifest = dict(manifest)
        run.last_run_at = finished_at
    session.flush()
    session.add(RunExecution(run_id=run_id, started_at=started_at, finished_at=finished_at))


def runs(session: Session) -> list[Run]:
    return list(session.scalars(select(Run).order_by(Run.last_run_at.desc(), Run.run_id)))


def run(session: Session, run_id: str) -> Run | None:
    found = session.get(Run, run_id)
    if found is None and len(run_id) >= 4:
        matches = list(session.scalars(select(Run).where(Run.run_id.startswith(run_id))))
        found = matches[0] if len(matches) == 1 else None
    return found


def run_executions(session: Session, run_id: str) -> list[RunExecution]:
    return list(
        session.scalars(
            select(RunExecution).where(RunExecution.run_id == run_id).order_by(RunExecution.started_at)
        )
    )


# --------------------------------------------------------------------------- audits: data as it stood


#: from this many days on, SQLite reads a date range's rows in key order instead of through the index
#: on the date: a year of them then comes without a page read per row, nor a sort of wide rows (a PEEL
#: year's 99,000 scored assessments: 1.8 s -> 1.0-1.4 s; its million incidents: 4.7 s -> 2.4 s),
#: while a week's few are still found by the index
SCAN_FROM_DAYS = 92


def _wide(session: Session, span: dt.timedelta) -> bool:
    return span.days >= SCAN_FROM_DAYS and session.connection().dialect.name == "sqlite"


def _unindexed(column: Any) -> Any:
    """``column`` behind SQLite's unary +, which keeps its value and hides it from the index planner."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def _assessed_between(
    session: Session, date_from: dt.date, date_to: dt.date, cutoff: dt.datetime | None
) -> list[Any]:
    """The conditions "current (at ``cutoff``) and assessed from ``date_from`` to ``date_to``"."""
    current, on = current_at(cutoff), Assessment.assessed_on
    if cutoff is None and _wide(session, date_to - date_from):
        current, on = _unindexed(Assessment.is_current).is_(True), _unindexed(on)
    return [current, on >= date_from, on <= date_to]


def current_at(cutoff: dt.datetime | None) -> Any:
    """The condition "this revision was the current one at ``cutoff``": submitted at or before it, and
    the highest such revision of its assessment id. None means today's current revisions."""
    if cutoff is None:
        return Assessment.is_current.is_(True)
    newest = (
        select(func.max(Assessment_.revision))
        .where(Assessment.assessment_id == Assessment_.assessment_id, Assessment_.submitted_at <= cutoff)
        .correlate(Assessment)
        .scalar_subquery()
    )
    return and_(Assessment.submitted_at <= cutoff, Assessment.revision == newest)


@dataclass(frozen=True)
class InputChanges:
    """What was stored after a cut-off among the rows a run read: by how many the data moved on."""

    assessments_added: int
    assessments_amended: int
    incidents_loaded: int

    @property
    def any(self) -> bool:
        return bool(self.assessments_added or self.assessments_amended or self.incidents_loaded)


def changes_since(
    session: Session,
    cutoff: dt.datetime,
    *,
    date_from: dt.date,
    date_to: dt.date,
    received_from: dt.datetime | None = None,
    received_to: dt.datetime | None = None,
) -> InputChanges:
    """Non-calibration assessment revisions assessed in [date_from, date_to] and submitted after
    ``cutoff`` (first revisions count as added, later ones as amended), and incidents received in
    [received_from, received_to) loaded or reloaded after it (None: incidents are not counted)."""
    later = select(
        func.count(), func.coalesce(func.sum(case((Assessment.revision == 1, 1), else_=0)), 0)
    ).where(
        Assessment.submitted_at > cutoff,
        Assessment.calibration_set.is_(None),
        Assessment.assessed_on >= date_from,
        Assessment.assessed_on <= date_to,
    )
    total, added = session.execute(later).one()
    incidents = 0
    if received_from is not None and received_to is not None:
        incidents = int(
            session.scalar(
                select(func.count())
                .select_from(Incident)
                .where(
                    Incident.loaded_at > cutoff,
                    Incident.received_at >= received_from,
                    Incident.received_at < received_to,
                )
            )
            or 0
        )
    return InputChanges(int(added), int(total) - int(added), incidents)


def assessment_answers(session: Session, pks: Sequence[int]) -> dict[int, tuple[str, dict[str, Any]]]:
    """The assessment id and stored answers of these assessment revisions, by pk."""
    out: dict[int, tuple[str, dict[str, Any]]] = {}
    for chunk in _chunks(sorted(set(pks))):
        q = select(Assessment.pk, Assessment.assessment_id, Assessment.answers).where(
            Assessment.pk.in_(chunk)
        )
        out.update((pk, (aid, answers)) for pk, aid, answers in session.execute(q))
    return out


def runs_matching(session: Session, prefix: str) -> list[Run]:
    """Runs whose id is ``prefix`` or starts with it (an exact id first), for resolving what a user typed."""
    exact = session.get(Run, prefix)
    if exact is not None:
        return [exact]
    return list(session.scalars(select(Run).where(Run.run_id.startswith(prefix)).order_by(Run.run_id)))


def execution_counts(session: Session) -> dict[str, int]:
    """How many times each run id was executed."""
    q = select(RunExecution.run_id, func.count()).group_by(RunExecution.run_id)
    return {run_id: int(n) for run_id, n in session.execute(q)}


# --------------------------------------------------------------------------- PEEL reruns: what was recorded


def official_scores(
    session: Session, *, date_from: dt.date, date_to: dt.date, cutoff: dt.datetime | None = None
) -> Iterator[tuple[Any, ...]]:
    """Every official (non-draft) score of the current, non-calibration assessments assessed in the
    range, as driver tuples (assessment_pk, assessment_id, case_ref, place, assessed_on, ruleset_id,
    ruleset_version, ruleset_sha256, outcomes, score), ordered by assessment, ruleset and storage
    (scored_at, then pk): the first row of each (assessment, ruleset) is the score first recorded.
    With ``cutoff``: the revisions current then, and the scores stored by then (an audit's view)."""
    q = (
        select(
            Assessment.pk,
            Assessment.assessment_id,
            Assessment.case_ref,
            Assessment.place,
            Assessment.assessed_on,
            CaseScore.ruleset_id,
            CaseScore.ruleset_version,
            CaseScore.ruleset_sha256,
            CaseScore.outcomes,
            CaseScore.score,
        )
        .join(CaseScore, CaseScore.assessment_pk == Assessment.pk)
        .where(
            *_assessed_between(session, date_from, date_to, cutoff),
            Assessment.calibration_set.is_(None),
            CaseScore.draft.is_(False),
        )
        .order_by(Assessment.pk, CaseScore.ruleset_id, CaseScore.scored_at, CaseScore.pk)
    )
    if cutoff is not None:
        q = q.where(CaseScore.scored_at <= cutoff)
    yield from _typed_rows(session, q)


def count_incidents(session: Session, start: dt.datetime, end: dt.datetime, *, up_to: int) -> int:
    """How many incidents were received in [start, end), counting no further than ``up_to`` (decides
    whether reading them in a worker process pays: counting a year's million on PostgreSQL took 1.7 s)."""
    some = (
        select(Incident.pk)
        .where(Incident.received_at >= start, Incident.received_at < end)
        .limit(up_to)
        .subquery()
    )
    return int(session.scalar(select(func.count()).select_from(some)) or 0)


def content_hashes(session: Session, pks: Sequence[int]) -> list[str]:
    """The content hashes of these assessment revisions."""
    out: list[str] = []
    for chunk in _chunks(list(pks)):
        out.extend(session.scalars(select(Assessment.content_hash).where(Assessment.pk.in_(chunk))))
    return out

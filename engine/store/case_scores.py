"""The queries for case scores: the assessments still to score, storing scores in bulk, and reading
scored assessments back (a run's outcomes, a PEEL rerun's recorded scores). Functions take the
caller's session (one transaction).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import JSON, func, or_, select
from sqlalchemy.orm import Session

from engine.store.db import Assessment, CaseScore, json_text
from engine.store.rows import chunks, current_at, typed_rows, unindexed, wide
from engine.store.summaries import ASSESSMENTS, bump_epochs

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
    return (
        pending[0],
        *pending[2:10],  # assessment_id to assessed_on, as _CASE_COLUMNS
        pending.answers.get("notes"),
        pending.content_hash,
        ruleset_id,
        ruleset_version,
        outcomes,
        traces,
        score,
    )


_first = itemgetter(0)


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
    # sorted here: the database would sort the whole rows, answers and all (SQLite: a third of the read)
    return sorted(map(Pending._make, typed_rows(session, q)), key=_first)


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
        for chunk in chunks([r["assessment_pk"] for r in rows]):
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


def _converter(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert`` done once for each object: rows share their outcomes dicts, their scored_at and
    most of their critical failures (score_pending), whose JSON text is then written once, not once
    per row. By identity, for the length of one batch (the rows keep every object alive)."""
    done: dict[int, Any] = {}

    def once(value: Any) -> Any:
        found = done.get(id(value), done)
        if found is done:
            found = done[id(value)] = convert(value)
        return found

    return once


def _insert_scores(connection: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """One executemany of SQLite's driver for a batch of scores, each value converted by its column type's
    own bind processor: what Core's insert does, without building a parameter dict per row (a
    year's 99,000 scores: 2.5 s -> 1.2 s on SQLite)."""
    columns = _score_columns(rows)
    dialect = connection.dialect
    names = [c.name for c in columns]
    processors = [c.type._cached_bind_processor(dialect) for c in columns]
    convert = [None if f is None else _converter(f) for f in processors]
    table = CaseScore.__tablename__
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(columns))})"
    values = itemgetter(*names)
    params = []
    for row in rows:
        params.append(tuple([v if f is None else f(v) for v, f in zip(values(row), convert, strict=True)]))
    connection.exec_driver_sql(sql, params)


def _copy_scores(connection: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """PostgreSQL's COPY for a batch of scores: ten times quicker than INSERTs of 100,000 rows."""
    names = [c.name for c in _score_columns(rows)]
    json_columns = {c.name for c in CaseScore.__table__.columns if isinstance(c.type, JSON)}
    convert = [_converter(json_text) if n in json_columns else None for n in names]
    values = itemgetter(*names)
    raw = connection.connection.driver_connection  # the psycopg connection, in this transaction
    copying = f"COPY {CaseScore.__tablename__} ({', '.join(names)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(copying) as copy:
        for row in rows:
            copy.write_row([v if f is None else f(v) for v, f in zip(values(row), convert, strict=True)])


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
    ``cutoff``, the revisions that were current then (see rows.current_at) instead of today's.

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
    return typed_rows(session, q.order_by(Assessment.pk))


def _assessed_between(
    session: Session, date_from: dt.date, date_to: dt.date, cutoff: dt.datetime | None
) -> list[Any]:
    """The conditions "current (at ``cutoff``) and assessed from ``date_from`` to ``date_to``"."""
    current, on = current_at(cutoff), Assessment.assessed_on
    if cutoff is None and wide(session, date_to - date_from):
        current, on = unindexed(Assessment.is_current).is_(True), unindexed(on)
    return [current, on >= date_from, on <= date_to]


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
    yield from typed_rows(session, q)

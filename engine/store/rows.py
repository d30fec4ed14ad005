"""What the store's query modules share: ids in IN-list chunks, rows read as the driver's own tuples,
and the conditions "current at a cut-off" and "a date range wide enough to scan" on SQLite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, Date, String, and_, func, select, text, type_coerce, update
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from engine.store.db import Assessment

#: a second reference to the assessments table, for correlated subqueries over other revisions
Assessment_ = aliased(Assessment)

#: how many ids go into one IN (...) list (SQLite's default host-parameter limit is 32766)
_CHUNK = 5000

#: incident rows fetched at a time
FETCH_ROWS = 50_000

#: rows fetched at a time by typed_rows on SQLite, whose rows carry their JSON as text: a year's
#: scored rows (~1 KB of outcomes and traces each) held 50 MB more fetched 50,000 at a time
TEXT_ROWS = 2_000

#: from this many days on, SQLite reads a date range's rows in key order instead of through the index
#: on the date: a year of them then comes without a page read per row, nor a sort of wide rows (a PEEL
#: year's 99,000 scored assessments: 1.8 s -> 1.0-1.4 s; its million incidents: 4.7 s -> 2.4 s),
#: while a week's few are still found by the index
SCAN_FROM_DAYS = 92


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def row_chunks(session: Session, q: Any, size: int = FETCH_ROWS) -> Iterator[Sequence[Sequence[Any]]]:
    """The query's rows in chunks of ``size``, as the driver's own tuples: building a million
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
        driver: Any = connection.connection.driver_connection  # psycopg's own connection
        cursor = closing = driver.cursor(name="qam_row_chunks")
        cursor.execute(str(compiled), compiled.params)
    try:
        while chunk := cursor.fetchmany(size) if cursor else []:
            yield chunk
    finally:
        closing.close()


def typed_rows(session: Session, q: Any) -> Iterator[tuple[Any, ...]]:
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
        for chunk in row_chunks(session, q.with_only_columns(*_raw_columns(q)), TEXT_ROWS):
            for row in chunk:
                values = list(row)
                for i, convert in parse:
                    values[i] = convert(values[i])
                yield tuple(values)
        return
    # a client-side cursor: a server-side one was 0.5 s slower for a year's scored rows, all kept
    result = session.connection().execute(q)
    cursor: Any = result.cursor
    try:
        while chunk := cursor.fetchmany(FETCH_ROWS // 5):
            yield from chunk
    finally:
        result.close()


def _raw_columns(q: Any) -> list[Any]:
    """The query's columns with SQLAlchemy's result processing switched off (text as stored)."""
    return [type_coerce(c, String) if isinstance(c.type, JSON | Date) else c for c in q.selected_columns]


def wide(session: Session, span: dt.timedelta) -> bool:
    return span.days >= SCAN_FROM_DAYS and session.connection().dialect.name == "sqlite"


def unindexed(column: Any) -> Any:
    """``column`` behind SQLite's unary +, which keeps its value and hides it from the index planner."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


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


def lock_for_writing(
    session: Session, key: InstrumentedAttribute[int], pg_mode: str, *, timeout_seconds: int | None = None
) -> None:
    """Take a table's writer lock for the rest of the caller's transaction, before it reads what it
    will write after. PostgreSQL: ``LOCK TABLE ... IN <pg_mode> MODE`` (with a lock timeout when
    given). SQLite: an empty UPDATE on ``key``'s table, which makes the driver open the write
    transaction now (SQLite has one writer at a time)."""
    table = key.class_.__tablename__
    if session.get_bind().dialect.name == "postgresql":
        if timeout_seconds is not None:
            session.execute(text(f"SET LOCAL lock_timeout = '{timeout_seconds}s'"))
        session.execute(text(f"LOCK TABLE {table} IN {pg_mode} MODE"))
    else:
        session.execute(update(key.class_).where(key < 0).values({key: key}))

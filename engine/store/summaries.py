"""The queries behind the day summaries (made by engine.analysis.daily, kept and read by
engine.runs.gather): epochs and stored summaries.

Every write of assessments, scores or incidents bumps the epoch of each day it touches, in the same
transaction; a stored day summary counts only while its epoch is that day's current one. A run that
reads a day's epochs before its rows can never keep a summary of rows that changed under it: the
summary carries the older epoch and is simply made again next time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.store.db import DayEpoch, DaySummary

ASSESSMENTS = "assessments"
INCIDENTS = "incidents"


@dataclass(frozen=True)
class StoredDay:
    """One day's summary: how many rows, the hash of their content hashes, and the counts."""

    rows: int
    inputs_sha256: str
    counts: dict[str, Any]


def _insert(session: Session) -> Any:
    """INSERT with ON CONFLICT for the connected database (SQLite and PostgreSQL both have it)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert


def bump_epochs(session: Session, source: str, days: Iterable[dt.date]) -> None:
    """Mark days whose stored rows of ``source`` changed (in the caller's transaction)."""
    values = [{"source": source, "day": d, "epoch": 1} for d in sorted(set(days))]
    if not values:
        return
    insert = _insert(session)
    for start in range(0, len(values), 2000):
        stmt = insert(DayEpoch).values(values[start : start + 2000])
        stmt = stmt.on_conflict_do_update(
            index_elements=["source", "day"], set_={"epoch": DayEpoch.epoch + 1}
        )
        session.execute(stmt)


def epochs(session: Session, source: str, first: dt.date, last: dt.date) -> dict[dt.date, int]:
    """The current epoch of each day from ``first`` to ``last`` (days never written are at 0)."""
    q = select(DayEpoch.day, DayEpoch.epoch).where(
        DayEpoch.source == source, DayEpoch.day >= first, DayEpoch.day <= last
    )
    return {day: epoch for day, epoch in session.execute(q)}


def _current(q: Any, source: str, scope: str, basis: str, first: dt.date, last: dt.date) -> Any:
    """``q`` (over day_summaries) kept to the summaries from ``first`` to ``last`` that are still
    current: their epoch is their day's (days never written are at 0)."""
    return q.outerjoin(
        DayEpoch, and_(DayEpoch.source == DaySummary.source, DayEpoch.day == DaySummary.day)
    ).where(
        DaySummary.source == source,
        DaySummary.scope == scope,
        DaySummary.basis == basis,
        DaySummary.day >= first,
        DaySummary.day <= last,
        DaySummary.epoch == func.coalesce(DayEpoch.epoch, 0),
    )


def current_summaries(
    session: Session, source: str, scope: str, basis: str, first: dt.date, last: dt.date
) -> dict[dt.date, StoredDay]:
    """The stored summaries from ``first`` to ``last`` that are still current."""
    q = select(DaySummary.day, DaySummary.rows, DaySummary.inputs_sha256, DaySummary.counts)
    q = _current(q, source, scope, basis, first, last)
    return {day: StoredDay(rows, digest, counts) for day, rows, digest, counts in session.execute(q)}


def count_current(
    session: Session, source: str, scope: str, basis: str, first: dt.date, last: dt.date
) -> int:
    """How many days from ``first`` to ``last`` have a current summary."""
    q = _current(select(func.count()).select_from(DaySummary), source, scope, basis, first, last)
    return int(session.scalar(q) or 0)


def store_summaries(
    session: Session,
    source: str,
    scope: str,
    basis: str,
    days: Mapping[dt.date, StoredDay],
    day_epochs: Mapping[dt.date, int],
) -> None:
    """Keep (or replace) day summaries, each with the epoch its day had when its rows were read."""
    values: Sequence[dict[str, Any]] = [
        {
            "source": source,
            "scope": scope,
            "basis": basis,
            "day": day,
            "epoch": day_epochs.get(day, 0),
            "rows": s.rows,
            "inputs_sha256": s.inputs_sha256,
            "counts": s.counts,
        }
        for day, s in sorted(days.items())
    ]
    insert = _insert(session)
    for start in range(0, len(values), 500):
        stmt = insert(DaySummary).values(list(values[start : start + 500]))
        stmt = stmt.on_conflict_do_update(
            index_elements=["source", "scope", "basis", "day"],
            set_={c: stmt.excluded[c] for c in ("epoch", "rows", "inputs_sha256", "counts")},
        )
        session.execute(stmt)

"""The queries for incidents: loading an extract (new and changed rows, keyed on the reference) and
reading a span of them back as columns, a chunk at a time. Functions take the caller's session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import String, func, insert, select, type_coerce, update
from sqlalchemy.orm import Session

from engine.inputs.extracts import STORED_INPUT_COLUMNS
from engine.store.db import Incident
from engine.store.rows import chunks, row_chunks, unindexed, wide
from engine.store.summaries import INCIDENTS, bump_epochs

if TYPE_CHECKING:  # numpy is imported where the rows are read: the CLI's start-up does without it
    from numpy.typing import NDArray


def existing_incident_hashes(session: Session, refs: Iterable[str]) -> dict[str, str]:
    refs = sorted(set(refs))
    out: dict[str, str] = {}
    for chunk in chunks(refs):
        rows = session.execute(
            select(Incident.incident_ref, Incident.content_hash).where(Incident.incident_ref.in_(chunk))
        )
        out.update((ref, digest) for ref, digest in rows)
    return out


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
            "team": getattr(r, "team", None),
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
    for chunk in chunks([v["incident_ref"] for v in changed]):
        stamps += [received for (received,) in session.execute(
            select(Incident.received_at).where(Incident.incident_ref.in_(chunk))
        )]  # fmt: skip
    days = {s.date() for s in stamps} | {s.astimezone(dt.UTC).date() for s in stamps if s.tzinfo}
    bump_epochs(session, INCIDENTS, days)
    for chunk in chunks(new_rows):
        session.execute(insert(Incident), list(chunk))
    for values in changed:
        session.execute(
            update(Incident).where(Incident.incident_ref == values["incident_ref"]).values(**values)
        )
    return IncidentLoad(source_file, len(new_rows), len(changed), unchanged)


class IncidentChunk(NamedTuple):
    """A chunk of incidents read by incident_chunks: their STORED_INPUT_COLUMNS (the team None where
    there is none) and content hashes."""

    columns: dict[str, NDArray[Any]]
    hashes: NDArray[Any]


def incident_chunks(
    session: Session, start: dt.datetime, end: dt.datetime, *, cutoff: dt.datetime | None = None
) -> Iterator[IncidentChunk]:
    """Incidents received in [start, end) as the columns their metrics are worked out from
    (extracts.STORED_INPUT_COLUMNS: not the reference, 0.3 s of a year's read) plus their content hashes,
    all numpy object arrays, in chunks of rows.FETCH_ROWS rows (a year's million incidents are never
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
        Incident.team,
        Incident.content_hash,
    )
    received = unindexed(Incident.received_at) if wide(session, end - start) else Incident.received_at
    q = q.where(received >= start, received < end)
    if cutoff is not None:
        q = q.where(Incident.loaded_at <= cutoff)
    import numpy as np  # here, not at the top: the CLI's start-up does without it

    # a chunk's columns live only until it is framed (places and channels become categoricals), so
    # its repeated strings are not shared: that cost 2 million dict look-ups a year's read; and
    # numpy turns rows into columns in one C pass (zip(*chunk) took 0.8 s of the million)
    for chunk in row_chunks(session, q):
        table = np.array(chunk, dtype=object)
        yield IncidentChunk({c: table[:, i] for i, c in enumerate(STORED_INPUT_COLUMNS)}, table[:, -1])


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

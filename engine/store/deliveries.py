"""The delivery log's queries: add an outcome (each in its own committed transaction, so what was
sent is recorded before the next message is), read a week's log back as plain records, and the
manifest of the run whose files are delivered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import select

from engine.store.db import Database, Run
from engine.store.delivery_tables import DeliveryRow


@dataclass(frozen=True)
class Delivery:
    """One row of the delivery log (``pk`` is None until it is stored)."""

    run_id: str
    week: str
    place: str
    recipient: str
    email: str
    kind: str
    message_id: str
    fingerprint: str
    replaces: str | None
    outcome: str
    attempts: int
    detail: str
    sent_at: dt.datetime | None
    recorded_at: dt.datetime
    pk: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """(week, place, address compared case-blind): one person's copy of one place's briefing."""
        return (self.week, self.place, self.email.lower())


_COLUMNS = tuple(f.name for f in fields(Delivery) if f.name != "pk")


def record_delivery(database: Database, entry: Delivery) -> Delivery:
    """Add ``entry`` to the log and commit; returns it with its ``pk``."""
    with database.session() as session:
        row = DeliveryRow(**{name: getattr(entry, name) for name in _COLUMNS})
        session.add(row)
        session.flush()
        pk = row.pk
    return Delivery(**{name: getattr(entry, name) for name in _COLUMNS}, pk=pk)


def week_deliveries(database: Database, week: str) -> list[Delivery]:
    """Every row of the log for one week (period label), in the order they were recorded."""
    with database.session() as session:
        rows = session.scalars(select(DeliveryRow).where(DeliveryRow.week == week).order_by(DeliveryRow.pk))
        return [_record(r) for r in rows]


def _record(row: DeliveryRow) -> Delivery:
    values = {name: getattr(row, name) for name in _COLUMNS}
    for name in ("sent_at", "recorded_at"):  # in UTC (SQLite hands back naive datetimes: UTC ones)
        when = values[name]
        if when is not None:
            values[name] = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    return Delivery(**values, pk=row.pk)


@dataclass(frozen=True)
class RecordedRun:
    """What the run manifest says of a run whose briefings are to be delivered."""

    run_id: str
    kind: str
    draft: bool
    arguments: Mapping[str, Any]
    #: file name -> sha256 of every file the run wrote
    outputs: Mapping[str, str]
    #: the catalogue the run used, {id, version, sha256} (None for a run made before QAM recorded it)
    catalogue: Mapping[str, str] | None = None


def recorded_run(database: Database, run_id: str) -> RecordedRun | None:
    """The run ``run_id`` as its manifest recorded it; None when this database has no such run."""
    with database.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            return None
        outputs = run.manifest.get("outputs") or {}
        catalogue = run.manifest.get("catalogue")
        return RecordedRun(
            run.run_id,
            run.kind,
            bool(run.draft),
            dict(run.arguments),
            dict(outputs),
            dict(catalogue) if isinstance(catalogue, dict) else None,
        )

"""The delivery log's table: one row per outcome of each briefing e-mailed (or meant to be) by
`qam deliver`. Rows are only ever added, never changed or deleted.

Registered on the schema's metadata by ``engine.store`` on import, like the tables in ``db``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.db import Base


class DeliveryRow(Base):
    """One outcome of one message: a briefing of one run to one recipient of one place (or of the
    force, place ``force``). ``sending`` is written before the mail server is spoken to, so a
    crash between its acceptance and the next row is seen: the message is then sent again under
    the same Message-ID."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_week_place", "week", "place", "email"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    #: the run's period label, e.g. 2026-W47
    week: Mapped[str] = mapped_column(String(12))
    #: a place code, or "force" for force.pdf's list
    place: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    #: briefing | update | withdrawal
    kind: Mapped[str] = mapped_column(String(12))
    message_id: Mapped[str] = mapped_column(String(250))
    #: sha256 of the place's exceptions as the run's exceptions.json states them
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: the Message-ID of the message this one replaces (an update or withdrawal)
    replaces: Mapped[str | None] = mapped_column(String(250), nullable=True)
    #: sending | delivered | unchanged | refused | failed | too_large
    outcome: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer)
    #: the mail server's answer or the error, as it said it
    detail: Mapped[str] = mapped_column(Text)
    #: when the mail server accepted it (delivered rows only)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

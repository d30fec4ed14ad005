"""The Learning Review actions' table (`qam actions`): one row per action agreed at a review, for
one catalogue item and one place (or the force). What an action says, who owns it and when it is due
are never changed once stored: closing it only sets ``closed_on`` and ``closing_note``.

Registered on the schema's metadata by ``engine.store`` on import, like the tables in ``db``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.db import Base

#: the longest owner and action text stored (characters)
MAX_OWNER = 120
MAX_TEXT = 2000
#: the place of an action for the whole force rather than one place
FORCE_PLACE = "FORCE"


class ActionRow(Base):
    """One action: open while ``closed_on`` is null; ``closing_note`` is "" while open."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: a catalogue item id, e.g. D7
    item: Mapped[str] = mapped_column(String(16))
    #: a place code of the force file, or FORCE
    place: Mapped[str] = mapped_column(String(16), index=True)
    owner: Mapped[str] = mapped_column(String(MAX_OWNER))
    due: Mapped[dt.date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    raised_on: Mapped[dt.date] = mapped_column(Date)
    #: the review (quarter label, e.g. 2026-Q3) where it was agreed, if any
    review: Mapped[str | None] = mapped_column(String(12), nullable=True)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    closing_note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

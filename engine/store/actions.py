"""The Learning Review actions' queries: add an action, close it, list them. An action's item,
place, owner, due date and text are never changed once stored (the audit trail of what was agreed);
closing sets only its closing day and note, once. Validation against the catalogue and the force
file is engine.runs.actions' work; this module stores what it is given."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update

from engine.core.errors import EngineError, Location, UsageError
from engine.store.action_tables import ActionRow
from engine.store.db import Database

#: the statuses list_actions filters on
STATUSES = ("open", "closed", "all")


@dataclass(frozen=True)
class Action:
    """One stored action (docs/reviews.md#actions). ``closed_on`` is None while it is open, and
    ``closing_note`` is "" until it is closed (and when it was closed without a note)."""

    id: int
    item: str
    place: str
    owner: str
    due: dt.date
    text: str
    raised_on: dt.date
    review: str | None
    closed_on: dt.date | None
    closing_note: str

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    def overdue(self, as_of: dt.date) -> bool:
        """Open and due before ``as_of``: an action due on the day itself is not yet overdue.
        Example: ``action.overdue(dt.date(2027, 2, 1))`` for one due 2027-01-31 and still open."""
        return self.closed_on is None and self.due < as_of

    def status(self, as_of: dt.date) -> str:
        """'open', 'overdue' (open, due before ``as_of``) or 'closed'."""
        if self.closed_on is not None:
            return "closed"
        return "overdue" if self.overdue(as_of) else "open"


def add_action(
    db: Database,
    *,
    item: str,
    place: str,
    owner: str,
    due: dt.date,
    text: str,
    raised_on: dt.date,
    review: str | None,
    created_at: dt.datetime,
) -> Action:
    """Store one new, open action (one row, committed) and return it with its id."""
    with db.session() as session:
        row = ActionRow(
            item=item,
            place=place,
            owner=owner,
            due=due,
            text=text,
            raised_on=raised_on,
            review=review,
            closed_on=None,
            closing_note="",
            created_at=created_at,
        )
        session.add(row)
        session.flush()
        return _action(row)


def get_action(db: Database, action_id: int) -> Action | None:
    """The action with id ``action_id``; None when there is none."""
    with db.session() as session:
        row = session.get(ActionRow, action_id)
        return None if row is None else _action(row)


def close_action(db: Database, action_id: int, *, closed_on: dt.date, note: str) -> Action:
    """Close an open action on ``closed_on`` with ``note``; EngineError (exit 3), nothing changed, when
    there is no such action or it is already closed. Two closes at once: only one of them closes it."""
    where = Location(field=f"action {action_id}")
    with db.session() as session:
        done = session.execute(
            update(ActionRow)
            .where(ActionRow.id == action_id, ActionRow.closed_on.is_(None))
            .values(closed_on=closed_on, closing_note=note)
            .execution_options(synchronize_session=False)
        )
        row = session.get(ActionRow, action_id)
        if row is None:
            raise EngineError(
                "there is no such action",
                location=where,
                hint="`qam actions list --status all` lists every action with its id.",
            )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            assert row.closed_on is not None
            raise EngineError(
                f"it was closed on {row.closed_on.isoformat()} and cannot be closed again",
                location=where,
                hint="An action is never reopened or edited: add a new one with `qam actions add` if work remains.",
            )
        session.refresh(row)
        return _action(row)


def list_actions(db: Database, *, status: str = "open", place: str | None = None) -> list[Action]:
    """The actions with ``status`` open, closed or all (UsageError otherwise), of one place (a place
    code or FORCE) or of every place when ``place`` is None; by due date, then id.

    Example: ``[a for a in list_actions(db, place="BLK") if a.overdue(dt.date(2027, 2, 1))]``
    """
    if status not in STATUSES:
        raise UsageError(f"unknown action status '{status}' (use open, closed or all)")
    query = select(ActionRow).order_by(ActionRow.due, ActionRow.id)
    if status == "open":
        query = query.where(ActionRow.closed_on.is_(None))
    elif status == "closed":
        query = query.where(ActionRow.closed_on.is_not(None))
    if place is not None:
        query = query.where(ActionRow.place == place)
    with db.session() as session:
        return [_action(row) for row in session.scalars(query)]


def _action(row: ActionRow) -> Action:
    return Action(
        id=row.id,
        item=row.item,
        place=row.place,
        owner=row.owner,
        due=row.due,
        text=row.text,
        raised_on=row.raised_on,
        review=row.review,
        closed_on=row.closed_on,
        closing_note=row.closing_note,
    )

"""`qam actions add|list|close`: the actions agreed at a Learning Review, checked before they are
stored (the item against the catalogue in use, the place against the force file, ISO dates, a due
date not before the day raised), listed with what is overdue as of a day, and written as a tidy CSV
for Power BI. An action is never edited: closing it records only the day and a note
(docs/reviews.md#actions). A problem with what is given is exit 3, naming the option; nothing is
stored."""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.core.config import Settings, load_force
from engine.core.errors import EngineError, Location, ReportError, UsageError
from engine.core.periods import parse_date, parse_grain_period
from engine.core.shape import suggest
from engine.core.text import csv_row_writer, inert_cell
from engine.rules.catalogue import Measure, load_measure_catalogue
from engine.store import actions as store
from engine.store.action_tables import FORCE_PLACE, MAX_OWNER, MAX_TEXT
from engine.store.actions import Action
from engine.store.schema import initialised

#: the columns of `qam actions list --csv FILE`, one row per action
CSV_COLUMNS = (
    "id",
    "item",
    "item_name",
    "place",
    "place_name",
    "owner",
    "raised_on",
    "review",
    "due",
    "status",
    "days_overdue",
    "closed_on",
    "closing_note",
    "text",
    "as_of",
)


@dataclass(frozen=True)
class ActionListing:
    """The actions of one `qam actions list`: their status filter, place (None: every place) and the
    day they are judged overdue as of, with the catalogue's item names and the force's place names."""

    actions: tuple[Action, ...]
    status: str
    place: str | None
    as_of: dt.date
    item_names: dict[str, str]
    place_names: dict[str, str]

    @property
    def overdue(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.overdue(self.as_of))

    def days_overdue(self, action: Action) -> int | None:
        """Whole days since the due date for an overdue action, else None."""
        return (self.as_of - action.due).days if action.overdue(self.as_of) else None


def add_action(
    settings: Settings,
    *,
    item: str,
    place: str,
    owner: str,
    due: str,
    text: str,
    review: str | None = None,
    raised_on: str | None = None,
    now: Callable[[], dt.datetime],
) -> Action:
    """Check one action and store it, open. Example: qam actions add --item D7 --place BLK
    --owner "Insp X" --due 2027-01-31 --text "Refresh DASH training for Response B team\""""
    today = local_day(now())
    item = _item(settings, item)
    place = _place(settings, place)
    owner = _text(owner, "--owner", MAX_OWNER, one_line=True)
    text = _text(text, "--text", MAX_TEXT)
    raised = _day(raised_on, "--raised-on") if raised_on is not None else today
    due_on = _day(due, "--due")
    if due_on < raised:
        raise EngineError(
            f"the action is due on {due_on.isoformat()}, before the day it was raised ({raised.isoformat()})",
            location=Location(field="--due"),
        )
    label = _review(review) if review is not None else None
    with initialised(settings.database_url) as db:
        return store.add_action(
            db,
            item=item,
            place=place,
            owner=owner,
            due=due_on,
            text=text,
            raised_on=raised,
            review=label,
            created_at=now(),
        )


def close_action(
    settings: Settings,
    action_id: int,
    *,
    note: str = "",
    on: str | None = None,
    now: Callable[[], dt.datetime],
) -> Action:
    """Close an open action on a day (default today) with a note; nothing else about it changes.
    Example: qam actions close 3 --note "Training delivered 12 January" --on 2027-01-12"""
    today = local_day(now())
    note = _text(note, "--note", MAX_TEXT, required=False)
    closed_on = _day(on, "--on") if on is not None else today
    if closed_on > today:
        raise EngineError(
            f"{closed_on.isoformat()} is still to come (today is {today.isoformat()}): close an action "
            "once it is done",
            location=Location(field="--on"),
        )
    with initialised(settings.database_url) as db:
        action = store.get_action(db, action_id)
        if action is not None and action.is_open and closed_on < action.raised_on:
            raise EngineError(
                f"action {action_id} was raised on {action.raised_on.isoformat()}, after "
                f"{closed_on.isoformat()}",
                location=Location(field="--on"),
            )
        # no such action, or closed already: the store says so (exit 3) and changes nothing
        return store.close_action(db, action_id, closed_on=closed_on, note=note)


def list_actions(
    settings: Settings, *, status: str = "open", place: str | None = None, as_of: dt.date
) -> ActionListing:
    """The actions with a status (open, closed or all) of a place or FORCE (default every place),
    overdue judged as of a day. Example: qam actions list --status all --place BLK --as-of 2027-02-01"""
    if status not in store.STATUSES:
        raise UsageError(f"--status '{status}' is not a status: use open, closed or all")
    code = _place(settings, place) if place is not None else None
    items = _catalogue(settings)
    force = load_force(settings.force_file)
    with initialised(settings.database_url) as db:
        found = store.list_actions(db, status=status, place=code)
    return ActionListing(
        tuple(found),
        status,
        code,
        as_of,
        {i: m.name for i, m in items.items()},
        {FORCE_PLACE: force.name} | {p.code: p.name for p in force.places},
    )


def write_actions_csv(listing: ActionListing, path: Path) -> Path:
    """The listing as a tidy CSV (CSV_COLUMNS; ISO dates, blank where there is nothing; text cells
    inert for spreadsheets), replaced at once. ReportError (exit 4) when it cannot be written."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            write = csv_row_writer(fh)
            write(CSV_COLUMNS)
            for a in listing.actions:
                days = listing.days_overdue(a)
                row = (
                    a.id,
                    a.item,
                    listing.item_names.get(a.item, ""),
                    a.place,
                    listing.place_names.get(a.place, ""),
                    a.owner,
                    a.raised_on.isoformat(),
                    a.review or "",
                    a.due.isoformat(),
                    a.status(listing.as_of),
                    "" if days is None else days,
                    a.closed_on.isoformat() if a.closed_on else "",
                    a.closing_note,
                    a.text,
                    listing.as_of.isoformat(),
                )
                write(inert_cell(v) for v in row)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def local_day(moment: dt.datetime) -> dt.date:
    """The day it is at ``moment`` where QAM runs: "today" for an action is the user's day, not UTC's
    (at 00:30 BST on 1 February it is 1 February)."""
    return moment.astimezone().date()


def _catalogue(settings: Settings) -> dict[str, Measure]:
    return dict(load_measure_catalogue(settings.catalogue_file).measures)


def _item(settings: Settings, item: str) -> str:
    items = _catalogue(settings)
    value = item.strip()
    if value not in items:
        raise EngineError(
            f"'{value}' is not an item of the catalogue {settings.catalogue_file.name}"
            + suggest(value, items, ignore_case=True),
            location=Location(field="--item"),
            hint="Give a catalogue item id such as D7 (`qam actions` takes items, not criteria).",
        )
    return value


def _place(settings: Settings, place: str) -> str:
    force = load_force(settings.force_file)
    value = place.strip()
    if value.upper() == FORCE_PLACE:
        return FORCE_PLACE
    if value not in force.place_codes:
        raise EngineError(
            f"'{value}' is not a place of the force file {settings.force_file.name}"
            + suggest(value, [*force.place_codes, FORCE_PLACE]),
            location=Location(field="--place"),
            hint=f"Give a place code, or {FORCE_PLACE} for an action of the whole force.",
        )
    return value


def _day(text: str, option: str) -> dt.date:
    try:
        return parse_date(text.strip(), option)
    except UsageError as exc:  # a date of the action is input, not command-line syntax: exit 3
        raise EngineError(exc.message) from None


def _review(text: str) -> str:
    value = text.strip()
    try:
        period = parse_grain_period(value)
    except ValueError:
        period = None
    if period is None or period.grain != "quarter":
        raise EngineError(
            f"'{value}' is not a quarter: write the review's quarter as 2026-Q3",
            location=Location(field="--review"),
        )
    return value


def _text(value: str, option: str, limit: int, *, required: bool = True, one_line: bool = False) -> str:
    """The text given as ``option``, trimmed: required unless not ``required``, at most ``limit``
    characters, without control characters (PostgreSQL refuses NUL; line breaks only where allowed)."""
    where = Location(field=option)
    text = value.replace("\r\n", "\n").strip()
    if required and not text:
        raise EngineError("is required and was left blank", location=where)
    if len(text) > limit:
        raise EngineError(f"is {len(text):,} characters long; at most {limit:,} are kept", location=where)
    allowed = "" if one_line else "\n\t"
    bad = next((c for c in text if unicodedata.category(c) == "Cc" and c not in allowed), None)
    if bad is not None:
        kind = "a line break" if bad in "\r\n" else f"the control character U+{ord(bad):04X}"
        raise EngineError(f"holds {kind}, which it may not", location=where)
    return text

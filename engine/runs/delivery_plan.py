"""What `qam deliver` has to send for a week: the week's folder read and checked against its run's
manifest, then, from the force file's recipients and the delivery log, each message still owed.

Exactly once, per person and place: a message the log shows delivered for this run is not sent
again; a new run of the week sends an update replacing what the person holds, or nothing when the
place's exceptions are the same; a place whose exceptions are gone gets a withdrawal notice. A
place's message goes only to that place's recipients: a message is planned from the place itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.config import Force
from engine.core.errors import ReportError
from engine.core.hashing import canonical_json, sha256_text
from engine.core.models import PerformanceException
from engine.core.periods import Period
from engine.core.recipients import Recipient
from engine.reports.cases_csv import cases_csv_name
from engine.reports.mail_message import exceptions_of
from engine.store.db import Database
from engine.store.deliveries import Delivery, recorded_run

#: the delivery log's place for force.pdf's list (place codes are capitals and digits)
FORCE_KEY = "force"
FORCE_PDF = "force.pdf"
#: outcomes after which nothing more is owed for that run
SETTLED = ("delivered", "unchanged")


@dataclass(frozen=True)
class WeekRun:
    """A week's folder as its weekly run wrote it, checked against the run's manifest."""

    folder: Path
    run_id: str
    period: Period
    entries: tuple[Mapping[str, Any], ...]  # exceptions.json's entries, then its team_exceptions
    exceptions: tuple[PerformanceException, ...]
    outputs: Mapping[str, str]  # file name -> sha256, as the run recorded them
    #: the catalogue the run used, {id, version, sha256}: its measure and priority names
    catalogue: Mapping[str, str] | None = None

    def entries_of(self, key: str) -> list[Mapping[str, Any]]:
        """A place's entries (every entry for the force list)."""
        return list(self.entries) if key == FORCE_KEY else [e for e in self.entries if e["place"] == key]

    def attachments(self, key: str) -> tuple[str, ...]:
        return (FORCE_PDF,) if key == FORCE_KEY else (f"{key}.pdf", cases_csv_name(key))

    def read(self, name: str) -> bytes:
        """A file of the run, refused unless it is byte for byte what the run recorded."""
        path = self.folder / name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
        if hashlib.sha256(data).hexdigest() != self.outputs.get(name):
            raise ReportError(
                f"{path} is not the file run {self.run_id} wrote (its sha256 differs from the run's "
                "manifest): nothing is sent from a folder changed by hand",
                hint=f"Run `qam weekly --week {self.period.label}` again to write the week's files afresh.",
            )
        return data


def read_week(database: Database, out: Path, week: Period) -> WeekRun:
    """``out``/WEEK as its weekly run wrote it; ReportError (exit 4) when the folder is missing, is
    not a recorded weekly run of this database, is a DRAFT, or its exceptions.json was changed."""
    folder = out / week.label
    hint = f"Run `qam weekly --week {week.label} --out {out}` first, or give the --out it used."
    if not (folder / "exceptions.json").is_file():
        raise ReportError(
            f"no weekly run's files for {week.label} in {out} ({folder}/exceptions.json)", hint=hint
        )
    raw = _read_json(folder / "exceptions.json")
    run_id = raw.get("run_id") if isinstance(raw, dict) else None
    if not isinstance(run_id, str):
        raise ReportError(
            f"{folder}/exceptions.json names no run (run_id): it was not written by `qam weekly`"
        )
    run = recorded_run(database, run_id)
    if run is None:
        raise ReportError(
            f"run {run_id} (in {folder}/exceptions.json) is not recorded in this database",
            hint="Is QAM_DATABASE_URL (or --database) the database that run used?",
        )
    if run.kind != "weekly" or run.arguments.get("week") != week.label:
        raise ReportError(f"run {run_id} in {folder} is not the weekly run of {week.label} ({run.kind})")
    if run.draft:
        raise ReportError(
            f"run {run_id} of {week.label} is a DRAFT (unpublished rulesets, not for operational use): "
            "drafts are never e-mailed",
            hint=f"Publish the rulesets, then run `qam weekly --week {week.label}` without --draft.",
        )
    done = WeekRun(folder, run_id, week, (), (), run.outputs)
    done.read("exceptions.json")  # the exceptions said in the e-mails are the run's own
    # a place's team exceptions are its own too: they are in its briefing, message and fingerprint
    entries = tuple(raw.get("exceptions") or ()) + tuple(raw.get("team_exceptions") or ())
    return WeekRun(folder, run_id, week, entries, exceptions_of(entries), run.outputs, run.catalogue)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read {path}: {exc}") from None


def fingerprint(entries: Sequence[Mapping[str, Any]]) -> str:
    """The place's exceptions as exceptions.json states them, hashed: equal exceptions, equal hash."""
    return sha256_text(canonical_json(sorted(canonical_json(e) for e in entries)))


@dataclass(frozen=True)
class Planned:
    """One message owed: to one recipient of one place (or of the force), of one kind, with its
    Message-ID; ``replacing`` is the delivered message it replaces (an update or a withdrawal)."""

    place: str  # a place code or FORCE_KEY
    recipient: Recipient
    kind: str  # briefing | update | withdrawal
    fingerprint: str
    message_id: str
    replacing: Delivery | None
    #: a message this run began to send and never recorded an outcome for (a crash): sent again
    resend: bool = False


@dataclass(frozen=True)
class Plan:
    """A week's delivery: what to send, what is already settled, and what cannot be sent."""

    to_send: tuple[Planned, ...]
    #: the recipient already holds these exceptions (an earlier run's message): recorded, not sent
    unchanged: tuple[Planned, ...]
    settled: int  # messages already delivered (or found unchanged) for this run
    #: (place or FORCE_KEY, its force file field) for each with exceptions and nobody to send to
    no_recipients: tuple[tuple[str, str], ...]


def plan_week(week: WeekRun, force: Force, log: Sequence[Delivery], *, domain: str) -> Plan:
    """Every message owed for ``week`` (see the module docstring), places in force file order, then
    the force list. ``log`` is the week's delivery log in the order it was recorded."""
    latest: dict[tuple[tuple[str, str, str], str], Delivery] = {}  # (key, run id) -> its last row
    delivered: dict[tuple[str, str, str], Delivery] = {}  # key -> the last message delivered
    by_message: dict[str, Delivery] = {}
    for row in log:
        latest[(row.key, row.run_id)] = row
        if row.outcome == "delivered":
            delivered[row.key] = row
            by_message[row.message_id] = row
    to_send: list[Planned] = []
    unchanged: list[Planned] = []
    settled = 0
    no_recipients: list[tuple[str, str]] = []
    lists = [(p.code, p.recipients, f"places.{i}.recipients") for i, p in enumerate(force.places)]
    for key, recipients, field in [*lists, (FORCE_KEY, force.recipients, "recipients")]:
        entries = week.entries_of(key)
        mark = fingerprint(entries)
        if entries:
            if not recipients:
                no_recipients.append((key, field))
            people = list(recipients)
        else:  # whoever still holds a briefing of this place for the week is told it is withdrawn
            people = [
                Recipient(row.recipient, row.email)
                for row in delivered.values()
                if row.place == key and row.kind != "withdrawal"
            ]
        for person in people:
            k = (week.period.label, key, person.key)
            mine, last = latest.get((k, week.run_id)), delivered.get(k)
            if mine is not None and mine.outcome == "sending":  # begun, never finished: again
                replaced = by_message.get(mine.replaces) if mine.replaces else None
                to_send.append(Planned(key, person, mine.kind, mark, mine.message_id, replaced, resend=True))
            elif (
                mine is not None
                and mine.outcome in SETTLED
                and (last is None or (mine.pk or 0) >= (last.pk or 0))
            ):
                settled += 1
            elif entries and last is not None and last.fingerprint == mark:
                unchanged.append(Planned(key, person, last.kind, mark, last.message_id, last))
            else:
                kind = "briefing" if last is None else ("update" if entries else "withdrawal")
                message_id = _message_id(week.run_id, key, person, last, domain)
                to_send.append(Planned(key, person, kind, mark, message_id, last))
    return Plan(tuple(to_send), tuple(unchanged), settled, tuple(no_recipients))


def _message_id(run_id: str, key: str, person: Recipient, replacing: Delivery | None, domain: str) -> str:
    """Derived from what the message is (run, place, person, what it replaces): the same message
    has the same Message-ID however often it is sent, so a copy sent twice is recognisably one."""
    basis = f"{person.key}|{replacing.message_id if replacing else ''}"
    return f"<qam.{run_id}.{key.lower()}.{sha256_text(basis)[:16]}@{domain}>"

"""`qam deliver`: e-mail each place's briefing of a week to that place's recipients, force.pdf to the
force list, exactly once, recording every outcome in the delivery log (docs/delivery.md).

Each message is logged as ``sending`` before the mail server hears of it and with its outcome after,
each in its own transaction: a crash leaves a ``sending`` row, and the next `qam deliver` sends that
message again under the same Message-ID (the one case a person may get a copy twice). A dry run
writes the .eml files instead and records nothing.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from engine import registry
from engine.core.config import Force
from engine.core.errors import ReportError, UsageError
from engine.core.mail_settings import ENV_MAIL_MAX_MB, MailSettings, load_mail_settings
from engine.core.periods import Period
from engine.core.recipients import Recipient
from engine.registry.documents import catalogue_from_text
from engine.reports.mail_message import (
    MailBody,
    Replacing,
    build_message,
    force_body,
    place_body,
    withdrawal_body,
)
from engine.reports.mail_message import Period as MailPeriod
from engine.rules.catalogue import MeasureCatalogue, load_measure_catalogue
from engine.runs.delivery_plan import FORCE_KEY, Plan, Planned, WeekRun, plan_week, read_week
from engine.runs.smtp_sender import ServerUnusable, SmtpSender
from engine.store.db import Database
from engine.store.deliveries import Delivery, record_delivery, week_deliveries

#: outcomes that leave nothing owed
DONE = ("delivered", "written")


@dataclass(frozen=True)
class MessageOutcome:
    """What became of one message this time: delivered, refused, failed, too_large, or (a dry
    run) written to ``file``; unchanged when the person already holds these exceptions."""

    place: str
    recipient: Recipient
    kind: str
    outcome: str
    attempts: int
    detail: str
    message_id: str
    file: Path | None = None


@dataclass(frozen=True)
class DeliveryReport:
    """What `qam deliver` did for a week."""

    week: str
    run_id: str
    folder: Path
    dry_run: bool
    outcomes: tuple[MessageOutcome, ...]
    unchanged: tuple[MessageOutcome, ...]
    settled: int  # already delivered before this invocation
    no_recipients: tuple[tuple[str, str], ...]
    server: str | None  # where the messages went (never the password)
    mail_folder: Path | None = None  # a dry run's .eml files

    @property
    def undelivered(self) -> tuple[MessageOutcome, ...]:
        return tuple(o for o in self.outcomes if o.outcome not in DONE)

    @property
    def complete(self) -> bool:
        """Nothing owed is left: every message delivered (or written), every list non-empty."""
        return not self.undelivered and not self.no_recipients


def deliver_week(
    database: Database,
    force: Force,
    week: Period,
    out: Path,
    *,
    now: Callable[[], dt.datetime],
    dry_run: bool = False,
    mail: MailSettings | None = None,
    sender: Callable[[MailSettings], SmtpSender] = SmtpSender,
) -> DeliveryReport:
    """Send (or with ``dry_run`` write as .eml) every message owed for ``week``; see the module.
    ``mail`` defaults to the environment's settings (QAM_SMTP_*, QAM_MAIL_*)."""
    mail = mail or load_mail_settings(sending=not dry_run)
    run = read_week(database, out, week)
    with nullcontext() if dry_run else _one_at_a_time(out, week.label):
        return _deliver(database, force, run, out, now=now, dry_run=dry_run, mail=mail, sender=sender)


@contextmanager
def _one_at_a_time(out: Path, label: str) -> Iterator[None]:
    """Holds OUT/.WEEK-deliver.lock while delivering: a second `qam deliver` of the week (a cron
    retry while the first still waits on the server) is refused rather than sending twice."""
    path = out / f".{label}-deliver.lock"
    try:
        handle = path.open("a+")
    except OSError as exc:
        raise ReportError(f"cannot create {path}: {exc.strerror or exc}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReportError(
                f"another `qam deliver` of {label} is running (it holds {path}): nothing was sent",
                hint="Run it again once that one has finished; it sends only what is still owed.",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _deliver(
    database: Database,
    force: Force,
    run: WeekRun,
    out: Path,
    *,
    now: Callable[[], dt.datetime],
    dry_run: bool,
    mail: MailSettings,
    sender: Callable[[MailSettings], SmtpSender],
) -> DeliveryReport:
    week = run.period
    plan = plan_week(run, force, week_deliveries(database, week.label), domain=mail.sender_domain)
    messages = _Messages(run, force, mail, run_catalogue(database, run))
    for p in plan.to_send:  # every file checked against the run's manifest before anything is sent
        messages.attachments(p)
    unchanged = tuple(_unchanged(p) for p in plan.unchanged)
    if not dry_run:
        for p, o in zip(plan.unchanged, unchanged, strict=True):
            _record(database, run, p, o, now())
    if dry_run:
        folder = out / f"{week.label}-mail"
        outcomes = _write_emls(plan.to_send, messages, folder, now())
    else:
        folder = None
        outcomes = _send(database, run, plan, messages, mail, now, sender) if plan.to_send else ()
    return DeliveryReport(
        week=week.label,
        run_id=run.run_id,
        folder=run.folder,
        dry_run=dry_run,
        outcomes=outcomes,
        unchanged=unchanged,
        settled=plan.settled,
        no_recipients=plan.no_recipients,
        server=None if dry_run else mail.describe(),
        mail_folder=folder,
    )


class _Messages:
    """Builds each planned message from the run's files and exceptions."""

    def __init__(self, run: WeekRun, force: Force, mail: MailSettings, catalogue: MeasureCatalogue) -> None:
        self.run, self.force, self.mail = run, force, mail
        self.measure_names = {m.id: m.name for m in catalogue.measures.values()}
        self.priority_names = dict(catalogue.priorities)
        self.period = MailPeriod(run.period.label, run.period.start.isoformat(), run.period.end.isoformat())
        self._files: dict[str, list[tuple[str, bytes]]] = {}

    def attachments(self, p: Planned) -> list[tuple[str, bytes]]:
        if p.kind == "withdrawal":
            return []
        if p.place not in self._files:
            self._files[p.place] = [(name, self.run.read(name)) for name in self.run.attachments(p.place)]
        return self._files[p.place]

    def body(self, p: Planned) -> MailBody:
        replacing = _replacing(p)
        names = [name for name, _ in self.attachments(p)]
        if p.place == FORCE_KEY:
            title = f"{self.force.name} force summary"
        else:
            place = self.force.place(p.place)
            title = f"{place.name} ({place.code}) exception briefing"
        if p.kind == "withdrawal":
            assert replacing is not None
            return withdrawal_body(title, self.period, self.run.run_id, replacing)
        mine = self.run.exceptions
        if p.place != FORCE_KEY:
            mine = tuple(e for e in mine if e.place == p.place)
            return place_body(
                place,
                self.force.name,
                self.period,
                mine,
                self.run.run_id,
                measure_names=self.measure_names,
                priority_names=self.priority_names,
                attachments=names,
                replacing=replacing,
            )
        return force_body(
            self.force.name,
            self.force.places,
            self.period,
            mine,
            self.run.run_id,
            measure_names=self.measure_names,
            priority_names=self.priority_names,
            attachments=names,
            replacing=replacing,
        )

    def message(self, p: Planned, date: dt.datetime) -> bytes:
        """The message's bytes; never a place's files to anyone but that place's recipients."""
        files = self.attachments(p)
        _check_addressed(p, self.force, [name for name, _ in files], self.run)
        msg = build_message(
            mail_from=self.mail.mail_from,
            to=p.recipient.address(),
            body=self.body(p),
            message_id=p.message_id,
            date=date,
            attachments=files,
            headers={
                "X-QAM-Run": self.run.run_id,
                "X-QAM-Week": self.run.period.label,
                "X-QAM-Place": p.place,
            },
            in_reply_to=p.replacing.message_id if p.replacing else None,
        )
        return msg.as_bytes()

    def too_large(self, p: Planned) -> str | None:
        size = sum(len(data) for _, data in self.attachments(p))
        limit = self.mail.max_attachment_bytes
        if size <= limit:
            return None
        return (
            f"the attachments are {size / 1e6:.1f} MB, over the limit of {limit / 1e6:g} MB "
            f"({ENV_MAIL_MAX_MB}): not sent"
        )


def run_catalogue(database: Database, run: WeekRun) -> MeasureCatalogue:
    """The catalogue the run used, as published (its measure and priority names are the PDF's); the
    bundled one for a run that recorded none, or whose version the registry no longer holds intact."""
    ref = run.catalogue
    if ref:
        try:
            entries = registry.history(database, ref["id"]).entries
        except UsageError:
            entries = ()
        for e in entries:
            if e.version == ref["version"] and e.sha256 == ref["sha256"]:
                source = f"registry:{ref['id']}@{ref['version']}"
                return catalogue_from_text(e.source_text, source, ref["sha256"])
    return load_measure_catalogue()


def _check_addressed(p: Planned, force: Force, files: Sequence[str], run: WeekRun) -> None:
    """The last look before a message leaves: its files are its own place's, and (but for a
    withdrawal, which carries none) its recipient is on that place's list. A failure is a bug."""
    recipients = force.recipients if p.place == FORCE_KEY else force.place(p.place).recipients
    if set(files) - set(run.attachments(p.place)):
        raise RuntimeError(f"bug: {p.place}'s message would carry {sorted(files)}")
    if p.kind != "withdrawal" and p.recipient.key not in {r.key for r in recipients}:
        raise RuntimeError(f"bug: {p.place}'s briefing addressed to {p.recipient.email}, not on its list")


def _replacing(p: Planned) -> Replacing | None:
    r = p.replacing
    if r is None or r.sent_at is None:
        return None
    return Replacing(r.sent_at, r.run_id, r.message_id, r.kind)


def _unchanged(p: Planned) -> MessageOutcome:
    r = p.replacing
    assert r is not None and r.sent_at is not None
    detail = (
        f"holds these exceptions already: the {r.kind} sent {r.sent_at:%Y-%m-%d %H:%M} UTC (run {r.run_id})"
    )
    return MessageOutcome(p.place, p.recipient, p.kind, "unchanged", 0, detail, p.message_id)


def _record(database: Database, run: WeekRun, p: Planned, o: MessageOutcome, at: dt.datetime) -> None:
    record_delivery(
        database,
        Delivery(
            run_id=run.run_id,
            week=run.period.label,
            place=p.place,
            recipient=p.recipient.name,
            email=p.recipient.email,
            kind=p.kind,
            message_id=p.message_id,
            fingerprint=p.fingerprint,
            replaces=p.replacing.message_id if p.replacing and o.outcome != "unchanged" else None,
            outcome=o.outcome,
            attempts=o.attempts,
            detail=o.detail,
            sent_at=at if o.outcome == "delivered" else None,
            recorded_at=at,
        ),
    )


def _send(
    database: Database,
    run: WeekRun,
    plan: Plan,
    messages: _Messages,
    mail: MailSettings,
    now: Callable[[], dt.datetime],
    sender: Callable[[MailSettings], SmtpSender],
) -> tuple[MessageOutcome, ...]:
    outcomes: list[MessageOutcome] = []
    unusable: str | None = None
    with sender(mail) as smtp:
        for p in plan.to_send:
            if unusable is not None:
                o = MessageOutcome(p.place, p.recipient, p.kind, "failed", 0, unusable, p.message_id)
            elif (why := messages.too_large(p)) is not None:
                o = MessageOutcome(p.place, p.recipient, p.kind, "too_large", 0, why, p.message_id)
            else:
                data = messages.message(p, now())
                _record(database, run, p, _sending(p), now())
                try:
                    result = smtp.send(mail.sender, p.recipient.email, data)
                    o = MessageOutcome(
                        p.place,
                        p.recipient,
                        p.kind,
                        result.outcome,
                        result.attempts,
                        result.detail,
                        p.message_id,
                    )
                except ServerUnusable as exc:
                    unusable = f"not attempted: {exc}"
                    o = MessageOutcome(p.place, p.recipient, p.kind, "failed", 1, str(exc), p.message_id)
            _record(database, run, p, o, now())
            outcomes.append(o)
    return tuple(outcomes)


def _sending(p: Planned) -> MessageOutcome:
    detail = "sent again: a crash left its outcome unrecorded" if p.resend else "handing to the mail server"
    return MessageOutcome(p.place, p.recipient, p.kind, "sending", 0, detail, p.message_id)


def _write_emls(
    planned: Sequence[Planned], messages: _Messages, folder: Path, date: dt.datetime
) -> tuple[MessageOutcome, ...]:
    """A dry run: each message as an .eml file in ``folder`` (emptied of older .eml files first)."""
    outcomes = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.eml"):
            old.unlink()
        for p in planned:
            if (why := messages.too_large(p)) is not None:
                outcomes.append(
                    MessageOutcome(p.place, p.recipient, p.kind, "too_large", 0, why, p.message_id)
                )
                continue
            path = folder / f"{p.place}-{_safe(p.recipient.email)}.eml"
            path.write_bytes(messages.message(p, date))
            outcomes.append(
                MessageOutcome(p.place, p.recipient, p.kind, "written", 0, str(path), p.message_id, path)
            )
    except OSError as exc:
        raise ReportError(f"cannot write the .eml files to {folder}: {exc.strerror or exc}") from None
    return tuple(outcomes)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", text)


@dataclass(frozen=True)
class DeliveryStatus:
    """`qam deliver --status`: the week's log (each message's latest outcome, per run) and, when
    the week's folder can be read, what a `qam deliver` would send now."""

    week: str
    rows: tuple[Delivery, ...]
    run_id: str | None
    owed: tuple[Planned, ...]
    no_recipients: tuple[tuple[str, str], ...]
    #: why the week's folder could not be read (then nothing is said of what is owed)
    unreadable: str | None = None


def delivery_status(
    database: Database, force: Force, week: Period, out: Path, *, mail: MailSettings | None = None
) -> DeliveryStatus:
    """The week's delivery log and what is still owed; reads only."""
    mail = mail or load_mail_settings(sending=False)
    log = week_deliveries(database, week.label)
    latest: dict[tuple[str, tuple[str, str, str]], Delivery] = {}
    for row in log:
        latest.pop((row.run_id, row.key), None)  # keep the order of each message's latest row
        latest[(row.run_id, row.key)] = row
    rows = tuple(latest.values())
    try:
        run = read_week(database, out, week)
    except ReportError as exc:
        return DeliveryStatus(week.label, rows, None, (), (), unreadable=exc.message)
    plan = plan_week(run, force, log, domain=mail.sender_domain)
    return DeliveryStatus(week.label, rows, run.run_id, plan.to_send, plan.no_recipients)

"""The e-mails `qam deliver` sends (docs/delivery.md): a briefing's page-1 summary as plain text and
HTML (the headline, then each exception on one line, most serious first, under its priority), a
subject naming the place, the week and the counts by kind (critical first), and the message with
the run's own files attached. Built from the run's exceptions.json, so it says what the PDF says.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from engine.core.models import KIND_ORDER, ExceptionKind, PerformanceException
from engine.reports.briefing_data import FORCE_PLACE, PRIORITY_NAMES, Entry, PlaceLike, make_entries
from engine.reports.force_data import measure_order
from engine.reports.wording import KIND_LABELS, counts_text, kind_parts, measure_title, period_text

#: what `qam deliver` writes beneath every message
FOOTER = (
    "Measures, not targets: only what is outside normal variation or below its standard is listed. "
    "This message was sent by QAM; replies are not read by it."
)


@dataclass(frozen=True)
class Period:
    """The week a message is about: its label and first and last days (ISO)."""

    label: str
    start: str
    end: str

    @property
    def text(self) -> str:
        return f"{self.label} ({period_text(self.start, self.end)})"


@dataclass(frozen=True)
class Replacing:
    """The message an update or withdrawal replaces: when it was sent, from which run."""

    sent_at: dt.datetime
    run_id: str
    message_id: str
    kind: str  # briefing | update | withdrawal

    def sentence(self, what: str) -> str:
        """'This replaces the briefing sent on 23 November 2026 at 07:02 UTC (run 0123...).'"""
        when = self.sent_at.astimezone(dt.UTC)
        sent = f"{when.day} {when:%B %Y} at {when:%H:%M} UTC"
        noun = "notice" if self.kind == "withdrawal" else what
        return f"This replaces the {noun} sent on {sent} (run {self.run_id})."


@dataclass(frozen=True)
class MailBody:
    """A message's subject and its two bodies (the same words, as plain text and as HTML)."""

    subject: str
    text: str
    html: str


# --- the exceptions as exceptions.json states them ----------------------------------------------


def exceptions_of(entries: Sequence[Mapping[str, Any]]) -> tuple[PerformanceException, ...]:
    """exceptions.json's entries (docs/outputs.md) as exceptions: the contract's fields only (and
    "team", on a "team_exceptions" entry)."""

    def num(v: Any) -> float | None:
        return None if v is None else float(v)

    return tuple(
        PerformanceException(
            place=str(e["place"]),
            priority=int(e["priority"]),
            measure=str(e["measure"]),
            peel=str(e.get("peel", "")),
            iserve=tuple(e.get("iserve", ())),
            ruleset=str(e.get("ruleset", "")),
            criterion=str(e.get("criterion", "")),
            kind=ExceptionKind(e["kind"]),
            reason=str(e.get("reason", "")),
            n=int(e.get("n", 0)),
            passed=int(e.get("passed", 0)),
            rate=num(e.get("rate")),
            ci_low=num(e.get("ci_low")),
            ci_high=num(e.get("ci_high")),
            standard=num(e.get("standard")),
            cases=tuple(e.get("cases", ())),
            team=str(e.get("team", "")),
        )
        for e in entries
    )


def kind_counts(exceptions: Sequence[PerformanceException]) -> list[int]:
    """How many of each kind, in KIND_ORDER (critical first)."""
    return [sum(1 for e in exceptions if e.kind is k) for k in KIND_ORDER]


# --- the words, once, as blocks both bodies are drawn from --------------------------------------

Block = tuple[str, Any]  # ("title" | "para" | "note" | "heading", str) or ("items", list[str])


def place_body(
    place: PlaceLike,
    force_name: str,
    period: Period,
    exceptions: Sequence[PerformanceException],
    run_id: str,
    *,
    measure_names: Mapping[str, str],
    priority_names: Mapping[int, str] = PRIORITY_NAMES,
    attachments: Sequence[str] = (),
    replacing: Replacing | None = None,
) -> MailBody:
    """A place's briefing e-mail: page 1 of its PDF in words (``exceptions`` are its own and its
    teams', which are listed after its own)."""
    label = f"{place.name} ({place.code})"
    teams = [e for e in exceptions if e.team]
    exceptions = [e for e in exceptions if not e.team]
    entries = make_entries(exceptions)
    headline = (
        f"{len(entries)} issue{'s' if len(entries) != 1 else ''}, raised by "
        f"{counts_text(kind_counts(exceptions))}."
        if entries
        else "No exceptions for the place as a whole this week."
    )
    blocks: list[Block] = [("title", f"{label} · weekly exception briefing · {force_name}")]
    if replacing is not None:
        blocks.append(("note", f"{replacing.sentence('briefing')} The week's data changed since then."))
    blocks += [
        ("para", f"Week {period.text} · {place.division} division · place leader {place.leader}"),
        ("heading", headline),
        (
            "para",
            "Only exceptions are listed, most serious first; everything else measured this week was "
            "within normal variation or met its standard. Section numbers are the PDF's.",
        ),
    ]
    blocks += _exception_blocks(entries, measure_names, priority_names)
    blocks += _team_blocks(teams, len(entries), measure_names)
    if attachments:
        blocks.append(("para", f"Attached: {_and(attachments)}, as run {run_id} wrote them."))
    blocks.append(("note", FOOTER))
    parts = kind_parts(kind_counts(exceptions)) + ([f"{len(teams)} team exceptions"] if teams else [])
    subject = f"{label} exception briefing {period.label}: {', '.join(parts)}"
    return _body(f"Updated: {subject}" if replacing else subject, blocks)


def force_body(
    force_name: str,
    places: Sequence[PlaceLike],
    period: Period,
    exceptions: Sequence[PerformanceException],
    run_id: str,
    *,
    measure_names: Mapping[str, str],
    priority_names: Mapping[int, str] = PRIORITY_NAMES,
    attachments: Sequence[str] = (),
    replacing: Replacing | None = None,
) -> MailBody:
    """force.pdf's e-mail: page 1 of the force summary in words: each place with exceptions on one
    line (those with a critical failure first, then by name: never ranked by count), with its team
    exceptions counted apart."""
    teams = [e for e in exceptions if e.team]
    exceptions = [e for e in exceptions if not e.team]
    with_any = [p for p in places if any(e.place == p.code for e in [*exceptions, *teams])]
    without = sorted((p for p in places if p not in with_any), key=lambda p: p.name)
    ordered = sorted(
        with_any,
        key=lambda p: (
            not any(e.place == p.code and e.kind is ExceptionKind.CRITICAL for e in exceptions),
            p.name,
        ),
    )
    briefed = f"{len(with_any)} of {len(places)} place{'s' if len(places) != 1 else ''}"
    blocks: list[Block] = [("title", f"{force_name}: force summary")]
    if replacing is not None:
        blocks.append(("note", f"{replacing.sentence('summary')} The week's data changed since then."))
    blocks += [
        ("para", f"Week {period.text} · {briefed} have a briefing this week"),
        ("heading", f"{counts_text(kind_counts(exceptions))}."),
    ]
    lines = []
    for p in ordered:
        mine = [e for e in exceptions if e.place == p.code]
        measures = ", ".join(sorted({e.measure for e in mine}, key=measure_order))
        theirs = sum(1 for e in teams if e.place == p.code)
        parts = kind_parts(kind_counts(mine)) + ([f"{theirs} team exceptions"] if theirs else [])
        lines.append(
            f"{p.name} ({p.code}), {p.division}: {', '.join(parts)}{' · ' + measures if measures else ''}"
        )
    if lines:
        order = "Places with a critical failure first, then by name: a count is not a score."
        blocks += [("heading", "Places with exceptions"), ("para", order), ("items", lines)]
    if without:
        blocks.append(("para", f"No exceptions this week: {', '.join(p.name for p in without)}."))
    force_level = [e for e in exceptions if e.place == FORCE_PLACE]
    if force_level:
        blocks.append(("heading", "Force-level exceptions"))
        blocks += _exception_blocks(make_entries(force_level), measure_names, priority_names)
    if attachments:
        blocks.append(("para", f"Attached: {_and(attachments)}, as run {run_id} wrote it."))
    blocks.append(("note", FOOTER))
    subject = (
        f"{force_name} force summary {period.label}: {briefed} with exceptions: "
        f"{', '.join(kind_parts(kind_counts(exceptions)))}"
    )
    return _body(f"Updated: {subject}" if replacing else subject, blocks)


def withdrawal_body(title: str, period: Period, run_id: str, replacing: Replacing) -> MailBody:
    """The notice to whoever received a briefing whose exceptions a later run of the week no
    longer finds (``title``: 'Dalewood (DLW) exception briefing' or '... force summary')."""
    blocks: list[Block] = [
        ("title", f"{title} · {period.label}: withdrawn"),
        ("note", f"{replacing.sentence('briefing')}"),
        (
            "para",
            f"The latest run of week {period.text} (run {run_id}) finds no exceptions here: the "
            "week's data changed after that briefing was sent (for example an amended assessment). "
            "Please set it aside.",
        ),
        ("note", FOOTER),
    ]
    return _body(f"Withdrawn: {title} {period.label}: no exceptions in the latest run", blocks)


def _exception_blocks(
    entries: Sequence[Entry], measure_names: Mapping[str, str], priority_names: Mapping[int, str]
) -> list[Block]:
    """Under each priority (the one holding the most serious entry first, as page 1 orders them),
    each exception on one line: kind, measure, criterion, its reason, its failing cases and the
    number of its section in the PDF."""
    by_priority: dict[int, list[Entry]] = {}
    for x in entries:
        by_priority.setdefault(x.priority, []).append(x)
    groups = sorted(by_priority.items(), key=lambda g: (KIND_ORDER.index(g[1][0].lead.kind), g[0]))
    blocks: list[Block] = []
    number = 0
    for priority, group in groups:
        lines = []
        for x in group:
            number += 1
            for e in x.signals:
                criterion = f" · {e.criterion}" if e.criterion else ""
                n = len(e.cases)
                cases = f"{n:,} failing case{'s' if n != 1 else ''}; " if n else ""
                lines.append(
                    f"{KIND_LABELS[e.kind]} · {measure_title(e.measure, measure_names)}{criterion}: "
                    f"{e.reason} ({cases}section {number})"
                )
        name = priority_names.get(priority, f"Priority {priority}")
        blocks += [("heading", f"Priority {priority}: {name}"), ("items", lines)]
    return blocks


def _team_blocks(
    teams: Sequence[PerformanceException], numbered: int, measure_names: Mapping[str, str]
) -> list[Block]:
    """The team exceptions, team by team (by name, as the PDF lists them after the place's own
    ``numbered`` entries): each on one line with the number of its section in the PDF."""
    if not teams:
        return []
    by_team: dict[str, list[PerformanceException]] = {}
    for e in teams:
        by_team.setdefault(e.team, []).append(e)
    blocks: list[Block] = [("heading", "Team exceptions")]
    number = numbered
    for team in sorted(by_team):
        lines = []
        for x in make_entries(by_team[team]):
            number += 1
            for e in x.signals:
                criterion = f" · {e.criterion}" if e.criterion else ""
                lines.append(
                    f"{KIND_LABELS[e.kind]} · {measure_title(e.measure, measure_names)}{criterion}: "
                    f"{e.reason} (section {number})"
                )
        blocks += [("para", f"Team {team}"), ("items", lines)]
    return blocks


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _body(subject: str, blocks: Sequence[Block]) -> MailBody:
    return MailBody(subject, _text(blocks), _html(blocks))


def _text(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for kind, value in blocks:
        if kind == "title":
            out += [value, "=" * min(len(value), 72), ""]
        elif kind == "heading":
            out += [value, ""]
        elif kind == "items":
            out += [f"- {line}" for line in value] + [""]
        else:
            out += [value, ""]
    return "\n".join(out)


_STYLE = {
    "title": "font-size:18px;margin:0 0 8px 0",
    "heading": "font-size:15px;margin:14px 0 6px 0",
    "para": "margin:0 0 8px 0",
    "note": "margin:0 0 8px 0;color:#5f6368",
}


def _html(blocks: Sequence[Block]) -> str:
    out = ['<!DOCTYPE html>\n<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px">']
    for kind, value in blocks:
        if kind == "title":
            out.append(f'<h1 style="{_STYLE["title"]}">{html.escape(value)}</h1>')
        elif kind == "heading":
            out.append(f'<h2 style="{_STYLE["heading"]}">{html.escape(value)}</h2>')
        elif kind == "items":
            out.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in value) + "</ul>")
        else:
            out.append(f'<p style="{_STYLE[kind]}">{html.escape(value)}</p>')
    out.append("</body></html>\n")
    return "\n".join(out)


# --- the message -----------------------------------------------------------------------------

_TYPES = {".pdf": ("application", "pdf"), ".csv": ("text", "csv")}


def build_message(
    *,
    mail_from: str,
    to: str,
    body: MailBody,
    message_id: str,
    date: dt.datetime,
    attachments: Sequence[tuple[str, bytes]] = (),
    headers: Mapping[str, str] | None = None,
    in_reply_to: str | None = None,
) -> EmailMessage:
    """One message to one recipient: plain text and HTML alternatives, then the attachments (name,
    bytes) as the run wrote them. ``headers`` adds X-QAM-* headers naming run, week and place."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = mail_from
    msg["To"] = to
    msg["Subject"] = body.subject
    msg["Date"] = format_datetime(date.astimezone(dt.UTC))
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body.text, cte="quoted-printable")
    msg.add_alternative(body.html, subtype="html", cte="quoted-printable")
    for name, data in attachments:
        suffix = name[name.rfind(".") :].lower()
        maintype, subtype = _TYPES.get(suffix, ("application", "octet-stream"))
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg

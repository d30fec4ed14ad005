"""The queries for assessments: storing submitted rows as revisions (amendments, conflicts), each
linked into the revisions' hash chain (engine.store.integrity), and reading revisions back.
Functions take the caller's session (one transaction); submissions storing at the same time take
turns (:func:`lock_assessments`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.core.errors import Location, Problem, StorageError, SubmissionError
from engine.inputs.submissions import ValidRow
from engine.store import integrity
from engine.store.db import Assessment
from engine.store.rows import chunks, lock_for_writing
from engine.store.summaries import ASSESSMENTS, bump_epochs

COMMON_FIELDS = ("case_type", "case_ref", "place", "team", "officer", "reviewer", "assessed_on", "case_date")


class StoreTotals(NamedTuple):
    """How many rows one `qam submit` stored, found unchanged and amended."""

    stored: int
    unchanged: int
    amended: int


@dataclass
class StoreSummary:
    """What one `qam submit` did, counted by (case type, place)."""

    stored: Counter[tuple[str, str]] = field(default_factory=Counter)
    unchanged: Counter[tuple[str, str]] = field(default_factory=Counter)
    amended: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def totals(self) -> StoreTotals:
        return StoreTotals(
            sum(self.stored.values()), sum(self.unchanged.values()), sum(self.amended.values())
        )


@dataclass(frozen=True)
class SubmitResult:
    """What `qam submit` stored, counted by (case type, place)."""

    files: tuple[str, ...]
    rows: int
    summary: StoreSummary

    def by_place(self) -> list[tuple[str, str, int, int, int]]:
        """(case type, place, stored, unchanged, amended) for every pair with any row, in order."""
        s = self.summary
        keys = sorted(set(s.stored) | set(s.unchanged) | set(s.amended))
        return [
            (ct, place, s.stored[(ct, place)], s.unchanged[(ct, place)], s.amended[(ct, place)])
            for ct, place in keys
        ]


def _show(value: Any) -> str:
    if value is None:
        return "blank"
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(value)


def _differences(stored: Assessment, row: ValidRow) -> list[str]:
    diffs = [
        f"{name}: stored {_show(getattr(stored, name))}, submitted {_show(getattr(row, name))}"
        for name in COMMON_FIELDS
        if getattr(stored, name) != getattr(row, name)
    ]
    for q in sorted(set(stored.answers) | set(row.answers)):
        old, new = stored.answers.get(q), row.answers.get(q)
        if old != new:
            diffs.append(f"{q}: stored {_show(old)}, submitted {_show(new)}")
    return diffs


def current_assessments(session: Session, assessment_ids: Iterable[str]) -> dict[str, Assessment]:
    ids = sorted(set(assessment_ids))
    found: dict[str, Assessment] = {}
    for chunk in chunks(ids):
        rows = session.scalars(
            select(Assessment).where(Assessment.assessment_id.in_(chunk), Assessment.is_current.is_(True))
        )
        found.update((a.assessment_id, a) for a in rows)
    return found


def lock_assessments(session: Session) -> None:
    """Take the submissions' writer lock for the rest of the caller's transaction, before reading.

    Storing reads each id's current revision, compares and writes after it, so two submissions must
    not interleave: the later one then reads what the earlier stored and decides as if it had run
    after it (unchanged, conflict or a new revision), instead of failing on the unique (id, revision)
    or reporting "unchanged" against a revision superseded before it commits. PostgreSQL: a SHARE ROW
    EXCLUSIVE table lock (reads, and scores referring to assessments, still run). SQLite: an empty
    UPDATE, which makes the driver open the write transaction now (SQLite has one writer at a time).
    """
    lock_for_writing(session, Assessment.pk, "SHARE ROW EXCLUSIVE")


def store_assessments(
    session: Session,
    rows: Sequence[ValidRow],
    *,
    amend: bool,
    submitted_at: dt.datetime,
    calibration_set: str | None = None,
) -> StoreSummary:
    """Store valid rows in the caller's transaction: new ids as revision 1, identical rows skipped,
    changed rows as a new revision only with ``amend``; otherwise raise SubmissionError naming
    every conflicting row and field (the caller rolls back, so nothing is half-stored). Call it
    first in the transaction: it takes the submissions' writer lock before reading, so the chain's
    head it links the new revisions after is still the head when they are stored; the new head is
    recorded (integrity.record_head) in the same transaction."""
    lock_assessments(session)
    existing = current_assessments(session, (r.assessment_id for r in rows))
    summary = StoreSummary()
    problems: list[Problem] = []
    new_objects: list[Assessment] = []
    superseded: list[int] = []
    for row in rows:
        key = (row.case_type, row.place)
        old = existing.get(row.assessment_id)
        if old is not None and old.content_hash == row.content_hash:
            summary.unchanged[key] += 1
            continue
        if old is not None and not amend:
            diffs = _differences(old, row)
            problems.append(
                Problem(
                    Location(row.source_file, row.source_row, "assessment_id"),
                    f"assessment {row.assessment_id} is already stored (revision {old.revision}, "
                    f"from {old.source_file}:{old.source_row}) with different content: "
                    + "; ".join(diffs or ["raw values differ"])
                    + ". Resubmit with --amend to store this as a new revision.",
                )
            )
            continue
        revision = 1
        if old is not None:
            revision = old.revision + 1
            superseded.append(old.pk)
            summary.amended[key] += 1
        else:
            summary.stored[key] += 1
        new_objects.append(
            Assessment(
                assessment_id=row.assessment_id,
                revision=revision,
                is_current=True,
                case_type=row.case_type,
                case_ref=row.case_ref,
                place=row.place,
                team=row.team,
                officer=row.officer,
                reviewer=row.reviewer,
                assessed_on=row.assessed_on,
                case_date=row.case_date,
                answers=dict(row.answers),
                raw=dict(row.raw),
                content_hash=row.content_hash,
                source_file=row.source_file,
                source_row=row.source_row,
                submitted_at=submitted_at,
                calibration_set=calibration_set,
            )
        )
    if problems:
        raise SubmissionError(
            f"{len(problems)} row{'s' if len(problems) != 1 else ''} conflict with stored assessments; "
            "nothing was stored",
            problems,
        )
    for chunk in chunks(superseded):
        session.execute(update(Assessment).where(Assessment.pk.in_(chunk)).values(is_current=False))
    if new_objects:
        _store_linked(session, new_objects, submitted_at)
    days = [a.assessed_on for a in new_objects]
    days += [old.assessed_on for old in existing.values() if old.pk in set(superseded)]
    bump_epochs(session, ASSESSMENTS, days)
    return summary


def _store_linked(session: Session, new_objects: Sequence[Assessment], at: dt.datetime) -> None:
    """Insert new revisions linked after the chain's head (under the writer lock), and record the new head."""
    last = integrity.last_link(session)
    integrity.link_rows(last.hash if last else integrity.GENESIS_HASH, new_objects)
    session.add_all(new_objects)
    session.flush()
    # the chain runs in pk order: the database must have numbered the rows in the order they were linked
    pks = [a.pk for a in new_objects]
    if pks[0] <= (last.position if last else 0) or any(b <= a for a, b in zip(pks, pks[1:], strict=False)):
        raise StorageError("the database numbered new assessments out of order; nothing was stored")
    integrity.record_head(
        session, integrity.ASSESSMENT_CHAIN, integrity.Link(pks[-1], new_objects[-1].row_hash), at
    )


def assessment_revisions(session: Session, assessment_id: str) -> list[Assessment]:
    return list(
        session.scalars(
            select(Assessment).where(Assessment.assessment_id == assessment_id).order_by(Assessment.revision)
        )
    )


def list_assessments(
    session: Session,
    *,
    place: str | None = None,
    case_type: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    include_calibration: bool = False,
) -> list[Assessment]:
    """Current revisions, filtered; ordered by date then id."""
    q = select(Assessment).where(Assessment.is_current.is_(True))
    if place:
        q = q.where(Assessment.place == place)
    if case_type:
        q = q.where(Assessment.case_type == case_type)
    if date_from:
        q = q.where(Assessment.assessed_on >= date_from)
    if date_to:
        q = q.where(Assessment.assessed_on <= date_to)
    if not include_calibration:
        q = q.where(Assessment.calibration_set.is_(None))
    return list(session.scalars(q.order_by(Assessment.assessed_on, Assessment.assessment_id)))


class StoredAnswers(NamedTuple):
    """An assessment revision's id and stored answers."""

    assessment_id: str
    answers: dict[str, Any]


def assessment_answers(session: Session, pks: Sequence[int]) -> dict[int, StoredAnswers]:
    """The assessment id and stored answers of these assessment revisions, by pk."""
    out: dict[int, StoredAnswers] = {}
    for chunk in chunks(sorted(set(pks))):
        q = select(Assessment.pk, Assessment.assessment_id, Assessment.answers).where(
            Assessment.pk.in_(chunk)
        )
        out.update((pk, StoredAnswers(aid, answers)) for pk, aid, answers in session.execute(q))
    return out


def content_hashes(session: Session, pks: Sequence[int]) -> list[str]:
    """The content hashes of these assessment revisions."""
    out: list[str] = []
    for chunk in chunks(list(pks)):
        out.extend(session.scalars(select(Assessment.content_hash).where(Assessment.pk.in_(chunk))))
    return out

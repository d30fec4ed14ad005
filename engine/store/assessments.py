"""The queries for assessments: storing submitted rows as revisions (amendments, conflicts), each
linked into the revisions' hash chain (engine.store.integrity), and reading revisions back.
Functions take the caller's session (one transaction); submissions storing at the same time take
turns (:func:`lock_assessments`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine.core.errors import Location, Problem, StorageError, SubmissionError
from engine.inputs.problem_log import Phase, ProblemLog
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


#: how long a submission waits for another (or a run) writing to the database to finish before it
#: gives up with a one-line message; a 200 MB submission stores in minutes
LOCK_WAIT_SECONDS = 3600


def lock_assessments(session: Session) -> None:
    """Take the submissions' writer lock for the rest of the caller's transaction, before reading.

    Storing reads each id's current revision, compares and writes after it, so two submissions must
    not interleave: the later one then reads what the earlier stored and decides as if it had run
    after it (unchanged, conflict or a new revision), instead of failing on the unique (id, revision)
    or reporting "unchanged" against a revision superseded before it commits. PostgreSQL: a SHARE ROW
    EXCLUSIVE table lock (reads, and scores referring to assessments, still run). SQLite: an empty
    UPDATE, which makes the driver open the write transaction now (SQLite has one writer at a time).

    Either waits up to LOCK_WAIT_SECONDS for the writer before it (on SQLite the connection's own
    busy timeout, 120 s, was "database is locked" with a traceback behind a long submission), then
    raises StorageError saying what to do; nothing of the transaction is kept.
    """
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    try:
        if sqlite:
            before = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(LOCK_WAIT_SECONDS * 1000)}")
            try:
                lock_for_writing(session, Assessment.pk, "SHARE ROW EXCLUSIVE")
            finally:
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(before or 0)}")
        else:
            lock_for_writing(session, Assessment.pk, "SHARE ROW EXCLUSIVE", timeout_seconds=LOCK_WAIT_SECONDS)
    except OperationalError as exc:
        # SQLite's busy timeout running out, or PostgreSQL's lock_timeout (SQLSTATE 55P03)
        if getattr(exc.orig, "sqlstate", None) != "55P03" and "database is locked" not in str(exc.orig):
            raise
        waited = (
            f"{LOCK_WAIT_SECONDS // 60} minutes" if LOCK_WAIT_SECONDS >= 120 else f"{LOCK_WAIT_SECONDS} s"
        )
        raise StorageError(
            f"another submission or run has been writing to the database for over {waited}; nothing was "
            "stored: submit again when it has finished"
        ) from None


def store_assessments(
    session: Session,
    rows: Iterable[ValidRow],
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
    recorded (integrity.record_head) in the same transaction.

    ``rows`` are read twice, BATCH_ROWS at a time (their ids must differ, as validation makes sure),
    so memory does not grow with them: first to decide what each one is (new, unchanged, an
    amendment or a conflict), reading only; then, when nothing conflicts, to write. Reading every
    stored revision needed before writing any keeps SQLite's reads out of the transaction's own
    growing log (read back page by page, a 200 MB submission slowed to a crawl). Every conflict is
    reported (the first KEEP_PROBLEMS of them, and how many more)."""
    if iter(rows) is rows:  # an iterator can be read once only
        rows = list(rows)
    lock_assessments(session)
    last = integrity.last_link(session)
    store = _Store(session, amend, submitted_at, calibration_set, last)
    for batch in _batched(rows):
        store.decide(batch)
    if store.conflicts:
        n = store.conflicts.count
        raise SubmissionError(
            f"{n:,} row{'s' if n != 1 else ''} conflict with stored assessments; nothing was stored",
            store.conflicts.problems(),
            omitted=store.conflicts.omitted,
        )
    if store.NEW in store.kinds or store.AMEND in store.kinds:  # else all unchanged: nothing to write
        for batch in _batched(rows):
            store.write(batch)
    if store.head is not None and (last is None or store.head.position != last.position):
        integrity.record_head(session, integrity.ASSESSMENT_CHAIN, store.head, submitted_at)
    bump_epochs(session, ASSESSMENTS, store.days)
    return store.summary


#: rows stored at a time: one query for their ids' current revisions, one insert
BATCH_ROWS = 2000


def _batched(rows: Iterable[ValidRow]) -> Iterator[tuple[ValidRow, ...]]:
    iterator = iter(rows)
    while batch := tuple(itertools.islice(iterator, BATCH_ROWS)):
        yield batch


class _Current(NamedTuple):
    """What storing needs of an id's current revision."""

    pk: int
    revision: int
    content_hash: str
    assessed_on: dt.date


class _Store:
    """One submission being stored: what to do with each row decided a batch at a time (reading),
    then done a batch at a time (writing), each new revision linked after the last."""

    #: what to do with a row (``kinds``)
    NEW, SKIP, AMEND = 0, 1, 2

    def __init__(
        self,
        session: Session,
        amend: bool,
        at: dt.datetime,
        calibration_set: str | None,
        last: integrity.Link | None,
    ) -> None:
        self.session = session
        self.amend = amend
        self.at = at
        self.calibration_set = calibration_set
        self.head = last
        self.summary = StoreSummary()
        self.conflicts = ProblemLog(())
        #: the days whose stored rows changed (new revisions' and superseded ones')
        self.days: set[dt.date] = set()
        #: each row's kind, in order (a byte a row); each amended row's superseded pk and new revision
        self.kinds = array("b")
        self.superseded = array("q")
        self.revisions = array("q")
        self._row = self._amended = 0

    def decide(self, rows: Sequence[ValidRow]) -> None:
        existing = current_revisions(self.session, [r.assessment_id for r in rows])
        conflicting: list[tuple[ValidRow, int]] = []
        for row in rows:
            key = (row.case_type, row.place)
            old = existing.get(row.assessment_id)
            if old is not None and (old.content_hash == row.content_hash or not self.amend):
                self.kinds.append(self.SKIP)
                if old.content_hash == row.content_hash:
                    self.summary.unchanged[key] += 1
                else:
                    conflicting.append((row, old.pk))
                continue
            if old is not None:
                self.kinds.append(self.AMEND)
                self.superseded.append(old.pk)
                self.revisions.append(old.revision + 1)
                self.days.add(old.assessed_on)
                self.summary.amended[key] += 1
            else:
                self.kinds.append(self.NEW)
                self.summary.stored[key] += 1
            self.days.add(row.assessed_on)
        if conflicting:
            self._conflicts(conflicting)

    def write(self, rows: Sequence[ValidRow]) -> None:
        """Store the batch's new revisions and turn off the ones they supersede (rows in the order
        they were decided)."""
        new: list[dict[str, Any]] = []
        superseded: list[int] = []
        for row in rows:
            kind = self.kinds[self._row]
            self._row += 1
            if kind == self.NEW:
                new.append(self._values(row, 1))
            elif kind == self.AMEND:
                superseded.append(self.superseded[self._amended])
                new.append(self._values(row, self.revisions[self._amended]))
                self._amended += 1
        for chunk in chunks(superseded):
            self.session.execute(update(Assessment).where(Assessment.pk.in_(chunk)).values(is_current=False))
        if new:
            self._insert(new)

    def _values(self, row: ValidRow, revision: int) -> dict[str, Any]:
        return {
            "assessment_id": row.assessment_id,
            "revision": revision,
            "is_current": True,
            "case_type": row.case_type,
            "case_ref": row.case_ref,
            "place": row.place,
            "team": row.team,
            "officer": row.officer,
            "reviewer": row.reviewer,
            "assessed_on": row.assessed_on,
            "case_date": row.case_date,
            "answers": dict(row.answers),
            "raw": dict(row.raw),
            "content_hash": row.content_hash,
            "source_file": row.source_file,
            "source_row": row.source_row,
            "submitted_at": self.at,
            "calibration_set": self.calibration_set,
        }

    def _insert(self, new: list[dict[str, Any]]) -> None:
        """Insert new revisions linked after the chain's head (under the writer lock)."""
        last_hash = integrity.link_values(self.head.hash if self.head else integrity.GENESIS_HASH, new)
        # one executemany (RETURNING in parameter order makes SQLite insert row by row), then the new
        # rows read back: no other writer can insert meanwhile (the writer lock), so they are those
        # after the head
        self.session.execute(insert(Assessment), new)
        after = self.head.position if self.head else 0
        q = select(Assessment.pk, Assessment.assessment_id, Assessment.revision).where(Assessment.pk > after)
        numbered = self.session.execute(q.order_by(Assessment.pk)).all()
        # the chain runs in pk order: the database must have numbered the rows in the order they were linked
        if [(aid, rev) for _, aid, rev in numbered] != [(v["assessment_id"], v["revision"]) for v in new]:
            raise StorageError("the database numbered new assessments out of order; nothing was stored")
        self.head = integrity.Link(numbered[-1][0], last_hash)

    def _conflicts(self, conflicting: Sequence[tuple[ValidRow, int]]) -> None:
        stored = {
            a.pk: a
            for a in self.session.scalars(
                select(Assessment).where(Assessment.pk.in_([pk for _, pk in conflicting]))
            )
        }
        for row, pk in conflicting:
            old = stored[pk]
            diffs = _differences(old, row)
            self.conflicts.add(
                Problem(
                    Location(row.source_file, row.source_row, "assessment_id"),
                    f"assessment {row.assessment_id} is already stored (revision {old.revision}, "
                    f"from {old.source_file}:{old.source_row}) with different content: "
                    + "; ".join(diffs or ["raw values differ"])
                    + ". Resubmit with --amend to store this as a new revision.",
                ),
                Phase.ROW,
            )
            self.session.expunge(old)


def current_revisions(session: Session, assessment_ids: Sequence[str]) -> dict[str, _Current]:
    """What storing needs of the current revision of each of these ids that has one.

    Every revision of the ids is read and the current one kept here: asked for current ones only,
    SQLite searched the index on (is_current, assessed_on), every current row for each batch of ids
    (a 1.2-million-row resubmission read hundreds of GB), instead of the index on assessment_id."""
    found: dict[str, _Current] = {}
    for chunk in chunks(sorted(set(assessment_ids))):
        q = select(
            Assessment.assessment_id,
            Assessment.pk,
            Assessment.revision,
            Assessment.content_hash,
            Assessment.assessed_on,
            Assessment.is_current,
        ).where(Assessment.assessment_id.in_(chunk))
        for aid, pk, rev, digest, day, current in session.execute(q):
            if current:
                found[aid] = _Current(pk, rev, digest, day)
    return found


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

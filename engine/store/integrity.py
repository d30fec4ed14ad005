"""Tamper evidence for the stored assessments (issue 20): their revisions form a hash chain, the
heads of both hash chains (assessments, the ruleset registry) are recorded apart from them, and
:func:`verify_assessments` checks the whole table against all three.

A revision's ``row_hash`` is the sha256 of the canonical JSON (engine.core.hashing) of the row
before's ``row_hash`` (in pk order; GENESIS_HASH before the first row) and every stored field but
``pk`` and ``is_current`` (dates as ISO text, ``submitted_at`` in UTC to the microsecond). An edit
of any of those fields breaks that row's link, a deleted row the link of the row after it.
``is_current`` is not hashed, as an amendment turns it off on the revision it supersedes: it is
derived (true exactly for each assessment id's highest revision) and checked as such.

The chain alone cannot show its newest rows cut off, nor a rewrite from some row on that recomputes
every hash after it. Heads recorded elsewhere can: ``chain_heads`` gets the head after each write
(each submission that stored rows, each registry publication, in the same transaction), and every
run's manifest records the assessments' head it saw (``assessments_head``); each must still be in
the chain. A head kept outside the database (printed by `qam assessments verify`) is the last word.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

import orjson
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from engine.core.errors import UsageError
from engine.core.hashing import canonical_json, sha256_text
from engine.core.models import COMMON_COLUMNS
from engine.core.periods import as_utc
from engine.core.text import stamp
from engine.inputs.submissions import canonical_content, content_hash
from engine.store.db import Assessment, ChainHead, Database, Run, json_text
from engine.store.rows import lock_for_writing

#: the hash "before" the first row of a chain
GENESIS_HASH = "0" * 64
#: ``chain_heads.chain`` of each chain
ASSESSMENT_CHAIN = "assessments"
REGISTRY_CHAIN = "registry"
#: the key of the assessments' head in a run manifest
MANIFEST_KEY = "assessments_head"

#: the stored fields a revision's row_hash covers: all but pk, is_current and row_hash itself
CHAINED_FIELDS = (
    "assessment_id",
    "revision",
    "case_type",
    "case_ref",
    "place",
    "team",
    "officer",
    "reviewer",
    "assessed_on",
    "case_date",
    "answers",
    "raw",
    "content_hash",
    "source_file",
    "source_row",
    "submitted_at",
    "calibration_set",
)
#: rows read at a time when verifying
_YIELD_ROWS = 2000


class Link(NamedTuple):
    """A row of a chain: its key (an assessment's pk, a registry entry's seq) and its hash."""

    position: int
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {"pk": self.position, "row_hash": self.hash}

    @property
    def text(self) -> str:
        """'51481:3f9a...': how `qam assessments verify` prints a head and takes one back (--head)."""
        return f"{self.position}:{self.hash}"


def parse_head(text: str) -> Link:
    """A head as :attr:`Link.text` writes it ('PK:ROW_HASH'); UsageError when it is not one."""
    pk, _, digest = text.strip().partition(":")
    if not (pk.isdigit() and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        raise UsageError(
            f"invalid chain head '{text}': give it as `qam assessments verify` printed it, PK:ROW_HASH "
            "(a number, a colon and 64 hexadecimal digits)"
        )
    return Link(int(pk), digest)


def row_hash(prev: str, values: Mapping[Any, Any]) -> str:
    """The row_hash of a revision with these field values (CHAINED_FIELDS, as stored and read back)
    after a row whose row_hash is ``prev``."""
    data = {name: values[name] for name in CHAINED_FIELDS}
    data["assessed_on"] = values["assessed_on"].isoformat()
    data["case_date"] = values["case_date"].isoformat()
    data["submitted_at"] = as_utc(values["submitted_at"]).isoformat(timespec="microseconds")
    data["prev"] = prev
    return sha256_text(canonical_json(data))


def link_rows(prev: str, rows: Iterable[Assessment]) -> str:
    """Set the row_hash of new revisions, in the order they will be stored (pk order), after a row
    whose row_hash is ``prev``; returns the last one's. JSON fields are hashed as they will read back."""
    for row in rows:
        values = {name: getattr(row, name) for name in CHAINED_FIELDS}
        values["answers"] = orjson.loads(json_text(row.answers))
        values["raw"] = orjson.loads(json_text(row.raw))
        row.row_hash = prev = row_hash(prev, values)
    return prev


def link_values(prev: str, rows: Iterable[dict[str, Any]]) -> str:
    """:func:`link_rows` for new revisions given as column values (a bulk insert's parameters): sets
    each one's "row_hash", the same as link_rows would for the same fields."""
    for values in rows:
        read_back = {
            **values,
            "answers": orjson.loads(json_text(values["answers"])),
            "raw": orjson.loads(json_text(values["raw"])),
        }
        values["row_hash"] = prev = row_hash(prev, read_back)
    return prev


def last_link(session: Session) -> Link | None:
    """The assessments' chain head: the row with the highest pk (None for an empty table)."""
    found = session.execute(
        select(Assessment.pk, Assessment.row_hash).order_by(Assessment.pk.desc()).limit(1)
    ).first()
    return Link(int(found[0]), str(found[1])) if found else None


def snapshot(session: Session) -> None:
    """Make the rest of the caller's transaction read one consistent state of the database, without
    a lock: call it first. PostgreSQL reads each statement's own state by default (a writer committing
    between two reads shows in the second only); SQLite's read transactions are one state already."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def record_head(session: Session, chain: str, head: Link, at: dt.datetime) -> None:
    """Record a chain's head after a write, in the writer's transaction."""
    session.add(ChainHead(chain=chain, position=head.position, head_hash=head.hash, recorded_at=at))
    session.flush()


def recorded_heads(session: Session, chain: str) -> list[tuple[Link, dt.datetime]]:
    """Every head recorded for ``chain``, oldest first, with when."""
    q = select(ChainHead.position, ChainHead.head_hash, ChainHead.recorded_at).where(ChainHead.chain == chain)
    return [(Link(p, h), as_utc(at)) for p, h, at in session.execute(q.order_by(ChainHead.position))]


def run_heads(session: Session) -> dict[str, Link]:
    """The assessments' head each run recorded in its manifest, by run id."""
    out: dict[str, Link] = {}
    for run_id, manifest in session.execute(select(Run.run_id, Run.manifest).order_by(Run.run_id)):
        head = manifest.get(MANIFEST_KEY)
        if isinstance(head, Mapping) and isinstance(head.get("pk"), int):
            out[run_id] = Link(head["pk"], str(head.get("row_hash", "")))
    return out


# --------------------------------------------------------------------------- verifying


class ProblemKind(StrEnum):
    """What `qam assessments verify` can find; every one is tampering."""

    #: a revision's row_hash does not recompute: it was edited, or the row before it deleted
    BROKEN_LINK = "broken_link"
    #: is_current is not true exactly for the highest revision of its assessment id
    WRONG_CURRENT = "wrong_current"
    #: the stored answers or case fields no longer hash to the revision's content_hash
    CONTENT_HASH = "content_hash"
    #: a recorded chain head is no longer in the chain: rows deleted, or the chain rewritten
    MISSING_HEAD = "missing_head"
    #: rows after the last head recorded by a submission: written to the table by hand
    UNRECORDED_ROWS = "unrecorded_rows"


@dataclass(frozen=True)
class ChainProblem:
    """One problem found: what, which revision (or head) and a sentence for people."""

    kind: ProblemKind
    message: str
    pk: int | None = None
    assessment_id: str | None = None
    revision: int | None = None

    @property
    def where(self) -> str:
        if self.assessment_id is not None:
            return f"{self.assessment_id} revision {self.revision} (pk {self.pk})"
        return f"pk {self.pk}" if self.pk is not None else "assessments"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "where": self.where,
            "message": self.message,
            "pk": self.pk,
            "assessment_id": self.assessment_id,
            "revision": self.revision,
        }


@dataclass(frozen=True)
class ChainReport:
    """Everything `qam assessments verify` checked and every problem it found."""

    rows_checked: int
    assessments: int
    heads_checked: int
    head: Link | None
    problems: tuple[ChainProblem, ...]

    columns = ("kind", "where", "problem")

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def summary(self) -> str:
        n = len(self.problems)
        checked = (
            f"{self.rows_checked} revision{'' if self.rows_checked == 1 else 's'} of {self.assessments} "
            f"assessment{'' if self.assessments == 1 else 's'} and {self.heads_checked} recorded "
            f"head{'' if self.heads_checked == 1 else 's'}"
        )
        if not n:
            head = f"; chain head {self.head.text} (keep it: --head checks it later)" if self.head else ""
            return f"OK: checked {checked}: hash chain intact, every current flag right{head}."
        return f"TAMPERED: checked {checked}: {n} problem{'' if n == 1 else 's'}."

    def to_table_rows(self) -> list[tuple[str, str, str]]:
        return [(p.kind.value, p.where, p.message) for p in self.problems]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows_checked": self.rows_checked,
            "assessments": self.assessments,
            "heads_checked": self.heads_checked,
            "head": self.head.to_json() if self.head else None,
            "problems": [p.to_json() for p in self.problems],
        }


def verify_assessments(database: Database, *, anchors: Iterable[str] = ()) -> ChainReport:
    """Recompute every revision's row_hash and content_hash (streamed in pk order, a chunk at a time),
    check each assessment's current flag, and check that every head recorded by a submission or a
    run, and every head in ``anchors`` ('PK:ROW_HASH', kept outside the database), is still in the
    chain. Submissions wait while it reads (a SHARE lock on PostgreSQL, the write lock on SQLite),
    so what it reads is one consistent state.

    Example: report = verify_assessments(db); print(report.summary)
    """
    given = [parse_head(text) for text in anchors]
    with database.session() as session:
        lock_for_writing(session, Assessment.pk, "SHARE")
        logged = recorded_heads(session, ASSESSMENT_CHAIN)
        heads: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for head, at in logged:
            heads[head.position].append((head.hash, f"recorded when a submission stored rows on {stamp(at)}"))
        for run_id, head in run_heads(session).items():
            heads[head.position].append((head.hash, f"recorded by run {run_id}"))
        for head in given:
            heads[head.position].append((head.hash, "given to verify"))
        problems = _currency_problems(session)
        assessments = int(session.scalar(select(func.count(func.distinct(Assessment.assessment_id)))) or 0)
        rows, tail, walked = _walk(session, heads)
    problems += walked
    last_logged = logged[-1][0].position if logged else 0
    if tail is not None and tail.position > last_logged:
        after = f"the last head recorded by a submission (pk {last_logged})" if logged else "no head recorded"
        problems.append(
            ChainProblem(
                ProblemKind.UNRECORDED_ROWS,
                f"rows up to pk {tail.position} come after {after}: they were written to the database "
                "by hand, not by qam submit",
                pk=tail.position,
            )
        )
    problems.sort(key=lambda p: (p.pk if p.pk is not None else -1, p.kind.value))
    return ChainReport(
        rows_checked=rows,
        assessments=assessments,
        heads_checked=sum(len(found) for found in heads.values()),
        head=tail,
        problems=tuple(problems),
    )


def _currency_problems(session: Session) -> list[ChainProblem]:
    """Revisions whose is_current disagrees with being their assessment id's highest revision."""
    top = (
        select(Assessment.assessment_id.label("aid"), func.max(Assessment.revision).label("top"))
        .group_by(Assessment.assessment_id)
        .subquery()
    )
    wrong = or_(
        and_(Assessment.is_current.is_(True), Assessment.revision != top.c.top),
        and_(Assessment.is_current.is_(False), Assessment.revision == top.c.top),
    )
    q = (
        select(Assessment.pk, Assessment.assessment_id, Assessment.revision, Assessment.is_current, top.c.top)
        .join(top, top.c.aid == Assessment.assessment_id)
        .where(wrong)
        .order_by(Assessment.pk)
    )
    out: list[ChainProblem] = []
    for pk, aid, revision, current, highest in session.execute(q):
        message = (
            f"marked current, but revision {highest} is the newest: the newer revision would be ignored"
            if current
            else "not marked current, but it is the newest revision: runs would leave the assessment out"
        )
        out.append(ChainProblem(ProblemKind.WRONG_CURRENT, message, pk, aid, revision))
    return out


def _walk(
    session: Session, heads: Mapping[int, list[tuple[str, str]]]
) -> tuple[int, Link | None, list[ChainProblem]]:
    """Every row in pk order: its link, its content hash, and the recorded heads at it; returns the
    rows read, the chain's head and the problems found."""
    columns = [getattr(Assessment, name) for name in ("pk", *CHAINED_FIELDS, "row_hash")]
    q = select(*columns).order_by(Assessment.pk).execution_options(yield_per=_YIELD_ROWS)
    problems: list[ChainProblem] = []
    prev, prev_pk, rows = GENESIS_HASH, 0, 0
    seen: set[int] = set()
    for row in session.execute(q):
        values = row._mapping
        pk, aid, revision, stored = (
            values["pk"],
            values["assessment_id"],
            values["revision"],
            values["row_hash"],
        )
        rows += 1
        if row_hash(prev, values) != stored:
            gap = f" (rows pk {prev_pk + 1} to {pk - 1} before it are gone)" if pk > prev_pk + 1 else ""
            problems.append(
                ChainProblem(
                    ProblemKind.BROKEN_LINK,
                    "its row_hash does not recompute from its fields and the row before it: the row was "
                    f"edited, or a row before it deleted{gap}",
                    pk,
                    aid,
                    revision,
                )
            )
        common = {c: values[c] for c in COMMON_COLUMNS}
        if content_hash(canonical_content(common, values["answers"])) != values["content_hash"]:
            problems.append(
                ChainProblem(
                    ProblemKind.CONTENT_HASH,
                    "its stored answers or case fields no longer hash to its content_hash: they were edited",
                    pk,
                    aid,
                    revision,
                )
            )
        for recorded, source in heads.get(pk, ()):
            if recorded != stored:
                problems.append(
                    ChainProblem(
                        ProblemKind.MISSING_HEAD,
                        f"the chain head {recorded[:12]} {source} is no longer in the chain (this row now "
                        f"hashes {stored[:12]}): the chain was rewritten up to here",
                        pk,
                        aid,
                        revision,
                    )
                )
        if pk in heads:
            seen.add(pk)
        prev, prev_pk = stored, pk
    for position in sorted(set(heads) - seen):
        for recorded, source in heads[position]:
            problems.append(
                ChainProblem(
                    ProblemKind.MISSING_HEAD,
                    f"the chain head {recorded[:12]} {source} is no longer in the chain: row pk {position} "
                    "was deleted",
                    position,
                )
            )
    return rows, (Link(prev_pk, prev) if rows else None), problems

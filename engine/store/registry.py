"""The ruleset registry's queries: the hash-chained ``ruleset_versions`` log and the writer lock.

Kept apart from the store's other query modules (assessments, case_scores, incidents, runs...);
``engine/registry/`` owns what the rows mean.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from engine.core.errors import StorageError
from engine.store.db import CaseScore, Database, RulesetVersion
from engine.store.integrity import REGISTRY_CHAIN, Link, record_head, recorded_heads
from engine.store.rows import lock_for_writing

#: how long a publisher waits for another one to finish before giving up with a retry message
LOCK_TIMEOUT_SECONDS = 30


def lock_registry(session: Session) -> None:
    """Take the registry's writer lock for the rest of the caller's transaction.

    Publishing reads the chain's tail and appends after it, so two publishers must not interleave.
    PostgreSQL: an EXCLUSIVE table lock (plain reads still run). SQLite: an empty UPDATE, which
    makes the driver open the write transaction now, before the tail is read.
    """
    lock_for_writing(session, RulesetVersion.seq, "EXCLUSIVE", timeout_seconds=LOCK_TIMEOUT_SECONDS)


@contextmanager
def writer_transaction(database: Database, *, busy: str) -> Iterator[Session]:
    """One transaction holding the registry's writer lock (:func:`lock_registry`).

    A publisher that raced another (a unique seq or hash taken) or waited too long for the lock
    gets ``StorageError(busy)``: nothing of its transaction is kept, and trying again is safe.
    """
    try:
        with database.session() as session:
            lock_registry(session)
            yield session
    except IntegrityError:
        raise StorageError(busy) from None
    except OperationalError as exc:
        # PostgreSQL's lock_timeout (SQLSTATE 55P03) or SQLite's busy timeout running out
        if getattr(exc.orig, "sqlstate", None) != "55P03" and "database is locked" not in str(exc.orig):
            raise
        raise StorageError(busy) from None


def chain(session: Session) -> list[RulesetVersion]:
    """Every entry in chain (seq) order."""
    return list(session.scalars(select(RulesetVersion).order_by(RulesetVersion.seq)))


def chain_tail(session: Session) -> RulesetVersion | None:
    """The entry with the highest seq, or None for an empty registry."""
    return session.scalars(select(RulesetVersion).order_by(RulesetVersion.seq.desc()).limit(1)).first()


def latest_entries(session: Session, *, as_of: dt.datetime | None = None) -> list[RulesetVersion]:
    """The newest entry of each ruleset id (published at or before ``as_of`` when given), by id."""
    newest = select(RulesetVersion.ruleset_id, func.max(RulesetVersion.seq).label("seq"))
    if as_of is not None:
        newest = newest.where(RulesetVersion.published_at <= as_of)
    newest_q = newest.group_by(RulesetVersion.ruleset_id).subquery()
    q = select(RulesetVersion).join(newest_q, RulesetVersion.seq == newest_q.c.seq)
    return list(session.scalars(q.order_by(RulesetVersion.ruleset_id)))


def ruleset_entries(session: Session, ruleset_id: str) -> list[RulesetVersion]:
    """Every version of one ruleset, oldest first."""
    q = select(RulesetVersion).where(RulesetVersion.ruleset_id == ruleset_id).order_by(RulesetVersion.seq)
    return list(session.scalars(q))


def append_entries(session: Session, entries: Sequence[RulesetVersion]) -> None:
    """Add new chain entries and record the new head apart from the chain (chain_heads), so that
    deleting the newest entries shows; the unique seq and entry_hash constraints reject a racing writer."""
    session.add_all(entries)
    session.flush()
    if entries:
        last = entries[-1]
        record_head(session, REGISTRY_CHAIN, Link(last.seq, last.entry_hash), last.published_at)


def published_heads(session: Session) -> list[tuple[Link, dt.datetime]]:
    """The head recorded at each publication (seq and entry hash of its last entry), oldest first."""
    return recorded_heads(session, REGISTRY_CHAIN)


def scored_versions(session: Session) -> list[tuple[str, str, str]]:
    """(ruleset id, version, sha256) of every ruleset version that official (non-draft) scores used."""
    q = (
        select(CaseScore.ruleset_id, CaseScore.ruleset_version, CaseScore.ruleset_sha256)
        .where(CaseScore.draft.is_(False))
        .distinct()
        .order_by(CaseScore.ruleset_id, CaseScore.ruleset_version)
    )
    return [(r, v, s) for r, v, s in session.execute(q).tuples()]

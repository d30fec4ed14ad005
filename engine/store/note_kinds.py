"""The kind a reviewer gave their note on an assessment (``note_kind``: good_practice or learning,
stored with its answers and never scored), looked up by assessment key for the cases recognition
shows (engine.analysis.recognition)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store.db import Assessment
from engine.store.rows import chunks


def note_kinds_of(session: Session, keys: Iterable[int]) -> dict[int, str]:
    """{assessment pk: note kind} of those of ``keys`` whose answers mark their note (the others are
    left out)."""
    out: dict[int, str] = {}
    kind = Assessment.answers["note_kind"].as_string()
    for chunk in chunks(sorted(set(keys))):
        q = select(Assessment.pk, kind).where(Assessment.pk.in_(chunk))
        for pk, value in session.execute(q):
            if value:
                out[int(pk)] = str(value)
    return out

"""Queries for sampling and calibration: the cases extract, drawn samples and their items, calibration
sets and the assessments submitted for them. Functions take the caller's session (one transaction).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, exists, insert, select, text, update
from sqlalchemy.orm import Session

from engine.core.periods import week_label
from engine.store.db import Assessment, CalibrationSet, CaseRecord, Sample, SampleItem
from engine.store.rows import chunks, current_at

if TYPE_CHECKING:  # cases.py imports this module
    from engine.inputs.cases import CaseRow

#: the one filter for assessments that count toward performance figures: calibration submissions never do
PERFORMANCE_ONLY: ColumnElement[bool] = Assessment.calibration_set.is_(None)


@dataclass(frozen=True)
class FrameRow:
    """A case of the frame with whether it was already reviewed (for performance) or drawn."""

    case: CaseRecord
    reviewed: bool
    drawn: bool


@dataclass(frozen=True)
class ItemRow:
    """A drawn sample item, with the case it refers to (None if the case left the extract) and
    whether a performance assessment of it has been submitted."""

    item: SampleItem
    case: CaseRecord | None
    submitted: bool


def _reviewed(case_type: Any, case_ref: Any) -> ColumnElement[bool]:
    return exists().where(
        Assessment.case_type == case_type,
        Assessment.case_ref == case_ref,
        Assessment.is_current.is_(True),
        PERFORMANCE_ONLY,
    )


def upsert_cases(session: Session, rows: Sequence[CaseRow], now: dt.datetime) -> tuple[int, int, int]:
    """Insert new (case_type, case_ref) rows, update changed ones in place, skip identical ones.

    Returns (inserted, updated, unchanged).
    """
    existing: dict[tuple[str, str], tuple[int, str]] = {}
    by_type: dict[str, list[str]] = {}
    for row in rows:
        by_type.setdefault(row.case_type, []).append(row.case_ref)
    for case_type, refs in sorted(by_type.items()):
        for chunk in chunks(sorted(set(refs))):
            found = session.execute(
                select(CaseRecord.case_ref, CaseRecord.pk, CaseRecord.content_hash).where(
                    CaseRecord.case_type == case_type, CaseRecord.case_ref.in_(chunk)
                )
            )
            existing.update(((case_type, ref), (pk, digest)) for ref, pk, digest in found)
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    unchanged = 0
    for row in rows:
        values = {
            "place": row.place,
            "team": row.team,
            "officer": row.officer,
            "case_date": row.case_date,
            "strata": dict(row.strata),
            "content_hash": row.content_hash,
            "source_file": row.source_file,
            "source_row": row.source_row,
            "loaded_at": now,
        }
        old = existing.get((row.case_type, row.case_ref))
        if old is None:
            new.append({"case_ref": row.case_ref, "case_type": row.case_type, **values})
        elif old[1] == row.content_hash:
            unchanged += 1
        else:
            changed.append({"pk": old[0], **values})
    # bulk statements: an ORM object per row costs ten times as much on a 100,000-row extract
    for chunk in chunks(new):
        session.execute(insert(CaseRecord), list(chunk))
    for chunk in chunks(changed):
        session.execute(update(CaseRecord), list(chunk))
    if new and session.get_bind().dialect.name == "postgresql":
        # Until autovacuum first analyses the table, psycopg's prepared (generic) plan for the IN lookup
        # above scans every row per chunk: a reload right after a 100,000-row load took 50 s, not 1.5 s.
        session.execute(text(f"ANALYZE {CaseRecord.__tablename__}"))
    return len(new), len(changed), unchanged


def frame(session: Session, start: dt.date, end: dt.date, case_type: str | None) -> list[FrameRow]:
    """Cases dated start..end (inclusive), with reviewed/drawn flags, in (case_type, place, case_ref) order."""
    drawn = exists().where(
        SampleItem.case_type == CaseRecord.case_type, SampleItem.case_ref == CaseRecord.case_ref
    )
    q = select(
        CaseRecord,
        _reviewed(CaseRecord.case_type, CaseRecord.case_ref).label("reviewed"),
        drawn.label("drawn"),
    ).where(CaseRecord.case_date >= start, CaseRecord.case_date <= end)
    if case_type:
        q = q.where(CaseRecord.case_type == case_type)
    q = q.order_by(CaseRecord.case_type, CaseRecord.place, CaseRecord.case_ref)
    return [
        FrameRow(case, bool(reviewed), bool(was_drawn)) for case, reviewed, was_drawn in session.execute(q)
    ]


def samples_for_week(session: Session, week: str) -> list[Sample]:
    return list(session.scalars(select(Sample).where(Sample.week == week).order_by(Sample.pk)))


def add_sample(session: Session, sample: Sample, items: Iterable[SampleItem]) -> Sample:
    session.add(sample)
    session.flush()
    objects = list(items)
    for item in objects:
        item.sample_pk = sample.pk
    session.add_all(objects)
    session.flush()
    return sample


def sample_items(session: Session, sample_pks: Sequence[int]) -> list[ItemRow]:
    """Items of these samples with their case and submitted flag, in (case_type, place, reviewer, case_ref) order."""
    if not sample_pks:
        return []
    q = (
        select(
            SampleItem, CaseRecord, _reviewed(SampleItem.case_type, SampleItem.case_ref).label("submitted")
        )
        .outerjoin(
            CaseRecord,
            and_(CaseRecord.case_type == SampleItem.case_type, CaseRecord.case_ref == SampleItem.case_ref),
        )
        .where(SampleItem.sample_pk.in_(list(sample_pks)))
        .order_by(SampleItem.case_type, SampleItem.place, SampleItem.reviewer, SampleItem.case_ref)
    )
    return [ItemRow(item, case, bool(submitted)) for item, case, submitted in session.execute(q)]


def period_frame_sizes(
    session: Session, date_from: dt.date, date_to: dt.date, *, cutoff: dt.datetime | None = None
) -> dict[tuple[str, str], int]:
    """{(place, case type): N} for the current performance assessments assessed date_from..date_to.

    The rule: a frame is one week's cases of one place and case type, as a recorded sample counted
    them (``SampleItem.frame_size``). When *every* case of a (place, case type) assessed in the
    period was drawn in a recorded sample, N is the sum of the sizes of the distinct frames they
    were drawn from (usually one). When any of them was not drawn (an ad hoc review, or none
    sampled at all) N is unknown and the key is absent: the finite-population correction assumes a
    random draw from a known frame, and "30 of 212" would otherwise count cases outside the 212.
    With ``cutoff``, the assessments current then and the samples drawn by then (an audit rerun).
    """
    in_period = (
        current_at(cutoff),
        PERFORMANCE_ONLY,
        Assessment.assessed_on >= date_from,
        Assessment.assessed_on <= date_to,
    )
    drawn = select(SampleItem.pk).join(Sample, Sample.pk == SampleItem.sample_pk)
    drawn = drawn.where(Sample.week <= week_label(date_to))
    if cutoff is not None:
        drawn = drawn.where(Sample.drawn_at <= cutoff)
    if session.execute(drawn.limit(1)).first() is None:
        return {}  # no sample recorded at all (a force not using `qam sample`): no frame is known
    case = (Assessment.place, Assessment.case_type, Assessment.case_ref)
    assessed = session.execute(select(*case).where(*in_period).distinct()).all()
    if not assessed:
        return {}
    # The items are read once and matched here: sample_items has no (case_type, case_ref) index, and
    # SQLite joined them to the assessments by rescanning every item per assessment (10 s for a week
    # of 4,000 reviews against 40,000 items; this takes 0.04 s, and 1.6 s for a year of 200,000).
    # Cases reviewed by the period's end were drawn in samples of weeks up to it.
    items = (
        select(
            SampleItem.case_type, SampleItem.case_ref, Sample.week, SampleItem.place, SampleItem.frame_size
        )
        .join(Sample, Sample.pk == SampleItem.sample_pk)
        .where(
            SampleItem.case_type.in_(sorted({case_type for _p, case_type, _r in assessed})),
            Sample.week <= week_label(date_to),
        )
    )
    if cutoff is not None:
        items = items.where(Sample.drawn_at <= cutoff)
    drawn_in: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for case_type, ref, week, frame_place, size in session.execute(items):
        drawn_in.setdefault((case_type, ref), []).append((week, frame_place, int(size)))
    frames: dict[tuple[str, str], dict[tuple[str, str], int]] = {}
    unsampled: set[tuple[str, str]] = set()
    for place, case_type, ref in assessed:
        found = drawn_in.get((case_type, ref))
        if not found:
            unsampled.add((place, case_type))
        for week, frame_place, size in found or ():
            frames.setdefault((place, case_type), {})[(week, frame_place)] = size
    return {key: sum(sizes.values()) for key, sizes in sorted(frames.items()) if key not in unsampled}


def cases_of_type(session: Session, case_type: str) -> list[CaseRecord]:
    return list(
        session.scalars(
            select(CaseRecord).where(CaseRecord.case_type == case_type).order_by(CaseRecord.case_ref)
        )
    )


def assessed_cases(session: Session, case_type: str) -> dict[str, Assessment]:
    """Case ref -> its latest current performance assessment, for cases of this type."""
    q = (
        select(Assessment)
        .where(Assessment.case_type == case_type, Assessment.is_current.is_(True), PERFORMANCE_ONLY)
        .order_by(Assessment.case_ref, Assessment.assessed_on, Assessment.submitted_at, Assessment.pk)
    )
    latest: dict[str, Assessment] = {}
    for assessment in session.scalars(q):
        latest[assessment.case_ref] = assessment  # the last in order wins
    return latest


def calibration_set(session: Session, name: str) -> CalibrationSet | None:
    return session.get(CalibrationSet, name)


def add_calibration_set(session: Session, record: CalibrationSet) -> None:
    session.add(record)
    session.flush()


def calibration_assessments(session: Session, name: str) -> list[Assessment]:
    """Current revisions submitted for a calibration set, oldest first."""
    q = (
        select(Assessment)
        .where(Assessment.calibration_set == name, Assessment.is_current.is_(True))
        .order_by(Assessment.submitted_at, Assessment.pk)
    )
    return list(session.scalars(q))

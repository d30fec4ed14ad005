"""Stored assessments as people read them (`qam assessments list|show`): plain values, not ORM rows."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import ClassVar

from sqlalchemy.orm import Session

from engine.core.errors import UsageError
from engine.core.periods import Period, week_label
from engine.store.assessments import COMMON_FIELDS, assessment_revisions, list_assessments


@dataclass(frozen=True)
class AssessmentLine:
    """One stored assessment as `qam assessments list` shows it; fields in COLUMNS order."""

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "assessment", "rev", "case type", "case ref", "place", "team", "officer", "reviewer", "assessed on", "week",
    )  # fmt: skip

    assessment_id: str
    revision: int
    case_type: str
    case_ref: str
    place: str
    team: str
    officer: str
    reviewer: str
    assessed_on: str
    week: str

    def row(self) -> tuple[object, ...]:
        return astuple(self)


def assessment_lines(
    session: Session, *, place: str | None, case_type: str | None, period: Period | None
) -> list[AssessmentLine]:
    """The current revisions of the stored assessments (of a place, a case type, assessed in a
    period), by date then id."""
    found = list_assessments(
        session,
        place=place,
        case_type=case_type,
        date_from=period.start if period else None,
        date_to=period.end if period else None,
    )
    return [
        AssessmentLine(
            a.assessment_id,
            a.revision,
            a.case_type,
            a.case_ref,
            a.place,
            a.team,
            a.officer,
            a.reviewer,
            a.assessed_on.isoformat(),
            week_label(a.assessed_on),
        )
        for a in found
    ]


@dataclass(frozen=True)
class AssessmentRevision:
    """One stored revision of an assessment, everything kept about it."""

    assessment_id: str
    revision: int
    current: bool
    common: dict[str, str]
    answers: dict[str, object]
    raw: dict[str, object]
    source: str
    submitted_at: str
    content_hash: str
    calibration_set: str | None


def revisions_of(session: Session, assessment_id: str) -> list[AssessmentRevision]:
    """Every revision of one assessment, oldest first; UsageError when there is none."""
    revisions = assessment_revisions(session, assessment_id)
    if not revisions:
        raise UsageError(f"no assessment with id '{assessment_id}'")
    return [
        AssessmentRevision(
            a.assessment_id,
            a.revision,
            a.is_current,
            {c: str(getattr(a, c)) for c in COMMON_FIELDS},
            dict(a.answers),
            dict(a.raw),
            f"{a.source_file}:{a.source_row}",
            a.submitted_at.isoformat(timespec="seconds"),
            a.content_hash,
            a.calibration_set,
        )
        for a in revisions
    ]

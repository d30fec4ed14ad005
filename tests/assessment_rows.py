"""Stored assessments for the sampling and calibration tests: a minimal submissions.ValidRow and a
helper that stores rows (optionally for a calibration set) through engine.store.assessments."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from engine.store import assessments
from engine.store.db import Database

SUBMITTED_AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


@dataclasses.dataclass(frozen=True)
class StoredRow:
    """One assessment as the repository stores it; the content hash defaults to one of its content."""

    assessment_id: str
    case_ref: str
    reviewer: str = "Ann"
    answers: dict[str, Any] = dataclasses.field(default_factory=dict)
    case_type: str = "stop_search"
    place: str = "BLK"
    team: str = "Response A"
    officer: str = "PC 1"
    assessed_on: dt.date = dt.date(2026, 11, 25)
    case_date: dt.date = dt.date(2026, 11, 16)
    raw: dict[str, str] = dataclasses.field(default_factory=dict)
    source_file: str = "qa.csv"
    source_row: int = 2
    content_hash: str = ""


def store_rows(
    database: Database,
    rows: Sequence[StoredRow],
    *,
    calibration_set: str | None = None,
    submitted_at: dt.datetime = SUBMITTED_AT,
) -> None:
    hashed = [
        r
        if r.content_hash
        else dataclasses.replace(r, content_hash=hashlib.sha256(repr(r).encode()).hexdigest())
        for r in rows
    ]
    with database.session() as s:
        assessments.store_assessments(
            s, hashed, amend=False, submitted_at=submitted_at, calibration_set=calibration_set
        )

"""Loading the cases extract (the sampling frame) into the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from engine.inputs.cases import CaseRow
from engine.store import sampling as store
from engine.store.db import Database


@dataclass(frozen=True)
class LoadCasesResult:
    """What loading a cases extract did."""

    source: str
    inserted: int
    updated: int
    unchanged: int

    def summary(self) -> str:
        total = self.inserted + self.updated + self.unchanged
        return (
            f"Loaded {total:,} cases from {self.source}: {self.inserted:,} new, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged."
        )


def load_cases(
    database: Database, rows: Sequence[CaseRow], now: dt.datetime, source: str = ""
) -> LoadCasesResult:
    """Store a validated extract, idempotent on (case_type, case_ref): an identical row is a no-op and a
    changed row updates the stored case (the newest extract is the source system's truth; samples
    already drawn keep the place and frame size they were drawn with).
    """
    with database.session() as session:
        inserted, updated, unchanged = store.upsert_cases(session, rows, now)
    return LoadCasesResult(source or (rows[0].source_file if rows else ""), inserted, updated, unchanged)

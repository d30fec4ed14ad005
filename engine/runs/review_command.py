"""`qam review`'s way in for engine.api: the pack's modules (pandas, reportlab) load only when a pack
is written, so no other command pays for them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.config import Settings

if TYPE_CHECKING:
    from engine.runs.review import ReviewResult


def review(settings: Settings, quarter: str, out: Path) -> ReviewResult:
    """The quarter's Learning Review pack. Example: qam review --quarter 2026-Q3"""
    from engine.runs.review import review_run

    return review_run(settings, quarter, out, now=lambda: dt.datetime.now(dt.UTC))

"""engine.analysis.weeks: ISO week labels."""

from __future__ import annotations

from datetime import date

from engine.analysis.weeks import week_label, week_monday, week_range


def test_iso_week_helpers() -> None:
    assert week_label(date(2026, 11, 16)) == "2026-W47"
    assert week_label(date(2027, 1, 1)) == "2026-W53"  # ISO years have 52 or 53 weeks
    assert week_monday("2026-W47") == date(2026, 11, 16)
    assert week_range("2026-W52", "2027-W02") == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]

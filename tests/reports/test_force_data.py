"""force.pdf's data (reports.force_data): what the force summary holds, before any rendering."""

from __future__ import annotations

from engine.reports.force_data import build_force_summary
from tests.reports.briefing_cases import PLACES, place_exceptions, run


def test_not_measured_is_kept_in_the_order_given() -> None:
    summary = build_force_summary(place_exceptions(), PLACES, run(), not_measured=["M8", "D7"])
    assert summary.not_measured == ("M8", "D7")


def test_not_measured_defaults_to_none() -> None:
    assert build_force_summary(place_exceptions(), PLACES, run()).not_measured == ()

"""force.pdf's data (reports.force_data): what the force summary holds, before any rendering."""

from __future__ import annotations

from engine.reports.force_data import build_force_summary
from tests.reports.briefing_cases import PLACES, place_exceptions, run


def test_not_measured_is_kept_in_the_order_given() -> None:
    summary = build_force_summary(place_exceptions(), PLACES, run(), not_measured=["M8", "D7"])
    assert summary.not_measured == ("M8", "D7")


def test_not_measured_defaults_to_none() -> None:
    assert build_force_summary(place_exceptions(), PLACES, run()).not_measured == ()


def test_overview_puts_critical_failures_first_then_names() -> None:
    summary = build_force_summary(place_exceptions(), PLACES, run())
    assert [pc.place.code for pc in summary.overview] == ["BLK", "KNG", "CRN"]
    assert [p.code for p in summary.places_without] == ["ASH", "DLW"]
    assert summary.overview[0].measures == ("D7", "D11", "M2", "M8")
    assert [e.criterion for e in summary.force_exceptions] == ["101-MEDIAN"]
    p3 = next(p for p in summary.priorities if p.priority == 3)
    assert [pc.place.code for pc in p3.places_with] == ["BLK", "KNG"]
    assert not next(p for p in summary.priorities if p.priority == 2).places_with
    assert next(p for p in summary.priorities if p.priority == 2).empty

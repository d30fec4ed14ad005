"""engine.reports.briefing_data: the force summary lists places alphabetically, never ranked; unknown
place codes and priorities are reported all at once."""

from __future__ import annotations

import pytest

from engine.core.errors import ReportError
from engine.core.models import ExceptionKind
from engine.reports.briefing_data import build_place_briefings
from tests.reports.briefing_cases import PLACES, exc, place_exceptions, run, summary


def test_force_summary_lists_places_alphabetically_not_by_count() -> None:
    s = summary()
    p3 = s.priorities[2]
    assert [pc.place.name for pc in p3.places_with] == ["Blackwater", "Kingsgate"]
    assert p3.places_with[0].counts == (1, 0, 1, 0)
    assert [p.name for p in s.places] == sorted(p.name for p in PLACES)


def test_unknown_place_or_priority_is_reported_all_at_once() -> None:
    bad = [*place_exceptions(), exc("XXX", ExceptionKind.CRITICAL, "D7", "DA03", 1, 2, priority=9)]
    with pytest.raises(ReportError) as info:
        build_place_briefings(bad, PLACES, {}, run())
    message = str(info.value)
    assert "exceptions[7]: unknown place code 'XXX'" in message
    assert "exceptions[7]: unknown priority 9 (known: 1, 2, 3, 4)" in message

"""force.pdf (reports.force_brief): page 1 is the whole force at a glance, with every place named;
places with a critical failure first, then alphabetical; priorities with nothing get one line; the
force-level exceptions follow in full; few pages; byte-identical re-renders."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from pypdf import PdfReader

from engine.reports.force_brief import force_pdf
from engine.reports.force_data import build_force_summary
from engine.reports.layout import RenderedPdf
from tests.reports.briefing_cases import PLACES, place_exceptions, run


def pages(pdf: RenderedPdf) -> list[str]:
    """Each page's text with whitespace runs made single spaces."""
    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.data)).pages]


@pytest.fixture(scope="module")
def week() -> RenderedPdf:
    return force_pdf(build_force_summary(place_exceptions(), PLACES, run(), not_measured=("M8", "D7")))


def test_page_one_names_every_place(week: RenderedPdf) -> None:
    first = pages(week)[0]
    for place in PLACES:
        assert place.name in first
    assert "Nothing to report (2): Ashford Vale, Dalewood." in first


def test_places_with_a_critical_failure_come_first_then_alphabetical(week: RenderedPdf) -> None:
    first = pages(week)[0]
    table = first[first.index("Measures") :]
    # Blackwater and Kingsgate have a critical failure; Cranmoor, alphabetically before Kingsgate, has not
    assert table.index("Blackwater") < table.index("Kingsgate") < table.index("Cranmoor")
    assert "Kingsgate Central 1 – – – – D7" in first
    assert "Blackwater West 1 1 1 1 – D7, D11, M2, M8" in first


def test_a_priority_with_nothing_is_one_line_not_a_page(week: RenderedPdf) -> None:
    first = pages(week)[0]
    assert "Priority 2: Bring offenders to justice: nothing to report." in first
    assert (
        "Priority 3: Protect vulnerable people and support victims: Blackwater (D7, M8) 1 critical" in first
    )
    assert "7 exceptions: 2 critical failures, 2 below standard, 2 special cause, 1 threshold breach" in first


def test_measures_not_measured_are_named(week: RenderedPdf) -> None:
    assert (
        "Not measured anywhere in the force this week: M8 Victim care (Victims' Code); "
        "D7 Domestic abuse safeguarding." in pages(week)[0]
    )


def test_force_level_exceptions_follow_in_full_and_pages_are_few(week: RenderedPdf) -> None:
    text = pages(week)
    assert week.pages == 2
    assert "Force-level special cause · M2 Response and call handling" in text[1]
    assert "The median 101 answer time has risen for 7 weeks running" in text[1]


def test_a_week_without_force_level_exceptions_is_one_page() -> None:
    places_only = [e for e in place_exceptions() if e.place != "FORCE"]
    pdf = force_pdf(build_force_summary(places_only, PLACES, run()))
    assert pdf.pages == 1
    assert "Not measured" not in pages(pdf)[0]


def test_a_quiet_week_names_every_place_as_having_nothing_to_report() -> None:
    pdf = force_pdf(build_force_summary([], PLACES, run()))
    (first,) = pages(pdf)
    assert "Nothing to report (5): all 5 places." in first
    assert "No exceptions this week" in first
    assert first.count("nothing to report.") == 4


def test_rerender_is_byte_identical(week: RenderedPdf) -> None:
    again = force_pdf(build_force_summary(place_exceptions()[::-1], PLACES, run(), not_measured=("M8", "D7")))
    assert again.data == week.data


def test_draft_banner_on_every_page() -> None:
    pdf = force_pdf(build_force_summary(place_exceptions(), PLACES, run(draft=True)))
    assert all("DRAFT" in page for page in pages(pdf))


def test_many_places_still_fit_page_one() -> None:
    many = tuple(replace(PLACES[i % 5], code=f"P{i:02d}", name=f"Place {i:02d}") for i in range(40))
    exceptions = [replace(e, place="P07") for e in place_exceptions() if e.place != "FORCE"]
    first = pages(force_pdf(build_force_summary(exceptions, many, run())))[0]
    assert all(f"Place {i:02d}" in first for i in range(40))

"""An item the catalogue leaves undefined (M3 until the force names it) is shown as "not defined" in
the place briefings, the force summary and peel.pdf: never among what was not measured, never
covered by "no exceptions"."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader

from engine.core.models import ExceptionKind
from engine.core.periods import Period
from engine.reports.briefing import place_pdf
from engine.reports.briefing_data import build_place_briefings
from engine.reports.force_brief import force_pdf
from engine.reports.force_data import build_force_summary
from engine.reports.peel_data import PeelReport, PillarSection
from engine.reports.peel_pdf import peel_pdf
from engine.rules.catalogue import NOT_DEFINED, load_measure_catalogue
from tests.reports.briefing_cases import (
    CATALOGUE,
    CATALOGUE_NAMES,
    DEMO_PLACES,
    NOT_MEASURED,
    dalewood_exceptions,
    harbourside_exceptions,
    run,
)

NAMES = {**CATALOGUE_NAMES, "M3": NOT_DEFINED}


def _text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages)


def test_a_place_briefing_names_m3_not_defined_and_not_as_unmeasured() -> None:
    r = run(measure_names=NAMES, measure_priorities=CATALOGUE, measure_case_types={"D11": "stop_search"})
    built = build_place_briefings(
        [*harbourside_exceptions(), *dalewood_exceptions()],
        DEMO_PLACES,
        {"HRB": {"stop_search": 31, "victim_care": 33}, "DLW": {}},
        r,
        not_measured_by_place=NOT_MEASURED,  # as coverage lists it: M3 had no data either
    )
    hrb, dlw = ({b.place.code: b for b in built}[c] for c in ("HRB", "DLW"))
    hrb_text = _text(place_pdf(hrb).data)
    assert (
        "Priority 1: Respond to the public and keep people safe: no exceptions; not measured this week: "
        "M1 Neighbourhood crime. Not defined: M3, an item the force has not named yet."
    ) in hrb_text
    assert "M3 not defined" not in hrb_text  # never listed as if it were a measure without data
    dlw_text = _text(place_pdf(dlw).data)
    # priority 1 has an issue at Dalewood: its not-measured line, then M3 on its own
    assert (
        "Not measured this week: M1 Neighbourhood crime. Not defined: M3, an item the force has" in dlw_text
    )


def test_the_force_summary_names_m3_not_defined() -> None:
    r = run(measure_names=NAMES, measure_priorities=CATALOGUE)
    summary = build_force_summary(harbourside_exceptions(), DEMO_PLACES, r, not_measured=("M1", "M3", "M5"))
    text = _text(force_pdf(summary).data)
    assert (
        "Not measured anywhere in the force this week: M1 Neighbourhood crime; M5 Crime file quality." in text
    )
    assert "Not defined: M3, an item of the catalogue the force has not named yet." in text


def test_peel_pdf_names_m3_not_defined_and_the_pillars_by_the_catalogues_names() -> None:
    catalogue = load_measure_catalogue()
    period = Period.of(dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    report = PeelReport(
        force_name="Demo Constabulary",
        period=period,
        quarters=tuple(period.quarters()),
        as_of="latest published",
        rulesets=(),
        run_id="0123456789abcdef",
        cases_reviewed=0,
        exception_counts=((period.label, {k.value: 0 for k in ExceptionKind}),),
        pillars=tuple(
            PillarSection(p, d, (), catalogue.pillar_name(p)) for p, d in catalogue.peel_pillars.items()
        ),
        comparison=None,
        not_defined=catalogue.undefined,
    )
    text = _text(peel_pdf(report).data)
    assert "Not defined: M3, an item of the catalogue the force has not named yet." in text
    assert "PEEL pillar: OD (people)" in text and "PEEL pillar: Efficiency" in text

"""engine.reports.peel_pdf: a long PEEL period (ten years, forty quarters) lays out, its quarters
continuing in further tables instead of columns too narrow to hold a figure."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

from pypdf import PdfReader

from engine.core.models import ExceptionKind
from engine.core.periods import Period
from engine.reports.peel_data import Figure, MeasureSection, PeelReport, PillarSection, PlaceFigures
from engine.reports.peel_pdf import QUARTERS_PER_TABLE, peel_pdf
from engine.rules.catalogue import Measure


def _report(years: int) -> PeelReport:
    period = Period.of(dt.date(2016, 1, 1), dt.date(2015 + years, 12, 31))
    quarters = tuple(period.quarters())
    figure = Figure("x", 40, 30, 0.75, 0.6, 0.86)
    places = tuple(
        PlaceFigures(code, name, figure, tuple(Figure(q.label, 10, 7, 0.7, 0.4, 0.89) for q in quarters))
        for code, name in (("BLK", "Blackwater"), ("HRB", "Harbourside"))
    )
    measure = Measure("D11", "Stop and search legitimacy", 4, "legitimacy", ("integrity",), "higher", "")
    section = MeasureSection(measure, (figure, *(figure for _ in quarters)), places, (), None, ())
    return PeelReport(
        force_name="Demo Constabulary",
        period=period,
        quarters=quarters,
        as_of="latest published",
        rulesets=(),
        run_id="0123456789abcdef",
        cases_reviewed=80,
        exception_counts=((period.label, {k.value: 0 for k in ExceptionKind}),),
        pillars=(PillarSection("legitimacy", "Legitimacy", (section,)),),
        comparison=None,
    )


def test_a_ten_year_period_lays_out_every_quarter_of_every_place() -> None:
    report = _report(10)
    assert len(report.quarters) == 40 > QUARTERS_PER_TABLE
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(peel_pdf(report).data)).pages)
    for q in report.quarters:
        assert q.label in text
    # the places are repeated beside each further table of quarters
    assert text.count("Harbourside (HRB)") >= 40 // QUARTERS_PER_TABLE


def test_the_teams_own_exceptions_are_counted_beside_the_table_and_none_is_said() -> None:
    report = _report(1)
    labels = [report.period.label, *(q.label for q in report.quarters)]
    none = dataclasses.replace(report, team_exception_counts=tuple((label, 0) for label in labels))
    some = dataclasses.replace(report, team_exception_counts=tuple((label, 2) for label in labels))

    def text(r: PeelReport) -> str:
        return " ".join(
            " ".join(p.extract_text() for p in PdfReader(io.BytesIO(peel_pdf(r).data)).pages).split()
        )

    assert "no team had one of its own" in text(none)
    assert (
        "Teams had 2 of their own over the whole period (2016-Q1: 2; 2016-Q2: 2; 2016-Q3: 2; 2016-Q4: 2)"
        in text(some)
    )
    assert "of their own" not in text(report)  # a report made without team counts says nothing of them

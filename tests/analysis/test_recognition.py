"""engine.analysis.recognition: an improving SPC signal and sustained compliance are recognised,
with the passing cases and reviewer notes behind them; a worsening series, a failing week, a critical
failure or too few cases are not."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from pypdf import PdfReader

from engine.analysis import daily
from engine.analysis.aggregate import aggregate
from engine.analysis.outcomes import in_period, outcomes_frame
from engine.analysis.recognition import Recognition, find_recognition
from engine.analysis.stats import wilson_interval
from engine.reports.layout import Furniture, render_story
from engine.reports.recognition_blocks import force_recognition, recognition_flowables
from tests.analysis.scenarios import CRITERIA, FROM, MEASURES, SS, STABLE, TO, Scenario

#: the scenarios' criteria, the critical SS02 with the 95% minimum every bundled critical criterion has
RECOGNITION_CRITERIA = [{**c, "minimum": 0.95} if c["criterion"] == "SS02" else c for c in CRITERIA]
QUARTER_FROM = TO - timedelta(weeks=13) + timedelta(days=1)  # 13 weeks ending 2026-W47


def recognise(
    s: Scenario,
    start: date = FROM,
    end: date = TO,
    *,
    marks: dict[int, str] | None = None,
    **options: Any,
) -> list[Recognition]:
    """find_recognition over start..end with the inputs a run prepares (as scenarios.assess)."""
    outcomes = outcomes_frame(s.rows, RECOGNITION_CRITERIA, MEASURES)
    table = aggregate(in_period(outcomes, start, end), "p", levels=("place",), dimensions=("criterion",))
    lookup = None if marks is None else (lambda keys: {k: v for k, v in marks.items() if k in keys})
    return find_recognition(
        outcomes,
        start,
        end,
        aggregates=table,
        outcome_days=daily.outcome_days(outcomes),
        note_kinds=lookup,
        **options,
    )


def weeks_of(s: Scenario, place: str, criterion: str, per_week: Sequence[tuple[int, int]]) -> None:
    """(passes, fails) a week for the 13 weeks ending 2026-W47, each week's cases on its Wednesday."""
    first = TO - timedelta(weeks=len(per_week) - 1) - timedelta(days=4)
    for w, (k, f) in enumerate(per_week):
        s.cases(place, criterion, k, f, day=first + timedelta(weeks=w))


def test_an_improving_shift_is_recognised_with_its_chart() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, *[19] * 7])
    (r,) = recognise(s)
    assert (r.kind, r.place, r.team, r.measure, r.criterion, r.week) == (
        "improvement",
        "BLK",
        "",
        "D5",
        "",
        "2026-W47",
    )
    assert (r.n, r.passed, r.rate) == (20, 19, 0.95)
    assert (r.ci_low, r.ci_high) == wilson_interval(19, 20)
    assert r.reason == (
        "Compliance with investigation quality has been above this place's usual average of 85% for 8 weeks "
        "running, most recently 95% in week 2026-W47."
    )
    assert r.chart is not None and r.chart.rules == ("shift",)
    assert [p.week for p in r.chart.points if p.flagged][-1] == "2026-W47"
    assert sum(p.flagged for p in r.chart.points) == 8  # the last baseline week (90%) is above the mean too
    assert len(r.cases) == 19  # the week's passing cases


def test_a_worsening_shift_is_not_recognised() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, *[15] * 7])
    assert recognise(s) == []


def test_an_improvement_within_a_quarter_is_recognised_at_its_latest_week() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, *[19] * 7, 17])  # back to usual in the last week
    (r,) = recognise(s, QUARTER_FROM - timedelta(weeks=1), TO)
    assert (r.kind, r.week) == ("improvement", "2026-W46")
    # no case at all in the quarter's last week: the improvement before it still counts
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, *[19] * 7, 0], n=20)
    s.rows = [x for x in s.rows if x["assessed_on"] < TO - timedelta(days=6)]
    (r,) = recognise(s, QUARTER_FROM - timedelta(weeks=1), TO)
    assert (r.kind, r.week) == ("improvement", "2026-W46")
    # the quarter's last week a concern: no good news
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, *[19] * 7, 6])
    assert recognise(s, QUARTER_FROM, TO) == []


def test_sustained_compliance_is_recomputed_from_the_rows() -> None:
    s = Scenario()
    weeks_of(s, "BLK", "SS01", [(30, 0)] * 6 + [(29, 1)] * 7)
    (r,) = recognise(s, QUARTER_FROM, TO)
    rows = [x for x in s.rows if x["place"] == "BLK" and x["criterion"] == "SS01" and x["outcome"] != "na"]
    n, k = len(rows), sum(x["outcome"] == "pass" for x in rows)
    assert (r.kind, r.ruleset, r.criterion, r.measure, r.standard) == ("sustained", SS, "SS01", "D11", 0.9)
    assert (r.n, r.passed, r.rate) == (n, k, k / n) == (390, 383, 383 / 390)
    assert (r.ci_low, r.ci_high) == wilson_interval(k, n)
    assert r.ci_low > 0.9 and r.chart is None
    assert r.reason == (
        "Grounds for the search are recorded: met in 383 of 390 searches reviewed (98%) in 2026-08-24 to "
        "2026-11-22, and at or above the 90% minimum in each of its 13 weeks; even allowing for sampling the "
        "true rate is at least 96%."
    )
    assert r.cases == tuple(sorted({x["case_ref"] for x in rows if x["outcome"] == "pass"}))


def test_a_week_below_the_standard_stops_sustained_compliance() -> None:
    s = Scenario()
    weeks_of(s, "BLK", "SS01", [(30, 0)] * 12 + [(26, 4)])  # 87% in the last week; 386 of 390 overall
    assert recognise(s, QUARTER_FROM, TO) == []


def test_a_place_with_too_few_cases_gets_none() -> None:
    s = Scenario()
    weeks_of(s, "BLK", "SS01", [(3, 0)] * 6)  # 18 of 18: its interval clears 90%? no, and too few anyway
    s.cases("RVS", "SS01", 19)
    s.cases("KGT", "SS01", 80)
    assert [(r.place, r.n) for r in recognise(s, QUARTER_FROM, TO)] == [("KGT", 80)]
    assert recognise(s, QUARTER_FROM, TO, min_cases=81) == []


def test_a_critical_criterion_is_recognised_only_without_any_failure() -> None:
    s = Scenario()
    s.cases("BLK", "SS02", 80)
    s.cases("RVS", "SS02", 200, 1)
    s.cases("KGT", "SS02", 30)  # no failure, but too few to be sure of 95%
    found = recognise(s, QUARTER_FROM, TO)
    assert [(r.place, r.criterion, r.kind) for r in found] == [("BLK", "SS02", "sustained")]
    assert found[0].reason.startswith(
        "Strip search authorised by an inspector: met in all 80 searches reviewed"
    )


def test_at_most_three_a_place_strongest_first() -> None:
    s = Scenario()
    s.cases("BLK", "SS01", 100)  # clears 90% by 6 points
    s.cases("BLK", "SS03", 30)  # clears 80% by 8.6 points
    s.cases("BLK", "SS02", 100)  # clears 95% by 1.3 points
    s.weekly("BLK", "IQ01", [*STABLE, *[19] * 7])  # an improvement: listed first
    found = recognise(s)
    assert [(r.kind, r.measure, r.criterion) for r in found] == [
        ("improvement", "D5", ""),
        ("sustained", "D11", "SS03"),
        ("sustained", "D11", "SS01"),
    ]
    assert [r.criterion for r in recognise(s, per_place=4)][-1] == "SS02"


def test_the_notes_behind_it_good_practice_first_learning_left_out() -> None:
    s = Scenario()
    s.cases("BLK", "SS01", 60)
    s.cases("BLK", "SS01", 1, note="Grounds <b>clearly</b> set out & linked", assessment_key=901)
    s.cases("BLK", "SS01", 1, note="Fine record", assessment_key=902)
    s.cases("BLK", "SS01", 1, note="Remember the receipt next time", assessment_key=903)
    s.cases("BLK", "SS01", 0, 1, note="Grounds missing", assessment_key=904)  # a failure: never good news
    (r,) = recognise(s, marks={901: "good_practice", 903: "learning"})
    assert [d.note for d in r.details] == ["Grounds <b>clearly</b> set out & linked", "Fine record"]
    assert r.good_practice == (r.details[0].case_ref,)
    assert r.details[0].criterion == "SS01" and r.details[0].trace == ()
    assert len(r.cases) == 63
    # without note kinds every note on a passing case is shown, by date and case
    (r,) = recognise(s)
    assert len(r.details) == 3 and r.good_practice == ()


def test_an_unmarked_note_on_a_case_that_failed_another_criterion_is_not_shown_as_good_news() -> None:
    # these passed SS01 but failed SS03: an unmarked reviewer's note is about the failure, not SS01's good news
    s = Scenario()
    s.cases("BLK", "SS01", 60)
    s.case("BLK", {"SS01": "pass", "SS03": "fail"}, note="Ethnicity not recorded", assessment_key=911)
    s.case("BLK", {"SS01": "pass", "SS03": "fail"}, note="Grounds exemplary", assessment_key=912)
    s.case("BLK", {"SS01": "pass", "SS03": "pass"}, note="A clean search record", assessment_key=913)
    (r,) = [x for x in recognise(s, marks={912: "good_practice"}) if x.criterion == "SS01"]
    assert [d.note for d in r.details] == ["Grounds exemplary", "A clean search record"]


def pdf_text(story: list[Any]) -> str:
    pdf = render_story(story, Furniture("t", "t", None, (), "run", draft=False))
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.data)).pages)


def test_the_pdf_shows_the_reason_figures_chart_and_notes_markup_escaped() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, *[19] * 7])
    s.cases("BLK", "IQ01", 1, day=TO, note="Plan <b>agreed</b> & shared <i>early", assessment_key=77)
    s.cases("KGT", "SS01", 60, note="Grounds well recorded")
    found = recognise(s, marks={77: "good_practice"})
    assert [(r.place, r.kind) for r in found] == [("BLK", "improvement"), ("KGT", "sustained")]
    assert found[1].reason == (
        "Grounds for the search are recorded: met in 60 of 60 searches reviewed (100%) in week 2026-W47; the "
        "minimum standard is 90%, and even allowing for sampling the true rate is at least 94%."
    )
    names = {"BLK": "Blackwater", "KGT": "Kingsgate"}
    text = pdf_text(recognition_flowables(found, place_names=names, measure_names={"D5": "Investigation"}))
    assert "Improvement · Blackwater · D5 Investigation" in text
    assert "Good practice: Plan <b>agreed</b> & shared <i>early" in text
    assert "Signal: 7 or more weeks in a row on one side of the mean" in text
    assert "Sustained compliance · Kingsgate · D11" in text and "60 of 60 met it" in text
    assert text.count("Grounds well recorded") == 5  # at most five notes an item
    short = pdf_text(force_recognition(found, place_names=names, measure_names={}))
    assert (
        "run Recognition An improvement beyond normal variation, or a standard met with confidence" in short
    )
    assert "Reviewer on IQ-" in short and "“Plan <b>agreed</b> & shared <i>early”" in short
    assert force_recognition([], place_names=names, measure_names={}) == []


def test_an_improvement_in_a_week_of_too_few_cases_is_not_recognised() -> None:
    s = Scenario()
    s.weekly("BLK", "IQ01", [*STABLE, *[19] * 7])  # 20 cases a week
    assert len(recognise(s, min_cases=20)) == 1
    assert recognise(s, min_cases=21) == []
    assert recognise(s, kinds=("sustained",)) == []


def test_a_themes_items_are_capped_among_themselves() -> None:
    s = Scenario()
    s.cases("BLK", "SS01", 100)
    s.cases("BLK", "SS03", 30)
    s.cases("BLK", "SS02", 100)
    s.weekly("BLK", "IQ01", [*STABLE, *[19] * 7])
    assert [r.criterion for r in recognise(s, measures=("D11",))] == ["SS03", "SS01", "SS02"]
    assert [r.measure for r in recognise(s, measures=("D5",))] == ["D5"]

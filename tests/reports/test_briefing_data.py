"""engine.reports.briefing_data: the force summary lists places alphabetically, never ranked; unknown
place codes and priorities are reported all at once; exceptions on one measure are one entry whose
cases are listed once, worst first; what was not measured; the rows of the cases CSV."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.core.errors import ReportError
from engine.core.models import ExceptionKind
from engine.reports.briefing_data import build_place_briefings, make_entries
from engine.reports.cases_csv import CASES_CSV_COLUMNS, case_rows
from tests.reports.briefing_cases import (
    APPLIES,
    LONG_NOTE,
    NOT_MEASURED,
    PLACES,
    SS_GUIDANCE,
    briefings,
    demo_briefings,
    exc,
    harbourside_exceptions,
    place_exceptions,
    run,
    summary,
)


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


# --- entries -------------------------------------------------------------------------------------


def test_exceptions_on_one_place_and_measure_are_one_entry_most_serious_signal_first() -> None:
    hrb = demo_briefings()["HRB"]
    assert len(hrb.exceptions) == 3  # the raw exceptions stay as they are (exceptions.json)
    (entry,) = hrb.entries()
    assert (entry.place, entry.measure, entry.priority) == ("HRB", "D11", 4)
    assert [(e.kind, e.criterion) for e in entry.signals] == [
        (ExceptionKind.BELOW_STANDARD, "SS01"),
        (ExceptionKind.BELOW_STANDARD, "SS02"),
        (ExceptionKind.SPECIAL_CAUSE, ""),
    ]
    assert entry.kinds() == (ExceptionKind.BELOW_STANDARD, ExceptionKind.SPECIAL_CAUSE)


def test_entries_are_ordered_by_their_most_serious_signal_whatever_the_input_order() -> None:
    # Harbourside's three D11 signals moved to Blackwater join Blackwater's D11 exception
    exceptions = [*(replace(e, place="BLK") for e in harbourside_exceptions()), *place_exceptions()[:4]]
    entries = make_entries(exceptions)
    assert entries == make_entries(exceptions[::-1])
    assert [x.measure for x in entries] == ["D7", "D11", "M8", "M2"]  # critical, below std, ...
    assert len(entries[1].signals) == 4


def test_a_threshold_and_a_special_cause_on_one_figure_are_one_figure() -> None:
    (entry,) = demo_briefings()["DLW"].entries()
    (figure,) = entry.figures()
    assert [e.kind for e in figure.signals] == [ExceptionKind.SPECIAL_CAUSE, ExceptionKind.THRESHOLD]
    assert (figure.lead.passed, figure.lead.n) == (194, 233)


def test_a_case_is_listed_once_with_every_criterion_it_failed_worst_first() -> None:
    (entry,) = demo_briefings()["HRB"].entries()
    refs = [c.case_ref for c in entry.cases]
    assert len(refs) == len(set(refs)) == 20
    # the critical failure first; then the cases that failed three criteria; then by reference
    assert refs[:5] == [f"SS-2026W47-HRB-{i:03d}" for i in (7, 3, 11, 15, 19)]
    assert refs[5:8] == [f"SS-2026W47-HRB-{i:03d}" for i in (0, 1, 2)]
    first = entry.cases[0]
    assert first.critical and [(f.criterion, f.critical) for f in first.failed] == [
        ("SS04", True),
        ("SS01", False),
        ("SS02", False),
    ]
    case0 = entry.cases[5]
    assert [f.criterion for f in case0.failed] == ["SS01", "SS02"]
    assert case0.failed[0].why == "grounds_recorded was 'no' (needed 'yes')"
    assert case0.failed[0].trace[1:] == APPLIES
    assert (case0.team, case0.officer, case0.note) == ("Response Team A", "PC 1000", LONG_NOTE)


def test_a_case_named_without_a_detail_is_listed_with_its_criterion() -> None:
    blackwater = briefings()[0]
    threshold = next(x for x in blackwater.entries() if x.measure == "M2")
    assert [c.case_ref for c in threshold.cases][:2] == ["INC-500100", "INC-500101"]
    assert [f.criterion for f in threshold.cases[0].failed] == ["G1-ATT"]
    critical = next(x for x in blackwater.entries() if x.measure == "D7")
    assert critical.cases[0].critical  # a critical exception's case failed a critical criterion


def test_what_to_do_is_each_criterion_s_guidance_once() -> None:
    (entry,) = demo_briefings()["HRB"].entries()
    assert entry.guidance() == (SS_GUIDANCE,)
    assert demo_briefings()["DLW"].entries()[0].guidance() == ()


# --- coverage ------------------------------------------------------------------------------------


def test_a_priority_with_no_data_is_not_measured_and_one_with_some_has_no_exceptions() -> None:
    b = demo_briefings()["HRB"]
    assert b.not_measured == NOT_MEASURED["HRB"]
    by_priority = {c.priority: c for c in b.coverage()}
    assert by_priority[1].not_measured == ("M1", "M3") and not by_priority[1].nothing_measured
    assert by_priority[2].not_measured == ("M5", "D5") and by_priority[2].nothing_measured
    assert by_priority[3].not_measured == ("D7",) and not by_priority[3].nothing_measured
    assert by_priority[4].has_entries and by_priority[4].not_measured == ("M12",)
    dlw = {c.priority: c for c in demo_briefings()["DLW"].coverage()}
    assert [p for p, c in dlw.items() if c.nothing_measured] == [2, 3, 4]


def test_without_coverage_lists_nothing_is_called_not_measured() -> None:
    b = briefings()[0]
    assert b.not_measured == () and not any(c.nothing_measured for c in b.coverage())
    assert b.unplaced_not_measured() == ()
    assert replace(b, not_measured=("M1",)).unplaced_not_measured() == ("M1",)


# --- the cases CSV -------------------------------------------------------------------------------


def test_case_rows_list_every_failing_case_of_every_entry_once_in_full() -> None:
    b = demo_briefings()["HRB"]
    rows = case_rows(b)
    assert all(tuple(r) == CASES_CSV_COLUMNS for r in rows)
    assert len(rows) == 20 and len({r["case_ref"] for r in rows}) == 20
    first = rows[0]
    assert {k: first[k] for k in ("entry", "place", "measure", "case_ref", "case_type", "critical")} == {
        "entry": "1",
        "place": "HRB",
        "measure": "D11",
        "case_ref": "SS-2026W47-HRB-007",
        "case_type": "stop_search",
        "critical": "yes",
    }
    assert first["failed_criteria"] == "SS04; SS01; SS02"
    case0 = next(r for r in rows if r["case_ref"] == "SS-2026W47-HRB-000")
    assert case0["critical"] == "no"
    assert case0["reviewer_note"] == LONG_NOTE  # in full: the PDF shortens it
    assert case0["why"] == " | ".join(
        f"{c}: {line}"
        for c, answer in (("SS01", "grounds_recorded"), ("SS02", "grounds_reasonable"))
        for line in (f"{answer} was 'no' (needed 'yes')", *APPLIES)
    )
    assert (case0["team"], case0["officer"], case0["reviewer"], case0["assessed_on"]) == (
        "Response Team A",
        "PC 1000",
        "QA Reviewer S. Clarke",
        "2026-11-16",
    )


def test_case_rows_number_entries_as_the_pdf_does_and_name_incidents_too() -> None:
    rows = case_rows(briefings()[0])  # Blackwater: D7, M8, D11, M2
    assert [(r["entry"], r["measure"]) for r in rows][:5] == [
        ("1", "D7"),
        ("2", "M8"),
        ("2", "M8"),
        ("2", "M8"),
        ("3", "D11"),
    ]
    assert len(rows) == 1 + 3 + 60 + 12
    incident = rows[-1]
    assert (incident["case_ref"], incident["failed_criteria"], incident["why"]) == (
        "INC-500111",
        "G1-ATT",
        "",
    )
    assert incident["case_type"] == ""  # not known without measure_case_types


def test_an_entry_without_cases_has_no_case_rows() -> None:
    assert case_rows(demo_briefings()["DLW"]) == []

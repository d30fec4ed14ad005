"""engine.reports.briefing, the PDFs: page 1 order and tags, one section per exception, escaping of
user text, a place sees only its own cases, draft banner and footer on every page, the force summary
(one page per priority), byte-identical re-renders and the golden text of both PDFs.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from engine.core.models import ExceptionKind
from engine.reports.briefing import DRAFT_BANNER, esc, place_pdf
from engine.reports.briefing_data import PRIORITY_NAMES, PlaceBriefing, build_place_briefings
from engine.reports.force_brief import force_pdf
from tests.reports.briefing_cases import (
    LONG_TRACE,
    MARKUP_NOTE,
    PLACES,
    RULESETS,
    SS_GUIDANCE,
    briefings,
    demo_briefings,
    five_entries,
    place_exceptions,
    run,
    summary,
)

GOLDEN = Path(__file__).parent / "golden"


def pages_text(data: bytes) -> list[str]:
    """Each page's text, whitespace normalised within lines, blank lines dropped."""
    out = []
    for page in PdfReader(io.BytesIO(data)).pages:
        lines = (" ".join(line.split()) for line in page.extract_text().splitlines())
        out.append("\n".join(line for line in lines if line))
    return out


def flat(text: str) -> str:
    return " ".join(text.split())


def squash(text: str) -> str:
    """Without any whitespace: a long token wrapped inside a narrow table cell still matches."""
    return "".join(text.split())


@pytest.fixture(scope="module")
def blackwater() -> PlaceBriefing:
    return briefings()[0]


@pytest.fixture(scope="module")
def blackwater_pdf(blackwater: PlaceBriefing) -> bytes:
    return place_pdf(blackwater).data


@pytest.fixture(scope="module")
def blackwater_pages(blackwater_pdf: bytes) -> list[str]:
    return pages_text(blackwater_pdf)


@pytest.fixture(scope="module")
def force_bytes() -> bytes:
    return force_pdf(summary()).data


def check_golden(name: str, pages: list[str], request: pytest.FixtureRequest) -> None:
    text = "".join(f"--- page {i} ---\n{page}\n" for i, page in enumerate(pages, start=1))
    path = GOLDEN / name
    if request.config.getoption("--update-golden", default=False):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run pytest --update-golden and review the diff"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} changed: if intended, rerun with --update-golden"
    )


# --- golden text -------------------------------------------------------------------------------


def test_place_briefing_matches_golden(blackwater_pages: list[str], request: pytest.FixtureRequest) -> None:
    check_golden("place_briefing.txt", blackwater_pages, request)


def test_force_summary_matches_golden(force_bytes: bytes, request: pytest.FixtureRequest) -> None:
    check_golden("force_summary.txt", pages_text(force_bytes), request)


# --- determinism ---------------------------------------------------------------------------------


def test_rerender_is_byte_identical(blackwater: PlaceBriefing, blackwater_pdf: bytes, tmp_path: Path) -> None:
    assert place_pdf(blackwater).data == blackwater_pdf
    # the order exceptions arrive in does not matter: the briefing orders them itself
    assert place_pdf(replace(blackwater, exceptions=blackwater.exceptions[::-1])).data == blackwater_pdf
    assert force_pdf(summary()).data == force_pdf(summary()).data
    assert place_pdf(blackwater).pages == 4
    assert force_pdf(summary()).pages == 2


def test_rerender_in_a_fresh_process_is_byte_identical(blackwater_pdf: bytes, tmp_path: Path) -> None:
    # font subsets and object ids must not depend on what the process rendered before
    script = (
        "import sys; sys.path.insert(0, 'tests/reports'); from pathlib import Path; import test_briefing as t; "
        "from engine.reports.briefing import place_pdf; "
        "Path(sys.argv[1]).write_bytes(place_pdf(t.briefings()[0]).data); "
        "Path(sys.argv[2]).write_bytes(place_pdf(t.five_entries()).data)"
    )
    repo = Path(__file__).resolve().parents[2]
    out = [str(tmp_path / "BLK.pdf"), str(tmp_path / "ASH.pdf")]
    subprocess.run([sys.executable, "-c", script, *out], cwd=repo, check=True)
    assert (tmp_path / "BLK.pdf").read_bytes() == blackwater_pdf
    # Ashford Vale is rendered more than once to fit four pages: the tries leave nothing behind
    assert (tmp_path / "ASH.pdf").read_bytes() == place_pdf(five_entries()).data


# --- the place briefing ----------------------------------------------------------------------------


def test_page_one_lists_issues_most_serious_first_grouped_by_priority(
    blackwater_pages: list[str],
) -> None:
    page1 = flat(blackwater_pages[0])
    assert "Blackwater (BLK)" in page1
    assert "Chief Inspector R. Example" in page1 and "West" in page1
    assert "2026-W47 (16-22 November 2026)" in page1
    assert "148: domestic abuse 18, stop searches 90 of 212, victim care 40" in page1
    assert (
        "4 issues, raised by 4 exceptions: 1 critical failure, 1 below standard, 1 special cause, "
        "1 threshold breach." in page1
    )
    order = [
        page1.index(s)
        for s in (
            "Critical failure · D7",
            "Special cause · M8",
            "Below standard · D11",
            "Threshold breach · M2",
        )
    ]
    assert order == sorted(order)
    # priority 3 holds the critical failure, so its group leads; then 4, then 1
    groups = [page1.index(f"Priority {p}: {PRIORITY_NAMES[p]}") for p in (3, 4, 1)]
    assert groups == sorted(groups)
    assert "Priority 2: Bring offenders to justice: no exceptions this week." in page1
    for tag in (
        "D7",
        "PEEL: Effectiveness",
        "I-SERVE: Safeguarding, Victims",
        "PEEL: Legitimacy",
        "I-SERVE: Integrity, Engagement",
    ):
        assert tag in page1


def test_each_issue_has_a_section_with_reason_evidence_and_cases(blackwater_pages: list[str]) -> None:
    text = flat(" ".join(blackwater_pages[1:]))
    for e in place_exceptions()[:4]:
        assert flat(esc(e.reason).replace("&amp;", "&")) in text
    assert "90 of 212 searches reviewed" in text
    tiles = "Sample Met the criterion 95% interval Minimum standard"
    assert f"{tiles} 90 of 212 searches reviewed 30 of 90 (33%) 24%-44% 90%" in text
    assert "412 incidents measured" in text
    assert "Signal: 7 or more weeks in a row on one side of the mean" in text
    assert "consistently fail the standard" in text
    assert (
        "Cases behind this issue (12): INC-500100, INC-500101, INC-500102, INC-500103, INC-500104, "
        "INC-500105, INC-500106, INC-500107, INC-500108, INC-500109, and 2 more: see BLK-cases.csv" in text
    )
    assert "Failing cases (60), worst first" in text and "Failing case (1), worst first" in text
    # one line of why per failed criterion: the first of the trace, never the rest
    assert "DA03 (critical) dash_risk = high (answer 'high')" in text
    assert not any(step in text for step in LONG_TRACE[1:])


def test_sixty_failing_cases_show_the_ten_worst_then_point_to_the_csv(blackwater_pages: list[str]) -> None:
    text = " ".join(blackwater_pages)
    shown = [i for i in range(1, 61) if f"SS-BLK-{i:04d}" in text]
    assert shown == list(range(1, 11))
    assert "And 50 more: see BLK-cases.csv" in flat(text)
    assert "Case Team, officer Failed criteria: why; the reviewer's note" in flat(text)


def test_page_count(blackwater_pages: list[str], blackwater: PlaceBriefing) -> None:
    # page 1; then the four issues flow on, each starting where its heading and first figure fit
    assert place_pdf(blackwater).pages == len(blackwater_pages) == 4
    starts = {
        s: next(i for i, p in enumerate(blackwater_pages, 1) if s in p) for s in ("1. ", "2. ", "3. ", "4. ")
    }
    assert starts == {"1. ": 2, "2. ": 2, "3. ": 3, "4. ": 4}


def test_footer_on_every_page_names_rulesets_run_and_page(blackwater_pages: list[str]) -> None:
    n = len(blackwater_pages)
    for i, page in enumerate(blackwater_pages, start=1):
        text = flat(page)
        assert f"Page {i} of {n}" in text
        assert "Run 0f3c9a12b4d5e6f7" in text
        for r in RULESETS:
            assert f"{r.id} {r.version} ({r.sha256[:8]})" in text


def test_user_markup_prints_literally_and_makes_no_link(
    blackwater_pages: list[str], blackwater_pdf: bytes
) -> None:
    # the note is shortened in the PDF (in full in the cases CSV): its start prints as typed
    assert squash("Note: " + MARKUP_NOTE[:50]) in squash(" ".join(blackwater_pages))
    assert b"/URI" not in blackwater_pdf


@pytest.mark.parametrize(
    "note",
    [
        "<para>",
        "</b>",
        "&amp; &#0; &bogus;",
        "<a href='javascript:x'>y</a>",
        "]]><![CDATA[",
        "tab\there\x00\x07",
    ],
)
def test_any_note_renders_without_error(note: str) -> None:
    b = briefings()[1]  # Cranmoor: small
    first = b.exceptions[0]
    hostile = first.details[0].__class__(**{**first.details[0].__dict__, "note": note, "team": note})
    b2 = b.__class__(
        **{**b.__dict__, "exceptions": (first.__class__(**{**first.__dict__, "details": (hostile,)}),)}
    )
    text = squash(" ".join(pages_text(place_pdf(b2).data)))
    assert squash("".join(ch if ch.isprintable() else " " for ch in note)) in text


def test_letters_the_font_lacks_fall_back_to_plain_letters(blackwater_pages: list[str]) -> None:
    assert "DCWisniewska" in squash(" ".join(blackwater_pages))


def test_a_briefing_names_only_its_own_places_cases() -> None:
    by_place = {b.place.code: b for b in briefings()}
    assert set(by_place) == {"BLK", "CRN", "KNG"}  # Ashford Vale and Dalewood have none: no PDF
    texts = {code: " ".join(pages_text(place_pdf(b).data)) for code, b in by_place.items()}
    for code, text in texts.items():
        refs = set(re.findall(r"\b(?:SS|DA|VC)-([A-Z]{3})-\d{4}\b", text))
        assert refs == {code}, f"{code}'s briefing names cases of {refs - {code}}"
    assert "101-MEDIAN" not in texts["BLK"]  # force-level exceptions live only in force.pdf


def test_draft_banner_on_every_page_only_when_draft() -> None:
    draft = pages_text(place_pdf(briefings(draft=True)[1]).data)
    assert draft and all(DRAFT_BANNER in page for page in draft)
    assert all(DRAFT_BANNER in page for page in pages_text(force_pdf(summary(draft=True)).data))
    assert not any(DRAFT_BANNER in page for page in pages_text(place_pdf(briefings()[1]).data))


@pytest.mark.parametrize(
    ("trace", "note"),
    [
        (tuple(f"step{i} done" for i in range(150)), "short note"),
        (("one line " * 700,), "short note"),
        (("grounds_recorded = no",), "word " * 2500),
    ],
    ids=["150-step trace", "one 6,300-character trace line", "12,500-character note"],
)
def test_a_long_trace_or_note_is_one_short_row(trace: tuple[str, ...], note: str) -> None:
    b = briefings()[2]  # Kingsgate
    first = b.exceptions[0]
    b2 = replace(
        b, exceptions=(replace(first, details=(replace(first.details[0], trace=trace, note=note),)),)
    )
    pdf = place_pdf(b2)
    text = flat(" ".join(pages_text(pdf.data)))
    assert pdf.pages == 2
    assert text.count("DA-KNG-0033") == 2  # in the reason and in its one row
    why, shown_note = trace[0][:40].strip(), " ".join(note.split())[:40]
    assert why in text and shown_note in text
    assert "step1 done" not in text  # only the trace's first line
    assert len(text) < 3000


# --- the force summary: what force.pdf shows is tested in tests/reports/test_force_brief.py ----


# --- names and signals as printed ----------------------------------------------------------------


def test_priority_names_can_be_overridden() -> None:
    names = {1: "Keep people safe", 2: "Catch offenders", 3: "Protect the vulnerable", 4: "Earn trust"}
    b = build_place_briefings(place_exceptions(), PLACES, {}, run(priority_names=names))[0]
    assert "Priority 3: Protect the vulnerable" in flat(pages_text(place_pdf(b).data)[0])


def test_a_measure_level_signal_names_no_empty_ruleset_or_criterion(blackwater: PlaceBriefing) -> None:
    signal = replace(blackwater.exceptions[1], ruleset="", criterion="")
    assert signal.kind is ExceptionKind.SPECIAL_CAUSE
    text = flat(" ".join(pages_text(place_pdf(replace(blackwater, exceptions=(signal,))).data)))
    assert "Priority 3 · PEEL: Effectiveness · I-SERVE: Victims Special cause · the whole measure" in text
    assert "ruleset" not in text.split("I-SERVE: Victims")[1][:30]
    # its cases name the criterion they failed by its words when its id is not known
    assert "Victim updated within the agreed timescale victim_updated_on is 9 working days" in text


# --- issue #16: the briefing a leader trusts in 30 seconds -----------------------------------------


@pytest.fixture(scope="module")
def demo_pages() -> dict[str, list[str]]:
    return {code: pages_text(place_pdf(b).data) for code, b in demo_briefings().items()}


def test_three_exceptions_on_one_measure_are_one_issue_on_page_one(demo_pages: dict[str, list[str]]) -> None:
    page1 = flat(demo_pages["HRB"][0])
    assert "1 issue, raised by 3 exceptions: 2 below standard, 1 special cause." in page1
    assert "Below standard and special cause · D11 Stop and search legitimacy" in page1
    assert page1.count("section ") == 1
    assert (
        "• Below standard · SS01 The grounds for the search were recorded: 11 of 31 searches (35%); "
        "minimum standard 90% "
        "• Below standard · SS02 The recorded grounds were sufficient to justify searching for the object "
        "recorded: 11 of 31 searches (35%); minimum standard 90% "
        "• Special cause · the whole measure: 286 of 328 searches (87%); usual range 66% to 80%"
    ) in page1
    assert "20 failing cases" in page1


def test_each_case_is_listed_once_with_both_criteria_and_one_line_of_why(
    demo_pages: dict[str, list[str]],
) -> None:
    text = "\n".join(demo_pages["HRB"])
    shown = [f"SS-2026W47-HRB-{i:03d}" for i in (7, 3, 11, 15, 19, 0, 1, 2, 4, 5)]
    assert [text.count(ref) for ref in shown] == [1] * 10
    assert "SS-2026W47-HRB-006" not in text  # the eleventh worst: in the CSV
    assert "And 10 more: see HRB-cases.csv" in flat(text)
    row = flat(text.split("SS-2026W47-HRB-000")[1].split("SS-2026W47-HRB-001")[0])
    assert row.startswith(
        "Response Team A PC 1000 "
        "SS01 grounds_recorded was 'no' (needed 'yes') "
        "SS02 grounds_reasonable was 'no' (needed 'yes') "
        "Note: Grounds box left blank; search recorded from the officer's…"
    )
    assert "SS04 (critical) bwv_activated was 'no'" in flat(text)
    assert "applies:" not in text and "SENTINEL-END" not in text


def test_what_to_do_and_the_definition_are_printed(demo_pages: dict[str, list[str]]) -> None:
    text = flat(" ".join(demo_pages["HRB"]))
    assert text.count(f"What to do • {SS_GUIDANCE}") == 1  # SS01's and SS02's guidance, once
    assert (
        "A measure's figure is the share of reviewed cases that met every applicable criterion of that "
        "measure; a criterion's, the share of cases it applied to that met it."
    ) in flat(demo_pages["HRB"][0])
    assert "What to do" not in flat(" ".join(demo_pages["DLW"]))  # no guidance, no heading


def test_the_same_grade_1_figure_is_shown_once(demo_pages: dict[str, list[str]]) -> None:
    page1 = flat(demo_pages["DLW"][0])
    assert "1 issue, raised by 2 exceptions: 1 special cause, 1 threshold breach." in page1
    assert page1.count("194 of 233") == 1
    assert (
        "• Special cause and threshold breach · RS01 Grade 1 attended within 15 minutes (urban) or 20 "
        "minutes (rural): 194 of 233 incidents (83%); usual range 66% to 80%; minimum standard 90%"
    ) in page1
    rest = flat(" ".join(demo_pages["DLW"][1:]))
    assert rest.count("Met the criterion") == 1 and rest.count("194 of 233 (83%)") == 1
    for e in demo_briefings()["DLW"].exceptions:  # each exception's own reason
        assert e.reason in rest


def test_a_priority_with_no_data_is_never_said_to_have_no_exceptions(
    demo_pages: dict[str, list[str]],
) -> None:
    hrb = flat(demo_pages["HRB"][0])
    assert "Not measured this week: M12 Public confidence." in hrb
    assert (
        "Priority 1: Respond to the public and keep people safe: no exceptions; not measured this week: "
        "M1 Neighbourhood crime, M3 Serious violence."
    ) in hrb
    assert (
        "Priority 2: Bring offenders to justice: not measured this week (M5 Crime file quality, "
        "D5 Investigation quality)."
    ) in hrb
    dlw = flat(demo_pages["DLW"][0])
    assert "Not measured this week: M1 Neighbourhood crime, M3 Serious violence." in dlw
    assert "no exceptions" not in dlw  # priorities 2-4 had no data at all
    assert "Priority 4: Build trust and confidence: not measured this week (D11 Stop and search" in dlw


def test_five_issues_and_forty_failing_cases_fit_four_pages() -> None:
    b = five_entries()
    assert len(b.entries()) == 5 and sum(len(x.cases) for x in b.entries()) == 40
    pdf = place_pdf(b)
    pages = pages_text(pdf.data)
    assert pdf.pages == len(pages) <= 4
    text = flat(" ".join(pages))
    for i in range(1, 6):
        assert f"{i}. " in text
    assert text.count("see ASH-cases.csv") == 5  # every issue says where the rest of its cases are
    assert "5 issues, raised by 5 exceptions" in flat(pages[0])


def test_case_references_are_never_broken_inside() -> None:
    long_refs = replace(
        demo_briefings()["HRB"],
        exceptions=tuple(
            replace(
                e,
                cases=tuple(r.replace("HRB", "HARBOURSIDE-NORTH") for r in e.cases),
                details=tuple(
                    replace(d, case_ref=d.case_ref.replace("HRB", "HARBOURSIDE-NORTH")) for d in e.details
                ),
            )
            for e in demo_briefings()["HRB"].exceptions
        ),
    )
    for b in (demo_briefings()["HRB"], five_entries(), *briefings(), long_refs):
        lines = {line for page in pages_text(place_pdf(b).data) for line in page.split("\n")}
        text = "\n".join(lines)
        shown = [
            c.case_ref for x in b.entries() for c in x.cases if c.case_ref in flat(text).replace(" ", "")
        ]
        assert shown, b.place.code
        for ref in shown:
            assert ref in text, f"{ref} is broken across lines in {b.place.code}'s briefing"


def test_page_one_running_over_leaves_no_empty_page() -> None:
    catalogue = {f"X{i}": 1 + i % 4 for i in range(60)}
    names = {m: f"A measure with a rather long name number {m}" for m in catalogue}
    b = replace(
        five_entries(),
        measure_priorities=catalogue,
        measure_names=names,
        not_measured=tuple(catalogue),
    )
    pages = [flat(p) for p in pages_text(place_pdf(b).data)]
    end_of_front = next(
        i for i, p in enumerate(pages) if "X59 A measure with a rather long name number X59" in p
    )
    assert end_of_front == 1  # page 1 ran over onto page 2 ...
    assert "1. Critical failure · D7" in pages[1]  # ... and the first issue follows on there
    assert len(pages) <= 4

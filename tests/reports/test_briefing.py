"""Briefing PDFs and their data: page 1 order and tags, one section per exception, escaping of user
text, a place sees only its own cases, draft banner and footer on every page, the force summary
(one page per priority, no ranking), byte-identical re-renders and the golden text of both PDFs.
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

from engine.analysis.stats import wilson_interval
from engine.core.errors import ReportError
from engine.core.models import CaseDetail, ExceptionKind, PerformanceException, SeriesPoint, SpcChart
from engine.reports.briefing import DRAFT_BANNER, esc, force_pdf, place_pdf, render_force, render_place
from engine.reports.briefing_data import (
    PRIORITY_NAMES,
    BriefingRun,
    ForceSummary,
    PlaceBriefing,
    PlaceInfo,
    RulesetRef,
    build_force_summary,
    build_place_briefings,
    evidence,
    interval,
    kind_counts_text,
    pct,
    period_text,
)

GOLDEN = Path(__file__).parent / "golden"
MARKUP_NOTE = '<b>bold</b> & <font color=\'red\'>red</font> <unclosed =HYPERLINK("http://x.example","click")'

PLACES = (
    PlaceInfo("BLK", "Blackwater", "West", "Chief Inspector R. Example", "urban"),
    PlaceInfo("CRN", "Cranmoor", "West", "Chief Inspector A. Hale", "rural"),
    PlaceInfo("KNG", "Kingsgate", "Central", "Chief Inspector L. Nowak", "urban"),
    PlaceInfo("ASH", "Ashford Vale", "Central", "Chief Inspector M. Byrne", "urban"),
    PlaceInfo("DLW", "Dalewood", "East", "Chief Inspector H. Lindqvist", "rural"),
)
RULESETS = (
    RulesetRef("stop-search-legitimacy", "1.0.0", "3fa2c1d9" + "0" * 56),
    RulesetRef("domestic-abuse-safeguarding", "1.1.0", "9b07e4aa" + "1" * 56),
    RulesetRef("victims-code-compliance", "1.0.2", "c41d2e88" + "2" * 56),
    RulesetRef("response-times", "1.0.0", "77aa01bc" + "3" * 56),
)
MEASURE_NAMES = {
    "D11": "Stop and search legitimacy",
    "D7": "Domestic abuse safeguarding",
    "M8": "Victim care (Victims' Code)",
    "M2": "Response and call handling",
}


def exc(place: str, kind: ExceptionKind, measure: str, criterion: str, k: int, n: int, **kw: object):
    fields: dict = {
        "priority": 4,
        "peel": "legitimacy",
        "iserve": ("integrity", "engagement"),
        "ruleset": "stop-search-legitimacy",
        "reason": f"{criterion} was met in {k} of {n} cases.",
        "standard": 0.9,
        "cases": (),
    }
    fields.update(kw)
    low, high = wilson_interval(k, n) if n else (None, None)
    return PerformanceException(
        place=place,
        measure=measure,
        criterion=criterion,
        kind=kind,
        n=n,
        passed=k,
        rate=k / n if n else None,
        ci_low=low,
        ci_high=high,
        **fields,
    )


def detail(ref: str, i: int, **kw: object) -> CaseDetail:
    fields: dict = {
        "team": f"Response Team {'ABCD'[i % 4]}",
        "officer": f"PC {1000 + i * 7}",
        "reviewer": "QA Reviewer S. Clarke",
        "assessed_on": f"2026-11-{16 + i % 7}",
        "criterion_text": "Grounds for the search are recorded",
        "trace": ("grounds_recorded = no",),
        "note": "",
    }
    fields.update(kw)
    return CaseDetail(case_ref=ref, **fields)


def spc_chart() -> SpcChart:
    base = [0.71, 0.74, 0.69, 0.73, 0.72, 0.76, 0.70, 0.73, 0.75, 0.71, 0.72, 0.74]
    late = [0.72, 0.70, 0.66, 0.64, 0.65, 0.63, 0.66, 0.62, 0.64, 0.55]
    weeks = [f"2026-W{w:02d}" for w in range(26, 48)]
    points = tuple(
        SeriesPoint(week, value, 40, flagged=i >= len(weeks) - 7)
        for i, (week, value) in enumerate(zip(weeks, base + late, strict=True))
    )
    return SpcChart(points, 0.725, 0.655, 0.795, 12, ("shift",), "consistently_fail", "higher")


def seconds_chart() -> SpcChart:
    values = [31, 29, 33, 30, 28, 32, 31, 30, 29, 33, 31, 30, 34, 36, 38, 41, 44, 47]
    points = tuple(
        SeriesPoint(f"2026-W{30 + i:02d}", float(v), 900, flagged=i >= 11) for i, v in enumerate(values)
    )
    return SpcChart(points, 30.9, 25.1, 36.7, 12, ("trend", "outside_limits"), None, "lower")


LONG_TRACE = (
    "dash_risk = high (answer 'high')",
    "dash_yes_count = 16, at least 14",
    "so the victim is high risk: a MARAC referral is required",
    "marac_referral_made = no, expected yes",
    *(
        f"supervisor review {i}: no record of a MARAC referral on the risk management plan"
        for i in range(1, 11)
    ),
)


def place_exceptions() -> list[PerformanceException]:
    """Blackwater has all four kinds; Cranmoor and Kingsgate one each; the force one."""
    ss_refs = tuple(f"SS-BLK-{i:04d}" for i in range(1, 61))
    ss_details = tuple(
        detail(ref, i, note=("Grounds box left blank; BWV shows a search for drugs." if i % 3 == 0 else ""))
        for i, ref in enumerate(ss_refs)
    )
    return [
        exc(
            "BLK",
            ExceptionKind.BELOW_STANDARD,
            "D11",
            "SS01",
            30,
            90,
            reason=(
                "Grounds were recorded in 30 of 90 searches reviewed (33%); the minimum standard is 90%; "
                "even allowing for sampling the true rate is at most 43%."
            ),
            criterion_text="Grounds for the search are recorded",
            cases=ss_refs,
            details=ss_details,
            frame_size=212,
        ),
        exc(
            "BLK",
            ExceptionKind.CRITICAL,
            "D7",
            "DA03",
            17,
            18,
            priority=3,
            peel="effectiveness",
            iserve=("safeguarding", "victims"),
            ruleset="domestic-abuse-safeguarding",
            standard=1.0,
            reason="A high-risk domestic abuse victim (16 DASH yes answers) was not referred to MARAC (DA-BLK-0417).",
            criterion_text="High-risk DASH (risk high or 14+ yes answers) is referred to MARAC",
            cases=("DA-BLK-0417",),
            details=(
                detail(
                    "DA-BLK-0417",
                    3,
                    team="Safeguarding Hub",
                    officer="DC Wiśniewska",
                    trace=LONG_TRACE,
                    criterion_text="High-risk DASH (risk high or 14+ yes answers) is referred to MARAC",
                    note=MARKUP_NOTE,
                ),
            ),
        ),
        exc(
            "BLK",
            ExceptionKind.SPECIAL_CAUSE,
            "M8",
            "VC05",
            22,
            40,
            priority=3,
            peel="effectiveness",
            iserve=("victims",),
            ruleset="victims-code-compliance",
            reason=(
                "Victims updated within the agreed time has been below its usual level for 7 weeks running "
                "(55% this week against a usual 72%)."
            ),
            criterion_text="Victim updated within the agreed timescale",
            cases=("VC-BLK-0101", "VC-BLK-0107", "VC-BLK-0112"),
            details=tuple(
                detail(
                    ref,
                    i,
                    team="Investigation Team 2",
                    criterion_text="Victim updated within the agreed timescale",
                    trace=("victim_updated_on is 9 working days after suspect_event_on, more than 5",),
                )
                for i, ref in enumerate(("VC-BLK-0101", "VC-BLK-0107", "VC-BLK-0112"))
            ),
            chart=spc_chart(),
        ),
        exc(
            "BLK",
            ExceptionKind.THRESHOLD,
            "M2",
            "G1-ATT",
            301,
            412,
            priority=1,
            peel="effectiveness",
            iserve=("response",),
            ruleset="response-times",
            reason=(
                "Grade 1 incidents were attended within 15 minutes in 301 of 412 (73%); the standard is 90%; "
                "even allowing for chance the true rate is at most 77%."
            ),
            criterion_text="Grade 1 attended within 15 minutes (urban)",
            cases=tuple(f"INC-{i:06d}" for i in range(500100, 500112)),
        ),
        exc(
            "CRN",
            ExceptionKind.BELOW_STANDARD,
            "D11",
            "SS06",
            4,
            20,
            reason="The GOWISELY explanation was given in full in 4 of 20 searches reviewed (20%).",
            criterion_text="GOWISELY explanation given",
            cases=("SS-CRN-0001", "SS-CRN-0002"),
            details=tuple(
                detail(
                    ref, i, criterion_text="GOWISELY explanation given", trace=("gowisely_given = partly",)
                )
                for i, ref in enumerate(("SS-CRN-0001", "SS-CRN-0002"), start=1)
            ),
        ),
        exc(
            "KNG",
            ExceptionKind.CRITICAL,
            "D7",
            "DA04",
            11,
            12,
            priority=3,
            peel="effectiveness",
            iserve=("safeguarding",),
            ruleset="domestic-abuse-safeguarding",
            standard=1.0,
            reason="Children were present and no child safeguarding referral was made (DA-KNG-0033).",
            cases=("DA-KNG-0033",),
            details=(
                detail(
                    "DA-KNG-0033",
                    5,
                    team="Safeguarding Hub",
                    criterion_text="Children present: a child safeguarding referral is made",
                    trace=("children_present = yes", "child_referral_made = no, expected yes"),
                ),
            ),
        ),
        exc(
            "FORCE",
            ExceptionKind.SPECIAL_CAUSE,
            "M2",
            "101-MEDIAN",
            0,
            0,
            priority=1,
            peel="efficiency",
            iserve=("response",),
            ruleset="response-times",
            standard=None,
            reason="The median 101 answer time has risen for 7 weeks running (47 s this week against a usual 31 s).",
            chart=seconds_chart(),
        ),
    ]


def run(draft: bool = False, **kw: object) -> BriefingRun:
    fields: dict = {"draft": draft, "measure_names": MEASURE_NAMES, **kw}
    return BriefingRun(
        "Demo Constabulary", "2026-W47", "2026-11-16", "2026-11-22", RULESETS, "0f3c9a12b4d5e6f7", **fields
    )


def briefings(draft: bool = False) -> list[PlaceBriefing]:
    reviewed = {
        "BLK": {"stop_search": 90, "domestic_abuse": 18, "victim_care": 40},
        "CRN": {"stop_search": 20},
        "KNG": {"domestic_abuse": 12},
    }
    frames = {"BLK": {"stop_search": 212}}
    return build_place_briefings(
        place_exceptions(), PLACES, reviewed, run(draft), frame_sizes_by_place=frames
    )


def summary(draft: bool = False) -> ForceSummary:
    return build_force_summary(place_exceptions(), PLACES, run(draft))


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
    assert render_place(blackwater, tmp_path / "BLK.pdf") == 7
    assert (tmp_path / "BLK.pdf").read_bytes() == blackwater_pdf
    assert render_force(summary(), tmp_path / "force.pdf") == 4
    assert (tmp_path / "force.pdf").read_bytes() == force_pdf(summary()).data


def test_rerender_in_a_fresh_process_is_byte_identical(blackwater_pdf: bytes, tmp_path: Path) -> None:
    # font subsets and object ids must not depend on what the process rendered before
    script = (
        "import sys; sys.path.insert(0, 'tests/reports'); from pathlib import Path; import test_briefing as t; "
        "from engine.reports.briefing import render_place; render_place(t.briefings()[0], Path(sys.argv[1]))"
    )
    repo = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "BLK.pdf")], cwd=repo, check=True)
    assert (tmp_path / "BLK.pdf").read_bytes() == blackwater_pdf


# --- the place briefing ----------------------------------------------------------------------------


def test_page_one_lists_exceptions_most_serious_first_grouped_by_priority(
    blackwater_pages: list[str],
) -> None:
    page1 = flat(blackwater_pages[0])
    assert "Blackwater (BLK)" in page1
    assert "Chief Inspector R. Example" in page1 and "West" in page1
    assert "2026-W47 (16-22 November 2026)" in page1
    assert "148: stop searches 90 of 212, victim care 40, domestic abuse 18" in page1
    assert "4 exceptions: 1 critical failure, 1 below standard, 1 special cause, 1 threshold breach" in page1
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
    assert "No exceptions this week under Priority 2: Bring offenders to justice." in page1
    for tag in (
        "D7",
        "PEEL: Effectiveness",
        "I-SERVE: Safeguarding, Victims",
        "PEEL: Legitimacy",
        "I-SERVE: Integrity, Engagement",
    ):
        assert tag in page1


def test_each_exception_has_a_section_with_reason_evidence_and_cases(blackwater_pages: list[str]) -> None:
    text = flat(" ".join(blackwater_pages[1:]))
    for e in place_exceptions()[:4]:
        assert flat(esc(e.reason).replace("&amp;", "&")) in text
    assert "90 of 212 searches reviewed" in text
    assert "30 of 90 (33%)" in text and "95% interval 24%-44%" in text
    assert "412 incidents measured" in text
    assert "Signal: 7 or more weeks in a row on one side of the mean" in text
    assert "consistently fail the standard" in text
    assert "Cases behind this exception (12): INC-500100, INC-500101" in text
    assert "Failing cases (60)" in text and "Failing case (1)" in text
    assert all(step in text for step in LONG_TRACE)


def test_sixty_failing_cases_split_across_pages_with_the_header_repeated(blackwater_pages: list[str]) -> None:
    with_refs = [i for i, page in enumerate(blackwater_pages) if "SS-BLK-00" in page]
    assert len(with_refs) >= 2
    for i in with_refs:
        assert "Case Team Officer Why it failed Reviewer note" in flat(blackwater_pages[i])
    assert all(f"SS-BLK-{i:04d}" in " ".join(blackwater_pages) for i in range(1, 61))


def test_page_count(blackwater_pages: list[str], blackwater: PlaceBriefing) -> None:
    # summary; critical; special cause; below standard with 60 cases over three pages; threshold
    assert place_pdf(blackwater).pages == len(blackwater_pages) == 7
    starts = {
        s: next(i for i, p in enumerate(blackwater_pages, 1) if s in p) for s in ("1. ", "2. ", "3. ", "4. ")
    }
    assert starts == {"1. ": 2, "2. ": 3, "3. ": 4, "4. ": 7}


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
    assert squash(MARKUP_NOTE) in squash(" ".join(blackwater_pages))
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
    ("trace", "note", "word"),
    [
        (tuple(f"step{i} done" for i in range(150)), "short note", "done"),
        (("one line " * 700,), "short note", "line"),
        (("grounds_recorded = no",), "word " * 2500, "word"),
    ],
    ids=["150-step trace", "one 6,300-character trace line", "12,500-character note"],
)
def test_a_case_taller_than_a_page_continues_in_further_rows(
    trace: tuple[str, ...], note: str, word: str
) -> None:
    b = briefings()[2]  # Kingsgate
    first = b.exceptions[0]
    b2 = replace(
        b, exceptions=(replace(first, details=(replace(first.details[0], trace=trace, note=note),)),)
    )
    pdf = place_pdf(b2)
    text = " ".join(pages_text(pdf.data))
    assert squash(text).count(word) == squash("".join(trace) + note).count(word)  # nothing lost
    assert "DA-KNG-0033 (continued)" in flat(text)
    assert pdf.pages >= 3


def test_unwritable_path_is_a_report_error(blackwater: PlaceBriefing, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ReportError, match="cannot write briefing"):
        render_place(blackwater, tmp_path / "file" / "BLK.pdf")


# --- the force summary ---------------------------------------------------------------------------


def test_force_summary_has_one_page_per_priority(force_bytes: bytes) -> None:
    pages = [flat(p) for p in pages_text(force_bytes)]
    assert len(pages) == 4
    for i, page in enumerate(pages, start=1):
        assert f"Priority {i}: {PRIORITY_NAMES[i]}" in page


def test_force_summary_names_places_with_none_and_force_exceptions(force_bytes: bytes) -> None:
    p1, p2, p3, p4 = (flat(p) for p in pages_text(force_bytes))
    assert "No exceptions: Ashford Vale, Cranmoor, Dalewood, Kingsgate." in p1
    assert "The median 101 answer time has risen for 7 weeks running" in p1
    assert "No place has an exception under this priority this week." in p2
    assert "No exceptions: all 5 places." in p2
    assert "No exceptions: Ashford Vale, Cranmoor, Dalewood." in p3
    assert "None this week." in p3
    assert "Blackwater West 1 – 1 – D7, M8" in p3
    assert "Kingsgate Central 1 – – – D7" in p3
    assert "3 of 5 places have a briefing this week" in p4


def test_force_summary_lists_places_alphabetically_not_by_count() -> None:
    s = summary()
    p3 = s.priorities[2]
    assert [pc.place.name for pc in p3.places_with] == ["Blackwater", "Kingsgate"]
    assert p3.places_with[0].counts == (1, 0, 1, 0)
    assert [p.name for p in s.places] == sorted(p.name for p in PLACES)


# --- report data ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.1666, "17%"), (0.125, "13%"), (0.005, "1%"), (0.0, "0%"), (1.0, "100%"), (None, "no data")],
)
def test_percentages_have_no_decimals(value: float | None, text: str) -> None:
    assert pct(value) == text


def test_interval_and_period_wording() -> None:
    assert interval(0.34, 0.705) == "34%-71%"
    assert period_text("2026-11-16", "2026-11-22") == "16-22 November 2026"
    assert period_text("2026-11-30", "2026-12-06") == "30 November - 6 December 2026"
    assert period_text("2026-12-28", "2027-01-03") == "28 December 2026 - 3 January 2027"


def test_kind_counts_wording() -> None:
    assert kind_counts_text(place_exceptions()[:2]) == "2 exceptions: 1 critical failure, 1 below standard"


def test_unknown_place_or_priority_is_reported_all_at_once() -> None:
    bad = [*place_exceptions(), exc("XXX", ExceptionKind.CRITICAL, "D7", "DA03", 1, 2, priority=9)]
    with pytest.raises(ReportError) as info:
        build_place_briefings(bad, PLACES, {}, run())
    message = str(info.value)
    assert "exceptions[7]: unknown place code 'XXX'" in message
    assert "exceptions[7]: unknown priority 9 (known: 1, 2, 3, 4)" in message


def test_priority_names_can_be_overridden() -> None:
    names = {1: "Keep people safe", 2: "Catch offenders", 3: "Protect the vulnerable", 4: "Earn trust"}
    b = build_place_briefings(place_exceptions(), PLACES, {}, run(priority_names=names))[0]
    assert "Priority 3: Protect the vulnerable" in flat(pages_text(place_pdf(b).data)[0])


def test_evidence_for_a_measured_series_gives_the_latest_week() -> None:
    seconds = replace(place_exceptions()[-1], n=900, passed=0, rate=None, ci_low=None, ci_high=None)
    assert evidence(seconds, "incidents") == (
        ("Extract", "900 incidents measured"),
        ("Latest week (2026-W47)", "47"),
    )


def test_a_measure_level_signal_names_no_empty_ruleset_or_criterion(blackwater: PlaceBriefing) -> None:
    signal = replace(blackwater.exceptions[1], ruleset="", criterion="")
    assert signal.kind is ExceptionKind.SPECIAL_CAUSE
    text = flat(" ".join(pages_text(place_pdf(replace(blackwater, exceptions=(signal,))).data)))
    assert "I-SERVE: Victims Criterion:" in text
    assert "ruleset ," not in text and "criterion ·" not in text

"""The briefings the reports tests build: five places, three rulesets and a period's exceptions of
every kind (a critical failure with sixty failing cases, markup in a note, SPC charts), as run data."""

from __future__ import annotations

from engine.analysis.stats import wilson_interval
from engine.core.models import (
    CaseDetail,
    ExceptionKind,
    PerformanceException,
    RulesetRef,
    SeriesPoint,
    SpcChart,
)
from engine.reports.briefing_data import BriefingRun, PlaceBriefing, PlaceInfo, build_place_briefings
from engine.reports.force_data import ForceSummary, build_force_summary

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


# --- the demo's problems, as issue #16 found them: Harbourside's three exceptions on one measure
# --- and twenty searches, Dalewood's Grade 1 figure under two kinds, priorities with no data

#: a small catalogue: measure id -> priority, in catalogue order (the runs layer passes the real one)
CATALOGUE = {"M1": 1, "M2": 1, "M3": 1, "M5": 2, "D5": 2, "M8": 3, "D7": 3, "D11": 4, "M12": 4}
CATALOGUE_NAMES = {
    **MEASURE_NAMES,
    "M1": "Neighbourhood crime",
    "M3": "Serious violence",
    "M5": "Crime file quality",
    "D5": "Investigation quality",
    "M12": "Public confidence",
}
SS_GUIDANCE = "Supervisors check the grounds box before a search record is closed (PACE Code A 4.3)."
APPLIES = (
    "applies: power was 'pace_s1' (as needed: none of 's60', 's47a')",
    "applies: grounds_recorded was 'no' (as needed: an answer other than 'na')",
)
LONG_NOTE = (
    "Grounds box left blank; search recorded from the officer's pocket notebook only. The body-worn "
    "video shows the officer explaining the grounds to the subject, but the record itself was closed "
    "without them, and the supervisor signed it off the same evening. SENTINEL-END"
)


def _hrb_refs() -> tuple[str, ...]:
    return tuple(f"SS-2026W47-HRB-{i:03d}" for i in range(20))


def _hrb_detail(ref: str, i: int, criterion: str) -> CaseDetail:
    text = {
        "SS01": "The grounds for the search were recorded",
        "SS02": "The recorded grounds were sufficient to justify searching for the object recorded",
        "SS04": "Body-worn video was activated for the encounter",
    }[criterion]
    answer = {"SS01": "grounds_recorded", "SS02": "grounds_reasonable", "SS04": "bwv_activated"}[criterion]
    return detail(
        ref,
        i,
        criterion=criterion,
        criterion_text=text,
        trace=(f"{answer} was 'no' (needed 'yes')", *APPLIES),
        note=LONG_NOTE if i == 0 else ("Grounds box left blank." if i % 2 else ""),
        critical=criterion == "SS04" and i == 7,
    )


def harbourside_exceptions() -> list[PerformanceException]:
    """SS01 and SS02 below standard on the same 20 searches, and D11 as a whole a special cause
    (its details: every failed criterion of every case, SS04 too on some)."""
    refs = _hrb_refs()
    ss = {
        "ruleset": "stop-search-legitimacy",
        "cases": refs,
        "frame_size": 120,
        "guidance": SS_GUIDANCE,
        "peel": "legitimacy",
        "iserve": ("integrity",),
    }
    measure_details = tuple(
        _hrb_detail(ref, i, c)
        for i, ref in enumerate(refs)
        for c in (("SS01", "SS02", "SS04") if i % 4 == 3 or i == 7 else ("SS01", "SS02"))
    )
    return [
        exc(
            "HRB",
            ExceptionKind.BELOW_STANDARD,
            "D11",
            "SS01",
            11,
            31,
            reason="The grounds for the search were recorded: met in 11 of 31 searches reviewed (35%).",
            criterion_text="The grounds for the search were recorded",
            details=tuple(_hrb_detail(r, i, "SS01") for i, r in enumerate(refs)),
            **ss,
        ),
        exc(
            "HRB",
            ExceptionKind.BELOW_STANDARD,
            "D11",
            "SS02",
            11,
            31,
            reason="The recorded grounds were sufficient: met in 11 of 31 searches reviewed (35%).",
            criterion_text="The recorded grounds were sufficient to justify searching for the object recorded",
            details=tuple(_hrb_detail(r, i, "SS02") for i, r in enumerate(refs)),
            **ss,
        ),
        exc(
            "HRB",
            ExceptionKind.SPECIAL_CAUSE,
            "D11",
            "",
            286,
            328,
            reason="Compliance with stop and search legitimacy was 87% in week 2026-W47, lower than usual.",
            standard=None,
            chart=spc_chart(),
            details=measure_details,
            **{**ss, "guidance": "", "frame_size": None},
        ),
    ]


def dalewood_exceptions() -> list[PerformanceException]:
    """The same Grade 1 figure, 194 of 233, as a special cause and as a threshold breach."""
    common = {
        "priority": 1,
        "peel": "effectiveness",
        "iserve": ("response",),
        "ruleset": "response-times",
        "criterion_text": "Grade 1 attended within 15 minutes (urban) or 20 minutes (rural)",
    }
    return [
        exc(
            "DLW",
            ExceptionKind.THRESHOLD,
            "M2",
            "RS01",
            194,
            233,
            reason="Grade 1 incidents were attended within 20 minutes in 194 of 233 incidents; the standard is 90%.",
            **common,
        ),
        exc(
            "DLW",
            ExceptionKind.SPECIAL_CAUSE,
            "M2",
            "RS01",
            194,
            233,
            reason="The share of grade 1 incidents attended in time was lower than this place's usual range.",
            chart=spc_chart(),
            **common,
        ),
    ]


DEMO_PLACES = (
    PlaceInfo("HRB", "Harbourside", "West", "Chief Inspector J. Patel", "urban"),
    PlaceInfo("DLW", "Dalewood", "East", "Chief Inspector H. Lindqvist", "rural"),
)
#: Harbourside measured M2, D11 and M8 (so priority 2 had no data at all); Dalewood only M2
NOT_MEASURED = {
    "HRB": ("M1", "M3", "M5", "D5", "D7", "M12"),
    "DLW": ("M1", "M3", "M5", "D5", "M8", "D7", "D11", "M12"),
}


def demo_briefings() -> dict[str, PlaceBriefing]:
    """Harbourside and Dalewood as the demo's week 2026-W47 briefs them, by place code."""
    r = run(
        measure_names=CATALOGUE_NAMES, measure_priorities=CATALOGUE, measure_case_types={"D11": "stop_search"}
    )
    reviewed = {"HRB": {"stop_search": 31, "victim_care": 33}, "DLW": {}}
    found = [*harbourside_exceptions(), *dalewood_exceptions()]
    built = build_place_briefings(found, DEMO_PLACES, reviewed, r, not_measured_by_place=NOT_MEASURED)
    return {b.place.code: b for b in built}


def five_entries() -> PlaceBriefing:
    """A place with five entries (a critical failure, two below standard, two special causes with
    charts) and 40 failing cases (8 each, with applies lines and long notes)."""
    specs = (  # measure, kind, criterion, priority
        ("D7", ExceptionKind.CRITICAL, "DA02", 3),
        ("D11", ExceptionKind.BELOW_STANDARD, "SS01", 4),
        ("M5", ExceptionKind.BELOW_STANDARD, "CF03", 2),
        ("M8", ExceptionKind.SPECIAL_CAUSE, "VC05", 3),
        ("D5", ExceptionKind.SPECIAL_CAUSE, "IN02", 2),
    )
    exceptions = []
    for j, (measure, kind, criterion, priority) in enumerate(specs):
        refs = tuple(f"{criterion[:2]}-2026W47-ASH-{j}{i:02d}" for i in range(8))
        details = tuple(
            detail(
                ref,
                i,
                criterion=criterion,
                critical=kind is ExceptionKind.CRITICAL,
                note=LONG_NOTE,
                criterion_text=f"{criterion} was met",
                trace=(f"{criterion.lower()}_answer was 'no' (needed 'yes')", *APPLIES),
            )  # fmt: skip
            for i, ref in enumerate(refs)
        )
        exceptions.append(
            exc(
                "ASH",
                kind,
                measure,
                criterion,
                40,
                48,
                priority=priority,
                reason=f"{criterion} was met in 40 of 48 cases reviewed (83%); the minimum standard is 90%.",
                criterion_text=f"{criterion} was met",
                cases=refs,
                details=details,
                chart=spc_chart() if kind is ExceptionKind.SPECIAL_CAUSE else None,
                guidance=f"Team leaders review every {criterion} failure with the officer this week.",
            )
        )
    reviewed = {"ASH": {"stop_search": 48, "victim_care": 48, "crime_file": 48, "investigation": 48}}
    return build_place_briefings(exceptions, PLACES, reviewed, run(measure_names=CATALOGUE_NAMES))[0]

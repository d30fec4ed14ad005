"""The demo force's data: 26 weeks of assessments and incidents, generated with the factories and a
fixed seed, with four realistic problems planted for the briefings to find (and four more in the
missing from home, child sexual exploitation and hate crime reviews: engine.demo.data_safeguarding;
two in the DVPN and complaint handling reviews: engine.demo.data_prevention; four in the measured
figures: engine.demo.figure_recipes).

Planted (what a reader of the demo briefings should see):
  * Harbourside (HRB): stop-search grounds recording slips over the last six weeks.
  * Kingsgate (KNG): a high-risk domestic abuse victim not referred to MARAC in the latest week.
  * Ashford Vale (ASH), team Response B: victims updated late after suspect events, last four weeks;
    in the demo week 3 of the team's 5 victims (ASH_DEMO_WEEK), too few of the place's to put the
    place itself below the standard (a team exception).
  * Dalewood (DLW): Grade 1 attendance times drift upward over the last eight weeks.

The problems are planted in six places (Harbourside, Kingsgate, Ashford Vale, Dalewood, Ridgeway and
Fenwick); the other six have none. Earlier weeks' reviews have rare slips (NOISE, SLIPS: normal
variation, now and then a signal in the past); the demo week's have about as many as usual of the
background slips (NOISE) and none of the rare ones (SLIPS) but the planted ones
(engine.demo.quiet.usual_slips), so that no place or team is briefed by chance (as engine.demo.quiet
does for the figures and incidents). Where no such draw is found the week has no background slip
there, which force.pdf may recognise as an improvement: Eastmarsh's and Stonebridge's crime files
(M5 at 100%) in the demo.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from engine.core.config import Place

DEMO_WEEK = "2026-W47"
HISTORY_WEEKS = 26
SEED = 20261122
ASSESSMENTS_PER_WEEK = 2000
INCIDENTS_PER_WEEK = 20000

TEAMS = ("Response A", "Response B", "Neighbourhood", "CID")
REVIEWERS = ("QA Reviewer A. Shah", "QA Reviewer B. Doyle", "QA Reviewer C. Evans", "QA Reviewer D. Kowalski")
_PREFIX = {
    "stop_search": "SS",
    "victim_care": "VC",
    "crime_file": "CF",
    "investigation": "IN",
    "domestic_abuse": "DA",
}
#: the case types the demo generates: the five bundled forms, in this order (the seed's draws follow it)
DEMO_CASE_TYPES: tuple[str, ...] = tuple(_PREFIX)

#: background slips (yes -> no) per non-critical judgement question: normal variation, no exceptions
NOISE: dict[str, dict[str, float]] = {
    "stop_search": {
        "object_recorded": 0.02,
        "outcome_linked_to_object": 0.03,
        "ethnicity_self_defined_recorded": 0.04,
        "officer_identity_recorded": 0.01,
        "bwv_activated": 0.04,
        "receipt_offered": 0.03,
        "supervisor_reviewed": 0.05,
    },
    "victim_care": {
        "written_confirmation_given": 0.03,
        "needs_assessment_done": 0.03,
        "update_plan_agreed": 0.05,
        "vps_offered": 0.05,
    },
    "crime_file": {
        "mg5_present": 0.01,
        "points_to_prove_set_out": 0.04,
        "key_statements_present": 0.03,
        "exhibits_present": 0.03,
        "previous_convictions_attached": 0.02,
        "supervisor_certified": 0.04,
    },
    "investigation": {
        "investigation_plan_recorded": 0.03,
        "supervisor_review_recorded": 0.04,
        "loe_house_to_house": 0.04,
        "loe_witnesses": 0.02,
        "victim_contact_per_plan": 0.04,
        "victim_view_recorded": 0.04,
    },
    "domestic_abuse": {
        "bwv_captured": 0.04,
        "evidence_led_considered": 0.03,
        "dvpn_considered": 0.05,
        "dvds_considered": 0.05,
        "safeguarding_plan_recorded": 0.02,
    },
}

#: traits that vary the kind of case (not failures), with their probability
VARIETY: dict[str, dict[str, float]] = {
    "stop_search": {"section_60": 0.03, "strip_search_authorised_ok": 0.01},
    "victim_care": {"enhanced": 0.25, "referral_declined": 0.08},
    "crime_file": {"guilty_plea": 0.45, "domestic_abuse": 0.2},
    "investigation": {},
    "domestic_abuse": {"high_risk": 0.08, "children_referred": 0.15},
}

#: rare genuine failures everywhere (within normal variation)
SLIPS: dict[str, dict[str, float]] = {
    "stop_search": {"no_bwv": 0.01},
    "victim_care": {"late_update": 0.03, "referral_late": 0.03},
    "crime_file": {"late_file": 0.03, "unbalanced_mg5": 0.03},
    "investigation": {"cctv_missed": 0.03},
    "domestic_abuse": {},
}

_NOTES = {
    "grounds_missing": "Grounds box left blank; search recorded from the officer's pocket notebook only.",
    "late_update": "Victim not told of the suspect's release on bail until chased by the victim.",
    "high_risk_no_marac": "DASH scored 15 (high) but no MARAC referral found on the system.",
}


@dataclass(frozen=True)
class DemoPlan:
    """Which weeks, how many, which seed."""

    weeks: tuple[dt.date, ...]  # Mondays, oldest first
    seed: int = SEED
    per_week: int = ASSESSMENTS_PER_WEEK


def demo_plan(
    latest_monday: dt.date, weeks: int = HISTORY_WEEKS, per_week: int = ASSESSMENTS_PER_WEEK
) -> DemoPlan:
    mondays = tuple(latest_monday - dt.timedelta(weeks=k) for k in range(weeks - 1, -1, -1))
    return DemoPlan(mondays, per_week=per_week)


#: Ashford Vale's victim cases of the demo week that are Response B's, and how many of those are
#: updated late: a team below the standard (2 of 5 on time) where the place (most on time) is not
ASH_DEMO_WEEK = (5, 3)


def _team_of(case_type: str, place: str, i: int, drawn: str, latest: bool) -> str:
    """The team of a place's i-th case of a type: as drawn, but for Ashford Vale's victims in the
    demo week, where the first ASH_DEMO_WEEK[0] are Response B's and no other is."""
    if not (latest and case_type == "victim_care" and place == "ASH"):
        return drawn
    if i < ASH_DEMO_WEEK[0]:
        return "Response B"
    return "Response A" if drawn == "Response B" else drawn


def _planted(
    case_type: str, place: str, team: str, w: int, n_weeks: int, rng: random.Random, i: int = 0
) -> dict[str, bool]:
    weeks_from_end = n_weeks - 1 - w  # 0 = latest week
    traits: dict[str, bool] = {}
    if case_type == "stop_search" and place == "HRB" and weeks_from_end < 6:
        if rng.random() < 0.15 + 0.1 * (5 - weeks_from_end):
            traits["grounds_missing"] = True
    if case_type == "victim_care" and place == "ASH" and team == "Response B" and weeks_from_end < 4:
        late = rng.random() < 0.9
        if late if weeks_from_end else i < ASH_DEMO_WEEK[1]:
            traits["late_update"] = True
    return traits


def generate_assessments(places: Sequence[Place], plan: DemoPlan) -> Iterator[dict[str, Any]]:
    """Submission rows (as a reviewer's CSV would have them) for every week of the plan."""
    from engine.demo.factories import FACTORIES  # factory-boy and faker load only when data is generated
    from engine.demo.quiet import usual_slips  # numpy likewise

    rng = random.Random(plan.seed)
    per_place = max(1, plan.per_week // (len(DEMO_CASE_TYPES) * len(places)))
    n_weeks = len(plan.weeks)
    #: (case type, place) -> each earlier week's team -> (cases, cases with no slip)
    earlier: dict[tuple[str, str], list[dict[str, tuple[int, int]]]] = {}
    for w, monday in enumerate(plan.weeks):
        year, week, _ = monday.isocalendar()
        latest = w == n_weeks - 1  # its slips are drawn all the same, then made usual (quiet.usual_slips)
        for case_type in DEMO_CASE_TYPES:
            factory = FACTORIES[case_type]
            for p_index, place in enumerate(places):
                rows: list[dict[str, Any]] = []
                week_teams: dict[str, tuple[int, int]] = {}
                for i in range(per_place):
                    team = _team_of(case_type, place.code, i, TEAMS[rng.randrange(len(TEAMS))], latest)
                    traits = {t: True for t, p in VARIETY[case_type].items() if rng.random() < p}
                    slipped = {t: True for t, p in SLIPS[case_type].items() if rng.random() < p}
                    traits.update({} if latest else slipped)
                    traits.update(_planted(case_type, place.code, team, w, n_weeks, rng, i))
                    assessed_on = monday + dt.timedelta(days=rng.randrange(5))
                    back = rng.randrange(45, 70) if traits.get("late_file") else rng.randrange(20, 40)
                    ref = f"{_PREFIX[case_type]}-{year}W{week:02d}-{place.code}-{i:03d}"
                    row = factory(
                        assessment_id=f"QA-{ref}",
                        case_ref=ref,
                        place=place.code,
                        team=team,
                        officer=f"PC {1000 + 100 * p_index + rng.randrange(40)}",
                        reviewer=REVIEWERS[(p_index + i) % len(REVIEWERS)],
                        assessed_on=assessed_on.isoformat(),
                        case_date=(assessed_on - dt.timedelta(days=back)).isoformat(),
                        **traits,
                    )
                    clean = not slipped and not any(traits.get(t) for t in _NOTES)
                    for question, p in NOISE[case_type].items():
                        if row.get(question) == "yes" and rng.random() < p and not latest:
                            row[question] = "no"
                            clean = False
                    week_teams[team] = (
                        week_teams.get(team, (0, 0))[0] + 1,
                        week_teams.get(team, (0, 0))[1] + clean,
                    )
                    for trait, note in _NOTES.items():
                        if traits.get(trait):
                            row["notes"] = note
                    rows.append(row)
                history = earlier.setdefault((case_type, place.code), [])
                if latest:
                    usual_slips(rows, NOISE[case_type], f"{plan.seed}/{case_type}/{place.code}", history)
                history.append(week_teams)
                yield from rows
        if w == n_weeks - 1:
            yield _critical_da_case(places, monday, year, week)
    # the newer case types, with their own seed (the draws above stay as they were)
    from engine.demo.data_safeguarding import safeguarding_assessments

    yield from safeguarding_assessments(places, plan.weeks, plan.seed, REVIEWERS, TEAMS)
    from engine.demo.data_prevention import prevention_assessments

    yield from prevention_assessments(places, plan.weeks, plan.seed, REVIEWERS, TEAMS)


def _critical_da_case(places: Sequence[Place], monday: dt.date, year: int, week: int) -> dict[str, Any]:
    """The planted critical failure: Kingsgate, the latest week."""
    from engine.demo.factories import FACTORIES

    place = next((p for p in places if p.code == "KNG"), places[0])
    ref = f"DA-{year}W{week:02d}-{place.code}-900"
    assessed_on = monday + dt.timedelta(days=2)
    return FACTORIES["domestic_abuse"](
        assessment_id=f"QA-{ref}",
        case_ref=ref,
        place=place.code,
        team="Safeguarding Hub",
        officer="DC 2231",
        reviewer=REVIEWERS[0],
        assessed_on=assessed_on.isoformat(),
        case_date=(assessed_on - dt.timedelta(days=12)).isoformat(),
        high_risk_no_marac=True,
        children_present="yes",
        child_referral_made="yes",
        notes=_NOTES["high_risk_no_marac"],
    )

"""The demo's DVPN and Clare's Law, vulnerable caller, complaint handling and high-impact
investigation reviews: a few cases a place a week (as a QA team samples them), generated with their
own seed so that every other case type's data stay exactly as they were, with two problems planted
in 2026-W47:

  * Kingsgate (KNG): a DVPN whose DVPO application was not heard until 52 hours after the notice was
    served, so the notice lapsed (DP04, critical).
  * Fenwick (FEN): complainants first contacted ever later over the last five weeks, most of them
    weeks after the complaint arrived (CH02 below standard).

Everything else meets the standards. These types are reviewed a few cases a place a week, so a place's
weekly rate moves a third at a time: a background slip would stand out against a sound history as a
special cause, and the demo plants no slips of its own beyond the two problems.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from engine.core.config import Place

#: the case types generated here, in this order (the seed's draws follow it), with their prefix
PREFIX = {
    "dvpn_dvds": "DP",
    "vulnerable_caller": "VL",
    "complaint_handling": "CH",
    "high_impact_investigation": "II",
}
#: how many a place reviews a week (a range: the QA team's sample varies; high-impact events are rare)
PER_PLACE_WEEK: dict[str, tuple[int, int]] = {
    "dvpn_dvds": (2, 3),
    "vulnerable_caller": (2, 3),
    "complaint_handling": (2, 3),
    "high_impact_investigation": (1, 2),
}
#: days from the case's start to its review: a Clare's Law case is reviewed once concluded
CASE_AGE: dict[str, tuple[int, int]] = {
    "dvpn_dvds": (30, 45),
    "vulnerable_caller": (14, 30),
    "complaint_handling": (30, 60),
    "high_impact_investigation": (7, 21),
}
#: added to the demo's seed for these case types' own random draws
SEED_OFFSET = 1818
#: a reviewer marks a few sound cases' notes as good practice
GOOD_PRACTICE: dict[str, str] = {
    "dvpn_dvds": "DVPO heard the next morning; the IDVA met the victim at court. A model application.",
    "vulnerable_caller": "Calls down from 30 a month to 4 after the joint plan with the crisis team.",
    "complaint_handling": "Complainant called the same day; apology and explanation resolved it in a week.",
    "high_impact_investigation": "Second scene at the suspect's flat found and cordoned within the hour.",
}


def _dvpn_dvds(rng: random.Random) -> dict[str, Any]:
    """Four in ten DVPNs (a few DVPOs refused), the rest Clare's Law cases, mostly right to ask."""
    r = rng.random()
    if r < 0.4:
        return {"dvpo_refused": True} if rng.random() < 0.1 else {}
    kind: dict[str, Any] = {"right_to_ask": True} if r < 0.85 else {"right_to_know": True}
    if rng.random() < 0.45:
        kind["not_disclosed"] = True
    if rng.random() < 0.08:
        kind["immediate_risk"] = True
    return kind


def _vulnerable_caller(rng: random.Random) -> dict[str, Any]:
    """Half of them frequent callers; most with a need for health or social care."""
    kind: dict[str, Any] = {"occasional": True} if rng.random() < 0.5 else {}
    need = rng.random()
    if need < 0.2:
        kind["no_partner_need"] = True
    elif need < 0.3:
        kind["housing_need"] = True
    if rng.random() < 0.1:
        kind["high_risk"] = True
    if rng.random() < 0.15:
        kind["stepped_down_reviewed"] = True
    return kind


def _complaint_handling(rng: random.Random) -> dict[str, Any]:
    """A third still open, a third handled outside Schedule 3, a few referred to the IOPC."""
    kind: dict[str, Any] = {"still_open": True} if rng.random() < 0.3 else {}
    if rng.random() < 0.35:
        kind["outside_schedule_3"] = True
    elif rng.random() < 0.06:
        kind["referred"] = True
    if "still_open" not in kind and rng.random() < 0.2:
        kind["not_acceptable"] = True
    if rng.random() < 0.1:
        kind["discrimination"] = True
    return kind


def _high_impact_investigation(rng: random.Random) -> dict[str, Any]:
    """Mostly serious assaults, rapes and collisions, a few homicides."""
    r = rng.random()
    kind: dict[str, Any] = {}
    if r < 0.05:
        kind["homicide"] = True
    elif r < 0.1:
        kind["attempted_murder"] = True
    elif r < 0.15:
        kind["fatal_collision"] = True
    elif r < 0.35:
        kind["event_type"] = "rape"
        if rng.random() < 0.3:
            kind["no_scene"] = True
    elif r < 0.45:
        kind["event_type"] = "serious_sexual_assault"
    elif r < 0.6:
        kind["event_type"] = "ksi_collision"
    if rng.random() < 0.3 and "fatal_collision" not in kind:
        kind["suspect_action"] = "na"  # no suspect known
    return kind


#: the kind of case (not a failure) of each type: traits and answers, drawn in a fixed order
VARIETY: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "dvpn_dvds": _dvpn_dvds,
    "vulnerable_caller": _vulnerable_caller,
    "complaint_handling": _complaint_handling,
    "high_impact_investigation": _high_impact_investigation,
}


@dataclass(frozen=True)
class Plant:
    """A problem planted in one place's cases of one type over the plan's last ``weeks``: each case
    there gets ``trait`` with probability ``chance(weeks_from_end)``; ``extra`` more such cases are
    added in the latest week, and ``note`` is the reviewer's note on the planted cases."""

    case_type: str
    place: str
    weeks: int
    trait: str
    start: float
    step: float
    note: str
    extra: int = 0

    def chance(self, weeks_from_end: int) -> float:
        return min(0.95, self.start + self.step * (self.weeks - 1 - weeks_from_end))


PLANTS: tuple[Plant, ...] = (
    Plant(
        "complaint_handling",
        "FEN",
        5,
        "contact_late",
        0.3,
        0.15,
        "Complainant first called three and a half weeks after writing in, after chasing twice.",
        extra=3,
    ),
)

#: the planted critical failure: place, the reviewer's note
CRITICAL_DVPN = (
    "KNG",
    "DVPO heard 52 hours after service, so the DVPN lapsed: served on the Friday evening, not listed "
    "until the Tuesday (Saturday and Monday count, Sunday does not).",
)


def prevention_assessments(
    places: Sequence[Place],
    mondays: Sequence[dt.date],
    seed: int,
    reviewers: Sequence[str],
    teams: Sequence[str],
) -> Iterator[dict[str, Any]]:
    """Submission rows of the four case types for every week of ``mondays`` (oldest first)."""
    from engine.demo.factories_prevention import PREVENTION_FACTORIES

    rng = random.Random(seed + SEED_OFFSET)
    n_weeks = len(mondays)
    for w, monday in enumerate(mondays):
        year, week, _ = monday.isocalendar()
        from_end = n_weeks - 1 - w
        for case_type, prefix in PREFIX.items():
            factory = PREVENTION_FACTORIES[case_type]
            low, high = PER_PLACE_WEEK[case_type]
            age_low, age_high = CASE_AGE[case_type]
            for p_index, place in enumerate(places):
                plant = _plant(case_type, place.code, from_end)
                extra = plant.extra if plant is not None and from_end == 0 else 0
                count = rng.randint(low, high) + extra
                for i in range(count):
                    kind = VARIETY[case_type](rng)
                    note, note_kind = "", ""
                    if plant is not None and (rng.random() < plant.chance(from_end) or i >= count - extra):
                        kind[plant.trait] = True
                        note, note_kind = plant.note, "learning"
                    elif rng.random() < 0.01:
                        note, note_kind = GOOD_PRACTICE[case_type], "good_practice"
                    assessed_on = monday + dt.timedelta(days=rng.randrange(5))
                    ref = f"{prefix}-{year}W{week:02d}-{place.code}-{i:03d}"
                    yield factory(
                        assessment_id=f"QA-{ref}",
                        case_ref=ref,
                        place=place.code,
                        team=teams[rng.randrange(len(teams))],
                        officer=f"PC {1000 + 100 * p_index + rng.randrange(40)}",
                        reviewer=reviewers[(p_index + i) % len(reviewers)],
                        assessed_on=assessed_on.isoformat(),
                        case_date=(
                            assessed_on - dt.timedelta(days=rng.randrange(age_low, age_high))
                        ).isoformat(),
                        notes=note,
                        note_kind=note_kind,
                        **kind,
                    )
        if from_end == 0:
            yield _critical_dvpn(places, monday, year, week, reviewers[1])


def _plant(case_type: str, place: str, weeks_from_end: int) -> Plant | None:
    return next(
        (p for p in PLANTS if (p.case_type, p.place) == (case_type, place) and weeks_from_end < p.weeks), None
    )


def _critical_dvpn(
    places: Sequence[Place], monday: dt.date, year: int, week: int, reviewer: str
) -> dict[str, Any]:
    """The planted critical failure: Kingsgate, the latest week."""
    from engine.demo.factories_prevention import DvpnDvdsFactory

    code, note = CRITICAL_DVPN
    place = next((p for p in places if p.code == code), places[0])
    ref = f"DP-{year}W{week:02d}-{place.code}-900"
    assessed_on = monday + dt.timedelta(days=2)
    return DvpnDvdsFactory(
        assessment_id=f"QA-{ref}",
        case_ref=ref,
        place=place.code,
        team="Safeguarding Hub",
        officer="PC 1742",
        reviewer=reviewer,
        assessed_on=assessed_on.isoformat(),
        case_date=(assessed_on - dt.timedelta(days=11)).isoformat(),
        dvpo_late=True,
        dvpo_granted="no",
        victim_told_of_order="",
        notes=note,
        note_kind="learning",
    )

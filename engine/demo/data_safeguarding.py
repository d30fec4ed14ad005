"""The demo's missing from home, child sexual exploitation, hate crime and problem-solving reviews:
a few cases a place a week (as a QA team samples them), generated with their own seed so that the
five first case types' data stay exactly as they were, with four problems planted in 2026-W47:

  * Ridgeway (RDG): a high-risk missing 14-year-old whose risk assessment no supervisor reviewed
    (MF05, critical).
  * Ridgeway (RDG): returned children not offered a return home interview within 72 hours over the
    last six weeks (MF11 below standard), as Ridgeway's early action figures show.
  * Ridgeway (RDG): children at risk of sexual exploitation referred to children's social care days
    late (CE04 below standard).
  * Ashford Vale (ASH): hate crime victims' first update ever later over the last five weeks (HC08
    below standard), as its victims' updates after suspect events (engine.demo.data).

Everything else is within normal variation: rare slips in earlier weeks on questions whose criteria
allow for them, none in the demo week (so that only the planted problems are briefed).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from engine.core.config import Place

#: the case types generated here, in this order (the seed's draws follow it), with their prefix
#: and how many a place reviews a week (a range: the QA team's sample varies)
PREFIX = {
    "missing_from_home": "MF",
    "child_sexual_exploitation": "CE",
    "hate_crime": "HC",
    "problem_solving": "PS",
}
PER_PLACE_WEEK: dict[str, tuple[int, int]] = {
    "missing_from_home": (3, 5),
    "child_sexual_exploitation": (2, 4),
    "hate_crime": (3, 4),
    "problem_solving": (2, 3),
}
#: added to the demo's seed for these case types' own random draws
SEED_OFFSET = 18

#: traits that vary the kind of case (not failures), with their probability
VARIETY: dict[str, dict[str, float]] = {
    "missing_from_home": {"adult": 0.4, "repeat": 0.2, "still_missing": 0.03},
    "child_sexual_exploitation": {"significant_harm": 0.3, "missing_child": 0.4},
    "hate_crime": {"incident": 0.2, "strand": 0.25},
    "problem_solving": {"closed": 0.3, "vulnerable_safeguarded": 0.15},
}
#: background slips (yes -> no) on questions whose criteria's minimum allows an odd miss
NOISE: dict[str, dict[str, float]] = {
    "missing_from_home": {"previous_episodes_checked": 0.015},
    "child_sexual_exploitation": {"disruption_considered": 0.02},
    "hate_crime": {"community_impact_considered": 0.02, "repeat_victimisation_checked": 0.01},
    "problem_solving": {"community_involved": 0.02, "partners_involved": 0.015},
}
#: a reviewer marks a few sound cases' notes as good practice
GOOD_PRACTICE: dict[str, str] = {
    "missing_from_home": "Risk regraded to high within the hour when the child's phone went off; good supervision.",
    "child_sexual_exploitation": "Child abduction warning notice served within 48 hours; a model disruption plan.",
    "hate_crime": "Community impact assessment shared with the mosque and the council the same day.",
    "problem_solving": "Alley-gating agreed with the council after the analysis; ASB calls down by half.",
}


@dataclass(frozen=True)
class Plant:
    """A problem planted in one place's cases of one type over the plan's last ``weeks``: each case
    there gets ``trait`` with probability ``chance(weeks_from_end)``; ``extra`` more such cases
    are added in the latest week, and ``note`` is the reviewer's note on the planted cases."""

    case_type: str
    place: str
    weeks: int
    trait: str
    start: float
    step: float
    note: str
    fixed: tuple[tuple[str, Any], ...] = ()
    extra: int = 0

    def chance(self, weeks_from_end: int) -> float:
        return min(0.95, self.start + self.step * (self.weeks - 1 - weeks_from_end))


PLANTS: tuple[Plant, ...] = (
    Plant(
        "missing_from_home",
        "RDG",
        6,
        "rhi_late",
        0.35,
        0.12,
        "Return home interview not offered until the child had been home six days.",
        fixed=(("person_is_child", "yes"),),
        extra=3,
    ),
    Plant(
        "child_sexual_exploitation",
        "RDG",
        1,
        "referral_late",
        0.8,
        0.0,
        "Concern recorded on the Monday; the referral reached the MASH six days later.",
        extra=2,
    ),
    Plant(
        "hate_crime",
        "ASH",
        5,
        "update_late",
        0.3,
        0.15,
        "Victim first contacted a fortnight after the report, only after she called 101.",
        fixed=(("report_type", "crime"),),
    ),
)

#: the planted critical failure: place, the reviewer's note
CRITICAL_MISSING = (
    "RDG",
    "Girl, 14, reported missing at 22:10 and graded high risk; no supervisor review was recorded "
    "before she was found the next afternoon.",
)


def safeguarding_assessments(
    places: Sequence[Place],
    mondays: Sequence[dt.date],
    seed: int,
    reviewers: Sequence[str],
    teams: Sequence[str],
) -> Iterator[dict[str, Any]]:
    """Submission rows of the four case types for every week of ``mondays`` (oldest first)."""
    from engine.demo.factories_safeguarding import SAFEGUARDING_FACTORIES

    rng = random.Random(seed + SEED_OFFSET)
    n_weeks = len(mondays)
    for w, monday in enumerate(mondays):
        year, week, _ = monday.isocalendar()
        from_end = n_weeks - 1 - w
        for case_type, prefix in PREFIX.items():
            factory = SAFEGUARDING_FACTORIES[case_type]
            low, high = PER_PLACE_WEEK[case_type]
            for p_index, place in enumerate(places):
                plant = _plant(case_type, place.code, from_end)
                extra = plant.extra if plant is not None and from_end == 0 else 0
                count = rng.randint(low, high) + extra
                for i in range(count):
                    traits = {t: True for t, p in VARIETY[case_type].items() if rng.random() < p}
                    answers: dict[str, Any] = {}
                    note, kind = "", ""
                    if plant is not None and (rng.random() < plant.chance(from_end) or i >= count - extra):
                        traits[plant.trait] = True
                        answers.update(plant.fixed)
                        traits.pop("adult", None)
                        traits.pop("still_missing", None)
                        traits.pop("incident", None)
                        note, kind = plant.note, "learning"
                    elif rng.random() < 0.01:
                        note, kind = GOOD_PRACTICE[case_type], "good_practice"
                    assessed_on = monday + dt.timedelta(days=rng.randrange(5))
                    ref = f"{prefix}-{year}W{week:02d}-{place.code}-{i:03d}"
                    row = factory(
                        assessment_id=f"QA-{ref}",
                        case_ref=ref,
                        place=place.code,
                        team="Neighbourhood"
                        if case_type == "problem_solving"
                        else teams[rng.randrange(len(teams))],
                        officer=f"PC {1000 + 100 * p_index + rng.randrange(40)}",
                        reviewer=reviewers[(p_index + i) % len(reviewers)],
                        assessed_on=assessed_on.isoformat(),
                        case_date=(assessed_on - dt.timedelta(days=rng.randrange(14, 30))).isoformat(),
                        notes=note,
                        note_kind=kind,
                        **answers,
                        **traits,
                    )
                    for question, p in NOISE[case_type].items():
                        if row.get(question) == "yes" and rng.random() < p and from_end > 0:
                            row[question] = "no"
                    yield row
        if from_end == 0:
            yield _critical_missing(places, monday, year, week, reviewers[0])


def _plant(case_type: str, place: str, weeks_from_end: int) -> Plant | None:
    return next(
        (p for p in PLANTS if (p.case_type, p.place) == (case_type, place) and weeks_from_end < p.weeks), None
    )


def _critical_missing(
    places: Sequence[Place], monday: dt.date, year: int, week: int, reviewer: str
) -> dict[str, Any]:
    """The planted critical failure: Ridgeway, the latest week."""
    from engine.demo.factories_safeguarding import MissingFromHomeFactory

    code, note = CRITICAL_MISSING
    place = next((p for p in places if p.code == code), places[0])
    ref = f"MF-{year}W{week:02d}-{place.code}-900"
    assessed_on = monday + dt.timedelta(days=3)
    return MissingFromHomeFactory(
        assessment_id=f"QA-{ref}",
        case_ref=ref,
        place=place.code,
        team="Response A",
        officer="PC 1911",
        reviewer=reviewer,
        assessed_on=assessed_on.isoformat(),
        case_date=(assessed_on - dt.timedelta(days=9)).isoformat(),
        high_risk_child_unreviewed=True,
        notes=note,
        note_kind="learning",
    )

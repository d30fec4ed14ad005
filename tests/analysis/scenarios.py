"""Factory-built scenarios for the findings tests: outcome rows case by case and week by week, calls
from the incidents extract, and assess_period run on them with the inputs a run prepares."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from engine.analysis import daily
from engine.analysis.aggregate import aggregate
from engine.analysis.findings import PeriodFindings, assess_period
from engine.analysis.incidents import incidents_frame
from engine.analysis.outcomes import Outcomes, in_period, outcomes_frame
from engine.core.models import ExceptionKind, PerformanceException
from engine.rules.catalogue import load_measures

MEASURES = list(load_measures().values())
SS, IQ = "stop-search-legitimacy", "investigation-quality"
CRITERIA: list[dict[str, Any]] = [
    {
        "ruleset": SS,
        "criterion": "SS01",
        "text": "Grounds for the search are recorded",
        "measure": "D11",
        "minimum": 0.9,
    },
    {
        "ruleset": SS,
        "criterion": "SS02",
        "text": "Strip search authorised by an inspector",
        "measure": "D11",
        "critical": True,
    },
    {
        "ruleset": SS,
        "criterion": "SS03",
        "text": "Body-worn video activated",
        "measure": "D11",
        "minimum": 0.8,
    },
    {"ruleset": IQ, "criterion": "IQ01", "text": "Investigation plan recorded", "measure": "D5"},
]
FROM, TO = date(2026, 11, 16), date(2026, 11, 22)  # 2026-W47


def assess(outcomes: Outcomes, incidents: pd.DataFrame | None = None, **options: Any) -> PeriodFindings:
    """assess_period over FROM..TO with the inputs a run prepares for it: the period's place x
    criterion aggregates and the day summaries of the outcomes (and of the incidents, if any)."""
    period = in_period(outcomes, FROM, TO)
    table = aggregate(
        period, "2026-W47", levels=("place",), dimensions=("criterion",), frames=options.get("frames")
    )
    return assess_period(
        outcomes,
        FROM,
        TO,
        aggregates=table,
        outcome_days=daily.outcome_days(outcomes),
        incident_days=None if incidents is None else daily.incident_days(incidents),
        **options,
    )


class Scenario:
    """Outcome rows built case by case; ``cases`` adds n passes and fails (and N/As) for a cell."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.serial = 0

    def cases(
        self,
        place: str,
        criterion: str,
        passes: int,
        fails: int = 0,
        na: int = 0,
        *,
        day: date = FROM,
        **kw: Any,
    ) -> list[str]:
        outcomes = ["pass"] * passes + ["fail"] * fails + ["na"] * na
        return [self.case(place, {criterion: outcome}, day=day, **kw) for outcome in outcomes]

    def case(self, place: str, outcomes: dict[str, str], *, day: date = FROM, **kw: Any) -> str:
        """One case assessed on several criteria of one ruleset: {criterion: pass | fail | na}."""
        first = next(iter(outcomes))
        ruleset = IQ if first.startswith("IQ") else SS
        self.serial += 1
        ref = f"{first[:2]}-{self.serial:05d}"
        for criterion, outcome in outcomes.items():
            self.rows.append(
                {
                    "case_ref": ref,
                    "case_type": "investigation" if ruleset == IQ else "stop_search",
                    "place": place,
                    "division": "West",
                    "team": "Response 1",
                    "officer": "PC 7",
                    "reviewer": "QA 2",
                    "assessed_on": day,
                    "ruleset": ruleset,
                    "criterion": criterion,
                    "outcome": outcome,
                    "trace": (f"{criterion} not met",) if outcome == "fail" else (),
                    "note": "",
                    **kw,
                }
            )
        return ref

    def weekly(self, place: str, criterion: str, passes_per_week: list[int], n: int = 20) -> None:
        """One week per entry, ending with the period's week."""
        first = TO - timedelta(weeks=len(passes_per_week) - 1)
        for w, k in enumerate(passes_per_week):
            self.cases(place, criterion, k, n - k, day=first + timedelta(weeks=w) - timedelta(days=5))

    def assess(self, **options: Any) -> PeriodFindings:
        return assess(outcomes_frame(self.rows, CRITERIA, MEASURES), **options)


def kinds(found: list[PerformanceException]) -> list[tuple[str, str, str, str]]:
    return [(e.kind.value, e.place, e.measure, e.criterion) for e in found]


STABLE = [16, 18] * 6  # 80% / 90% alternating: mean 85%, limits 58% - 100%


def special(found: PeriodFindings) -> list[PerformanceException]:
    return [e for e in found.exceptions if e.kind is ExceptionKind.SPECIAL_CAUSE]


STANDARDS: list[dict[str, Any]] = [
    {
        "ruleset": "response-standards",
        "criterion": "RS01",
        "metric": "g1_attended_within_standard",
        "text": "Grade 1 incidents attended within 15 minutes (urban) or 20 minutes (rural)",
        "measure": "M2",
        "minimum": 0.9,
    },
    {
        "ruleset": "response-standards",
        "criterion": "RS03",
        "metric": "call999_answered_within_10s",
        "text": "999 calls answered within 10 seconds",
        "measure": "M2",
        "minimum": 0.9,
    },
    {
        "ruleset": "response-standards",
        "criterion": "RS04",
        "metric": "call101_answer_seconds",
        "text": "101 calls answer time",
        "measure": "M2",
        "peel": "efficiency",
        "iserve": ("response", "engagement"),
        "minimum": None,
        "direction": "lower",
    },
]
SETTINGS = {"BLK": "urban", "RVS": "rural"}


def calls(
    place: str, channel: str, seconds: list[float], *, day: date = FROM, grade: int = 3
) -> list[dict[str, Any]]:
    start = datetime.combine(day, datetime.min.time()) + timedelta(hours=9)
    return [
        {
            "incident_ref": f"{place}-{channel}-{day.isoformat()}-{i}",
            "place": place,
            "grade": grade,
            "channel": channel,
            "received_at": start + timedelta(minutes=i),
            "answered_at": start + timedelta(minutes=i, seconds=s),
            "arrived_at": None,
        }
        for i, s in enumerate(seconds)
    ]


def assess_incidents(rows: list[dict[str, Any]], **options: Any) -> PeriodFindings:
    incidents = incidents_frame(rows, SETTINGS)
    outcomes = outcomes_frame([], CRITERIA, MEASURES)
    return assess(outcomes, incidents, metric_standards=STANDARDS, place_settings=SETTINGS, **options)

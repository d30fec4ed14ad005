"""Outcome rows and incidents for the engine.analysis tests: a small catalogue of stop-search and
victim-care criteria, a row builder, and lookups into the tidy tables."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from engine.analysis.outcomes import Outcomes, outcomes_frame
from engine.rules.catalogue import load_measures

MEASURES = list(load_measures().values())
SS = "stop-search-legitimacy"
CRITERIA: list[dict[str, Any]] = [
    {"ruleset": SS, "criterion": "SS01", "text": "Grounds recorded", "measure": "D11", "minimum": 0.9},
    {
        "ruleset": SS,
        "criterion": "SS02",
        "text": "Strip search authorised",
        "measure": "D11",
        "critical": True,
    },
    {
        "ruleset": SS,
        "criterion": "SS03",
        "text": "BWV activated",
        "measure": "D11",
        "iserve": ("safeguarding", "visibility"),
    },
    {
        "ruleset": "victims-code-compliance",
        "criterion": "VC01",
        "text": "Written confirmation",
        "measure": "M8",
    },
]
DAY = date(2026, 11, 17)


def row(place: str, criterion: str, outcome: str, case: str, **kw: Any) -> dict[str, Any]:
    ruleset = kw.pop("ruleset", SS if criterion.startswith("SS") else "victims-code-compliance")
    base = {
        "case_ref": case,
        "case_type": "stop_search" if ruleset == SS else "victim_care",
        "place": place,
        "division": {"BLK": "West", "RVS": "West", "HLM": "East"}[place],
        "team": "Response 1",
        "officer": "PC 1",
        "assessed_on": DAY,
        "ruleset": ruleset,
        "criterion": criterion,
        "outcome": outcome,
    }
    return {**base, **kw}


def frame(rows: list[dict[str, Any]]) -> Outcomes:
    return outcomes_frame(rows, CRITERIA, MEASURES)


def pick(table: pd.DataFrame, **where: str) -> pd.DataFrame:
    mask = pd.Series(True, index=table.index)
    for column, value in where.items():
        mask &= table[column] == value
    return table[mask]


def one(table: pd.DataFrame, **where: str) -> dict[str, Any]:
    found = pick(table, **where)
    assert len(found) == 1, found
    return found.iloc[0].to_dict()


T0 = datetime(2026, 11, 16, 8, 0, 0)
SETTINGS = {"BLK": "urban", "RVS": "rural"}


def incident(
    ref: str, place: str, grade: int, channel: str, answer_s: float | None, arrive_min: float | None
) -> dict[str, Any]:
    return {
        "incident_ref": ref,
        "place": place,
        "grade": grade,
        "channel": channel,
        "received_at": T0,
        "answered_at": None if answer_s is None else T0 + timedelta(seconds=answer_s),
        "arrived_at": None if arrive_min is None else T0 + timedelta(minutes=arrive_min),
    }

"""Officer summaries (docs/officers.md): for each officer with a role, the key aspects of the role
over a period: their own reviewed cases, the rate with its Wilson interval (or "too few cases to
say"), their team's and place's figures beside it, and their failing cases with the reviewers'
notes. Developmental, not a league table: officers are never ranked or compared with each other,
and an officer's summary holds only their own cases.

An officer's team and place are those of most of their reviewed cases in the period (ties: the
first in alphabetical order); the role is the first in roles.yaml whose team patterns match that
team. A criterion aspect counts the cases where it applied (not N/A); a metric aspect is measured
from extracts for teams and places, never for one officer, so it carries no figures here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from engine.analysis.frames import as_frame
from engine.analysis.stats import wilson_interval
from engine.core.roles import Roles

#: the outcome rows an officer summary reads: one per assessment and criterion (frames.CaseColumns)
REQUIRED = ("case_ref", "place", "team", "officer", "reviewer", "assessed_on", "ruleset", "criterion",
            "outcome", "note")  # fmt: skip
#: officers.csv, one row per officer and aspect (docs/outputs.md)
CSV_COLUMNS = ("officer", "role", "aspect", "aspect_text", "team", "place", "n", "passed", "rate", "ci_low",
               "ci_high", "team_n", "team_rate", "place_n", "place_rate")  # fmt: skip


@dataclass(frozen=True)
class FailingCase:
    case_ref: str
    assessed_on: dt.date
    reviewer: str
    note: str


@dataclass(frozen=True)
class AspectSummary:
    """One key aspect for one officer. ``rate`` is None when there are too few cases to say (fewer
    than the roles' min_cases) or for a metric (not measured per officer)."""

    key: str
    text: str
    is_metric: bool
    n: int = 0
    passed: int = 0
    rate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    team_n: int = 0
    team_rate: float | None = None
    place_n: int = 0
    place_rate: float | None = None
    failing: tuple[FailingCase, ...] = ()

    @property
    def too_few(self) -> bool:
        return not self.is_metric and self.rate is None


@dataclass(frozen=True)
class OfficerSummary:
    officer: str
    role_id: str
    role_name: str
    team: str
    place: str
    cases: int
    aspects: tuple[AspectSummary, ...]


@dataclass(frozen=True)
class OfficerSummaries:
    summaries: tuple[OfficerSummary, ...]
    #: officers whose team matches no role: (officer, team), in alphabetical order
    without_role: tuple[tuple[str, str], ...]
    min_cases: int


def officer_summaries(
    rows: Any, roles: Roles, texts: Mapping[str, str], metric_texts: Mapping[str, str]
) -> OfficerSummaries:
    """Every officer's summary from the period's outcome rows (REQUIRED columns). ``texts``:
    ``<ruleset>/<criterion>`` -> the criterion's text; ``metric_texts``: metric id -> its label."""
    df = as_frame(rows, REQUIRED, "outcome rows")
    df = df.astype({c: str for c in ("case_ref", "place", "team", "officer", "ruleset", "criterion")})
    df["aspect"] = df["ruleset"] + "/" + df["criterion"]
    applied = df[df["outcome"] != "na"]
    cases = df.drop_duplicates(["officer", "case_ref", "ruleset"])
    summaries: list[OfficerSummary] = []
    without: list[tuple[str, str]] = []
    for officer, own in cases.groupby("officer", sort=True, observed=True):
        place, team = _home(own)
        role = roles.role_of(team)
        if role is None:
            without.append((str(officer), team))
            continue
        mine = applied[applied["officer"] == officer]
        aspects = tuple(
            AspectSummary(a.key, metric_texts.get(a.key, a.key), True)
            if not a.is_criterion
            else _aspect(a.key, texts.get(a.key, a.key), mine, applied, place, team, roles.min_cases)
            for a in role.aspects
        )
        summaries.append(
            OfficerSummary(
                str(officer), role.id, role.name, team, place, int(own["case_ref"].nunique()), aspects
            )
        )
    return OfficerSummaries(tuple(summaries), tuple(without), roles.min_cases)


def _home(own: pd.DataFrame) -> tuple[str, str]:
    """The (place, team) of most of an officer's cases; ties go to the first alphabetically."""
    counts = own.groupby(["place", "team"], observed=True).size().reset_index(name="n")
    counts = counts.sort_values(["n", "place", "team"], ascending=[False, True, True], kind="stable")
    first = counts.iloc[0]
    return str(first["place"]), str(first["team"])


def _aspect(
    key: str, text: str, mine: pd.DataFrame, applied: pd.DataFrame, place: str, team: str, min_cases: int
) -> AspectSummary:
    own = mine[mine["aspect"] == key]
    n, passed = len(own), int((own["outcome"] == "pass").sum())
    here = applied[(applied["aspect"] == key) & (applied["place"] == place)]
    in_team = here[here["team"] == team]
    rate = low = high = None
    if n >= min_cases:
        rate = passed / n
        low, high = wilson_interval(passed, n)
    fails = own[own["outcome"] == "fail"].sort_values(["assessed_on", "case_ref"], kind="stable")
    failing = tuple(
        FailingCase(str(r.case_ref), _day(r.assessed_on), str(r.reviewer), _text(r.note))
        for r in fails.itertuples(index=False)
    )
    return AspectSummary(
        key, text, False, n, passed, rate, low, high,
        len(in_team), _rate(in_team, min_cases), len(here), _rate(here, min_cases), failing,
    )  # fmt: skip


def _rate(rows: pd.DataFrame, min_cases: int) -> float | None:
    """A team's or place's rate; None with fewer than ``min_cases`` cases, as for an officer (a team
    of one officer's few cases would otherwise give their rate away)."""
    return float((rows["outcome"] == "pass").mean()) if len(rows) >= min_cases else None


def _day(value: Any) -> dt.date:
    return pd.Timestamp(value).date()


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def csv_rows(summaries: Sequence[OfficerSummary]) -> list[dict[str, Any]]:
    """officers.csv's rows (CSV_COLUMNS), one per officer and aspect, in officer then role order:
    alphabetical, never ranked. Empty figures where there are too few cases or none per officer."""

    def cell(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    return [
        {
            "officer": s.officer,
            "role": s.role_id,
            "aspect": a.key,
            "aspect_text": a.text,
            "team": s.team,
            "place": s.place,
            "n": "" if a.is_metric else a.n,
            "passed": "" if a.is_metric else a.passed,
            "rate": cell(a.rate),
            "ci_low": cell(a.ci_low),
            "ci_high": cell(a.ci_high),
            "team_n": "" if a.is_metric else a.team_n,
            "team_rate": cell(a.team_rate),
            "place_n": "" if a.is_metric else a.place_n,
            "place_rate": cell(a.place_rate),
        }
        for s in summaries
        for a in s.aspects
    ]

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
    ``<ruleset>/<criterion>`` -> the criterion's text; ``metric_texts``: metric id -> its label.
    Counted by group once (officer, team and place by aspect), not officer by officer."""
    df = as_frame(rows, REQUIRED, "outcome rows")
    df = df.astype({c: str for c in ("case_ref", "place", "team", "officer", "ruleset", "criterion")})
    wanted = {a.key for r in roles.roles for a in r.aspects if a.is_criterion}
    df["aspect"] = df["ruleset"] + "/" + df["criterion"]
    applied = df[df["aspect"].isin(wanted) & (df["outcome"] != "na")].copy()
    applied["passed"] = applied["outcome"] == "pass"
    own = _counts(applied, ["officer", "aspect"])
    team = _counts(applied, ["place", "team", "aspect"])
    place = _counts(applied, ["place", "aspect"])
    failing = _failing(applied[applied["outcome"] == "fail"])
    summaries: list[OfficerSummary] = []
    without: list[tuple[str, str]] = []
    for officer, home_place, home_team, cases in _homes(df):
        role = roles.role_of(home_team)
        if role is None:
            without.append((officer, home_team))
            continue
        aspects = tuple(
            AspectSummary(a.key, metric_texts.get(a.key, a.key), True)
            if not a.is_criterion
            else _aspect(
                a.key,
                texts.get(a.key, a.key),
                own.get((officer, a.key), (0, 0)),
                team.get((home_place, home_team, a.key), (0, 0)),
                place.get((home_place, a.key), (0, 0)),
                failing.get((officer, a.key), ()),
                roles.min_cases,
            )  # fmt: skip
            for a in role.aspects
        )
        summaries.append(OfficerSummary(officer, role.id, role.name, home_team, home_place, cases, aspects))
    return OfficerSummaries(tuple(summaries), tuple(without), roles.min_cases)


def _counts(applied: pd.DataFrame, keys: list[str]) -> dict[tuple[str, ...], tuple[int, int]]:
    """{group key: (cases where the aspect applied, cases that met it)}."""
    grouped = applied.groupby(keys, observed=True, sort=False)["passed"].agg(["size", "sum"])
    return {
        k: (int(n), int(p)) for k, n, p in zip(grouped.index, grouped["size"], grouped["sum"], strict=True)
    }


def _failing(fails: pd.DataFrame) -> dict[tuple[str, str], tuple[FailingCase, ...]]:
    out: dict[tuple[str, str], list[FailingCase]] = {}
    ordered = fails.sort_values(["officer", "aspect", "assessed_on", "case_ref"], kind="stable")
    for r in ordered.itertuples(index=False):
        out.setdefault((str(r.officer), str(r.aspect)), []).append(
            FailingCase(str(r.case_ref), _day(r.assessed_on), str(r.reviewer), _text(r.note))
        )
    return {k: tuple(v) for k, v in out.items()}


def _homes(df: pd.DataFrame) -> list[tuple[str, str, str, int]]:
    """(officer, place, team, reviewed cases) for each officer, alphabetically: the place and team of
    most of their cases, a tie going to the first alphabetically."""
    cases = df.drop_duplicates(["officer", "case_ref", "ruleset"])
    counts = cases.groupby(["officer", "place", "team"], observed=True).size().reset_index(name="n")
    counts = counts.sort_values(
        ["officer", "n", "place", "team"], ascending=[True, False, True, True], kind="stable"
    )
    first = counts.drop_duplicates("officer")
    total = cases.groupby("officer", observed=True)["case_ref"].nunique()
    return [
        (o, p, t, int(total[o]))
        for o, p, t in zip(first["officer"], first["place"], first["team"], strict=True)
    ]


def _aspect(
    key: str,
    text: str,
    own: tuple[int, int],
    team: tuple[int, int],
    place: tuple[int, int],
    failing: tuple[FailingCase, ...],
    min_cases: int,
) -> AspectSummary:
    (n, passed), rate, low, high = own, None, None, None
    if n >= min_cases:
        rate = passed / n
        low, high = wilson_interval(passed, n)
    return AspectSummary(
        key, text, False, n, passed, rate, low, high,
        team[0], _rate(team, min_cases), place[0], _rate(place, min_cases), failing,
    )  # fmt: skip


def _rate(counts: tuple[int, int], min_cases: int) -> float | None:
    """A team's or place's rate; None with fewer than ``min_cases`` cases, as for an officer (a team
    of one officer's few cases would otherwise give their rate away)."""
    n, passed = counts
    return passed / n if n >= min_cases else None


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

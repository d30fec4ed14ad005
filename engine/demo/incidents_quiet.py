"""The demo week's incidents, drawn so that a place's response figures raise nothing by chance.

engine.demo.incidents draws every week's incidents as they would vary. Over 12 places and nine
response figures (M2), a few of a place's weekly means and shares would then signal by chance in
any week, the demo week included. Here the demo week's incidents are drawn in the same way (the
same mix of grades, channels and teams, the same times' distributions, Dalewood's drift included),
except that each place's times of one kind (Grade 1, 2 or 3 attendance, 999 or 101 answering) are
drawn again, from a seed of their own, until the figures they make lie on their better side of the
place's earlier weeks (engine.demo.quiet). The planted drift's Grade 1 times are kept as first
drawn.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from engine.core.config import Place
from engine.demo.incidents import DRIFT_TEAM, team_on_duty
from engine.demo.quiet import QUIET_TRIES, on_better_side
from engine.inputs.extracts import TEAM

#: each kind of times, the response figures it makes (the metrics of response-standards) and
#: whether lower is better
KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "g1": (("g1_attended_within_standard", "higher"), ("g1_attendance_minutes", "lower")),
    "g2": (("g2_attended_within_60", "higher"), ("g2_attendance_minutes", "lower")),
    "g3": (("g3_attended_within_standard", "higher"), ("g3_attendance_minutes", "lower")),
    "999": (("call999_answered_within_10s", "higher"), ("call999_answer_seconds", "lower")),
    "101": (("call101_answer_seconds", "lower"),),
}
Figures = dict[str, float]


@dataclass(frozen=True)
class Incident:
    """One incident's times (whole seconds, as its row has them)."""

    received: dt.datetime
    grade: int
    channel: str
    answered: dt.datetime
    arrived: dt.datetime | None


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def _share(passed: Iterable[bool]) -> float:
    flags = list(passed)
    return sum(flags) / len(flags) if flags else math.nan


def kind_figures(kind: str, incidents: Sequence[Incident], urban: bool) -> Figures:
    """The response figures of one kind of times, as the weekly run works them out (not attended or
    not answered counts against the standard; a mean is of those attended or answered)."""
    if kind in ("999", "101"):
        calls = [(i.answered - i.received).total_seconds() for i in incidents if i.channel == kind]
        if kind == "101":
            return {"call101_answer_seconds": _mean(calls)}
        return {
            "call999_answered_within_10s": _share(s <= 10 for s in calls),
            "call999_answer_seconds": _mean(calls),
        }
    grade = int(kind[1])
    times = [
        (i.arrived - i.received).total_seconds() / 60 if i.arrived else None
        for i in incidents
        if i.grade == grade
    ]
    limit = {1: 15 if urban else 20, 2: 60, 3: 24 * 60}[grade]
    within, mean = KINDS[kind][0][0], KINDS[kind][1][0]
    return {
        within: _share(t is not None and t <= limit for t in times),
        mean: _mean([t for t in times if t is not None]),
    }


def week_figures(incidents: Sequence[Incident], urban: bool) -> Figures:
    """Every response figure of one place's week."""
    out: Figures = {}
    for kind in KINDS:
        out.update(kind_figures(kind, incidents, urban))
    return out


def from_row(row: Mapping[str, str]) -> Incident:
    """An incident of the extract's rows (engine.demo.incidents)."""
    return Incident(
        dt.datetime.fromisoformat(row["received_at"]),
        int(row["grade"]),
        row["channel"],
        dt.datetime.fromisoformat(row["answered_at"]),
        dt.datetime.fromisoformat(row["arrived_at"]) if row["arrived_at"] else None,
    )


def _lognormal(rng: random.Random, median: float, p90: float) -> float:
    sigma = math.log(p90 / median) / 1.2815515655446004
    return rng.lognormvariate(math.log(median), sigma)


def _times(
    kind: str,
    skeleton: Sequence[tuple[dt.datetime, int, str, str]],
    urban: bool,
    drift: float,
    rng: random.Random,
) -> dict[int, dt.datetime | None]:
    """Incident index -> its answer (999, 101) or arrival (g1..g3) time, drawn as engine.demo.incidents does."""
    out: dict[int, dt.datetime | None] = {}
    for i, (received, grade, channel, team) in enumerate(skeleton):
        if kind in ("999", "101") and channel == kind:
            median, p90 = (4.5, 9.0) if kind == "999" else (70.0, 420.0)
            out[i] = received + dt.timedelta(seconds=round(_lognormal(rng, median, p90)))
        elif kind == "g1" and grade == 1:
            median, p90 = (7.5, 11.5) if urban else (10.0, 15.5)
            if drift > 0:
                share = 2.0 if team == DRIFT_TEAM else 0.5
                median *= 1 + 0.04 * drift * share
                p90 *= 1 + 0.06 * drift * share
            out[i] = (received + dt.timedelta(minutes=_lognormal(rng, median, p90))).replace(microsecond=0)
        elif kind == "g2" and grade == 2:
            out[i] = (received + dt.timedelta(minutes=_lognormal(rng, 26, 45))).replace(microsecond=0)
        elif kind == "g3" and grade == 3:
            hours = _lognormal(rng, 6, 20)
            out[i] = (
                (received + dt.timedelta(hours=hours)).replace(microsecond=0) if rng.random() < 0.96 else None
            )
    return out


def quiet_place_week(
    place: Place,
    monday: dt.date,
    per_place: int,
    seed: int,
    earlier: Sequence[Figures],
    *,
    drift: float = 0.0,
) -> list[dict[str, str]]:
    """One place's incident rows for the week from ``monday``, each kind of times drawn until its
    figures lie on their better side of ``earlier`` (the place's earlier weeks' week_figures, oldest
    first); with ``drift`` (the planted drift's step) the Grade 1 times are kept as first drawn."""
    urban = place.setting == "urban"
    rng = random.Random(f"{seed}/{place.code}")
    skeleton: list[tuple[dt.datetime, int, str, str]] = []
    for _ in range(per_place):
        received = dt.datetime.combine(monday, dt.time()) + dt.timedelta(seconds=rng.randrange(7 * 86400))
        grade = rng.choices((1, 2, 3), (0.14, 0.36, 0.50))[0]
        channel = "999" if grade == 1 else rng.choices(("999", "101", "online"), (0.30, 0.50, 0.20))[0]
        skeleton.append((received, grade, channel, team_on_duty(place, received)))
    online = random.Random(f"{seed}/{place.code}/online")
    answered: dict[int, dt.datetime | None] = {
        i: s[0] + dt.timedelta(minutes=round(_lognormal(online, 25, 120)))
        for i, s in enumerate(skeleton)
        if s[2] == "online"
    }
    arrived: dict[int, dt.datetime | None] = {}
    for kind, directions in KINDS.items():
        target = answered if kind in ("999", "101") else arrived
        planted = kind == "g1" and drift > 0
        for attempt in range(1 if planted else QUIET_TRIES):
            times = _times(
                kind, skeleton, urban, drift, random.Random(f"{seed}/{place.code}/{kind}/{attempt}")
            )
            figures = kind_figures(kind, _incidents(skeleton, times, kind), urban)
            if all(_quiet(figures[m], [e[m] for e in earlier], d) for m, d in directions):
                break
        target.update(times)
    return [
        {
            "incident_ref": f"INC-{monday.isoformat()}-{place.code}-{i:05d}",
            "place": place.code,
            "grade": str(grade),
            "channel": channel,
            "received_at": received.isoformat(timespec="seconds"),
            "answered_at": _stamp(answered[i]),
            "arrived_at": _stamp(arrived.get(i)),
            TEAM: team,
        }
        for i, (received, grade, channel, team) in enumerate(skeleton)
    ]


def _stamp(t: dt.datetime | None) -> str:
    return t.isoformat(timespec="seconds") if t else ""


def _incidents(
    skeleton: Sequence[tuple[dt.datetime, int, str, str]], times: Mapping[int, dt.datetime | None], kind: str
) -> list[Incident]:
    """The incidents of one kind with its drawn times (the other times unused)."""
    answer = kind in ("999", "101")
    out: list[Incident] = []
    for i, (received, grade, channel, _team) in enumerate(skeleton):
        if i in times:
            t = times[i]
            if answer:
                out.append(Incident(received, grade, channel, t or received, None))
            else:
                out.append(Incident(received, grade, channel, received, t))
    return out


def _quiet(figure: float, earlier: Sequence[float], direction: str) -> bool:
    history = [e for e in earlier if not math.isnan(e)]
    cap = 1.0 if direction == "higher" else math.inf
    return math.isnan(figure) or on_better_side(figure, history, direction, cap=cap)


def history_of(rows: Iterable[Mapping[str, str]], places: Sequence[Place]) -> dict[str, Figures]:
    """Each place's week_figures of one week's incident rows."""
    by_place: dict[str, list[Incident]] = {p.code: [] for p in places}
    for row in rows:
        by_place[row["place"]].append(from_row(row))
    urban = {p.code: p.setting == "urban" for p in places}
    return {code: week_figures(incidents, urban[code]) for code, incidents in by_place.items()}

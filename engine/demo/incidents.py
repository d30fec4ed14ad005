"""Generated incidents for the demo force: realistic response and call-handling times by response
team, one drift planted.

Deterministic for a seed. Times are drawn from log-normal distributions fitted by eye to typical
force data: Grade 1 attendance median ~9 min urban / ~12 min rural, Grade 3 ~6 hours (nearly all
attended within a day), 999 answer median ~5 s. Each place's response teams work a rolling rota of
12-hour shifts from 07:00 (four teams in an urban place, three in a rural one), and an incident
belongs to the team on duty when it was received.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
from collections.abc import Iterator, Sequence

from engine.core.config import Place
from engine.inputs.extracts import INCIDENT_COLUMNS, TEAM

#: the response teams of a place, by its setting (the QA reviews name the same teams)
RESPONSE_TEAMS = {
    "urban": ("Response A", "Response B", "Response C", "Response D"),
    "rural": ("Response A", "Response B", "Response C"),
}
#: the team whose Grade 1 attendance drifts most in the drifting place, and how the drift is shared:
#: the place's drift on average, twice it in this team and half of it in the others
DRIFT_TEAM = "Response C"
_SHIFT_START = dt.datetime(2026, 1, 5, 7, 0)  # a Monday at 07:00: shift 0 of the rota


def team_on_duty(place: Place, received: dt.datetime) -> str:
    """The response team on duty at ``received``: 12-hour shifts from 07:00, the place's teams in turn."""
    teams = RESPONSE_TEAMS["urban" if place.setting == "urban" else "rural"]
    shift = int((received - _SHIFT_START).total_seconds() // (12 * 3600))
    return teams[shift % len(teams)]


def _lognormal(rng: random.Random, median: float, p90: float) -> float:
    """A log-normal draw with the given median and 90th percentile."""
    sigma = math.log(p90 / median) / 1.2815515655446004
    return rng.lognormvariate(math.log(median), sigma)


def _stamp(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


def generate_incidents(
    places: Sequence[Place],
    weeks: Sequence[dt.date],
    *,
    per_week: int,
    seed: int,
    drift_place: str | None = None,
    drift_from: dt.date | None = None,
) -> Iterator[dict[str, str]]:
    """Incident rows (as the `incidents` extract CSV has them) for each week starting on the given Mondays.

    ``drift_place``'s Grade 1 attendance slows a little more each week from ``drift_from`` on, most in
    its DRIFT_TEAM.
    """
    rng = random.Random(seed)
    per_place = max(1, per_week // len(places))
    for monday in weeks:
        drift_step = (monday - drift_from).days // 7 + 1 if drift_from and monday >= drift_from else 0
        for place in places:
            urban = place.setting == "urban"
            for i in range(per_place):
                received = dt.datetime.combine(monday, dt.time()) + dt.timedelta(
                    seconds=rng.randrange(7 * 86400)
                )
                team = team_on_duty(place, received)
                grade = rng.choices((1, 2, 3), (0.14, 0.36, 0.50))[0]
                # emergencies come by 999; online reports are never graded immediate
                channel = (
                    "999" if grade == 1 else rng.choices(("999", "101", "online"), (0.30, 0.50, 0.20))[0]
                )
                if channel == "999":
                    answered = received + dt.timedelta(seconds=round(_lognormal(rng, 4.5, 9.0)))
                elif channel == "101":
                    answered = received + dt.timedelta(seconds=round(_lognormal(rng, 70, 420)))
                else:
                    answered = received + dt.timedelta(minutes=round(_lognormal(rng, 25, 120)))
                # attendance is timed from receipt, as the response standards measure it
                if grade == 1:
                    median, p90 = (7.5, 11.5) if urban else (10.0, 15.5)
                    if place.code == drift_place and drift_step > 0:
                        share = 2.0 if team == DRIFT_TEAM else 0.5
                        median *= 1 + 0.04 * drift_step * share
                        p90 *= 1 + 0.06 * drift_step * share
                    arrived: dt.datetime | None = received + dt.timedelta(
                        minutes=_lognormal(rng, median, p90)
                    )
                elif grade == 2:
                    arrived = received + dt.timedelta(minutes=_lognormal(rng, 26, 45))
                else:  # Grade 3: nearly all attended, most within a day
                    arrived = (
                        received + dt.timedelta(hours=_lognormal(rng, 6, 20)) if rng.random() < 0.96 else None
                    )
                yield {
                    "incident_ref": f"INC-{monday.isoformat()}-{place.code}-{i:05d}",
                    "place": place.code,
                    "grade": str(grade),
                    "channel": channel,
                    "received_at": _stamp(received),
                    "answered_at": _stamp(answered),
                    "arrived_at": _stamp(arrived.replace(microsecond=0)) if arrived else "",
                    TEAM: team,
                }


def incidents_csv(rows: Sequence[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=(*INCIDENT_COLUMNS, TEAM), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()

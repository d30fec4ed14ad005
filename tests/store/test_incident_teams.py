"""The incidents extract's optional team column through the database, on SQLite and PostgreSQL: stored,
read back for the metrics, reloaded (a team given, changed or taken away is an update; an older file
without the column reloads as unchanged), and the teams' mean and median times worked out from the
stored rows as a plain computation of the file gives them."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import api
from engine.analysis import daily
from engine.analysis.incidents import incidents_frame
from engine.analysis.tables import records
from engine.core.config import Settings
from engine.store import db as dbm
from engine.store import summaries
from engine.store.incidents import incident_chunks

HEADER = "incident_ref,place,grade,channel,received_at,answered_at,arrived_at"
ROWS = [
    # ref, place, grade, channel, received, answered (s), arrived (s), team
    ("I1", "BLK", 1, "999", "2026-11-16T08:00:00", 4, 480, "Response A"),
    ("I2", "BLK", 1, "999", "2026-11-16T09:00:00", 6, 600, "Response A"),
    ("I3", "BLK", 1, "999", "2026-11-17T10:00:00", 12, 1500, "Response B"),  # B's only incident
    ("I4", "BLK", 1, "999", "2026-11-18T11:00:00", 3, None, "Response A"),  # not attended
    ("I5", "BLK", 2, "101", "2026-11-18T12:00:00", 95, 2700, ""),  # no team
    ("I6", "BLK", 3, "online", "2026-11-19T13:00:00", None, 20 * 3600, "Response B"),
]


def _csv(path: Path, *, teams: bool = True, override: dict[str, str] | None = None) -> Path:
    lines = [HEADER + (",team" if teams else "")]
    for ref, place, grade, channel, received, answer, arrive, team in ROWS:
        at = dt.datetime.fromisoformat(received)

        def stamp(seconds: int | None, at: dt.datetime = at) -> str:
            return "" if seconds is None else (at + dt.timedelta(seconds=seconds)).isoformat()

        cells = [ref, place, str(grade), channel, received, stamp(answer), stamp(arrive)]
        if teams:
            cells.append((override or {}).get(ref, team))
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _stored(settings: Settings) -> dict[str, str | None]:
    with api.database_for(settings) as database, database.session() as session:
        return dict(session.execute(select(dbm.Incident.incident_ref, dbm.Incident.team)).all())


def _epochs(settings: Settings) -> dict[dt.date, int]:
    with api.database_for(settings) as database, database.session() as session:
        return summaries.epochs(session, summaries.INCIDENTS, dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def test_team_is_stored_and_reloads_change_only_what_changed(settings: Settings, tmp_path: Path) -> None:
    api.init_database(settings)
    # an older file without the team column loads, with no team
    old = api.load_incidents_extract(settings, _csv(tmp_path / "old.csv", teams=False))
    assert (old.new, old.updated, old.unchanged) == (6, 0, 0)
    assert set(_stored(settings).values()) == {None}
    before = _epochs(settings)
    # the same incidents with their teams: each given a team is updated (its day read again); the one
    # whose team is blank is the row it was
    teamed = api.load_incidents_extract(settings, _csv(tmp_path / "teams.csv"))
    assert (teamed.new, teamed.updated, teamed.unchanged) == (0, 5, 1)
    assert _stored(settings) == {r[0]: r[7] or None for r in ROWS}
    after = _epochs(settings)
    assert after == {d: e + 1 for d, e in before.items()} and len(after) == 4  # each day had one updated
    # reloading it changes nothing; a team changed is an update
    again = api.load_incidents_extract(settings, _csv(tmp_path / "teams.csv"))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 6)
    moved = api.load_incidents_extract(settings, _csv(tmp_path / "moved.csv", override={"I3": "Response C"}))
    assert (moved.updated, _stored(settings)["I3"]) == (1, "Response C")
    # the newest extract is the truth: an older file without teams takes them away again
    back = api.load_incidents_extract(settings, _csv(tmp_path / "old.csv", teams=False))
    assert (back.updated, back.unchanged) == (5, 1)
    assert set(_stored(settings).values()) == {None}


def test_team_times_from_the_stored_rows_are_those_of_the_file(settings: Settings, tmp_path: Path) -> None:
    api.init_database(settings)
    api.load_incidents_extract(settings, _csv(tmp_path / "teams.csv"))
    start, end = dt.datetime(2026, 11, 16), dt.datetime(2026, 11, 23)
    with api.database_for(settings) as database, database.session() as session:
        parts = [
            daily.incident_days(incidents_frame(chunk.columns, {"BLK": "urban"}))
            for chunk in incident_chunks(session, start, end)
        ]
        stored_teams = sorted(
            {str(t) for chunk in incident_chunks(session, start, end) for t in chunk.columns["team"]}
        )
    assert stored_teams == ["None", "Response A", "Response B"]
    table = daily.incident_metrics(daily.merge(parts), "2026-W47", teams=True)
    got = {(r["team"], r["metric"]): r for r in records(table)}
    # plainly: Grade 1 attendance minutes of Response A's attended incidents, B's single one, all of BLK's
    a = [480 / 60, 600 / 60]
    row = got[("Response A", "g1_attendance_minutes")]
    assert (row["n"], row["mean"], row["median"]) == (2, statistics.fmean(a), statistics.median(a))
    assert (
        got[("Response A", "g1_attended_within_standard")]["n"],
        got[("Response A", "g1_attended_within_standard")]["passes"],
    ) == (3, 2)
    single = got[("Response B", "g1_attendance_minutes")]
    assert (single["n"], single["mean"], single["median"], single["ci_low"]) == (1, 25.0, 25.0, None)
    place = got[("", "g1_attendance_minutes")]
    assert place["mean"] == pytest.approx(statistics.fmean([8, 10, 25]))
    answers = [4, 6, 12, 3]
    c999 = got[("", "call999_answer_seconds")]
    assert (c999["n"], c999["mean"], c999["median"]) == (
        4,
        statistics.fmean(answers),
        statistics.median(answers),
    )
    sd = statistics.stdev(answers)
    assert c999["ci_high"] - c999["mean"] == pytest.approx(3.182446305284263 * sd / math.sqrt(4))
    g3 = got[("Response B", "g3_attendance_minutes")]
    assert (g3["n"], g3["mean"]) == (1, 1200.0)
    assert got[("", "call101_answer_seconds")]["median"] == 95.0
    assert got[("", "g2_attendance_minutes")]["mean"] == 45.0  # the incident with no team counts at BLK
    assert not any(team == "None" for team, _ in got)

"""Quantitative extracts: reading and validating the incidents CSV, and the response metrics it feeds.

The metric names here are the ones rulesets refer to (rulesets/priority1/response-standards.yaml;
engine.core.metrics says what each is); computing them over many rows is vectorised in
engine/analysis/incidents.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine.core.errors import ExtractError, Location, Problem, problems_summary
from engine.core.files import input_file_problem
from engine.core.metrics import METRICS
from engine.inputs.limits import MAX_CELL_CHARACTERS, too_long
from engine.inputs.text_input import control_problem, decode_utf8

INCIDENT_COLUMNS: tuple[str, ...] = (
    "incident_ref",
    "place",
    "grade",
    "channel",
    "received_at",
    "answered_at",
    "arrived_at",
)
#: the optional column: the team that attended or handled the incident (blank or absent: no team)
TEAM = "team"
#: the longest team name (as the cases extract's and the database column's)
TEAM_MAX_CHARS = 200
#: the longest incident reference (the database column's size)
INCIDENT_REF_MAX_CHARS = 120
#: what the incident metrics are worked out from: every contract column but the reference
METRIC_INPUT_COLUMNS: tuple[str, ...] = INCIDENT_COLUMNS[1:]
#: what is read back from the database for the metrics: those and the team (None: no team)
STORED_INPUT_COLUMNS: tuple[str, ...] = (*METRIC_INPUT_COLUMNS, TEAM)
GRADES: tuple[str, ...] = ("1", "2", "3")
CHANNELS: tuple[str, ...] = ("999", "101", "online")

# the metrics an incidents extract feeds (priority 1, measure M2); the names are the rulesets'
G1_ATTENDED = "g1_attended_within_standard"
G2_ATTENDED = "g2_attended_within_60"
G3_ATTENDED = "g3_attended_within_standard"
CALL999_ANSWERED = "call999_answered_within_10s"
G1_MINUTES = "g1_attendance_minutes"
G2_MINUTES = "g2_attendance_minutes"
G3_MINUTES = "g3_attendance_minutes"
CALL999_SECONDS = "call999_answer_seconds"
CALL101_SECONDS = "call101_answer_seconds"
EXTRACT_METRICS = METRICS
if set(EXTRACT_METRICS) != {G1_ATTENDED, G2_ATTENDED, G3_ATTENDED, CALL999_ANSWERED, G1_MINUTES, G2_MINUTES,
                            G3_MINUTES, CALL999_SECONDS, CALL101_SECONDS}:  # fmt: skip
    raise AssertionError("engine.core.metrics and engine.inputs.extracts name different metrics")


@dataclass(frozen=True)
class ResponseSettings:
    """Response standards (docs/extracts.md); settings, because forces differ.

    Grade 1: nearest resource within 15 minutes urban / 20 rural; Grade 2 within 60 minutes;
    Grade 3 within 24 hours; 999 calls answered within 10 seconds. "Within" includes the limit
    itself. The field names are the response-standards ruleset's settings:
    ``ResponseSettings(**ruleset.settings)``.
    """

    g1_urban_minutes: float = 15.0
    g1_rural_minutes: float = 20.0
    g2_minutes: float = 60.0
    g3_hours: float = 24.0
    call999_seconds: float = 10.0

    def g1_minutes(self, setting: str) -> float:
        """The Grade 1 attendance standard for a place's setting (urban or rural)."""
        if setting == "rural":
            return self.g1_rural_minutes
        if setting == "urban":
            return self.g1_urban_minutes
        raise ValueError(f"unknown place setting {setting!r} (use urban or rural)")


@dataclass(frozen=True)
class IncidentRow:
    """One validated incident. Timestamps are as written (naive = force local time)."""

    incident_ref: str
    place: str
    grade: int
    channel: str
    received_at: datetime
    answered_at: datetime | None  # blank: not answered (an abandoned call, or an online report)
    arrived_at: datetime | None  # blank: not attended
    #: sha256 of the row's content: a re-loaded identical row is a no-op, a changed one is not
    content_hash: str
    #: the CSV line the row came from, for messages
    line: int
    #: the team that attended or handled it; None when the file has no team column or the cell is blank
    team: str | None = None


def _timestamp(text: str) -> datetime:
    """Parse an ISO 8601 timestamp that has a time part; ValueError otherwise."""
    if len(text) <= 10:
        raise ValueError("no time of day")
    return datetime.fromisoformat(text)


def content_hash(values: dict[str, str]) -> str:
    """Hash of the extract columns' text, after trimming (column order fixed by INCIDENT_COLUMNS),
    and of the team when there is one: a row without a team hashes as it did before the team column
    existed (so reloading an older file changes nothing), and giving an incident a team, changing
    it or taking it away is a change (the row is updated, and its day's figures worked out again)."""
    joined = "\x1f".join(values.get(c, "") for c in INCIDENT_COLUMNS)
    team = values.get(TEAM) or ""
    if team:
        joined += f"\x1f{TEAM}\x1f{team}"
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


#: the largest incidents extract read (a year of a large force is ~100 MB)
MAX_EXTRACT_BYTES = 1024 * 2**20


def read_incidents(path: str | Path, place_codes: Collection[str]) -> list[IncidentRow]:
    """Read and validate an incidents extract (docs/extracts.md).

    Every problem in the file is collected, then one ExtractError lists them all with file, line
    and column; no row is returned unless the whole file is valid. The ``team`` column is optional.
    Example: ``read_incidents("incidents.csv", {"BLK", "RVS"})``.
    """
    p = Path(path)
    name = str(path)
    unsafe = input_file_problem(p, MAX_EXTRACT_BYTES, "extract")
    if unsafe is not None:
        problem = Problem(Location(name), unsafe)
        raise ExtractError("The incidents extract cannot be read", [problem])
    try:
        text = decode_utf8(p.read_bytes(), name, delimiter=",")
    except OSError as exc:
        problem = Problem(Location(name), f"cannot read the file: {exc.strerror or exc}")
        raise ExtractError("The incidents extract cannot be read", [problem]) from exc
    if isinstance(text, Problem):  # UTF-8 only: Excel's "CSV UTF-8" (docs/extracts.md)
        raise ExtractError(problems_summary([text], "file") + "; nothing was loaded", [text])

    problems: list[Problem] = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in INCIDENT_COLUMNS if c not in header]
    if not header:
        problems.append(Problem(Location(name, 1), "the file is empty: expected a header row"))
    elif missing:
        problems.append(
            Problem(
                Location(name, 1),
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"(expected: {', '.join(INCIDENT_COLUMNS)}; optionally {TEAM})",
            )
        )
    if problems:
        raise ExtractError(problems_summary(problems, "file") + "; nothing was loaded", problems)

    rows: list[IncidentRow] = []
    first_line: dict[str, int] = {}
    places = set(place_codes)
    for record in reader:
        line = reader.line_num
        if None in record:
            fields = len(header) + len(record[None])
            problems.append(
                Problem(Location(name, line), f"{fields} fields, but the header has {len(header)}")
            )
            continue
        values = {c: (record.get(c) or "").strip() for c in (*INCIDENT_COLUMNS, TEAM)}
        overlong = [c for c, v in values.items() if len(v) > MAX_CELL_CHARACTERS]
        if overlong:  # one short problem each, rather than the cell repeated in another message
            problems.extend(Problem(Location(name, line, c), too_long(len(values[c]))) for c in overlong)
            continue
        row, row_problems = _validate_row(values, Location(name, line), places, first_line)
        problems.extend(row_problems)
        if row is not None:
            rows.append(row)
    if problems:
        raise ExtractError(problems_summary(problems, "file") + "; nothing was loaded", problems)
    return rows


def _validate_row(
    values: dict[str, str], where: Location, places: set[str], first_line: dict[str, int]
) -> tuple[IncidentRow | None, list[Problem]]:
    """One row's problems (all of them), or the row. ``first_line`` tracks refs already seen."""
    problems: list[Problem] = []

    def bad(column: str, message: str) -> None:
        problems.append(Problem(Location(where.file, where.line, column), message))

    line = where.line or 0
    ref = values["incident_ref"]
    for column in ("incident_ref", TEAM):  # PostgreSQL cannot store NUL: refused here, as submissions do
        why = control_problem(values[column])
        if why is not None:
            bad(column, why)
    if not ref:
        bad("incident_ref", "is blank")
    elif len(ref) > INCIDENT_REF_MAX_CHARS:
        bad("incident_ref", f"is {len(ref)} characters long; at most {INCIDENT_REF_MAX_CHARS}")
    elif ref in first_line:
        bad("incident_ref", f"{ref!r} appears again (first on line {first_line[ref]})")
    else:
        first_line[ref] = line
    if values["place"] not in places:
        bad("place", f"unknown place code {values['place']!r} (known: {', '.join(sorted(places))})")
    if values["grade"] not in GRADES:
        bad("grade", f"{values['grade']!r} is not a grade (use 1, 2 or 3)")
    if values["channel"] not in CHANNELS:
        bad("channel", f"{values['channel']!r} is not a channel (use 999, 101 or online)")
    if len(values[TEAM]) > TEAM_MAX_CHARS:
        bad(TEAM, f"is {len(values[TEAM])} characters long; at most {TEAM_MAX_CHARS}")

    stamps: dict[str, datetime | None] = {}
    for column in ("received_at", "answered_at", "arrived_at"):
        raw = values[column]
        stamps[column] = None
        if not raw:
            if column == "received_at":
                bad(column, "is blank")
            continue
        try:
            stamps[column] = _timestamp(raw)
        except ValueError:
            bad(column, f"{raw!r} is not an ISO timestamp with a time (e.g. 2026-11-16T08:15:00)")
    received = stamps["received_at"]
    if len({s.tzinfo is None for s in stamps.values() if s is not None}) > 1:
        bad("received_at", "the row mixes timestamps with and without a time zone")
    elif received is not None:
        for column in ("answered_at", "arrived_at"):
            stamp = stamps[column]
            if stamp is not None and stamp < received:
                bad(column, f"{values[column]} is before received_at {values['received_at']}")

    if problems or received is None:
        return None, problems
    row = IncidentRow(
        incident_ref=ref,
        place=values["place"],
        grade=int(values["grade"]),
        channel=values["channel"],
        received_at=received,
        answered_at=stamps["answered_at"],
        arrived_at=stamps["arrived_at"],
        content_hash=content_hash(values),
        line=line,
        team=values[TEAM] or None,
    )
    return row, problems

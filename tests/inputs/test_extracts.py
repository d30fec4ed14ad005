"""engine.inputs.extracts: reading and validating the incidents CSV (every problem at once, with line and
column), encodings, content hashes, and the response settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.core.errors import ExtractError
from engine.core.metrics import METRICS
from engine.inputs.extracts import EXTRACT_METRICS, IncidentRow, ResponseSettings, read_incidents

HEADER = "incident_ref,place,grade,channel,received_at,answered_at,arrived_at\n"
PLACES = {"BLK", "RVS"}


def _write(tmp_path: Path, body: str, *, header: str = HEADER, encoding: str = "utf-8") -> Path:
    path = tmp_path / "incidents.csv"
    path.write_bytes((header + body).encode(encoding))
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ExtractError) as info:
        read_incidents(path, PLACES)
    return [str(p) for p in info.value.problems]


def test_reads_valid_rows(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "INC-1,BLK,1,999,2026-11-16T08:00:00,2026-11-16T08:00:06,2026-11-16T08:12:00\n"
        "INC-2,RVS,3,online,2026-11-16T09:00:00,,\n"
        "INC-3,RVS,2,101,2026-11-16 10:00:00+00:00,2026-11-16 10:01:10+00:00,\n",
    )
    rows = read_incidents(path, PLACES)
    assert [r.incident_ref for r in rows] == ["INC-1", "INC-2", "INC-3"]
    first = rows[0]
    assert isinstance(first, IncidentRow)
    assert (first.place, first.grade, first.channel) == ("BLK", 1, "999")
    assert first.answered_at - first.received_at == timedelta(seconds=6)
    assert rows[1].answered_at is None and rows[1].arrived_at is None
    assert rows[2].received_at.tzinfo == UTC
    assert [r.line for r in rows] == [2, 3, 4]


def test_content_hash_identifies_the_row_content(tmp_path: Path) -> None:
    a = read_incidents(_write(tmp_path, "INC-1,BLK,2,999,2026-11-16T08:00:00,,\n"), PLACES)[0]
    spaced = read_incidents(_write(tmp_path, " INC-1 ,BLK,2,999, 2026-11-16T08:00:00 ,,\n"), PLACES)[0]
    changed = read_incidents(_write(tmp_path, "INC-1,BLK,1,999,2026-11-16T08:00:00,,\n"), PLACES)[0]
    assert a.content_hash == spaced.content_hash
    assert a.content_hash != changed.content_hash
    assert len(a.content_hash) == 64


def test_every_problem_is_reported_at_once_with_line_and_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "INC-1,BLK,1,999,2026-11-16T08:00:00,2026-11-16T08:00:05,2026-11-16T08:10:00\n"
        "INC-1,XYZ,4,fax,2026-11-16T08:00:00,,\n"
        ",BLK,1,999,,,\n"
        "INC-4,BLK,1,999,16/11/2026 08:00,2026-11-16,\n"
        "INC-5,BLK,1,999,2026-11-16T08:00:00,2026-11-16T07:59:00,2026-11-16T07:00:00\n"
        "INC-6,BLK,1,999,2026-11-16T08:00:00+00:00,2026-11-16T08:00:05,\n",
    )
    assert _problems(path) == [
        f"{path}:3:incident_ref: 'INC-1' appears again (first on line 2)",
        f"{path}:3:place: unknown place code 'XYZ' (known: BLK, RVS)",
        f"{path}:3:grade: '4' is not a grade (use 1, 2 or 3)",
        f"{path}:3:channel: 'fax' is not a channel (use 999, 101 or online)",
        f"{path}:4:incident_ref: is blank",
        f"{path}:4:received_at: is blank",
        f"{path}:5:received_at: '16/11/2026 08:00' is not an ISO timestamp with a time (e.g. 2026-11-16T08:15:00)",
        f"{path}:5:answered_at: '2026-11-16' is not an ISO timestamp with a time (e.g. 2026-11-16T08:15:00)",
        f"{path}:6:answered_at: 2026-11-16T07:59:00 is before received_at 2026-11-16T08:00:00",
        f"{path}:6:arrived_at: 2026-11-16T07:00:00 is before received_at 2026-11-16T08:00:00",
        f"{path}:7:received_at: the row mixes timestamps with and without a time zone",
    ]


def test_error_summary_says_nothing_was_loaded(tmp_path: Path) -> None:
    path = _write(tmp_path, "INC-1,XYZ,1,999,2026-11-16T08:00:00,,\n")
    with pytest.raises(ExtractError, match="1 problem in 1 file; nothing was loaded"):
        read_incidents(path, PLACES)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "INC-1,BLK,1\n", header="incident_ref,place,grade\n")
    assert _problems(path) == [
        f"{path}:1: missing columns channel, received_at, answered_at, arrived_at "
        "(expected: incident_ref, place, grade, channel, received_at, answered_at, arrived_at; optionally team)"
    ]


def test_empty_file_and_extra_fields(tmp_path: Path) -> None:
    assert _problems(_write(tmp_path, "", header="")) == [
        f"{tmp_path / 'incidents.csv'}:1: the file is empty: expected a header row"
    ]
    path = _write(tmp_path, "INC-1,BLK,1,999,2026-11-16T08:00:00,,,surplus\n")
    assert _problems(path) == [f"{path}:2: 8 fields, but the header has 7"]


def test_header_may_have_extra_columns_and_padding(tmp_path: Path) -> None:
    header = " incident_ref , place,grade,channel,received_at,answered_at,arrived_at,source_system\n"
    path = _write(tmp_path, "INC-1,BLK,2,101,2026-11-16T08:00:00,,,CAD\n", header=header)
    assert read_incidents(path, PLACES)[0].incident_ref == "INC-1"


def test_utf8_with_or_without_bom_is_read(tmp_path: Path) -> None:
    bom = _write(tmp_path, "INC-é,BLK,2,101,2026-11-16T08:00:00,,\n", encoding="utf-8-sig")
    assert read_incidents(bom, PLACES)[0].incident_ref == "INC-é"
    plain = _write(tmp_path, "INC-£1,BLK,2,101,2026-11-16T08:00:00,,\n")
    assert read_incidents(plain, PLACES)[0].incident_ref == "INC-£1"


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_a_byte_that_is_not_utf8_is_refused_at_its_line_and_column(tmp_path: Path, encoding: str) -> None:
    # a stray Latin-1 byte used to make the whole file read as Windows-1252: 'é' became 'Ã©' silently
    path = _write(
        tmp_path,
        "INC-é,BLK,2,101,2026-11-16T08:00:00,,\n".encode(encoding).decode("latin-1")
        + "INC-2,BLK,2,101,2026-11-16T08:00:00,,\nINC-3,\xa3BLK,2,101,2026-11-16T08:00:00,,\n",
        encoding="latin-1",
    )
    first = "2: column 1 (incident_ref)" if encoding == "cp1252" else "4: column 2 (place)"
    byte = "0xe9" if encoding == "cp1252" else "0xa3"
    assert _problems(path) == [
        f"{path}:{first}: not UTF-8 (byte {byte}): save the file as UTF-8 (CSV UTF-8 in Excel)"
    ]


def test_unreadable_file_is_an_extract_error(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="cannot be read"):
        read_incidents(tmp_path / "missing.csv", PLACES)


def test_metric_names_are_the_rulesets() -> None:
    assert EXTRACT_METRICS == METRICS
    assert "call999_answered_within_10s" in EXTRACT_METRICS


def test_response_settings_follow_the_place_setting() -> None:
    s = ResponseSettings()
    assert (s.g1_minutes("urban"), s.g1_minutes("rural"), s.g2_minutes, s.call999_seconds) == (15, 20, 60, 10)
    assert ResponseSettings(g1_urban_minutes=12).g1_minutes("urban") == 12
    with pytest.raises(ValueError, match="urban or rural"):
        s.g1_minutes("suburban")


def test_timestamps_are_kept_as_written(tmp_path: Path) -> None:
    path = _write(tmp_path, "INC-1,BLK,1,999,2026-11-16T08:00:00.250,2026-11-16T08:00:09.750,\n")
    row = read_incidents(path, PLACES)[0]
    assert row.received_at == datetime(2026, 11, 16, 8, 0, 0, 250000)
    assert (row.answered_at - row.received_at).total_seconds() == pytest.approx(9.5)


def test_team_column_is_optional_and_a_blank_team_is_none(tmp_path: Path) -> None:
    body = (
        "INC-1,BLK,1,999,2026-11-16T08:00:00,,,Response A\n"
        "INC-2,BLK,2,101,2026-11-16T09:00:00,,, \n"
        "INC-3,RVS,3,online,2026-11-16T10:00:00,,,  Response B  \n"
    )
    rows = read_incidents(_write(tmp_path, body, header=HEADER.strip() + ",team\n"), PLACES)
    assert [r.team for r in rows] == ["Response A", None, "Response B"]
    without = read_incidents(_write(tmp_path, "INC-1,BLK,1,999,2026-11-16T08:00:00,,\n"), PLACES)
    assert without[0].team is None


def test_team_changes_the_content_hash_only_when_there_is_one(tmp_path: Path) -> None:
    """An incident stored from a file without teams reloads as unchanged from a file whose team cell is
    blank; giving it a team (or another one) is a change."""
    teamed = HEADER.strip() + ",team\n"
    plain = read_incidents(_write(tmp_path, "INC-1,BLK,2,999,2026-11-16T08:00:00,,\n"), PLACES)[0]
    blank = read_incidents(
        _write(tmp_path, "INC-1,BLK,2,999,2026-11-16T08:00:00,,,\n", header=teamed), PLACES
    )[0]
    a = read_incidents(
        _write(tmp_path, "INC-1,BLK,2,999,2026-11-16T08:00:00,,,Response A\n", header=teamed), PLACES
    )[0]
    b = read_incidents(
        _write(tmp_path, "INC-1,BLK,2,999,2026-11-16T08:00:00,,,Response B\n", header=teamed), PLACES
    )[0]
    assert plain.content_hash == blank.content_hash
    assert len({plain.content_hash, a.content_hash, b.content_hash}) == 3


def test_a_team_name_over_200_characters_is_refused_at_its_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path, f"INC-1,BLK,1,999,2026-11-16T08:00:00,,,{'x' * 201}\n", header=HEADER.strip() + ",team\n"
    )
    assert _problems(path) == [f"{path}:2:team: is 201 characters long; at most 200"]


def test_grade_3_standard_is_a_setting() -> None:
    assert ResponseSettings().g3_hours == 24
    assert ResponseSettings(g3_hours=48).g3_hours == 48

"""Incidents extracts hold text as submissions do: no control characters (issue #20: a NUL in an
incident_ref or team was stored by SQLite and stopped PostgreSQL's insert with a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import ExtractError
from engine.inputs.extracts import read_incidents

HEADER = "incident_ref,place,grade,channel,received_at,answered_at,arrived_at,team\n"


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b"])
def test_a_control_character_in_a_ref_or_team_is_refused_at_its_line_and_column(
    tmp_path: Path, char: str
) -> None:
    path = tmp_path / "incidents.csv"
    body = f"INC{char}1,BLK,1,999,2026-11-16T08:00:00,,,Resp A\nINC-2,BLK,1,999,2026-11-16T08:00:00,,,Resp{char}B\n"
    path.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(ExtractError) as info:
        read_incidents(path, {"BLK"})
    code = f"U+{ord(char):04X}"
    assert [str(p) for p in info.value.problems] == [
        f"{path}:2:incident_ref: contains the control character {code} at character 4: "
        "remove it (often left by copying from another system)",
        f"{path}:3:team: contains the control character {code} at character 5: "
        "remove it (often left by copying from another system)",
    ]
    assert "nothing was loaded" in str(info.value)

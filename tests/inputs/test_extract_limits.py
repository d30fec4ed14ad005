"""Bounded reading of the incidents extract (issue 20): a cell longer than its column can hold is one
problem at its line and column (exit 3, nothing loaded), never a database error or a message that
repeats a huge cell whole."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.core.config import Settings
from engine.inputs.limits import MAX_CELL_CHARACTERS

HEADER = "incident_ref,place,grade,channel,received_at,answered_at,arrived_at"


def _extract(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "incidents.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _load(settings: Settings, path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["--database", settings.database_url, "extracts", "load", "incidents", str(path)]
    )
    return result.exit_code, result.output


def test_an_incident_ref_longer_than_the_database_holds_is_refused_at_its_cell(
    settings: Settings, tmp_path: Path
) -> None:
    # PostgreSQL refused the insert (value too long for type character varying(120)): a traceback
    api.init_database(settings)
    ref = "INC-" + "9" * 117
    path = _extract(
        tmp_path,
        "INC-1,BLK,1,999,2026-11-16T08:00:00,2026-11-16T08:00:05,2026-11-16T08:10:00",
        f"{ref},BLK,1,999,2026-11-16T08:00:00,2026-11-16T08:00:05,2026-11-16T08:10:00",
    )
    code, output = _load(settings, path)
    assert code == 3, output
    assert f"{path}:3:incident_ref: is 121 characters long; at most 120" in output
    assert "Traceback" not in output


def test_a_cell_longer_than_any_cell_is_one_short_problem(settings: Settings, tmp_path: Path) -> None:
    api.init_database(settings)
    huge = "B" * (MAX_CELL_CHARACTERS + 1)
    path = _extract(tmp_path, f"INC-1,{huge},1,999,2026-11-16T08:00:00,,")
    code, output = _load(settings, path)
    assert code == 3, output
    assert f"{path}:2:place: the cell is {MAX_CELL_CHARACTERS + 1:,} characters long" in output
    assert len(output) < 2000  # the cell is not printed

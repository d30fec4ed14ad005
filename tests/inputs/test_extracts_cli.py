"""`qam extracts load incidents` on SQLite and PostgreSQL: all rows or none, reloads are no-ops."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.core.config import Settings
from engine.inputs.cases import CASE_COLUMNS
from engine.inputs.extracts import CHANNELS, INCIDENT_COLUMNS
from engine.store.db import Incident, open_database

HEADER = "incident_ref,place,grade,channel,received_at,answered_at,arrived_at\n"


def test_load_reload_and_reject(settings: Settings, tmp_path: Path) -> None:
    api.init_database(settings)
    runner = CliRunner()
    base = ["--database", settings.database_url, "extracts", "load", "incidents"]
    good = tmp_path / "inc.csv"
    good.write_text(
        HEADER
        + "I-1,BLK,1,999,2026-11-16T10:00:00,2026-11-16T10:00:04,2026-11-16T10:09:00\n"
        + "I-2,CRN,3,101,2026-11-16T11:00:00,2026-11-16T11:01:10,\n",
        encoding="utf-8",
    )
    first = runner.invoke(app, [*base, str(good)])
    assert first.exit_code == 0, first.output
    assert first.output.startswith(f"Loaded 2 incidents from {good}: 2 new, 0 updated")
    again = runner.invoke(app, [*base, str(good)])
    assert (
        "0 new, 0 updated (the extract's newer values replace the stored ones), 2 unchanged" in again.output
    )

    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + "I-3,BLK,1,999,2026-11-17T10:00:00,2026-11-17T10:00:04,2026-11-17T10:09:00\n"
        + "I-4,NOPE,4,fax,yesterday,,\n",
        encoding="utf-8",
    )
    rejected = runner.invoke(app, [*base, str(bad)])
    assert rejected.exit_code == 3
    assert rejected.stderr.startswith("Error:")
    assert f"{bad}:3:place" in rejected.stderr and f"{bad}:3:grade" in rejected.stderr
    database = open_database(settings.database_url)
    with database.session() as session:
        refs = sorted(session.scalars(select(Incident.incident_ref)))
    database.close()
    assert refs == ["I-1", "I-2"]  # I-3, valid itself, was not stored from the rejected file


def test_unknown_extract_kind_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["extracts", "load", "arrests", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert "must be one of incidents, cases" in result.output


def test_load_help_lists_both_formats_one_column_a_line_and_points_to_the_docs(runner: CliRunner) -> None:
    result = runner.invoke(app, ["extracts", "load", "--help"])
    assert result.exit_code == 0
    lines = [line.strip() for line in result.output.splitlines()]
    # each column starts its own line (not rewrapped into a paragraph), with what it holds
    first_words = {line.split()[0] for line in lines if line}
    assert set(INCIDENT_COLUMNS) <= first_words
    assert set(CASE_COLUMNS) <= first_words
    assert "grade         1, 2 or 3" in lines
    assert f"channel       {CHANNELS[0]}, {CHANNELS[1]} or {CHANNELS[2]}" in lines
    assert any(line.startswith("arrived_at") and "blank when" in line for line in lines)
    assert "2026-11-16T08:15:00" in result.output
    assert "case_type     a case type: the id of a QA form (qam forms list)" in lines  # any form's id
    assert "docs/extracts.md" in result.output
    assert (Path(__file__).resolve().parents[2] / "docs" / "extracts.md").is_file()

"""`qam extracts load figures A.csv B.csv ...`: several figures extracts in one command, on SQLite
and PostgreSQL: stored all in one transaction, each as its own load as if loaded one after another,
or none of them (any bad row of any file, or a figure stored with other values, refuses them all:
exit 3, every file's problems as file:row:column)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.core.config import Settings
from engine.store.figure_tables import Figure, FigureLoad
from tests.inputs.figure_texts import GOOD, HEADER, write_file

#: GOOD's rows split in two files: the first eight (7 figures: a time value's two rows pool) and the other four
FIRST = "".join(GOOD.splitlines(keepends=True)[:9])
SECOND = HEADER + "".join(GOOD.splitlines(keepends=True)[9:])


def _stored(settings: Settings) -> tuple[int, int]:
    """(figures, figure loads) stored."""
    with api.database_for(settings) as database, database.session() as session:
        figures = session.scalar(select(func.count()).select_from(Figure))
        loads = session.scalar(select(func.count()).select_from(FigureLoad))
        return int(figures or 0), int(loads or 0)


def _load(settings: Settings, *args: str) -> object:
    base = ["--database", settings.database_url, "extracts", "load", "figures"]
    return CliRunner().invoke(app, [*base, *args], env={"QAM_EXTRACTS": str(settings.extracts_dir)})


def test_several_files_load_in_one_command_each_its_own_load(
    figures_settings: Settings, tmp_path: Path
) -> None:
    first, second = write_file(tmp_path, "a.csv", FIRST), write_file(tmp_path, "b.csv", SECOND)
    result = _load(figures_settings, str(first), str(second))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Loaded 7 figure rows from {first}: 7 stored, 0 replaced, 0 unchanged; load 1."
    assert f"Loaded 4 figure rows from {second}: 4 stored, 0 replaced, 0 unchanged; load 2." in lines
    assert (
        lines[-1] == "2 files loaded in one transaction: 11 figure rows, 11 stored, 0 replaced, 0 unchanged."
    )
    assert _stored(figures_settings) == (11, 2)

    again = _load(figures_settings, str(first), str(second))  # identical: nothing new
    assert again.exit_code == 0 and again.output.splitlines()[-1].endswith(
        "0 stored, 0 replaced, 11 unchanged."
    )
    assert _stored(figures_settings) == (11, 2)


def test_one_bad_file_refuses_them_all(figures_settings: Settings, tmp_path: Path) -> None:
    good = write_file(tmp_path, "good.csv", FIRST)
    bad = write_file(tmp_path, "bad.csv", SECOND + "M1,attendance_rate,DLW,,2026-11,2001,2000,,,,,\n")
    worse = write_file(tmp_path, "worse.csv", HEADER + "M1,attendance_rate,XXX,,2026-11,1,2,,,,,\n")
    result = _load(figures_settings, str(good), str(bad), str(worse))
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: 2 problems in 2 files; none of the 3 files was loaded\n")
    assert f"{bad}:6:numerator: 2001 is more than the denominator 2000" in result.stderr
    assert f"{worse}:2:place: unknown place 'XXX'" in result.stderr
    assert _stored(figures_settings) == (0, 0)


def test_a_file_contradicting_an_earlier_one_refuses_both_unless_replace(
    figures_settings: Settings, tmp_path: Path
) -> None:
    first = write_file(tmp_path, "a.csv", SECOND)
    changed = write_file(tmp_path, "b.csv", SECOND.replace("27,", "28,"))
    refused = _load(figures_settings, str(first), str(changed))
    assert refused.exit_code == 3
    assert (
        f"{changed}:5:numerator: metric burglaries, place DLW, period 2026-10 is already stored"
        in refused.stderr
    )
    assert "Give --replace" in refused.stderr
    assert _stored(figures_settings) == (0, 0)

    kept = _load(figures_settings, "--replace", str(first), str(changed))
    assert kept.exit_code == 0, kept.output
    assert kept.output.splitlines()[-1] == (
        "2 files loaded in one transaction: 8 figure rows, 4 stored, 1 replaced, 3 unchanged."
    )
    assert _stored(figures_settings) == (5, 2)  # the replaced figure kept for audit


def test_several_files_are_for_figures_only_and_the_help_says_all_or_none() -> None:
    runner = CliRunner()
    misuse = runner.invoke(app, ["extracts", "load", "incidents", "a.csv", "b.csv"])
    assert misuse.exit_code == 2 and "several files are for figures extracts only" in misuse.output
    shown = " ".join(runner.invoke(app, ["extracts", "load", "--help"], terminal_width=100).output.split())
    assert "one or more files, loaded in one transaction, all or none" in shown
    assert "one bad row in any file (each problem named as file:row:column) refuses them all, exit 3" in shown

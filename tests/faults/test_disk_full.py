"""A full disk (ENOSPC) while `qam weekly` writes its folder and while `qam submit` stores: one
`Error:` line naming what failed, exit 4, no traceback, nothing half-stored, the previous folder as
it was; once there is room again, the same command does what an uninterrupted run does.

The disk fills at points spread over what the command writes: a share of the bytes of the weekly
folder (disk.FullDisk), or a number of the database pages a submission adds (disk.full_sqlite).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.store.db import Database, open_database
from tests.faults.conftest import Lab, Reference
from tests.faults.disk import ENOSPC_TEXT, FullDisk, full_sqlite, page_count
from tests.faults.figures import record_case
from tests.faults.states import (
    db_state,
    differing_units,
    folder_files,
    leftovers,
    mixed_units,
    rows_lost,
)
from tests.faults.world import WEEK, World, build_world

pytestmark = pytest.mark.faults

#: where the disk fills: after this share of the bytes an uninterrupted weekly run writes
WEEKLY_SHARES = (0.0, 0.02, 0.2, 0.4, 0.6, 0.8, 0.95, 0.999)
#: where the database's disk fills: after this share of the pages `qam submit late.csv` adds
SUBMIT_SHARES = (0.0, 0.25, 0.5, 0.75, 0.95)
#: where the database's disk fills: after this share of the pages `qam weekly` adds (scores, day
#: summaries, the run's record)
WEEKLY_DB_SHARES = (0.0, 0.5, 0.95)
#: where PostgreSQL's disk fills: after this many of the 30 rows of late.csv are inserted
PG_ROWS = (0, 15, 29)


def _qam(world: World, *args: str) -> tuple[int, str, BaseException | None]:
    """`qam ARGS` in this process, in ``world``'s folder with its environment: exit code, stderr and
    the exception that ended it."""
    here = Path.cwd()
    os.chdir(world.root)
    try:
        result = CliRunner().invoke(app, list(args), env=world.env)
    finally:
        os.chdir(here)
    return result.exit_code, result.stderr, result.exception


def _one_error_line(code: int, stderr: str, exception: BaseException | None, *needles: str) -> list[str]:
    """The problems with how a command failed: exit 4 with one `Error:` line holding ``needles``."""
    problems = []
    if code != 4:
        problems.append(f"exit {code}, not 4")
    if exception is not None and not isinstance(exception, SystemExit):
        problems.append(f"a traceback: {exception.__class__.__name__}: {str(exception)[:300]}")
    lines = stderr.strip().splitlines()
    if len(lines) != 1 or not lines[0].startswith("Error: ") or not all(n in lines[0] for n in needles):
        problems.append(f"not one Error: line naming {needles}: {stderr[-500:]!r}")
    return problems


def _folder_bytes(ref: Reference) -> int:
    assert ref.folder is not None
    return sum(p.stat().st_size for p in (ref.done.out / ref.folder).rglob("*") if p.is_file())


@pytest.mark.parametrize("share", WEEKLY_SHARES)
def test_a_full_disk_while_weekly_writes_its_folder(
    lab: Lab, share: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = lab.reference("weekly")
    total = _folder_bytes(ref)
    budget = int(total * share)
    world = ref.start.copy_to(tmp_path / "w")
    target = world.out / WEEK
    disk = FullDisk(world.out, budget)
    with monkeypatch.context() as patched:
        disk.install(patched)
        code, stderr, exception = _qam(world, *ref.args)
    error = stderr.strip()
    problems = _one_error_line(code, stderr, exception, "cannot write", ENOSPC_TEXT)
    if not disk.refused:
        problems.append(f"the disk never filled ({disk.used} of {budget} bytes written)")
    if folder_files(target) != ref.files_before:
        problems.append(f"the previous {WEEK} folder changed")
    if leftovers(target):
        problems.append(f"left beside the folder: {[p.name for p in leftovers(target)]}")
    state = db_state(world.db)
    lost = rows_lost(state, ref.before)
    if mixed_units(state, ref.before, ref.after):
        problems.append(f"half-stored: {mixed_units(state, ref.before, ref.after)}")
    if state["runs"] != ref.before["runs"]:
        problems.append("the run was recorded though its folder was not written")
    code, stderr, _ = _qam(world, *ref.args)
    again = db_state(world.db)
    lost += rows_lost(again, ref.after)
    if code != 0 or folder_files(target) != ref.files_after or differing_units(again, ref.after):
        problems.append(f"with room again, the run differs from an uninterrupted one (exit {code}) {stderr}")
    case = f"ENOSPC after {budget} of {total} bytes of the folder"
    record_case("disk full", "qam weekly: writing its folder", case, problems, lost, error)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("share", SUBMIT_SHARES)
def test_a_full_disk_while_submit_stores_its_rows(
    lab: Lab, share: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = lab.reference("submit")
    growth = page_count(ref.done.db) - page_count(ref.start.db)
    world = ref.start.copy_to(tmp_path / "w")
    pages = int(growth * share)
    with monkeypatch.context() as patched:
        full_sqlite(patched, pages)
        code, stderr, exception = _qam(world, *ref.args)
    problems = _one_error_line(code, stderr, exception, "database or disk is full")
    state = db_state(world.db)
    lost = rows_lost(state, ref.before)
    if differing_units(state, ref.before):
        problems.append(f"partly stored: {differing_units(state, ref.before)}")
    code, _, _ = _qam(world, *ref.args)
    again = db_state(world.db)
    lost += rows_lost(again, ref.after)
    if code != 0 or differing_units(again, ref.after):
        problems.append(f"with room again, the submission differs from an uninterrupted one (exit {code})")
    case = f"SQLITE_FULL after {pages} of the {growth} pages the submission adds"
    record_case("disk full", "qam submit: storing (SQLite)", case, problems, lost)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("share", WEEKLY_DB_SHARES)
def test_a_full_disk_while_weekly_stores_scores_and_its_record(
    lab: Lab, share: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = lab.reference("weekly")
    growth = page_count(ref.done.db) - page_count(ref.start.db)
    world = ref.start.copy_to(tmp_path / "w")
    target = world.out / WEEK
    pages = int(growth * share)
    with monkeypatch.context() as patched:
        full_sqlite(patched, pages)
        code, stderr, exception = _qam(world, *ref.args)
    problems = _one_error_line(code, stderr, exception, "database or disk is full")
    if folder_files(target) not in (ref.files_before, ref.files_after) or leftovers(target):
        problems.append(f"the {WEEK} folder is half-written")
    state = db_state(world.db)
    lost = rows_lost(state, ref.before)
    if mixed_units(state, ref.before, ref.after):
        problems.append(f"half-stored: {mixed_units(state, ref.before, ref.after)}")
    code, _, _ = _qam(world, *ref.args)
    again = db_state(world.db)
    lost += rows_lost(again, ref.after)
    if code != 0 or folder_files(target) != ref.files_after or differing_units(again, ref.after):
        problems.append(f"with room again, the run differs from an uninterrupted one (exit {code})")
    case = f"SQLITE_FULL after {pages} of the {growth} pages the run adds"
    record_case("disk full", "qam weekly: storing scores and its record (SQLite)", case, problems, lost)
    assert not problems, "\n".join(problems)


_PG_DISK_FULL = """
CREATE FUNCTION qam_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM assessments) >= {limit} THEN
        RAISE EXCEPTION 'could not extend file "base/16384/16402": No space left on device'
            USING ERRCODE = 'disk_full', HINT = 'Check free disk space.';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER qam_disk_full BEFORE INSERT ON assessments FOR EACH ROW EXECUTE FUNCTION qam_disk_full();
"""


def _assessments(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM assessments").scalar_one())


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_full_disk_while_submit_stores_its_rows_on_postgresql(database_url: str, tmp_path: Path) -> None:
    """PostgreSQL out of space fails an INSERT with SQLSTATE 53100 (disk_full); a trigger does that
    here after a number of late.csv's rows, each case in a transaction of its own."""
    world = build_world(tmp_path / "pg", database_url, previous_runs=False)
    database = open_database(world.url)
    problems: list[str] = []
    lost = 0
    try:
        stored = _assessments(database)
        for rows in PG_ROWS:
            with database.engine.begin() as conn:
                conn.exec_driver_sql(_PG_DISK_FULL.format(limit=stored + rows))
            code, stderr, exception = _qam(world, "submit", "late.csv")
            found = _one_error_line(code, stderr, exception, ENOSPC_TEXT)
            if _assessments(database) != stored:
                found.append(f"{_assessments(database) - stored} rows stored of a failed submission")
            lost += max(0, stored - _assessments(database))
            with database.engine.begin() as conn:
                conn.exec_driver_sql(
                    "DROP TRIGGER qam_disk_full ON assessments; DROP FUNCTION qam_disk_full()"
                )
            case = f"disk_full (SQLSTATE 53100) at row {rows + 1} of 30"
            record_case("disk full", "qam submit: storing (PostgreSQL)", case, found, 0)
            problems += found
        code, _, _ = _qam(world, "submit", "late.csv")
        if code != 0 or _assessments(database) != stored + 30:
            problems.append(f"with room again, late.csv was not stored (exit {code})")
    finally:
        database.close()
    assert not problems, "\n".join(problems)

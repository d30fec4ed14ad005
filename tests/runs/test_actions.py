"""`qam actions add|list|close` (engine/runs/actions.py, engine/store/actions.py): Learning Review
actions recorded, listed with what is overdue as of a day, closed once and never edited; refusals
name the option (exit 3, nothing stored); `qam init` adds the table to a database made before it."""

from __future__ import annotations

import csv
import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.core.errors import EngineError
from engine.store import actions as store
from engine.store import db as dbm
from engine.store.actions import Action
from engine.store.db import open_database
from engine.store.schema import alembic_config, head_revision, open_initialised

BLK_D7 = [
    "--item", "D7", "--place", "BLK", "--owner", "Insp R. Example", "--due", "2026-09-30",
    "--text", "Refresh DASH training for Response B team", "--review", "2026-Q2", "--raised-on", "2026-06-15",
]  # fmt: skip
FORCE_M2 = [
    "--item", "M2", "--place", "FORCE", "--owner", "Supt A. Other", "--due", "2026-10-31",
    "--text", "=Review Grade 1 attendance with the control room", "--raised-on", "2026-06-15",
]  # fmt: skip


def _qam(runner: CliRunner, url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--database", url, *args])
    return result.exit_code, result.output


@pytest.fixture
def ready(runner: CliRunner, database_url: str) -> str:
    """An initialised database's URL."""
    code, out = _qam(runner, database_url, "init")
    assert code == 0, out
    return database_url


def _stored(url: str) -> list[Action]:
    db = open_initialised(url)
    try:
        return store.list_actions(db, status="all")
    finally:
        db.close()


def test_add_list_close_round_trip(runner: CliRunner, ready: str) -> None:
    assert _qam(runner, ready, "actions", "add", *BLK_D7) == (
        0,
        "Action 1 recorded: D7 BLK, owner Insp R. Example, due 2026-09-30\n",
    )
    assert _qam(runner, ready, "actions", "add", *FORCE_M2)[0] == 0

    code, out = _qam(runner, ready, "actions", "list", "--as-of", "2026-10-02")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[1].split()[:6] == ["1", "D7", "BLK", "Insp", "R.", "Example"]
    assert "OVERDUE (2 days)" in lines[1] and "2026-Q2" in lines[1]
    assert "open" in lines[2].split() and "OVERDUE" not in lines[2]
    assert lines[-1] == "2 open actions, 1 overdue as of 2026-10-02."

    code, out = _qam(
        runner, ready, "actions", "close", "1", "--note", "Delivered to all shifts", "--on", "2026-10-03"
    )
    assert (code, out) == (0, "Action 1 closed on 2026-10-03 (it was due 2026-09-30).\n")
    code, out = _qam(runner, ready, "actions", "list", "--as-of", "2026-10-04", "--place", "BLK")
    assert out == "0 open actions for BLK, 0 overdue as of 2026-10-04.\n"
    code, out = _qam(runner, ready, "actions", "list", "--status", "closed")
    assert "closed 2026-10-03" in out and out.endswith("1 closed action.\n")

    first, second = _stored(ready)
    # closing set the day and the note, and nothing else of what was agreed
    assert first == Action(
        1, "D7", "BLK", "Insp R. Example", dt.date(2026, 9, 30), "Refresh DASH training for Response B team",
        dt.date(2026, 6, 15), "2026-Q2", dt.date(2026, 10, 3), "Delivered to all shifts",
    )  # fmt: skip
    assert (second.place, second.review, second.closed_on, second.closing_note) == ("FORCE", None, None, "")


def test_overdue_is_open_and_due_before_the_day() -> None:
    action = Action(1, "D7", "BLK", "X", dt.date(2027, 1, 31), "t", dt.date(2026, 12, 1), None, None, "")
    assert not action.overdue(dt.date(2027, 1, 31))  # due today: not yet
    assert action.overdue(dt.date(2027, 2, 1))
    closed = Action(
        1, "D7", "BLK", "X", dt.date(2027, 1, 31), "t", dt.date(2026, 12, 1), None, dt.date(2027, 3, 1), ""
    )
    assert not closed.overdue(dt.date(2027, 4, 1))


def test_the_csv_is_the_stored_actions_as_of_the_day(runner: CliRunner, ready: str, tmp_path: Path) -> None:
    for args in (BLK_D7, FORCE_M2):
        assert _qam(runner, ready, "actions", "add", *args)[0] == 0
    path = tmp_path / "actions.csv"
    code, out = _qam(
        runner, ready, "actions", "list", "--status", "all", "--as-of", "2026-11-05", "--csv", str(path)
    )
    assert code == 0, out
    assert out.endswith(f"2 rows written to {path}\n")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    as_of = dt.date(2026, 11, 5)
    for row, action in zip(rows, _stored(ready), strict=True):
        assert (int(row["id"]), row["item"], row["place"], row["due"]) == (
            action.id, action.item, action.place, action.due.isoformat()
        )  # fmt: skip
        assert row["status"] == ("overdue" if action.overdue(as_of) else "open")
        assert row["days_overdue"] == str((as_of - action.due).days)
    assert [r["item_name"] for r in rows] == ["Safeguarding", "Response Performance"]
    assert [r["place_name"] for r in rows] == ["Blackwater", "Demo Constabulary"]
    assert rows[1]["text"] == "'=Review Grade 1 attendance with the control room"  # inert in Excel


def _replace(args: list[str], option: str, value: str) -> list[str]:
    out = list(args)
    out[out.index(option) + 1] = value
    return out


REFUSED = [
    (_replace(BLK_D7, "--item", "D77"), "Error: --item: 'D77' is not an item of the catalogue catalogue.yaml (did you mean 'D7'?)"),
    (_replace(BLK_D7, "--place", "BKL"), "Error: --place: 'BKL' is not a place of the force file demo_force.yaml (did you mean 'BLK'?)"),
    (_replace(BLK_D7, "--owner", "  "), "Error: --owner: is required and was left blank"),
    (_replace(BLK_D7, "--owner", "x" * 121), "Error: --owner: is 121 characters long; at most 120 are kept"),
    (_replace(BLK_D7, "--text", "a\x00b"), "Error: --text: holds the control character U+0000, which it may not"),
    (_replace(BLK_D7, "--text", "x" * 2001), "Error: --text: is 2,001 characters long; at most 2,000 are kept"),
    (_replace(BLK_D7, "--due", "2026-02-30"), "Error: invalid date for --due: '2026-02-30' (use YYYY-MM-DD)"),
    (_replace(BLK_D7, "--due", "2026-06-14"), "Error: --due: the action is due on 2026-06-14, before the day it was raised (2026-06-15)"),
    (_replace(BLK_D7, "--review", "2026-Q5"), "Error: --review: '2026-Q5' is not a quarter: write the review's quarter as 2026-Q3"),
]  # fmt: skip


def test_refusals_name_the_option_and_store_nothing(runner: CliRunner, ready: str) -> None:
    for args, message in REFUSED:
        code, out = _qam(runner, ready, "actions", "add", *args)
        assert (code, out.splitlines()[0]) == (3, message)
    assert _stored(ready) == []


def test_closing_an_unknown_or_closed_action_is_refused(runner: CliRunner, ready: str) -> None:
    assert _qam(runner, ready, "actions", "add", *BLK_D7)[0] == 0
    code, out = _qam(runner, ready, "actions", "close", "7")
    assert (code, out.splitlines()[0]) == (3, "Error: action 7: there is no such action")
    code, out = _qam(runner, ready, "actions", "close", "1", "--on", "2026-06-14")
    assert (code, out.splitlines()[0]) == (
        3,
        "Error: --on: action 1 was raised on 2026-06-15, after 2026-06-14",
    )
    code, out = _qam(runner, ready, "actions", "close", "1", "--on", "2999-01-01")
    assert code == 3 and out.startswith("Error: --on: 2999-01-01 is still to come")
    assert _qam(runner, ready, "actions", "close", "1", "--note", "first", "--on", "2026-07-01")[0] == 0
    code, out = _qam(runner, ready, "actions", "close", "1", "--note", "second")
    assert (code, out.splitlines()[0]) == (
        3,
        "Error: action 1: it was closed on 2026-07-01 and cannot be closed again",
    )
    [action] = _stored(ready)
    assert (action.closed_on, action.closing_note) == (dt.date(2026, 7, 1), "first")


def test_init_adds_the_actions_table_to_an_existing_database(runner: CliRunner, database_url: str) -> None:
    from alembic import command

    db = open_database(database_url, create=True)
    try:
        command.upgrade(alembic_config(db), "0008")  # a database made before actions existed
    finally:
        db.close()
    code, out = _qam(runner, database_url, "actions", "list")
    assert code == 4 and f"is at schema revision 0008, this QAM needs {head_revision()}" in out
    code, out = _qam(runner, database_url, "init")
    assert (
        code == 0
        and out.startswith("Upgraded database")
        and out.endswith(f"from 0008 to {head_revision()}.\n")
    )
    assert _qam(runner, database_url, "actions", "add", *BLK_D7)[0] == 0
    assert [a.item for a in _stored(database_url)] == ["D7"]


def test_today_is_the_local_day_not_utcs(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 23:30 UTC on 31 July it is already 1 August in England: an action closed or judged
    overdue then is on the 1st."""
    import time

    from engine.runs.actions import local_day

    monkeypatch.setenv("TZ", "Europe/London")
    time.tzset()
    try:
        assert local_day(dt.datetime(2026, 7, 31, 23, 30, tzinfo=dt.UTC)) == dt.date(2026, 8, 1)
        assert local_day(dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC)) == dt.date(2026, 1, 31)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_two_closes_at_once_close_it_once(database: dbm.Database) -> None:
    """Two people closing one action at the same moment: one close is kept, the other is refused."""
    action = store.add_action(
        database, item="D7", place="BLK", owner="X", due=dt.date(2026, 9, 30), text="t",
        raised_on=dt.date(2026, 6, 15), review=None, created_at=dt.datetime(2026, 6, 15, tzinfo=dt.UTC),
    )  # fmt: skip
    barrier = threading.Barrier(2)

    def close(note: str) -> str:
        barrier.wait()
        try:
            store.close_action(database, action.id, closed_on=dt.date(2026, 7, 1), note=note)
        except EngineError as exc:
            assert exc.exit_code == 3 and "cannot be closed again" in str(exc)
            return "refused"
        return note

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(close, ["first", "second"]))
    assert outcomes in (["first", "refused"], ["refused", "second"])
    [stored] = store.list_actions(database, status="closed")
    assert stored.closing_note in outcomes

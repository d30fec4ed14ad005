"""A submission behind another writer (issue 20): on SQLite a second `qam submit` got "database is
locked" with a traceback after 120 s behind a long submission. It now waits for the writer before it
(up to LOCK_WAIT_SECONDS, as on PostgreSQL), then says in one line what to do, exit 4, nothing stored.
The other writer is a process of its own holding the database's (SQLite) or the table's (PostgreSQL)
write lock."""

from __future__ import annotations

import select
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.core.config import Settings
from engine.demo.factories import build_row
from engine.inputs.submission_files import write_submission_csv
from engine.store import assessments

HOLDER = textwrap.dedent(
    """
    import sys, time
    from sqlalchemy import create_engine, text
    from engine.store.db import normalise_url
    url, seconds = sys.argv[1], float(sys.argv[2])
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's one writer
        else:
            conn.execute(text("LOCK TABLE assessments IN ACCESS EXCLUSIVE MODE"))
        print("holding", flush=True)
        time.sleep(seconds)
        conn.rollback()
        print("released", flush=True)
    """
)


@contextmanager
def writer_holding(url: str, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the write lock for ``seconds`` (it has it once this is entered)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def _file(tmp_path: Path) -> Path:
    rows = [build_row("stop_search", assessment_id=f"QA-{i}", case_ref=f"SS/{i}") for i in range(3)]
    return write_submission_csv(tmp_path / "week.csv", rows)


def test_a_submission_waits_for_the_writer_before_it(settings: Settings, tmp_path: Path) -> None:
    api.init_database(settings)
    path = _file(tmp_path)
    with writer_holding(settings.database_url, 3) as holder:
        result = api.submit(settings, [path])
        # it stored only once the other writer had finished: that one has said so already
        assert holder.stdout is not None and select.select([holder.stdout], [], [], 0)[0]
        assert holder.stdout.readline().strip() == "released"
    assert result.summary.totals == (3, 0, 0)


def test_a_submission_that_waited_too_long_says_what_to_do_in_one_line_exit_4(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.init_database(settings)
    monkeypatch.setattr(assessments, "LOCK_WAIT_SECONDS", 2)
    path = _file(tmp_path)
    with writer_holding(settings.database_url, 60):
        result = CliRunner().invoke(app, ["--database", settings.database_url, "submit", str(path)])
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output and "database is locked" not in result.output
    assert result.output.strip().splitlines() == [
        "Error: another submission or run has been writing to the database for over 2 s; nothing was "
        "stored: submit again when it has finished"
    ]
    assert api.list_assessments(settings) == []
    assert api.submit(settings, [path]).summary.totals == (3, 0, 0)  # and then it can

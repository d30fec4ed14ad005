"""One small demo for the whole session (13 weeks, 900 assessments and 600 incidents a week), built
by `qam demo` as a user runs it; the demo tests read its folder and database instead of building
their own. The tests that use it are one xdist group, so that a parallel run builds it once."""

from __future__ import annotations

import functools
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from engine import api
from engine.cli import app

WEEKS, PER_WEEK, INCIDENTS_PER_WEEK = 13, 900, 600


@dataclass(frozen=True)
class SmallDemo:
    """What `qam demo --out <out>` left: its folder, what it printed, the weekly folder's exceptions
    (exceptions.json's "exceptions" and "team_exceptions")."""

    out: Path
    stdout: str
    exceptions: tuple[dict[str, Any], ...]
    team_exceptions: tuple[dict[str, Any], ...]

    @property
    def folder(self) -> Path:
        return self.out / "2026-W47"


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> SmallDemo:
    home = tmp_path_factory.mktemp("small-demo")
    out = home / "demo"
    small = functools.partial(api.demo, weeks=WEEKS, per_week=PER_WEEK, incidents_per_week=INCIDENTS_PER_WEEK)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api, "demo", small)
        patch.chdir(home)
        built = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert built.exit_code == 0, built.output
    data = json.loads((out / "2026-W47" / "exceptions.json").read_text(encoding="utf-8"))
    return SmallDemo(out, built.stdout, tuple(data["exceptions"]), tuple(data.get("team_exceptions", ())))


def stored_answers(
    database: Path, place: str, case_type: str, week_from: str
) -> list[tuple[str, dict[str, str]]]:
    """The current stored answers (team, answers) of one place's case type in the demo week."""
    with closing(sqlite3.connect(database)) as db:
        rows = db.execute(
            "SELECT team, answers FROM assessments WHERE is_current AND place = ? AND case_type = ?"
            " AND assessed_on >= ? AND assessed_on <= date(?, '+6 days')",
            (place, case_type, week_from, week_from),
        ).fetchall()
    return [(team, json.loads(answers)) for team, answers in rows]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests of the small demo are slow ones and run on one xdist worker (with --dist loadgroup)."""
    for item in items:
        if "small_demo" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.xdist_group("small_demo"))

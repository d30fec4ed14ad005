"""The world the run tests share: a migrated database (SQLite and PostgreSQL) with the repo's rulesets
published from a temporary copy and 27 stop searches of 2026-W47 submitted; its fixture is in
conftest.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from engine import api, registry
from engine.cli import app
from engine.core.config import DEFAULT_FORCE_FILE, DEFAULT_FORMS_DIR, Settings
from engine.demo.factories import build_row
from engine.inputs.submission_files import RawRow
from engine.inputs.submissions import validate_rows
from engine.runs.audit import audit_run
from engine.store import assessments
from engine.store import db as dbm

REPO = Path(__file__).resolve().parents[2]
WEEK = "2026-W47"
PUBLISHED_AT = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
SUBMITTED_AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
SS_FILE = Path("priority4") / "stop-search-legitimacy.yaml"


@dataclasses.dataclass
class World:
    """A migrated database with the repo's rulesets published from a temporary copy."""

    database: dbm.Database
    settings: Settings
    out: Path

    def submit(self, rows: Sequence[dict[str, str]], *, at: dt.datetime, amend: bool = False) -> None:
        raw = [RawRow("qa.csv", i + 2, row, header_row=1) for i, row in enumerate(rows)]
        valid, problems = validate_rows(raw, api.forms(self.settings), api.force(self.settings).place_codes)
        assert not problems, [str(p) for p in problems]
        with self.database.session() as session:
            assessments.store_assessments(session, valid, amend=amend, submitted_at=at)

    def weekly(self) -> str:
        return api.weekly(self.settings, WEEK, out=self.out).run_id

    def audit(self, run_id: str) -> Any:
        return audit_run(
            self.database,
            run_id,
            force=api.force(self.settings),
            forms=api.forms(self.settings),
            rulesets_dir=self.settings.rulesets_dir,
        )

    def sql(self, statement: str, **params: Any) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(text(statement), params)


def stop_search(n: int, **traits: Any) -> list[dict[str, str]]:
    """``n`` searches assessed in WEEK (Wednesday 2026-11-18), spread over the places."""
    return [build_row("stop_search", case_date="2026-11-16", assess_delay=2, **traits) for _ in range(n)]


def new_world(database: dbm.Database, database_url: str, tmp_path: Path) -> World:
    """The world on ``database``, its files under ``tmp_path``."""
    rulesets = tmp_path / "rulesets"
    shutil.copytree(REPO / "rulesets", rulesets)
    settings = Settings(
        database_url=database_url,
        force_file=DEFAULT_FORCE_FILE,
        rulesets_dir=rulesets,
        forms_dir=DEFAULT_FORMS_DIR,
    )
    registry.publish(
        database,
        rulesets,
        api.fields_by_case_type(settings),
        author="qa.lead",
        note="first",
        now=PUBLISHED_AT,
        documents=registry.DocumentPaths.of(settings),  # the catalogue and extract definitions too
    )
    w = World(database, settings, tmp_path / "out")
    # 24 good searches, and grounds missing in three more at BLK: a below-standard exception and BLK.pdf
    w.submit(stop_search(24) + stop_search(3, grounds_missing=True, place="BLK"), at=SUBMITTED_AT)
    return w


#: for tests of the command line and of messages: the database behaviour is covered on both backends above
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def qam(runner: CliRunner, world: World, *args: str) -> Any:
    env = {"QAM_RULESETS": str(world.settings.rulesets_dir)}
    return runner.invoke(app, ["--database", world.settings.database_url, *args], env=env)


def edit_ss03(rulesets: Path) -> None:
    """SS03 ('the object of the search was recorded') now also requires the object to be found."""
    path = rulesets / SS_FILE
    source = path.read_text(encoding="utf-8")
    edited = source.replace("version: 1.0.3", "version: 1.1.0", 1).replace(
        "    pass: object_recorded == 'yes'\n",
        "    pass: object_recorded == 'yes' and object_found == 'yes'\n",
        1,
    )
    assert edited.count("object_recorded == 'yes' and object_found == 'yes'") == 1
    path.write_text(edited, encoding="utf-8")

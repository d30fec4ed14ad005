"""The fault tests' world: a force of three places, its rulesets and a SQLite database, with stop
searches and victim care assessments of 2026-W44 to 2026-W47 submitted, and a weekly run of
2026-W47 and a PEEL rerun of W44-W47 already written to ``out/`` (the previous folders). Beside
them ``late.csv``: more W47 rows, with failures in them, not yet submitted."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from engine import api
from engine.core.config import DEFAULT_FORMS_DIR, DEFAULT_RULESETS_DIR, Settings
from engine.core.periods import parse_date
from engine.demo.factories import build_row
from engine.inputs.submission_files import write_submission_csv

WEEK = "2026-W47"
PEEL_FROM, PEEL_TO = "2026-10-26", "2026-11-22"
PEEL_FOLDER = f"peel-{PEEL_FROM}-{PEEL_TO}"
PLACES = ("BLK", "CRN", "HRB")
FORCE_YAML = """force: Fault Constabulary
places:
  - {code: BLK, name: Blackwater, division: West, leader: Chief Inspector A. One, setting: urban}
  - {code: CRN, name: Cranmoor, division: West, leader: Chief Inspector B. Two, setting: rural}
  - {code: HRB, name: Harbourside, division: East, leader: Chief Inspector C. Three, setting: urban}
"""
#: the Mondays of 2026-W44..W47
MONDAYS = ("2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16")


def week_rows(monday: str, n: int, tag: str, *, failing: bool = False) -> list[dict[str, str]]:
    """``n`` assessments of the week of ``monday`` over the three places, half stop searches, half
    victim care; with ``failing``, Harbourside's searches have no grounds recorded."""
    rows = []
    for i in range(n):
        place, case_type = PLACES[i % 3], ("stop_search", "victim_care")[i % 2]
        traits = (
            {"grounds_missing": True} if failing and case_type == "stop_search" and place == "HRB" else {}
        )
        rows.append(
            build_row(
                case_type,
                assessment_id=f"{tag}-{i:03d}",
                case_ref=f"{tag}/{i:03d}",
                place=place,
                case_date=monday,
                assess_delay=2,
                team=("Response A", "Response B")[i % 2],
                officer=f"PC {1000 + i % 7}",
                reviewer=f"QA Reviewer {1 + i % 3}",
                **traits,
            )
        )
    return rows


@dataclass(frozen=True)
class World:
    """A force file and rulesets under ``root`` and a database: the SQLite file ``root``/qam.db
    unless ``database_url`` names another; ``out`` is the output folder."""

    root: Path
    database_url: str | None = None

    @property
    def db(self) -> Path:
        return self.root / "qam.db"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.db}"

    @property
    def env(self) -> dict[str, str]:
        """The environment that points `qam` at this world."""
        return {
            "QAM_DATABASE_URL": self.url,
            "QAM_FORCE": str(self.root / "force.yaml"),
            "QAM_RULESETS": str(self.root / "rulesets"),
        }

    @property
    def settings(self) -> Settings:
        return Settings(
            database_url=self.url,
            force_file=self.root / "force.yaml",
            rulesets_dir=self.root / "rulesets",
            forms_dir=DEFAULT_FORMS_DIR,
        )

    def copy_to(self, root: Path) -> World:
        """The same SQLite world under ``root``: database file, force, rulesets, files and folders."""
        assert self.database_url is None, "a PostgreSQL world is not copied"
        shutil.copytree(self.root, root, symlinks=True)
        return World(root)


def build_world(root: Path, database_url: str | None = None, *, previous_runs: bool = True) -> World:
    """The world before ``late.csv`` is submitted, with (``previous_runs``) its weekly and PEEL
    folders written; in SQLite unless ``database_url`` names a database."""
    root.mkdir(parents=True)
    (root / "force.yaml").write_text(FORCE_YAML, encoding="utf-8")
    shutil.copytree(DEFAULT_RULESETS_DIR, root / "rulesets")
    world = World(root, database_url)
    settings = world.settings
    api.init_database(settings)
    api.publish_rulesets(settings, author="qa.lead", note="first")
    files = [
        write_submission_csv(root / f"early-{k}.csv", week_rows(monday, 24, f"W{k}"))
        for k, monday in enumerate(MONDAYS)
    ]
    api.submit(settings, files)
    if previous_runs:
        api.weekly(settings, WEEK, out=world.out)
        api.peel(settings, parse_date(PEEL_FROM, "--from"), parse_date(PEEL_TO, "--to"), out=world.out)
    write_submission_csv(root / "late.csv", week_rows(MONDAYS[-1], 30, "LATE", failing=True))
    return world

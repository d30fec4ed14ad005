"""The demo database: a fresh SQLite file with the bundled rulesets published and 26 weeks of
generated assessments and incidents submitted and loaded, as a force's own would be."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine import registry
from engine.core.config import DEFAULT_FORCE_FILE, Settings, load_force, load_settings
from engine.core.periods import parse_week
from engine.demo.data import (
    ASSESSMENTS_PER_WEEK,
    DEMO_WEEK,
    HISTORY_WEEKS,
    INCIDENTS_PER_WEEK,
    demo_plan,
)
from engine.demo.files import incident_files, write_assessment_files
from engine.inputs.extracts import read_incidents
from engine.inputs.forms import load_forms
from engine.inputs.submissions import load_submission_files
from engine.store import assessments, incidents
from engine.store.db import open_database, upgrade


@dataclass(frozen=True)
class DemoData:
    """The demo database as loaded, before its weekly run."""

    settings: Settings
    week: str
    data_folder: Path
    assessments: int
    incidents: int


def build_demo_database(
    out: Path,
    *,
    progress: Callable[[str], None],
    now: Callable[[], dt.datetime],
    weeks: int = HISTORY_WEEKS,
    per_week: int = ASSESSMENTS_PER_WEEK,
    incidents_per_week: int = INCIDENTS_PER_WEEK,
) -> DemoData:
    """A fresh ``out``/demo.db (any earlier one removed) with the bundled rulesets published and the
    demo's data written to ``out``/demo-data/ and loaded from there, every row or nothing per file."""
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    settings = load_settings(database_url=f"sqlite:///{db_path}", force_file=DEFAULT_FORCE_FILE)
    force = load_force(settings.force_file)
    forms = load_forms(settings.forms_dir)
    database = open_database(settings.database_url, create=True)
    try:
        upgrade(database)
        progress("publishing the rulesets")
        fields = {case_type: f.field_specs() for case_type, f in forms.items()}
        note = "demo publication of the bundled rulesets"
        registry.publish(database, settings.rulesets_dir, fields, author="QAM demo", note=note, now=now())

        period = parse_week(DEMO_WEEK)
        plan = demo_plan(period.start, weeks=weeks, per_week=per_week)
        data = out / "demo-data"
        data.mkdir(exist_ok=True)
        progress(f"generating {len(plan.weeks)} weeks of assessments")
        files, n_assessments = write_assessment_files(data, force.places, plan)
        progress(f"submitting {n_assessments} assessments")
        rows = load_submission_files(files, forms, force.place_codes)
        with database.session() as session:
            assessments.store_assessments(
                session, rows, amend=False, submitted_at=now(), calibration_set=None
            )
        progress("generating and loading incidents")
        n_incidents = 0
        for path in incident_files(data, force.places, plan, per_week=incidents_per_week):
            extract = read_incidents(path, force.place_codes)
            with database.session() as session:
                loaded = incidents.store_incidents(session, extract, source_file=str(path), loaded_at=now())
            n_incidents += loaded.new
    finally:
        database.close()
    return DemoData(settings, period.label, data, n_assessments, n_incidents)

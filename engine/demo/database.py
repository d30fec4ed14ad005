"""The demo database: a fresh SQLite file with the demo's ruleset history published and 26 weeks of
generated assessments and incidents submitted and loaded, with the measured figures of every other
quantitative item (engine.demo.figures), as a force's own would be."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from engine.core.config import DEFAULT_FORCE_FILE, Place, Settings, load_force, load_settings
from engine.core.periods import parse_week
from engine.demo.data import (
    ASSESSMENTS_PER_WEEK,
    DEMO_WEEK,
    HISTORY_WEEKS,
    INCIDENTS_PER_WEEK,
    demo_plan,
)
from engine.demo.figures import figure_plan, write_figure_files
from engine.demo.files import incident_files, write_assessment_files
from engine.demo.ruleset_history import (
    REVISED_RULESET,
    REVISED_VERSION,
    RulesetHistory,
    publication_times,
    publish_history,
)
from engine.inputs.extract_definitions import load_extract_definitions
from engine.inputs.extracts import read_incidents
from engine.inputs.figures import read_figures
from engine.inputs.forms import load_forms
from engine.inputs.submissions import load_submission_files
from engine.registry.documents import DocumentPaths
from engine.rules.catalogue import load_measure_catalogue
from engine.store import assessments, figures, incidents
from engine.store.db import Database, open_database
from engine.store.schema import upgrade


@dataclass(frozen=True)
class DemoData:
    """The demo database as loaded, before its weekly run."""

    settings: Settings
    week: str
    data_folder: Path
    assessments: int
    incidents: int
    database_file: Path
    #: the demo's rulesets folder (settings.rulesets_dir) and when its versions were published
    rulesets: RulesetHistory
    #: the Mondays of the demo's weeks, oldest first
    mondays: tuple[dt.date, ...]
    #: figure rows (of the figures extracts: HR, crime outcomes, surveys, ...) stored
    figures: int = 0

    @property
    def first_day(self) -> dt.date:
        return self.mondays[0]

    @property
    def last_day(self) -> dt.date:
        """The Sunday of the demo's week."""
        return self.mondays[-1] + dt.timedelta(days=6)


def build_demo_database(
    out: Path,
    *,
    progress: Callable[[str], None],
    now: Callable[[], dt.datetime],
    weeks: int = HISTORY_WEEKS,
    per_week: int = ASSESSMENTS_PER_WEEK,
    incidents_per_week: int = INCIDENTS_PER_WEEK,
) -> DemoData:
    """A fresh ``out``/demo.db (any earlier one removed) with the demo's data written to
    ``out``/demo-data/ and loaded from there, every row or nothing per file, and its ruleset history
    published from ``out``/demo-data/rulesets/ (a copy of the configured rulesets, then revised)."""
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    data = out / "demo-data"
    configured = load_settings(database_url=f"sqlite:///{db_path}", force_file=DEFAULT_FORCE_FILE)
    settings = replace(configured, rulesets_dir=data / "rulesets")
    force = load_force(settings.force_file)
    forms = load_forms(settings.forms_dir)
    period = parse_week(DEMO_WEEK)
    plan = demo_plan(period.start, weeks=weeks, per_week=per_week)
    data.mkdir(exist_ok=True)
    database = open_database(settings.database_url, create=True)
    try:
        upgrade(database)
        first, revised = publication_times(plan)
        progress(
            f"publishing the rulesets as at {first.date()} and {REVISED_RULESET} {REVISED_VERSION} "
            f"as at {revised.date()}"
        )
        fields = {case_type: f.field_specs() for case_type, f in forms.items()}
        documents = DocumentPaths.of(settings)
        history = publish_history(
            database, configured.rulesets_dir, settings.rulesets_dir, fields, plan, documents
        )

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
        n_figures = _load_figures(database, settings, data, force.places, plan.weeks, progress, now)
    finally:
        database.close()
    return DemoData(
        settings, period.label, data, n_assessments, n_incidents, db_path, history, plan.weeks, n_figures
    )


def _load_figures(
    database: Database,
    settings: Settings,
    data: Path,
    places: Sequence[Place],
    mondays: Sequence[dt.date],
    progress: Callable[[str], None],
    now: Callable[[], dt.datetime],
) -> int:
    """The figures of every figures extract generated as data/figures-<extract>.csv and loaded as
    `qam extracts load figures` would: the number of figure rows stored."""
    items = tuple(load_measure_catalogue(settings.catalogue_file).measures)
    definitions = load_extract_definitions(settings.extracts_dir, items)
    progress("generating and loading the measured figures (HR, outcomes, surveys, demand, ...)")
    stored = 0
    for path, _rows in write_figure_files(data, definitions, places, figure_plan(mondays)).values():
        extract = read_figures(path, definitions, [p.code for p in places], items)
        loaded = figures.store_figures(database, extract, replace=False, loaded_at=now())
        stored += sum(m.stored for m in loaded.by_metric.values())
    return stored

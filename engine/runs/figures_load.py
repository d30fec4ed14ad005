"""`qam extracts load figures`: the extract definitions and the catalogue's items figures extracts
are checked against, then the files read (every row of every file valid, or nothing) and stored in
one transaction: several files are loaded all or none."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from pathlib import Path

from engine.core.config import Settings, load_force
from engine.core.errors import ExtractError, problems_summary
from engine.core.memory import paused_gc
from engine.inputs.extract_definitions import ExtractDefinitions, load_extract_definitions
from engine.inputs.figures import read_figures
from engine.rules.catalogue import MeasureCatalogue, load_measure_catalogue
from engine.store import schema
from engine.store.db import Database
from engine.store.figures import FiguresLoad, FiguresLoads, lock_figures, store_file


def extract_definitions(extracts_dir: Path, catalogue: MeasureCatalogue | None = None) -> ExtractDefinitions:
    """The extract definitions of ``extracts_dir``, their items checked against the catalogue."""
    catalogue = catalogue or load_measure_catalogue()
    return load_extract_definitions(extracts_dir, tuple(catalogue.measures))


def load_figures_extracts(
    settings: Settings, paths: Sequence[Path], *, replace: bool = False
) -> FiguresLoads:
    """Validate figures extracts, then store them all in one transaction, or none of them (any bad
    file refuses them all), each as its own load. Example: qam extracts load figures hr.csv surveys.csv"""
    places = load_force(settings.force_file).place_codes
    with schema.initialised(settings.database_url) as database:
        loads = load_figures(database, paths, settings, places, replace=replace, at=dt.datetime.now(dt.UTC))
    return FiguresLoads(loads)


def load_figures(
    database: Database,
    paths: Sequence[Path],
    settings: Settings,
    place_codes: Collection[str],
    *,
    replace: bool,
    at: dt.datetime,
) -> tuple[FiguresLoad, ...]:
    """Validate figures extracts against the definitions, the force's places and the catalogue's
    items, and store them in one transaction, one after another (a figure an earlier file stored is
    stored for the later ones). ExtractError, nothing stored, for any bad row of any file or, without
    ``replace``, any figure stored before with other values: every file's problems at once (a file
    that cannot be stored is not, and the files after it are still checked)."""
    catalogue = load_measure_catalogue(settings.catalogue_file, hashed=False)  # its items only
    definitions = extract_definitions(settings.extracts_dir, catalogue)
    items = tuple(catalogue.measures)
    loads: list[FiguresLoad] = []
    errors: list[ExtractError] = []
    # the collector paused for the whole load: the rows hold no cycles, and resumed after each file it
    # rescanned a file's rows (an eighth of reading a year's files)
    with paused_gc(), database.session() as session:
        lock_figures(session)
        for path in paths:
            try:
                figures = read_figures(path, definitions, place_codes, items)
                loads.append(store_file(session, figures, replace=replace, loaded_at=at))
            except ExtractError as exc:
                errors.append(exc)
        if len(paths) == 1 and errors:
            raise errors[0]
        if errors:  # the transaction is rolled back: none of the files is stored
            problems = [p for exc in errors for p in exc.problems]
            raise ExtractError(
                f"{problems_summary(problems, 'file')}; none of the {len(paths)} files was loaded",
                problems,
                hint=next((exc.hint for exc in errors if exc.hint), None),
            )
    return tuple(loads)

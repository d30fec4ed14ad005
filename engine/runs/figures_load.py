"""`qam extracts load figures`: the extract definitions and the catalogue's items a figures extract
is checked against, then the file read (all of it valid, or nothing) and stored in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from pathlib import Path

from engine.core.config import Settings
from engine.inputs.extract_definitions import ExtractDefinitions, load_extract_definitions
from engine.inputs.figures import read_figures
from engine.rules.catalogue import MeasureCatalogue, load_measure_catalogue
from engine.store.db import Database
from engine.store.figures import FiguresLoad, store_figures


def extract_definitions(extracts_dir: Path, catalogue: MeasureCatalogue | None = None) -> ExtractDefinitions:
    """The extract definitions of ``extracts_dir``, their items checked against the catalogue."""
    catalogue = catalogue or load_measure_catalogue()
    return load_extract_definitions(extracts_dir, tuple(catalogue.measures))


def load_figures(
    database: Database,
    path: Path,
    settings: Settings,
    place_codes: Collection[str],
    *,
    replace: bool,
    at: dt.datetime,
) -> FiguresLoad:
    """Validate a figures extract against the definitions, the force's places and the catalogue's
    items, then store it (ExtractError, nothing stored, for any bad row or, without ``replace``, any
    figure stored before with other values)."""
    catalogue = load_measure_catalogue(settings.catalogue_file)
    definitions = extract_definitions(settings.extracts_dir, catalogue)
    figures = read_figures(path, definitions, place_codes, tuple(catalogue.measures))
    return store_figures(database, figures, replace=replace, loaded_at=at)

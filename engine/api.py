"""The library facade: every CLI command is a few lines over one function here; tests call them too."""

from __future__ import annotations

from dataclasses import dataclass

from engine import db as dbm
from engine.config import Force, Settings, load_force


@dataclass(frozen=True)
class InitResult:
    """What `qam init` did."""

    url: str
    revision_before: str | None
    revision_after: str
    tables: tuple[str, ...]

    @property
    def created(self) -> bool:
        return self.revision_before is None

    @property
    def upgraded(self) -> bool:
        return self.revision_before not in (None, self.revision_after)


def open_db(settings: Settings, *, require_current: bool = True) -> dbm.Database:
    """Open the configured database; by default refuse one that `qam init` has not prepared."""
    database = dbm.open_database(settings.database_url)
    if require_current:
        try:
            dbm.require_current(database)
        except Exception:
            database.close()
            raise
    return database


def init_database(settings: Settings) -> InitResult:
    """Check the force file, then create or upgrade the database schema; safe to run twice.

    Example: qam init
    """
    load_force(settings.force_file)  # a bad force file is reported before anything is written
    database = open_db(settings, require_current=False)
    try:
        before, after = dbm.upgrade(database)
        return InitResult(database.display_url, before, after, tuple(dbm.table_names(database)))
    finally:
        database.close()


def force(settings: Settings) -> Force:
    """The force configuration in use (validated)."""
    return load_force(settings.force_file)

"""Creating or upgrading a database's schema, as `qam init` does, and what that did."""

from __future__ import annotations

from dataclasses import dataclass

from engine.store.db import open_database, table_names, upgrade


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


def initialise(url: str) -> InitResult:
    """Create the database's schema, or upgrade it to the latest revision; safe to run twice."""
    database = open_database(url, create=True)
    try:
        before, after = upgrade(database)
        return InitResult(database.display_url, before, after, tuple(table_names(database)))
    finally:
        database.close()

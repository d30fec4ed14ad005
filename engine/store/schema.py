"""A database's schema: creating or upgrading it with the migrations, as `qam init` does, and what
that did; its revision, and refusing a database that is not at this QAM's."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from engine.core.errors import StorageError
from engine.store.db import MIGRATIONS_DIR, NOT_INITIALISED_HINT, Database, open_database

#: a migration's ``revision = "0009"`` and ``down_revision = "0008"`` lines (head_revision)
_REVISION_LINE = re.compile(r"^(revision|down_revision)(?:\s*:\s*[^=]+)?\s*=\s*(.+?)\s*$", re.MULTILINE)


#: where alembic records a database's revision
VERSION_TABLE = "alembic_version"


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


#: the model's foreign keys a dialect enforces with triggers instead (migration 0010): PostgreSQL checks
#: figures.load_pk once a statement, not once a copied row
ENFORCED_BY_TRIGGERS: dict[str, frozenset[str]] = {
    "postgresql": frozenset({"fk_figures_load_pk_figure_loads"})
}


def compared(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Alembic's include_object for comparing the model with a ``dialect`` database: every object but
    the foreign keys that dialect enforces with triggers."""
    by_triggers = ENFORCED_BY_TRIGGERS.get(dialect, frozenset())

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return not (type_ == "foreign_key_constraint" and name in by_triggers)

    return include


def initialise(url: str) -> InitResult:
    """Create the database's schema, or upgrade it to the latest revision; safe to run twice."""
    database = open_database(url, create=True)
    try:
        before, after = upgrade(database)
        return InitResult(database.display_url, before, after, tuple(table_names(database)))
    finally:
        database.close()


def alembic_config(db: Database | None = None) -> Any:
    """Alembic's configuration for QAM's migrations, on ``db``'s engine when given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if db is not None:
        cfg.attributes["engine"] = db.engine
    return cfg


def upgrade(db: Database) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest migration; returns (revision before, after)."""
    from alembic import command

    before = current_revision(db)
    try:
        command.upgrade(alembic_config(db), "head")
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot create or upgrade the database {db.display_url}: {exc}") from None
    return before, head_revision()


@functools.cache
def head_revision() -> str:
    """The newest migration's revision: the one no other migration names as its down_revision, read
    from the migration files' own ``revision`` and ``down_revision`` lines. Every command checks the
    database against it, and alembic's ScriptDirectory (the same answer: tests/store) costs an import
    and a run of every migration module (0.07 s of CPU a command)."""
    down_of: dict[str, tuple[str | None, ...]] = {}
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        found = {
            m.group(1): ast.literal_eval(m.group(2))
            for m in _REVISION_LINE.finditer(path.read_text(encoding="utf-8"))
        }
        if "revision" not in found:
            raise RuntimeError(f"migration {path.name} states no revision")
        down = found.get("down_revision")
        down_of[str(found["revision"])] = tuple(down) if isinstance(down, tuple | list) else (down,)
    named = {d for downs in down_of.values() for d in downs if d is not None}
    heads = sorted(set(down_of) - named)
    if len(heads) != 1:
        raise RuntimeError(f"the migration chain must have exactly one head, found {heads}")
    return heads[0]


def current_revision(db: Database) -> str | None:
    """The database's schema revision (alembic's version table), None before `qam init`."""
    with db.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        found = [str(r[0]) for r in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))]
    if len(found) > 1:
        raise StorageError(
            f"the database {db.display_url} is at several schema revisions: {', '.join(found)}"
        )
    return found[0] if found else None


def require_current(db: Database) -> None:
    """Refuse to work on a database that `qam init` has not created or upgraded."""
    current = current_revision(db)
    if current is None:
        raise StorageError(f"the database {db.display_url} is not initialised", hint=NOT_INITIALISED_HINT)
    if current != head_revision():
        raise StorageError(
            f"the database {db.display_url} is at schema revision {current}, this QAM needs {head_revision()}",
            hint="Run `qam init` to upgrade it.",
        )


def open_initialised(url: str, *, require: bool = True) -> Database:
    """The database at ``url``; by default refused (StorageError) unless `qam init` has prepared it."""
    database = open_database(url)
    if require:
        try:
            require_current(database)
        except Exception:
            database.close()
            raise
    return database


@contextmanager
def initialised(url: str) -> Iterator[Database]:
    """The initialised database at ``url`` (open_initialised), closed afterwards."""
    database = open_initialised(url)
    try:
        yield database
    finally:
        database.close()


def table_names(db: Database) -> list[str]:
    return sorted(inspect(db.engine).get_table_names())

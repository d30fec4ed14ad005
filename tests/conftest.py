"""Shared fixtures: a migrated database per test on SQLite and on PostgreSQL, settings, CLI runner."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from engine.core.config import DEFAULT_FORCE_FILE, DEFAULT_FORMS_DIR, DEFAULT_RULESETS_DIR, Settings
from engine.store import db as dbm
from engine.store.schema import upgrade

POSTGRES_URL = os.environ.get("QAM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/reports/golden/* from current output",
    )


class PostgresSchemas:
    """Creates one schema per test in the shared test database and drops it afterwards."""

    def __init__(self, url: str) -> None:
        self.url = dbm.normalise_url(url)
        self.admin = create_engine(self.url, connect_args={"connect_timeout": 5})
        try:
            with self.admin.connect():
                pass
        except Exception as exc:  # fail loudly: PostgreSQL tests must never be skipped silently
            raise pytest.UsageError(
                f"PostgreSQL at {url} is not reachable ({exc.__class__.__name__}). Start it with "
                "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, set "
                "QAM_TEST_POSTGRES_URL, or deselect with -m 'not postgres'."
            ) from None
        self.run_prefix = f"qam_t{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.count = 0

    def create(self) -> str:
        self.count += 1
        name = f"{self.run_prefix}_{self.count}"
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        return name

    def drop(self, name: str) -> None:
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


@pytest.fixture(scope="session")
def postgres_schemas() -> Iterator[PostgresSchemas]:
    schemas = PostgresSchemas(POSTGRES_URL)
    yield schemas
    schemas.admin.dispose()


def _pg_url_with_schema(schema: str) -> str:
    # libpq "options" in the URL query sets search_path for every connection, so the CLI sees it too
    return f"{dbm.normalise_url(POSTGRES_URL)}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL (not yet migrated), on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'qam.db'}"
        return
    schemas: PostgresSchemas = request.getfixturevalue("postgres_schemas")
    name = schemas.create()
    try:
        yield _pg_url_with_schema(name)
    finally:
        schemas.drop(name)


@pytest.fixture
def database(database_url: str) -> Iterator[dbm.Database]:
    """A migrated database, on SQLite and on PostgreSQL."""
    database = dbm.open_database(database_url, create=True)
    upgrade(database)
    yield database
    database.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        force_file=DEFAULT_FORCE_FILE,
        rulesets_dir=DEFAULT_RULESETS_DIR,
        forms_dir=DEFAULT_FORMS_DIR,
    )


@pytest.fixture
def published(settings: Settings, tmp_path: Path) -> Settings:
    """Settings on an initialised database with a copy of the repo's rulesets (in tmp_path, free to
    edit) published."""
    from engine import api

    rulesets = tmp_path / "rulesets"
    shutil.copytree(settings.rulesets_dir, rulesets)
    settings = replace(settings, rulesets_dir=rulesets)
    api.init_database(settings)
    api.publish_rulesets(settings, author="test", note="initial")
    return settings


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(params=["fifo", "device", "folder"])
def not_a_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A FIFO, a link to /dev/zero or a folder where an input file is expected (named input.csv)."""
    path = tmp_path / "input.csv"
    if request.param == "fifo":
        os.mkfifo(path)
    elif request.param == "device":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    return path

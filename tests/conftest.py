"""Shared fixtures: a migrated database per test on SQLite and on PostgreSQL, settings, CLI runner.

The migrations run once a session (per xdist worker) on each backend; each test's database is a copy
of that one (the SQLite file, or the PostgreSQL schema's DDL replayed), not migrated again: running
alembic's scripts took about a fifth of the CPU of the database tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
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
        self._migrated_ddl: str | None = None

    def create(self) -> str:
        self.count += 1
        name = f"{self.run_prefix}_{self.count}"
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        return name

    def migrate(self, name: str) -> None:
        """Put what the migrations create (tables, indexes, alembic_version) in schema ``name``,
        unless it is there already."""
        ddl = self._migrated_ddl if self._migrated_ddl is not None else self._dump_migrated()
        with self.admin.begin() as conn:
            if conn.execute(text("SELECT to_regclass(:t)"), {"t": f'"{name}".alembic_version'}).scalar():
                return
            conn.exec_driver_sql(ddl.replace(_TEMPLATE_SCHEMA, f'"{name}"'))

    def _dump_migrated(self) -> str:
        """Migrate a schema of its own once, keep pg_dump's script of it (session settings and
        psql's meta-commands left out), and drop it."""
        name = self.create()
        try:
            database = dbm.open_database(_pg_url_with_schema(name), create=True)
            try:
                upgrade(database)
            finally:
                database.close()
            url = self.admin.url
            dumped = subprocess.run(
                ["pg_dump", "--schema", name, "--inserts", "--no-owner", "--no-privileges",
                 "--host", url.host or "127.0.0.1", "--port", str(url.port or 5432),
                 "--username", url.username or "postgres", "--dbname", url.database or "test"],
                capture_output=True, text=True, check=True,
                env={**os.environ, **({"PGPASSWORD": url.password} if url.password else {})},
            ).stdout  # fmt: skip
        finally:
            self.drop(name)
        kept = [
            line
            for line in dumped.splitlines()
            if not re.match(r"(\\|SET |SELECT pg_catalog\.set_config|--)", line)
        ]
        ddl = "\n".join(kept).replace(name, _TEMPLATE_SCHEMA)
        assert f"CREATE SCHEMA {_TEMPLATE_SCHEMA};" in ddl, dumped[:2000]
        self._migrated_ddl = ddl.replace(f"CREATE SCHEMA {_TEMPLATE_SCHEMA};", "")
        return self._migrated_ddl

    def drop(self, name: str) -> None:
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


#: stands for the schema's name in the migrated schema's script
_TEMPLATE_SCHEMA = "qam_migrated_template"


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


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file the migrations created, once a session: tests copy it."""
    path = tmp_path_factory.mktemp("migrated") / "qam.db"
    database = dbm.open_database(f"sqlite:///{path}", create=True)
    try:
        upgrade(database)
    finally:
        database.close()  # the last connection closed: the write-ahead log is in the file
    assert not path.with_name("qam.db-wal").exists()
    return path


def _migrate(request: pytest.FixtureRequest, url: str) -> str:
    """``url`` (from database_url) with the migrations' schema in it, copied from the session's
    migrated database; the URL to use (on PostgreSQL, a schema of its own)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return url
    schemas: PostgresSchemas = request.getfixturevalue("postgres_schemas")
    found = re.search(r"options=-csearch_path%3D(\w+)$", url)
    assert found, url
    schemas.migrate(found[1])
    return url


@pytest.fixture
def database(request: pytest.FixtureRequest, database_url: str) -> Iterator[dbm.Database]:
    """A migrated database, on SQLite and on PostgreSQL."""
    database = dbm.open_database(_migrate(request, database_url), create=True)
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
def published(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Settings:
    """Settings on an initialised database with a copy of the repo's rulesets (in tmp_path, free to
    edit) published."""
    from engine import api

    _migrate(request, settings.database_url)
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


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With --dist loadgroup, the tests that share a module-scoped fixture (one value of it, if it
    is parametrized) run on one xdist worker, so that the fixture is made once, not once a worker;
    tests already in a group (tests/demo's small demo, tests/faults' lab) stay in theirs."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group"):
            continue
        shared = sorted(
            name for name, defs in info.name2fixturedefs.items() if defs and defs[-1].scope == "module"
        )
        if shared:
            callspec = getattr(item, "callspec", None)
            params = [f"{n}={callspec.params[n]}" for n in shared if callspec and n in callspec.params]
            where = item.nodeid.split("::", 1)[0]
            item.add_marker(pytest.mark.xdist_group(f"{where}:{','.join(shared + params)}"))

"""Storage foundation: `qam init` on SQLite and PostgreSQL, a linear migration chain, clear URL errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.core.config import Settings
from engine.core.errors import ExitCode, StorageError
from engine.store import db as dbm
from engine.store.schema import alembic_config, compared, current_revision, head_revision


def test_init_creates_then_is_a_no_op(settings: Settings) -> None:
    first = api.init_database(settings)
    assert first.created
    assert "assessments" in first.tables and "ruleset_versions" in first.tables
    second = api.init_database(settings)
    assert not second.created and not second.upgraded
    assert second.revision_after == first.revision_after


def test_migrated_schema_matches_the_models(database: dbm.Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": compared(conn.dialect.name)})
        diff = compare_metadata(context, dbm.Base.metadata)
    assert diff == []


def test_migration_chain_is_linear() -> None:
    cfg = alembic_config()
    script = ScriptDirectory.from_config(cfg)
    revisions = list(script.walk_revisions())
    assert len(script.get_heads()) == 1
    assert sum(1 for r in revisions if r.down_revision is None) == 1
    for rev in revisions:
        assert not isinstance(rev.down_revision, tuple), f"merge revision {rev.revision} breaks linearity"


def test_the_head_every_command_checks_is_alembics_head() -> None:
    """schema.head_revision reads the migration files' revision lines instead of asking alembic."""
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_heads()[0]


def test_a_database_at_an_older_revision_is_refused_and_named(settings: Settings) -> None:
    api.init_database(settings)
    database = dbm.open_database(settings.database_url)
    try:
        assert current_revision(database) == head_revision()
        with database.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        assert current_revision(database) == "0001"
    finally:
        database.close()
    with pytest.raises(StorageError, match=f"is at schema revision 0001, this QAM needs {head_revision()}"):
        api.open_db(settings)


def test_commands_refuse_an_uninitialised_database(settings: Settings) -> None:
    with pytest.raises(StorageError, match="not initialised") as info:
        api.open_db(settings)
    assert "qam init" in str(info.value)
    assert info.value.exit_code == ExitCode.STORAGE


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/x", "unsupported database URL scheme 'mysql'"),
        ("not a url", "invalid database URL"),
        ("postgresql://postgres@127.0.0.1:1/test", "cannot connect to the database"),
        # each connection would see a database of its own: a run's storing thread, its workers
        ("sqlite://", "in-memory SQLite database cannot hold QAM's data"),
        ("sqlite:///:memory:", "in-memory SQLite database cannot hold QAM's data"),
    ],
)
def test_bad_database_urls(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        dbm.open_database(url)


def test_sqlite_in_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot create the SQLite database .*folder .* does not exist"):
        dbm.open_database(f"sqlite:///{tmp_path}/nope/qam.db", create=True)


def test_a_missing_sqlite_file_is_not_created_by_opening_it(tmp_path: Path) -> None:
    path = tmp_path / "qam.db"
    with pytest.raises(StorageError, match="is not initialised") as info:
        dbm.open_database(f"sqlite:///{path}")
    assert "qam init" in str(info.value) and "QAM_DATABASE_URL" in str(info.value)
    assert list(tmp_path.iterdir()) == []
    dbm.open_database(f"sqlite:///{path}", create=True).close()  # `qam init` and the demo create it
    assert path.exists()


@pytest.mark.parametrize(
    "command",
    [["runs", "list"], ["assessments", "list", "--place", "DLW"], ["rulesets", "list"], ["score"]],
)
def test_a_command_on_a_missing_sqlite_file_says_so_and_creates_nothing(
    runner: CliRunner, tmp_path: Path, command: list[str]
) -> None:
    """After `qam demo`, `qam runs list` in the same folder looks for ./qam.db: it must not leave an
    empty one behind (nor would following a hint that creates an empty database help)."""
    url = f"sqlite:///{tmp_path / 'qam.db'}"
    result = runner.invoke(app, ["--database", url, *command])
    assert result.exit_code == 4
    assert result.stderr.startswith(f"Error: the database {url} is not initialised")
    assert "Run `qam init` to create it there, or point QAM_DATABASE_URL (or --database)" in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # no qam.db, no -wal or -shm beside it


def test_postgresql_url_uses_psycopg3() -> None:
    assert dbm.normalise_url("postgresql://u@h/db").startswith("postgresql+psycopg://")


@pytest.mark.parametrize("content", [b"hello, this is a text file\n", bytes(range(256)) * 40])
@pytest.mark.parametrize("command", [["init"], ["runs", "list"], ["weekly", "--week", "2026-W47"]])
def test_a_file_that_is_not_a_sqlite_database_is_named_with_exit_4(
    runner: CliRunner, tmp_path: Path, content: bytes, command: list[str]
) -> None:
    path = tmp_path / "qam.db"
    path.write_bytes(content)
    result = runner.invoke(app, ["--database", f"sqlite:///{path}", *command])
    assert result.exit_code == 4, result.output
    assert f"{path} is not a SQLite database" in result.stderr
    assert "Traceback" not in result.output
    assert path.read_bytes() == content  # left as it was


def test_submit_to_an_uninitialised_database_says_so_before_reading_the_file(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reviewer submitting a large file to a database `qam init` never made learns it at once, not
    after every row was validated (10 minutes for a million rows)."""

    def read(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the file was read before the database was checked")

    monkeypatch.setattr(api, "validate_submission", read)
    url = f"sqlite:///{tmp_path / 'qam.db'}"
    (tmp_path / "week.csv").write_text("case_type,case_ref\nstop_search,SS-1\n", encoding="utf-8")
    result = runner.invoke(app, ["--database", url, "submit", str(tmp_path / "week.csv")])
    assert result.exit_code == 4, result.output
    assert result.stderr.startswith(f"Error: the database {url} is not initialised")


def test_figures_load_check_migrates_down_and_up(database: dbm.Database) -> None:
    """Migration 0010 swaps PostgreSQL's foreign key of figures.load_pk for statement triggers, and
    back on downgrade; SQLite keeps the foreign key throughout."""
    from alembic import command

    def load_pk_keys() -> list[str]:
        keys = inspect(database.engine).get_foreign_keys("figures")
        return [k["name"] for k in keys if k["constrained_columns"] == ["load_pk"]]

    def triggers() -> set[str]:
        if database.engine.dialect.name != "postgresql":
            return set()
        with database.engine.connect() as conn:
            found = conn.execute(text(  # of this schema's tables only: other tests' schemas have theirs
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
                " AND tgrelid IN ('figures'::regclass, 'figure_loads'::regclass)"
            ))  # fmt: skip
            return {name for (name,) in found}

    postgresql = database.engine.dialect.name == "postgresql"
    names = {"figures_name_loads_insert", "figures_name_loads_update", "figure_loads_named_change"}
    assert (load_pk_keys(), triggers()) == (
        ([], names) if postgresql else (["fk_figures_load_pk_figure_loads"], set())
    )
    command.downgrade(alembic_config(database), "0009")
    assert (load_pk_keys(), triggers()) == (["fk_figures_load_pk_figure_loads"], set())
    command.upgrade(alembic_config(database), "head")
    assert (load_pk_keys(), triggers()) == (
        ([], names) if postgresql else (["fk_figures_load_pk_figure_loads"], set())
    )

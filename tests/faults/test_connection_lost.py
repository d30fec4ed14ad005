"""PostgreSQL going away under a command (issue #20 point 4): a connection the server ends in the
middle of a transaction is one StorageError naming the database (exit 4, no traceback), with the
transaction rolled back; a pooled connection it ended while idle (a restart between two steps of a
run) is replaced before use, so the run goes on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from engine.core.errors import StorageError
from engine.store import db as dbm
from engine.store.schema import upgrade
from tests.conftest import PostgresSchemas, _pg_url_with_schema

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

INSERT_HEAD = text(
    "INSERT INTO chain_heads (chain, position, head_hash, recorded_at) "
    "VALUES ('registry', 1, 'abc', CURRENT_TIMESTAMP)"
)


@pytest.fixture
def pg(postgres_schemas: PostgresSchemas) -> Iterator[dbm.Database]:
    name = postgres_schemas.create()
    database = dbm.open_database(_pg_url_with_schema(name), create=True)
    upgrade(database)
    try:
        yield database
    finally:
        database.close()
        postgres_schemas.drop(name)


def _heads(database: dbm.Database) -> int:
    with database.session() as session:
        return int(session.execute(text("SELECT count(*) FROM chain_heads")).scalar_one())


def test_a_connection_ended_mid_transaction_is_one_storage_error_and_nothing_is_stored(
    pg: dbm.Database,
) -> None:
    with pytest.raises(StorageError) as info, pg.session() as session:
        session.execute(INSERT_HEAD)
        session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    message = str(info.value)
    assert message.startswith(f"lost the connection to the database {pg.display_url}: ")
    assert "what was being written was not stored" in message
    assert _heads(pg) == 0  # rolled back; and the next session has a working connection


def test_a_pooled_connection_the_server_ended_while_idle_is_replaced(
    pg: dbm.Database, postgres_schemas: PostgresSchemas
) -> None:
    with pg.session() as session:
        backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = create_engine(postgres_schemas.url)
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": backend}).scalar_one()
    finally:
        admin.dispose()
    with pg.session() as session:
        session.execute(INSERT_HEAD)
    assert _heads(pg) == 1


def test_a_connection_ended_during_the_schema_check_is_one_storage_error(pg: dbm.Database) -> None:
    with pytest.raises(StorageError, match="^lost the connection to the database "), pg.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

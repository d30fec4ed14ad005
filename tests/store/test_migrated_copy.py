"""The tests' `database` fixture (tests/conftest.py) copies one migrated database a session instead of
running the migrations for every test: the copy must be what the migrations make, on both backends
(tables, columns, keys, indexes, constraints and rows, alembic's revision among them)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect, text

from engine.store import db as dbm
from engine.store.schema import head_revision, upgrade
from tests.conftest import PostgresSchemas, _pg_url_with_schema


def _shape(database: dbm.Database) -> dict[str, Any]:
    """Everything the migrations leave, as comparable plain values."""
    found = inspect(database.engine)
    shape: dict[str, Any] = {}
    with database.engine.connect() as conn:
        for table in sorted(found.get_table_names()):
            shape[table] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in found.get_columns(table)
                ],
                "primary key": found.get_pk_constraint(table)["constrained_columns"],
                "foreign keys": sorted(
                    (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                    for f in found.get_foreign_keys(table)
                ),
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in found.get_indexes(table)
                ),
                "unique": sorted(
                    (u["name"] or "", tuple(u["column_names"])) for u in found.get_unique_constraints(table)
                ),
                "checks": sorted(c["sqltext"] for c in found.get_check_constraints(table)),
                "rows": sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{table}"')).all())),
            }
    return shape


@pytest.fixture
def migrated_here(request: pytest.FixtureRequest, database_url: str, tmp_path: Any) -> Any:
    """A database the migrations themselves made, on the same backend as ``database_url``."""
    if database_url.startswith("sqlite"):
        made = dbm.open_database(f"sqlite:///{tmp_path / 'migrated-here.db'}", create=True)
        upgrade(made)
        yield made
        made.close()
        return
    schemas: PostgresSchemas = request.getfixturevalue("postgres_schemas")
    name = schemas.create()
    made = dbm.open_database(_pg_url_with_schema(name), create=True)
    try:
        upgrade(made)
        yield made
    finally:
        made.close()
        schemas.drop(name)


def test_each_tests_copy_is_what_the_migrations_make(database: dbm.Database, migrated_here: Any) -> None:
    copied, made = _shape(database), _shape(migrated_here)
    assert copied["alembic_version"]["rows"] == [(head_revision(),)]
    assert len(copied) > 10
    assert copied == made

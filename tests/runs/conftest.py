"""The run tests' fixtures (the world itself is in world.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.store import db as dbm
from tests.runs.world import World, new_world


@pytest.fixture
def world(database: dbm.Database, database_url: str, tmp_path: Path) -> World:
    return new_world(database, database_url, tmp_path)

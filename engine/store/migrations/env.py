"""Alembic environment: runs migrations on the engine QAM passes in (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from engine.store.db import Base
from engine.store.schema import compared

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=compared(connection.dialect.name),
    )
    context.run_migrations()

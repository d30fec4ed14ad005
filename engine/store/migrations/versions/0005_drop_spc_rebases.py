"""drop spc_rebases (never written nor read)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("spc_rebases")


def downgrade() -> None:
    # as 0001_initial_schema created it
    op.create_table(
        "spc_rebases",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("place", sa.String(length=16), nullable=False),
        sa.Column("measure", sa.String(length=8), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_spc_rebases")),
        sa.UniqueConstraint("place", "measure", "week", name=op.f("uq_spc_rebases_place_measure_week")),
    )

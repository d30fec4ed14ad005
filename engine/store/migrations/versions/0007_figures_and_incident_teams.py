"""figures and figure_loads (the tidy figures extract), and incidents.team

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "figure_loads",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_file", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("replaced", sa.Boolean(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_figure_loads")),
    )
    op.create_table(
        "figures",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("load_pk", sa.Integer(), nullable=False),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("extract", sa.String(length=60), nullable=False),
        sa.Column("item", sa.String(length=8), nullable=False),
        sa.Column("metric", sa.String(length=80), nullable=False),
        sa.Column("place", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=12), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("numerator", sa.Float(), nullable=True),
        sa.Column("denominator", sa.Float(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("count", sa.Float(), nullable=True),
        sa.Column("event_ref", sa.String(length=120), nullable=True),
        sa.Column("event_on", sa.Date(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["load_pk"], ["figure_loads.pk"], name=op.f("fk_figures_load_pk_figure_loads")
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by"], ["figure_loads.pk"], name=op.f("fk_figures_superseded_by_figure_loads")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_figures")),
    )
    op.create_index(
        "ix_figures_current_metric", "figures", ["is_current", "metric", "period_start"], unique=False
    )
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("team", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("team")
    op.drop_index("ix_figures_current_metric", table_name="figures")
    op.drop_table("figures")
    op.drop_table("figure_loads")

"""assessments.row_hash (the revisions' hash chain) and chain_heads

Existing revisions are linked in pk order, as store_assessments links new ones; the heads of the
assessments' chain and of the ruleset registry as they stand are recorded in chain_heads.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:00:00.000000
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from alembic import op

from engine.store.integrity import ASSESSMENT_CHAIN, CHAINED_FIELDS, GENESIS_HASH, REGISTRY_CHAIN, row_hash

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: rows linked per round trip
_BATCH = 5000

# the tables as this revision knows them (not the models, which may move on)
_assessments = sa.table(
    "assessments",
    sa.column("pk", sa.Integer()),
    sa.column("assessment_id", sa.String()),
    sa.column("revision", sa.Integer()),
    sa.column("case_type", sa.String()),
    sa.column("case_ref", sa.String()),
    sa.column("place", sa.String()),
    sa.column("team", sa.String()),
    sa.column("officer", sa.String()),
    sa.column("reviewer", sa.String()),
    sa.column("assessed_on", sa.Date()),
    sa.column("case_date", sa.Date()),
    sa.column("answers", sa.JSON()),
    sa.column("raw", sa.JSON()),
    sa.column("content_hash", sa.String()),
    sa.column("source_file", sa.String()),
    sa.column("source_row", sa.Integer()),
    sa.column("submitted_at", sa.DateTime(timezone=True)),
    sa.column("calibration_set", sa.String()),
    sa.column("row_hash", sa.String()),
)
_ruleset_versions = sa.table(
    "ruleset_versions", sa.column("seq", sa.Integer()), sa.column("entry_hash", sa.String())
)
_chain_heads = sa.table(
    "chain_heads",
    sa.column("chain", sa.String()),
    sa.column("position", sa.Integer()),
    sa.column("head_hash", sa.String()),
    sa.column("recorded_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "chain_heads",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chain", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_chain_heads")),
        sa.UniqueConstraint("chain", "position", name=op.f("uq_chain_heads_chain_position")),
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    heads: list[dict[str, Any]] = []
    last = _link_existing(conn)
    if last is not None:
        heads.append(
            {"chain": ASSESSMENT_CHAIN, "position": last[0], "head_hash": last[1], "recorded_at": now}
        )
    tail = conn.execute(
        sa.select(_ruleset_versions.c.seq, _ruleset_versions.c.entry_hash)
        .order_by(_ruleset_versions.c.seq.desc())
        .limit(1)
    ).first()
    if tail is not None:
        heads.append({"chain": REGISTRY_CHAIN, "position": tail[0], "head_hash": tail[1], "recorded_at": now})
    if heads:
        conn.execute(_chain_heads.insert(), heads)
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)


def _link_existing(conn: Any) -> tuple[int, str] | None:
    """Set every existing revision's row_hash in pk order, a batch at a time; the last (pk, hash)."""
    columns = [_assessments.c.pk, *(_assessments.c[name] for name in CHAINED_FIELDS)]
    prev, after = GENESIS_HASH, 0
    while True:
        q = sa.select(*columns).where(_assessments.c.pk > after).order_by(_assessments.c.pk).limit(_BATCH)
        rows = conn.execute(q).mappings().all()
        if not rows:
            return (after, prev) if after else None
        updates = []
        for row in rows:
            prev = row_hash(prev, row)
            updates.append({"key": row["pk"], "hash": prev})
        conn.execute(
            _assessments.update()
            .where(_assessments.c.pk == sa.bindparam("key"))
            .values(row_hash=sa.bindparam("hash")),
            updates,
        )
        after = rows[-1]["pk"]


def downgrade() -> None:
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_column("row_hash")
    op.drop_table("chain_heads")

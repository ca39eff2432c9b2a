"""The durable inbox: inbound updates kept from their arrival until they are handled.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

Every channel records an update here (its dedup key claimed, its payload
kept) before acknowledging it to the provider, then handles it from the row.

Migrations are self-contained: they use plain SQLAlchemy types, never the
models or enums of :mod:`storage.models`, which keep changing after them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: INTEGER on SQLite (its auto-increment needs exactly that type), BIGINT elsewhere.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "inbound_updates",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("dedup_key", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _timestamp("received_at"),
        _timestamp("claimed_until", nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _timestamp("handled_at", nullable=True),
        _timestamp("failed_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_updates")),
        sa.UniqueConstraint("channel", "dedup_key", name=op.f("uq_inbound_updates_channel_dedup_key")),
    )
    op.create_index(op.f("ix_inbound_updates_received_at"), "inbound_updates", ["received_at"])
    op.create_index(
        "ix_inbound_updates_pending", "inbound_updates", ["handled_at", "failed_at", "claimed_until"]
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_updates_pending", table_name="inbound_updates")
    op.drop_index(op.f("ix_inbound_updates_received_at"), table_name="inbound_updates")
    op.drop_table("inbound_updates")

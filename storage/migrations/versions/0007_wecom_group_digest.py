"""The WeCom group digest: a campaign's group-robot webhook, units' mobile numbers, one digest per slot.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28

``campaigns.wecom_group_webhook``: the group robot's webhook URL (it holds the
robot's key; never logged). ``units.contact_mobile``: the unit's contact
mobile number from the roster, mentioned in the digest. ``wecom_group_digests``:
one row per campaign and reminder slot, claimed before the post so that any
number of processes post each digest once.

Columns are added in place (no batch rebuild: other tables reference
``campaigns`` and ``units`` with ON DELETE CASCADE). Migrations are
self-contained: plain SQLAlchemy types, never the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("wecom_group_webhook", sa.String(length=500), nullable=True))
    op.add_column("units", sa.Column("contact_mobile", sa.String(length=20), nullable=True))
    op.create_table(
        "wecom_group_digests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("slot_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _timestamp("next_attempt_at"),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        _timestamp("claimed_at", nullable=True),
        _timestamp("posted_at", nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_wecom_group_digests_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_group_digests")),
        sa.UniqueConstraint("campaign_id", "slot_key", name=op.f("uq_wecom_group_digests_campaign_id_slot_key")),
    )


def downgrade() -> None:
    op.drop_table("wecom_group_digests")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ too): never a batch rebuild, which would cascade.
    op.execute("ALTER TABLE units DROP COLUMN contact_mobile")
    op.execute("ALTER TABLE campaigns DROP COLUMN wecom_group_webhook")

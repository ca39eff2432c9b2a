"""Campaigns link to the campaign of last period (``campaign create --previous``).

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-28

A nullable ``campaigns.previous_campaign_id``: each unit of the new campaign is
offered its submitted answers of the earlier one. Deleting the earlier campaign
leaves the link empty (SET NULL), never the new campaign gone. SQLite alters the
table in a batch (copy and rename), as Alembic does for foreign keys there.

This branch's chain is 0001 → 0002 → 0005; 0003 and 0004 come from other
branches and the chain is re-linked when they are merged.

Migrations are self-contained: plain SQLAlchemy types, never the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("previous_campaign_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_campaigns_previous_campaign_id_campaigns"),
            "campaigns",
            ["previous_campaign_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_constraint(op.f("fk_campaigns_previous_campaign_id_campaigns"), type_="foreignkey")
        batch.drop_column("previous_campaign_id")

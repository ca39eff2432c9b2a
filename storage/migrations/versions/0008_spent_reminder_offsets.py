"""Campaigns remember the reminder offsets already spent when their deadline moves.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28

A nullable JSON ``campaigns.spent_reminder_offsets``: when a coordinator moves
a deadline, the reminders whose time had come (sent, or passed on purpose) are
listed here and never sent again for the new deadline; the others move with it.
NULL means none. Added in place on SQLite (a nullable column without a foreign
key), never by rebuilding the table, whose rows other tables reference with
ON DELETE CASCADE.

Migrations are self-contained: plain SQLAlchemy types, never the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("spent_reminder_offsets", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("campaigns", "spent_reminder_offsets")

"""A reminder or broadcast for some of a campaign's units: ``outbox_batches.unit_ids``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28

The console lets a coordinator remind (or notify) selected units only. The
draft keeps the selection, so that its confirmation computes the recipients
again among those units, and the composer speaks only of them. NULL: every
unit of the campaign (all earlier batches). The column is added in place (no
table rebuild: ``outbox_messages`` references the table with ON DELETE CASCADE).

Migrations are self-contained: plain SQLAlchemy types, never the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox_batches", sa.Column("unit_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    # A plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ has it): never a rebuild,
    # which would cascade into outbox_messages.
    op.drop_column("outbox_batches", "unit_ids")

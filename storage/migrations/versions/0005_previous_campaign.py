"""Campaigns link to the campaign of last period (``campaign create --previous``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

A nullable ``campaigns.previous_campaign_id``: each unit of the new campaign is
offered its submitted answers of the earlier one. Deleting the earlier campaign
leaves the link empty (SET NULL), never the new campaign gone. On SQLite the
column is added in place, never by rebuilding the table (see upgrade()).

Migrations are self-contained: plain SQLAlchemy types, never the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: The foreign key's name (the models' naming convention gives it the same).
FOREIGN_KEY = "fk_campaigns_previous_campaign_id_campaigns"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Not a batch rebuild: dropping the old ``campaigns`` table would cascade
        # (foreign keys are on) and delete every unit, response and outbox row.
        # SQLite adds a nullable column with its REFERENCES clause in place.
        op.execute(
            f"ALTER TABLE campaigns ADD COLUMN previous_campaign_id INTEGER "
            f"CONSTRAINT {FOREIGN_KEY} REFERENCES campaigns (id) ON DELETE SET NULL"
        )
        return
    op.add_column("campaigns", sa.Column("previous_campaign_id", sa.Integer(), nullable=True))
    op.create_foreign_key(FOREIGN_KEY, "campaigns", "campaigns", ["previous_campaign_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a column that a foreign key uses, and rebuilding the
        # table would cascade as above: the links are emptied and the column stays,
        # unused by the code of 0004.
        op.execute("UPDATE campaigns SET previous_campaign_id = NULL")
        return
    op.drop_constraint(FOREIGN_KEY, "campaigns", type_="foreignkey")
    op.drop_column("campaigns", "previous_campaign_id")

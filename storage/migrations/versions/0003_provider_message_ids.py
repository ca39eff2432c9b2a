"""Message ids of any channel: ``provider_message_id`` and ``status_message_id`` become strings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

The outbox now sends through one transport per channel. Telegram's message
ids are integers, WeCom's are strings, so:

- ``outbox_messages.telegram_message_id`` (BIGINT) becomes
  ``provider_message_id`` (VARCHAR(128)); every stored id is kept as its
  decimal string;
- ``outbox_batches.status_message_id`` (BIGINT: the coordinator's status
  message, which may now live in another channel) becomes VARCHAR(128) the
  same way.

Each column is replaced the same way on both databases: a new VARCHAR column
is added, filled with ``CAST(old AS VARCHAR(128))``, the old column dropped
and the new one renamed (SQLite 3.35 or later). No table is rebuilt: on
SQLite, rebuilding ``outbox_batches`` (batch mode) would drop it, and with
foreign keys on that deletes every message of every batch (``ON DELETE
CASCADE``). Downgrading turns the ids back into integers; an id that is not
one (a non-Telegram channel's) is dropped, since a BIGINT cannot hold it.

Migrations are self-contained: they use plain SQLAlchemy types, never the
models of :mod:`storage.models`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROVIDER_MESSAGE_ID = sa.String(length=128)


def _replace_column(table: str, old: str, new: str, type_: sa.types.TypeEngine[object], sql_type: str) -> None:
    """Replace ``table.old`` by ``table.new`` of ``type_``, every value cast, without rebuilding the table."""
    scratch = f"{new}_new"
    op.add_column(table, sa.Column(scratch, type_, nullable=True))
    op.execute(f"UPDATE {table} SET {scratch} = CAST({old} AS {sql_type}) WHERE {old} IS NOT NULL")
    op.drop_column(table, old)
    op.alter_column(table, scratch, new_column_name=new, existing_type=type_, existing_nullable=True)


def upgrade() -> None:
    _replace_column("outbox_messages", "telegram_message_id", "provider_message_id", PROVIDER_MESSAGE_ID, "VARCHAR(128)")
    _replace_column("outbox_batches", "status_message_id", "status_message_id", PROVIDER_MESSAGE_ID, "VARCHAR(128)")


def _forget_non_integer_ids(table: str, column: str) -> None:
    """Set to NULL the ids a BIGINT cannot hold (sent through another channel than Telegram)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
    for row_id, value in rows:
        text = str(value)
        if not text.lstrip("-").isdigit() or len(text) > 18:
            bind.execute(sa.text(f"UPDATE {table} SET {column} = NULL WHERE id = :id"), {"id": row_id})


def downgrade() -> None:
    _forget_non_integer_ids("outbox_batches", "status_message_id")
    _forget_non_integer_ids("outbox_messages", "provider_message_id")
    _replace_column("outbox_batches", "status_message_id", "status_message_id", sa.BigInteger(), "BIGINT")
    _replace_column("outbox_messages", "provider_message_id", "telegram_message_id", sa.BigInteger(), "BIGINT")

"""Processed inbound updates: the ids of updates already handled, per channel.

A channel claims an update id inside the same transaction that applies the
update; a redelivered update finds its id taken and changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidValueError
from storage.models import CHANNEL_LENGTH, ProcessedUpdate
from storage.rows import aware_now, insert_ignoring_duplicates, require_aware

logger = logging.getLogger(__name__)

UPDATE_ID_MAX_LENGTH = 128


async def claim_update(
    *, session: AsyncSession, channel: str, update_id: str | int, now: datetime | None = None
) -> bool:
    """Record the update as processed; False if it was already (a redelivery).

    On PostgreSQL a concurrent claim of the same id waits for the first
    transaction and then reports False; the claim is undone if the calling
    transaction rolls back.
    """
    update_key = str(update_id)
    if not channel or len(channel) > CHANNEL_LENGTH:
        raise InvalidValueError(f"bad channel name {channel!r}")
    if not update_key or len(update_key) > UPDATE_ID_MAX_LENGTH:
        raise InvalidValueError(f"bad update id {update_key!r}")

    # One INSERT ... ON CONFLICT DO NOTHING: this runs for every update, so no
    # select-then-insert and no savepoint.
    created = await insert_ignoring_duplicates(
        session,
        ProcessedUpdate,
        {"channel": channel, "update_id": update_key, "processed_at": aware_now(now)},
        unique=("channel", "update_id"),
    )
    if not created:
        logger.info("update %s:%s was processed already", channel, update_key)
    return created


async def prune_processed_updates(*, session: AsyncSession, older_than: datetime) -> int:
    """Forget update ids processed before ``older_than`` (channels redeliver within hours)."""
    require_aware(older_than, "older_than")
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < older_than)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

"""The durable inbox: inbound updates recorded before they are acknowledged, then handled.

A channel records each update (its dedup key claimed, its payload kept) in
one transaction before it tells the provider the update arrived; a
redelivered update finds its key taken and is not recorded again. Recording
also claims the row for the recording process (``claimed_until``, a lease);
when the lease runs out before the row is marked handled (the process died,
or the handling failed and was released), the row can be claimed again.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Insert, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidValueError
from storage.models import CHANNEL_LENGTH, InboundUpdate
from storage.rows import require_aware

logger = logging.getLogger(__name__)

DEDUP_KEY_MAX_LENGTH = 128
#: How much of a handler's error is kept in ``last_error``.
ERROR_MAX_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """A recorded update claimed by this process: what a channel needs to handle it."""

    id: int
    channel: str
    dedup_key: str
    payload: str
    #: How many handlings were started, this one included.
    attempts: int
    #: How many handlings raised before this one.
    failures: int = 0


@dataclass(frozen=True, slots=True)
class ArrivedUpdate:
    """An update as it arrived: its dedup key (the provider's update id) and its JSON text."""

    dedup_key: str
    payload: str


async def record_updates(
    *,
    session: AsyncSession,
    channel: str,
    updates: Sequence[ArrivedUpdate],
    now: datetime,
    claimed_until: datetime,
) -> list[InboxEntry]:
    """Record the updates not recorded before, claimed until ``claimed_until``; the new ones, in order.

    An update whose key is already recorded (a redelivery, or a second
    process that got the same update) is left out: whoever recorded it first
    handles it.
    """
    _check_channel(channel)
    require_aware(now, "now")
    require_aware(claimed_until, "claimed_until")
    statement = _record_statement(session.get_bind().dialect.name)
    connection = await session.connection()
    recorded: list[InboxEntry] = []
    for arrived in updates:
        if not arrived.dedup_key or len(arrived.dedup_key) > DEDUP_KEY_MAX_LENGTH:
            raise InvalidValueError(f"bad dedup key {arrived.dedup_key!r} for channel {channel!r}")
        result = await connection.execute(
            statement,
            {
                "channel": channel,
                "dedup_key": arrived.dedup_key,
                "payload": arrived.payload,
                "received_at": now,
                "claimed_until": claimed_until,
                "attempts": 1,
            },
        )
        row_id = result.scalar_one_or_none()
        if row_id is None:
            logger.info("update %s:%s was recorded already", channel, arrived.dedup_key)
            continue
        recorded.append(
            InboxEntry(id=row_id, channel=channel, dedup_key=arrived.dedup_key, payload=arrived.payload, attempts=1)
        )
    return recorded


@functools.cache
def _record_statement(dialect_name: str) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (
        dialect.insert(InboundUpdate)
        .on_conflict_do_nothing(index_elements=["channel", "dedup_key"])
        .returning(InboundUpdate.id)
    )


async def claim_pending(
    *,
    session: AsyncSession,
    channel: str,
    now: datetime,
    claimed_until: datetime,
    max_failures: int,
    max_attempts: int,
    limit: int = 100,
    ignore_leases: bool = False,
    after_id: int | None = None,
) -> list[InboxEntry]:
    """Claim the recorded updates nobody is handling, oldest first; give up on the ones tried too often.

    A row is pending when it is neither handled nor failed and its lease has
    run out (or ``ignore_leases``: on start-up, what an earlier process of
    this deployment left is taken at once; ``after_id`` pages through it, so
    that a start-up recovery of more than ``limit`` rows takes them all without
    taking its own earlier pages again). A row whose handler raised
    ``max_failures`` times, or whose handling was started ``max_attempts``
    times (a process killed in the middle counts: an update that kills the
    process must not do so forever), is marked failed instead and logged: it
    never blocks the others.
    """
    _check_channel(channel)
    require_aware(now, "now")
    require_aware(claimed_until, "claimed_until")
    query = (
        select(InboundUpdate)
        .where(
            InboundUpdate.channel == channel,
            InboundUpdate.handled_at.is_(None),
            InboundUpdate.failed_at.is_(None),
        )
        .order_by(InboundUpdate.id)
        .limit(limit)
    )
    if not ignore_leases:
        query = query.where(or_(InboundUpdate.claimed_until.is_(None), InboundUpdate.claimed_until <= now))
    if after_id is not None:
        query = query.where(InboundUpdate.id > after_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(await session.scalars(query))
    claimed: list[InboxEntry] = []
    for row in rows:
        if row.failures >= max_failures or row.attempts >= max_attempts:
            row.failed_at = now
            row.claimed_until = None
            logger.error(
                "update %s:%s given up after %d handlings (%d failed); last error: %s",
                channel,
                row.dedup_key,
                row.attempts,
                row.failures,
                row.last_error or "none: the process stopped while handling it",
            )
            continue
        row.attempts += 1
        row.claimed_until = claimed_until
        claimed.append(
            InboxEntry(
                id=row.id,
                channel=channel,
                dedup_key=row.dedup_key,
                payload=row.payload,
                attempts=row.attempts,
                failures=row.failures,
            )
        )
    await session.flush()
    return claimed


async def mark_handled(*, session: AsyncSession, entry_ids: Sequence[int], now: datetime) -> None:
    """The updates were handled: they are never claimed again."""
    require_aware(now, "now")
    if not entry_ids:
        return
    await session.execute(
        update(InboundUpdate)
        .where(InboundUpdate.id.in_(list(entry_ids)))
        .values(handled_at=now, claimed_until=None)
    )


async def release_failed(
    *, session: AsyncSession, entry_id: int, error: str, retry_at: datetime
) -> None:
    """A handling failed: count it, keep the error and let the update be claimed again from ``retry_at``."""
    require_aware(retry_at, "retry_at")
    await session.execute(
        update(InboundUpdate)
        .where(InboundUpdate.id == entry_id, InboundUpdate.handled_at.is_(None))
        .values(
            claimed_until=retry_at,
            failures=InboundUpdate.failures + 1,
            last_error=error[:ERROR_MAX_LENGTH],
        )
    )


async def prune_handled_updates(*, session: AsyncSession, older_than: datetime) -> int:
    """Forget handled and failed updates received before ``older_than``."""
    require_aware(older_than, "older_than")
    result = await session.execute(
        delete(InboundUpdate).where(
            InboundUpdate.received_at < older_than,
            or_(InboundUpdate.handled_at.is_not(None), InboundUpdate.failed_at.is_not(None)),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _check_channel(channel: str) -> None:
    if not channel or len(channel) > CHANNEL_LENGTH:
        raise InvalidValueError(f"bad channel name {channel!r}: 1 to {CHANNEL_LENGTH} characters")

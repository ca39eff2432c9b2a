"""Coordinators: the chat accounts allowed to run coordinator commands.

An account is a coordinator if it is stored here (``surveybot admin add``) or,
for Telegram, listed in ``SURVEYBOT_ADMIN_IDS``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Channel, Coordinator
from storage.respondents import check_account
from storage.rows import aware_now, insert_unless_exists

logger = logging.getLogger(__name__)


async def find_coordinator(
    *, session: AsyncSession, channel: str, external_id: str | int
) -> Coordinator | None:
    channel, account = check_account(channel, external_id)
    return await session.scalar(
        select(Coordinator).where(
            Coordinator.channel == channel, Coordinator.external_id == account
        )
    )


async def add_coordinator(
    *,
    session: AsyncSession,
    channel: str,
    external_id: str | int,
    now: datetime | None = None,
) -> tuple[Coordinator, bool]:
    """Store the account as a coordinator; returns the row and whether it is new."""
    channel, account = check_account(channel, external_id)

    async def existing() -> Coordinator | None:
        return await find_coordinator(session=session, channel=channel, external_id=account)

    row, created = await insert_unless_exists(
        session,
        Coordinator(channel=channel, external_id=account, added_at=aware_now(now)),
        existing=existing,
    )
    if created:
        logger.info("coordinator %s:%s added", channel, account)
    return row, created


async def remove_coordinator(
    *, session: AsyncSession, channel: str, external_id: str | int
) -> bool:
    """Remove a stored coordinator; False if the account was not one."""
    row = await find_coordinator(session=session, channel=channel, external_id=external_id)
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    logger.info("coordinator %s:%s removed", row.channel, row.external_id)
    return True


async def list_coordinators(*, session: AsyncSession) -> list[Coordinator]:
    return list(
        await session.scalars(
            select(Coordinator).order_by(Coordinator.channel, Coordinator.added_at, Coordinator.id)
        )
    )


def configured_coordinator(*, telegram_ids: Collection[int], channel: str, external_id: str | int) -> bool:
    """Whether the account is a coordinator through ``SURVEYBOT_ADMIN_IDS`` (``telegram_ids``)."""
    if channel != Channel.TELEGRAM:
        return False
    try:
        return int(str(external_id).strip()) in telegram_ids
    except ValueError:
        return False


async def is_coordinator(
    *, session: AsyncSession, telegram_ids: Collection[int], channel: str, external_id: str | int
) -> bool:
    """Whether the account may run coordinator commands (stored, or configured by ``telegram_ids``)."""
    if configured_coordinator(telegram_ids=telegram_ids, channel=channel, external_id=external_id):
        return True
    return await find_coordinator(session=session, channel=channel, external_id=external_id) is not None

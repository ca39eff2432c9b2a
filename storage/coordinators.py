"""Coordinators: the chat accounts allowed to run coordinator commands.

An account is a coordinator if it is stored here (``surveybot admin add``) or,
for Telegram, listed in ``SURVEYBOT_ADMIN_IDS``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Channel, Coordinator
from storage.respondents import check_account
from storage.rows import aware_now, insert_unless_exists

if TYPE_CHECKING:
    from bot.settings import Settings

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


def configured_coordinator(*, settings: Settings, channel: str, external_id: str | int) -> bool:
    """Whether the account is a coordinator through ``SURVEYBOT_ADMIN_IDS`` (Telegram ids)."""
    if channel != Channel.TELEGRAM:
        return False
    try:
        return int(str(external_id).strip()) in settings.admin_ids
    except ValueError:
        return False


async def is_coordinator(
    *, session: AsyncSession, settings: Settings, channel: str, external_id: str | int
) -> bool:
    """Whether the account may run coordinator commands."""
    if configured_coordinator(settings=settings, channel=channel, external_id=external_id):
        return True
    return await find_coordinator(session=session, channel=channel, external_id=external_id) is not None

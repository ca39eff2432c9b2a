"""Respondents (chat accounts) and their bindings to the units they answer for."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.errors import InvalidValueError
from storage.models import (
    CHANNEL_LENGTH,
    EXTERNAL_ID_LENGTH,
    Campaign,
    CampaignStatus,
    Invitation,
    Respondent,
    RespondentUnit,
    Response,
    Unit,
)
from storage.rows import aware_now, insert_unless_exists, require_in_session

logger = logging.getLogger(__name__)

#: How stale ``Respondent.last_seen_at`` may get before a message refreshes it.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def check_account(channel: str, external_id: str | int) -> tuple[str, str]:
    """The (channel, external id) pair as stored; external ids are strings."""
    channel = str(channel).strip()
    account = str(external_id).strip()
    if not channel or len(channel) > CHANNEL_LENGTH:
        raise InvalidValueError(f"bad channel name {channel!r}")
    if not account or len(account) > EXTERNAL_ID_LENGTH:
        raise InvalidValueError(f"bad external id {account!r} for channel {channel}")
    return channel, account


async def find_respondent(
    *, session: AsyncSession, channel: str, external_id: str | int
) -> Respondent | None:
    channel, account = check_account(channel, external_id)
    return await session.scalar(_FIND_RESPONDENT, {"channel": channel, "external_id": account})


# Built once, as they run for most updates: a reused statement keeps its cache key.
_FIND_RESPONDENT = select(Respondent).where(
    Respondent.channel == bindparam("channel"), Respondent.external_id == bindparam("external_id")
)
_FIND_BINDING = select(RespondentUnit).where(
    RespondentUnit.respondent_id == bindparam("respondent_id"), RespondentUnit.unit_id == bindparam("unit_id")
)


async def get_or_create_respondent(
    *,
    session: AsyncSession,
    channel: str,
    external_id: str | int,
    display_name: str | None = None,
    language: str | None = None,
    default_language: str | None = None,
    now: datetime | None = None,
) -> Respondent:
    """The account's respondent row, created on first contact.

    ``default_language`` (e.g. the chat app's language) is stored only while the
    account has none, so it never overrides a language the person chose.
    ``display_name`` and ``language`` refresh the stored values when given,
    and ``last_seen_at`` is set to ``now`` when it is older than
    :data:`LAST_SEEN_RESOLUTION` (this runs for every update; a write per
    message would buy nothing). Changes are flushed with the transaction.
    """
    channel, account = check_account(channel, external_id)
    moment = aware_now(now)

    async def existing() -> Respondent | None:
        return await find_respondent(session=session, channel=channel, external_id=account)

    refresh = partial(
        refresh_respondent, display_name=display_name, language=language, default_language=default_language, now=moment
    )
    new = Respondent(channel=channel, external_id=account, unreachable=False, created_at=moment)
    refresh(new)  # a new row is inserted complete, not inserted then updated
    respondent, created = await insert_unless_exists(session, new, existing=existing)
    if created:
        logger.info("new respondent %s:%s", channel, account)
    else:
        refresh(respondent)
    return respondent


def refresh_respondent(
    respondent: Respondent,
    *,
    display_name: str | None = None,
    language: str | None = None,
    default_language: str | None = None,
    now: datetime,
) -> None:
    """Update what the channel told us about the account, as :func:`get_or_create_respondent` describes."""
    if display_name and respondent.display_name != display_name:
        respondent.display_name = display_name[:200]
    if language and respondent.language != language:
        respondent.language = language[:16]
    elif default_language and not respondent.language:
        respondent.language = default_language[:16]
    if respondent.last_seen_at is None or now - respondent.last_seen_at >= LAST_SEEN_RESOLUTION:
        respondent.last_seen_at = now


async def bind_respondent(
    *,
    session: AsyncSession,
    respondent: Respondent,
    unit: Unit,
    invitation: Invitation | None = None,
) -> tuple[RespondentUnit, bool]:
    """Let ``respondent`` answer for ``unit``; returns the binding and whether it is new."""

    async def existing() -> RespondentUnit | None:
        return await session.scalar(_FIND_BINDING, {"respondent_id": respondent.id, "unit_id": unit.id})

    binding, created = await insert_unless_exists(
        session,
        RespondentUnit(
            respondent_id=respondent.id,
            unit_id=unit.id,
            invitation_id=invitation.id if invitation is not None else None,
        ),
        existing=existing,
    )
    if created:
        logger.info("respondent %s now answers for unit %s", respondent.id, unit.id)
    return binding, created


async def list_bindings(
    *, session: AsyncSession, respondent: Respondent, open_only: bool = False
) -> list[RespondentUnit]:
    """The respondent's units (unit, its campaign and response loaded), newest campaign first."""
    statement = (
        select(RespondentUnit)
        .join(Unit, RespondentUnit.unit_id == Unit.id)
        .join(Campaign, Unit.campaign_id == Campaign.id)
        .where(RespondentUnit.respondent_id == respondent.id)
        .order_by(Campaign.id.desc(), Unit.position)
        .options(
            selectinload(RespondentUnit.unit).selectinload(Unit.campaign),
            selectinload(RespondentUnit.unit).selectinload(Unit.response),
        )
    )
    if open_only:
        statement = statement.where(Campaign.status == CampaignStatus.OPEN)
    return list(await session.scalars(statement))


async def list_unit_respondents(*, session: AsyncSession, unit: Unit) -> list[Respondent]:
    """The accounts bound to ``unit``, in the order they joined."""
    return list(
        await session.scalars(
            select(Respondent)
            .join(RespondentUnit, RespondentUnit.respondent_id == Respondent.id)
            .where(RespondentUnit.unit_id == unit.id)
            .order_by(RespondentUnit.id)
        )
    )


async def unbind_unit(
    *, session: AsyncSession, unit: Unit, respondent_ids: list[int] | None = None
) -> int:
    """Remove bindings to ``unit`` (all, or those of ``respondent_ids``); returns how many.

    A respondent whose active response was this unit's has none afterwards.
    """
    condition = RespondentUnit.unit_id == unit.id
    if respondent_ids is not None:
        if not respondent_ids:
            return 0
        condition = condition & RespondentUnit.respondent_id.in_(respondent_ids)
    bound = list(await session.scalars(select(RespondentUnit.respondent_id).where(condition)))
    if not bound:
        return 0
    response_id = select(Response.id).where(Response.unit_id == unit.id).scalar_subquery()
    await session.execute(
        update(Respondent)
        .where(Respondent.id.in_(bound), Respondent.active_response_id == response_id)
        .values(active_response_id=None)
        .execution_options(synchronize_session="fetch")
    )
    await session.execute(
        delete(RespondentUnit).where(condition).execution_options(synchronize_session="fetch")
    )
    logger.info("unit %s: removed %d respondent binding(s)", unit.id, len(bound))
    return len(bound)


async def set_active_response(
    *, session: AsyncSession, respondent: Respondent, response: Response | None
) -> None:
    require_in_session(session, respondent, "respondent")
    respondent.active_response_id = response.id if response is not None else None
    await session.flush()


async def mark_unreachable(
    *, session: AsyncSession, respondent: Respondent, reason: str, now: datetime | None = None
) -> None:
    """Messages cannot reach the account (blocked the bot, deleted...)."""
    require_in_session(session, respondent, "respondent")
    if not respondent.unreachable:
        respondent.unreachable_since = aware_now(now)
    respondent.unreachable = True
    respondent.unreachable_reason = reason[:500]
    await session.flush()


async def mark_reachable(*, session: AsyncSession, respondent: Respondent) -> None:
    """The account wrote to us again: it can be reached."""
    require_in_session(session, respondent, "respondent")
    respondent.unreachable = False
    respondent.unreachable_reason = None
    respondent.unreachable_since = None
    await session.flush()

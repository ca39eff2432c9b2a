"""A unit's contact e-mail: a respondent of channel ``email`` bound to the unit.

The address is stored like any chat account (channel ``email``, external id
the address lower-cased), so the outbox's per-channel claims, the audience
queries, the unreachable marks of ``/status`` and the workbook's 进度 sheet
treat it as they treat a Telegram account. It only receives reminders and
broadcasts; answering happens through the unit's personal web link.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Channel, Respondent, RespondentUnit, Unit
from storage.respondents import bind_respondent, get_or_create_respondent
from storage.rosters import check_email_address

logger = logging.getLogger(__name__)


async def add_email_contact(
    *, session: AsyncSession, unit: Unit, address: str, now: datetime | None = None
) -> tuple[Respondent, bool]:
    """Bind the address to ``unit`` (creating its respondent); returns it and whether the binding is new.

    Raises :class:`~storage.errors.InvalidValueError` for a malformed address.
    """
    respondent = await get_or_create_respondent(
        session=session, channel=Channel.EMAIL.value, external_id=check_email_address(address), now=now
    )
    _, created = await bind_respondent(session=session, respondent=respondent, unit=unit)
    return respondent, created


async def units_language(*, session: AsyncSession, unit_ids: Collection[int]) -> str | None:
    """The language the people answering for these units use (the most recently seen who has one), or None.

    For a contact address, which has no language of its own: its e-mails
    speak the language of the unit's web chat or Telegram accounts.
    """
    if not unit_ids:
        return None
    statement = (
        select(Respondent.language)
        .join(RespondentUnit, RespondentUnit.respondent_id == Respondent.id)
        .where(
            RespondentUnit.unit_id.in_(list(unit_ids)),
            Respondent.channel != Channel.EMAIL.value,
            Respondent.language.is_not(None),
        )
        .order_by(Respondent.last_seen_at.desc().nulls_last(), Respondent.id.desc())
        .limit(1)
    )
    return await session.scalar(statement)

"""Who a reminder or a broadcast is for: the bound respondents of a campaign's units.

A reminder goes to the respondents of the units that have not submitted; a
broadcast to every bound respondent. A respondent bound to several units of
one campaign is one recipient (one message). Only accounts of the given
channels count: those an outbox sender serves (a row for a channel nobody
sends through would stay pending and hold its batch open).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Channel, Respondent, RespondentUnit, Response, ResponseStatus, Unit


@dataclass(frozen=True, slots=True)
class Audience:
    """The recipients of one batch, and the units they stand for."""

    #: Names of the units (roster order) that have at least one recipient.
    units: tuple[str, ...]
    #: The recipients, each once, in the order they joined.
    respondent_ids: tuple[int, ...]
    #: Names of the units concerned that nobody can be messaged for (no one bound yet).
    units_without_respondents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecipientUnit:
    """One unit a recipient answers for in a campaign, with its response."""

    unit_id: int
    name: str
    position: int
    response: Response


async def _audience(
    session: AsyncSession, *, campaign_id: int, channels: Collection[str], pending_only: bool
) -> Audience:
    unit_rows = await session.execute(
        select(Unit.id, Unit.name, Response.status)
        .join(Response, Response.unit_id == Unit.id)
        .where(Unit.campaign_id == campaign_id)
        .order_by(Unit.position)
    )
    units = [
        (unit_id, name)
        for unit_id, name, status in unit_rows
        if not pending_only or status is not ResponseStatus.SUBMITTED
    ]
    wanted = {unit_id for unit_id, _ in units}
    bound: defaultdict[int, list[int]] = defaultdict(list)
    binding_rows = await session.execute(
        select(RespondentUnit.unit_id, RespondentUnit.respondent_id)
        .join(Respondent, Respondent.id == RespondentUnit.respondent_id)
        .join(Unit, Unit.id == RespondentUnit.unit_id)
        .where(Unit.campaign_id == campaign_id, Respondent.channel.in_(list(channels)))
        .order_by(RespondentUnit.id)
    )
    for unit_id, respondent_id in binding_rows:
        if unit_id in wanted:
            bound[unit_id].append(respondent_id)
    respondents: dict[int, None] = {}
    for unit_id, _ in units:
        for respondent_id in bound[unit_id]:
            respondents.setdefault(respondent_id)
    return Audience(
        units=tuple(name for unit_id, name in units if bound[unit_id]),
        respondent_ids=tuple(respondents),
        units_without_respondents=tuple(name for unit_id, name in units if not bound[unit_id]),
    )


#: The channels an outbox sender serves unless told otherwise.
DEFAULT_OUTBOX_CHANNELS: tuple[str, ...] = (Channel.TELEGRAM.value,)


async def reminder_audience(
    *, session: AsyncSession, campaign_id: int, channels: Collection[str] = DEFAULT_OUTBOX_CHANNELS
) -> Audience:
    """The respondents (accounts of ``channels``) of the campaign's units that have not submitted."""
    return await _audience(session, campaign_id=campaign_id, channels=channels, pending_only=True)


async def broadcast_audience(
    *, session: AsyncSession, campaign_id: int, channels: Collection[str] = DEFAULT_OUTBOX_CHANNELS
) -> Audience:
    """Every respondent (account of ``channels``) bound to a unit of the campaign."""
    return await _audience(session, campaign_id=campaign_id, channels=channels, pending_only=False)


async def recipient_units(
    *, session: AsyncSession, respondent_id: int, campaign_id: int
) -> list[RecipientUnit]:
    """The units of the campaign the respondent answers for now, in roster order."""
    rows = await session.execute(
        select(Unit.id, Unit.name, Unit.position, Response)
        .join(RespondentUnit, RespondentUnit.unit_id == Unit.id)
        .join(Response, Response.unit_id == Unit.id)
        .where(RespondentUnit.respondent_id == respondent_id, Unit.campaign_id == campaign_id)
        .order_by(Unit.position)
    )
    return [
        RecipientUnit(unit_id=unit_id, name=name, position=position, response=response)
        for unit_id, name, position, response in rows
    ]


async def unit_names_by_respondent(
    *, session: AsyncSession, campaign_id: int, respondent_ids: list[int]
) -> dict[int, list[str]]:
    """For each respondent, the names of the campaign's units they answer for."""
    if not respondent_ids:
        return {}
    names: defaultdict[int, list[str]] = defaultdict(list)
    rows = await session.execute(
        select(RespondentUnit.respondent_id, Unit.name)
        .join(Unit, Unit.id == RespondentUnit.unit_id)
        .where(Unit.campaign_id == campaign_id, RespondentUnit.respondent_id.in_(respondent_ids))
        .order_by(Unit.position)
    )
    for respondent_id, name in rows:
        names[respondent_id].append(name)
    return dict(names)

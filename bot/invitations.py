"""The coordinator's invitations: issue, revoke and re-issue units' links, and add units to a roster.

Storage keeps only the sha256 of a token (:mod:`storage.invitations`), so a
link can be shown only when it is issued: :meth:`InvitationService.issue`,
:meth:`~InvitationService.reissue` and :meth:`~InvitationService.add_units`
return the plain tokens, and nothing else ever can. Every entry point checks
the asking account (:meth:`bot.coordination.CoordinatorService.authorize`).
Results are plain data, never database rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import CoordinatorService, campaign_summary
from bot.core.campaigns import CampaignSummary
from bot.service import ChannelUser
from storage.campaigns import get_campaign
from storage.contacts import add_email_contact
from storage.database import Database
from storage.errors import NotFoundError
from storage.invitations import create_invitation, find_campaign_unit, list_campaign_invitations, revoke_invitations
from storage.models import CampaignStatus, Unit
from storage.rosters import RosterProblem, RosterProblemKind, list_units, parse_roster
from storage.rosters import add_units as add_roster_units
from storage.types import utc_now

logger = logging.getLogger(__name__)

#: The most units one pasted roster may add (a city's roster is a few hundred).
MAX_UNITS_PER_ADD = 2000


class UnitNotOnRosterError(NotFoundError):
    """The unit id names no unit of the campaign (a crafted or stale URL)."""


class InvitationRefusal(StrEnum):
    """Why an action issuing links was not done."""

    CAMPAIGN_CLOSED = "campaign_closed"


@dataclass(frozen=True, slots=True)
class UnitInvitations:
    """One unit of the roster and its invitations' state (never a token: only hashes are stored)."""

    unit_id: int
    name: str
    #: The ids of its invitations that still open the unit (not revoked, not expired).
    live: tuple[int, ...]
    revoked: int


@dataclass(frozen=True, slots=True)
class InvitationRoster:
    campaign: CampaignSummary
    units: tuple[UnitInvitations, ...]


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A token just issued for a unit: shown now, or never."""

    unit_id: int
    unit_name: str
    invitation_id: int
    token: str


@dataclass(frozen=True, slots=True)
class Issued:
    """The links an action issued, or why it issued none."""

    links: tuple[IssuedLink, ...] = ()
    refusal: InvitationRefusal | None = None


@dataclass(frozen=True, slots=True)
class AddedUnits:
    """Units added from a pasted roster with their new links; or every bad line and nothing added."""

    links: tuple[IssuedLink, ...] = ()
    errors: tuple[RosterProblem, ...] = ()
    #: Names (with their line) already on the roster: nothing is added then either.
    already_listed: tuple[tuple[int, str], ...] = ()
    refusal: InvitationRefusal | None = None
    empty: bool = False
    too_many: bool = False

    @property
    def added(self) -> bool:
        return bool(self.links)


class InvitationService:
    """Invitations of a campaign's units, for a coordinator (checked on every call)."""

    def __init__(
        self,
        *,
        database: Database,
        coordination: CoordinatorService,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.database = database
        self.coordination = coordination
        self.clock = clock

    async def roster(self, *, user: ChannelUser, campaign_id: int) -> InvitationRoster:
        """The campaign and each unit's invitations; :class:`~storage.errors.CampaignNotFoundError`."""
        await self.coordination.authorize(user=user, command="invitations")
        now = self.clock()
        async with self.database.read() as session:
            campaign = campaign_summary(await get_campaign(session=session, campaign_id=campaign_id))
            units = await list_units(session=session, campaign=campaign_id)
            invitations = await list_campaign_invitations(session=session, campaign_id=campaign_id)
        live: dict[int, list[int]] = {unit.id: [] for unit in units}
        revoked: dict[int, int] = dict.fromkeys(live, 0)
        for invitation in invitations:
            if invitation.revoked_at is not None:
                revoked[invitation.unit_id] += 1
            elif invitation.expires_at is None or invitation.expires_at > now or invitation.used_by_respondent_id:
                live[invitation.unit_id].append(invitation.id)
        return InvitationRoster(
            campaign=campaign,
            units=tuple(
                UnitInvitations(unit_id=unit.id, name=unit.name, live=tuple(live[unit.id]), revoked=revoked[unit.id])
                for unit in units
            ),
        )

    async def issue(self, *, user: ChannelUser, campaign_id: int, unit_ids: Sequence[int] | None = None) -> Issued:
        """A new link for each unit named (every unit without ``unit_ids``); earlier links keep working."""
        await self.coordination.authorize(user=user, command="invitations issue")
        now = self.clock()
        links: list[IssuedLink] = []
        async with self.database.transaction() as session:
            campaign = await get_campaign(session=session, campaign_id=campaign_id, for_update=True)
            if campaign.status is not CampaignStatus.OPEN:
                return Issued(refusal=InvitationRefusal.CAMPAIGN_CLOSED)
            units = await list_units(session=session, campaign=campaign)
            if unit_ids is not None:
                wanted = set(unit_ids)
                units = [unit for unit in units if unit.id in wanted]
                if len(units) != len(wanted):
                    raise UnitNotOnRosterError(f"campaign {campaign_id} has no unit among {sorted(wanted)}")
            for unit in units:
                invitation, token = await create_invitation(session=session, unit=unit, now=now)
                links.append(IssuedLink(unit_id=unit.id, unit_name=unit.name, invitation_id=invitation.id, token=token))
        logger.info("campaign %s: %s:%s issued %d link(s)", campaign_id, user.channel, user.external_id, len(links))
        return Issued(links=tuple(links))

    async def revoke(self, *, user: ChannelUser, campaign_id: int, unit_id: int) -> int:
        """Revoke every link of the unit, used ones too: none of them opens the unit any more.

        Chat accounts that joined through one lose the unit; the answers stay
        with the unit. Returns how many links were revoked.
        """
        await self.coordination.authorize(user=user, command="invitations revoke")
        async with self.database.transaction() as session:
            unit = await self._unit(session, campaign_id, unit_id)
            revoked = await revoke_invitations(session=session, unit=unit, include_used=True, now=self.clock())
        logger.info(
            "campaign %s: %s:%s revoked %d link(s) of unit %s", campaign_id, user.channel, user.external_id, len(revoked), unit_id
        )
        return len(revoked)

    async def reissue(self, *, user: ChannelUser, campaign_id: int, unit_id: int) -> Issued:
        """Revoke every link of the unit and issue a new one, in one transaction."""
        await self.coordination.authorize(user=user, command="invitations reissue")
        now = self.clock()
        async with self.database.transaction() as session:
            campaign = await get_campaign(session=session, campaign_id=campaign_id, for_update=True)
            unit = await self._unit(session, campaign_id, unit_id)
            if campaign.status is not CampaignStatus.OPEN:
                return Issued(refusal=InvitationRefusal.CAMPAIGN_CLOSED)
            await revoke_invitations(session=session, unit=unit, include_used=True, now=now)
            invitation, token = await create_invitation(session=session, unit=unit, now=now)
        logger.info("campaign %s: %s:%s re-issued the link of unit %s", campaign_id, user.channel, user.external_id, unit_id)
        return Issued(links=(IssuedLink(unit_id=unit_id, unit_name=unit.name, invitation_id=invitation.id, token=token),))

    async def add_units(self, *, user: ChannelUser, campaign_id: int, roster_text: str) -> AddedUnits:
        """Add the units of a pasted roster (``surveybot campaign create --units-file``'s format), each with a link.

        All or nothing: with any bad line, or a unit already on the roster,
        nothing is added and every such line is reported.
        """
        await self.coordination.authorize(user=user, command="invitations add units")
        parsed = parse_roster(roster_text)
        if any(problem.kind is RosterProblemKind.NO_UNITS for problem in parsed.problems):
            return AddedUnits(empty=True)
        if parsed.problems:
            return AddedUnits(errors=parsed.problems)
        if len(parsed.lines) > MAX_UNITS_PER_ADD:
            return AddedUnits(too_many=True)
        now = self.clock()
        links: list[IssuedLink] = []
        async with self.database.transaction() as session:
            campaign = await get_campaign(session=session, campaign_id=campaign_id, for_update=True)
            if campaign.status is not CampaignStatus.OPEN:
                return AddedUnits(refusal=InvitationRefusal.CAMPAIGN_CLOSED)
            existing = {unit.name for unit in await list_units(session=session, campaign=campaign)}
            already = tuple(
                (number, line.name)
                for number, line in zip(parsed.line_numbers, parsed.lines, strict=True)
                if line.name in existing
            )
            if already:
                return AddedUnits(already_listed=already)
            units = await add_roster_units(session=session, campaign=campaign, names=[line.name for line in parsed.lines])
            for unit, line in zip(units, parsed.lines, strict=True):
                if line.email is not None:
                    await add_email_contact(session=session, unit=unit, address=line.email, now=now)
                invitation, token = await create_invitation(session=session, unit=unit, now=now)
                links.append(IssuedLink(unit_id=unit.id, unit_name=unit.name, invitation_id=invitation.id, token=token))
        logger.info("campaign %s: %s:%s added %d unit(s)", campaign_id, user.channel, user.external_id, len(links))
        return AddedUnits(links=tuple(links))

    @staticmethod
    async def _unit(session: AsyncSession, campaign_id: int, unit_id: int) -> Unit:
        """The unit of the campaign, or :class:`UnitNotOnRosterError` (also for another campaign's unit)."""
        await get_campaign(session=session, campaign_id=campaign_id)  # CampaignNotFoundError first
        unit = await find_campaign_unit(session=session, campaign_id=campaign_id, unit_id=unit_id)
        if unit is None:
            raise UnitNotOnRosterError(f"campaign {campaign_id} has no unit with id {unit_id}")
        return unit

"""The coordinator's side: who may ask, which campaigns there are, where each stands.

Every entry point takes the asking account and checks it on every call (the
configured ``SURVEYBOT_ADMIN_IDS`` or the coordinators table); a refusal is
logged with the account and the command. Channels render the results.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from bot.service import ChannelUser
from bot.settings import Settings
from storage.campaigns import CampaignProgress, get_campaign, list_campaigns
from storage.coordinators import is_coordinator
from storage.database import Database
from storage.errors import CampaignNotFoundError
from storage.models import Campaign, CampaignStatus, ResponseStatus
from storage.progress import UnitProgress, list_unit_progress
from storage.types import utc_now

logger = logging.getLogger(__name__)


class NotCoordinatorError(Exception):
    """The account may not run coordinator commands."""


class ExportedFiles(Protocol):
    """What an export wrote (``exports.ExportResult`` has it)."""

    @property
    def workbook(self) -> Path: ...

    @property
    def bundle(self) -> Path | None: ...

    @property
    def units(self) -> int: ...

    @property
    def submitted(self) -> int: ...

    @property
    def attachments(self) -> int: ...


class CampaignExporter(Protocol):
    """Writes a campaign's workbook (and zip) into ``directory``; wired in by :mod:`bot.cli`."""

    async def __call__(self, *, campaign: Campaign, directory: Path, now: datetime) -> ExportedFiles: ...


class ExportUnavailableError(Exception):
    """This process was started without an exporter."""


@dataclass(frozen=True, slots=True)
class CampaignChoice:
    """No campaign named and not exactly one open: the coordinator must pick one."""

    campaigns: tuple[CampaignProgress, ...]


@dataclass(frozen=True, slots=True)
class CampaignStatusReport:
    campaign: Campaign
    units: tuple[UnitProgress, ...]
    overdue: bool

    def count(self, status: ResponseStatus) -> int:
        return sum(1 for unit in self.units if unit.status is status)

    @property
    def not_submitted(self) -> tuple[UnitProgress, ...]:
        return tuple(unit for unit in self.units if unit.status is not ResponseStatus.SUBMITTED)

    @property
    def unreachable(self) -> tuple[tuple[str, str], ...]:
        """(unit, respondent) pairs that messages cannot reach."""
        return tuple((unit.name, person) for unit in self.units for person in unit.unreachable)


class CoordinatorService:
    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        clock: Callable[[], datetime] = utc_now,
        exporter: CampaignExporter | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.exporter = exporter

    async def authorize(self, *, user: ChannelUser, command: str) -> None:
        """Raise :class:`NotCoordinatorError` (and log it) unless ``user`` is a coordinator."""
        async with self.database.read() as session:
            allowed = await is_coordinator(
                session=session, telegram_ids=self.settings.admin_ids, channel=user.channel, external_id=user.external_id
            )
        if not allowed:
            logger.warning(
                "coordinator command %s refused for %s account %s (%s)",
                command,
                user.channel,
                user.external_id,
                user.display_name or "no name",
            )
            raise NotCoordinatorError(command)

    async def campaigns(self, *, user: ChannelUser) -> list[CampaignProgress]:
        await self.authorize(user=user, command="campaigns")
        async with self.database.read() as session:
            return await list_campaigns(session=session)

    async def pick_campaign(self, *, user: ChannelUser, command: str, campaign_id: int | None) -> Campaign | CampaignChoice:
        """The campaign named, or the only open one, or the choice to offer."""
        await self.authorize(user=user, command=command)
        async with self.database.read() as session:
            if campaign_id is not None:
                return await get_campaign(session=session, campaign_id=campaign_id)
            open_campaigns = await list_campaigns(session=session, status=CampaignStatus.OPEN)
        if len(open_campaigns) == 1:
            return open_campaigns[0].campaign
        if not open_campaigns:
            async with self.database.read() as session:
                return CampaignChoice(campaigns=tuple(await list_campaigns(session=session)))
        return CampaignChoice(campaigns=tuple(open_campaigns))

    async def status(self, *, user: ChannelUser, campaign_id: int | None) -> CampaignStatusReport | CampaignChoice:
        picked = await self.pick_campaign(user=user, command="status", campaign_id=campaign_id)
        if isinstance(picked, CampaignChoice):
            return picked
        async with self.database.read() as session:
            units = await list_unit_progress(session=session, campaign_id=picked.id)
        return CampaignStatusReport(campaign=picked, units=tuple(units), overdue=self.clock() >= picked.deadline)

    async def export(self, *, user: ChannelUser, campaign_id: int, directory: Path) -> ExportedFiles:
        """Write the campaign's workbook (and zip, when files were uploaded) into ``directory``.

        Checks the asking account like every other entry point.
        """
        await self.authorize(user=user, command="export")
        if self.exporter is None:
            raise ExportUnavailableError("no exporter was wired into this coordinator service")
        async with self.database.read() as session:
            campaign = await get_campaign(session=session, campaign_id=campaign_id)
        return await self.exporter(campaign=campaign, directory=directory, now=self.clock())


__all__ = [
    "CampaignChoice",
    "CampaignNotFoundError",
    "CampaignStatusReport",
    "CampaignExporter",
    "CoordinatorService",
    "ExportedFiles",
    "NotCoordinatorError",
]

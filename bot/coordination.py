"""The coordinator's side: who may ask, which campaigns there are, where each stands.

Every entry point takes the asking account and checks it on every call (the
configured ``SURVEYBOT_ADMIN_IDS`` or the coordinators table); a refusal is
logged with the account and the command. Results are the plain data of
:mod:`bot.core.campaigns`, never database rows; channels word them with
:mod:`bot.core.coordinator_wording`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import inspect

from bot.core.campaigns import (
    CampaignChoice,
    CampaignOverview,
    CampaignSummary,
    StatusReport,
    UnitState,
    UnitStatus,
)
from bot.service import ChannelUser
from bot.settings import Settings
from storage.campaigns import CampaignProgress, get_campaign, list_campaigns
from storage.coordinators import is_coordinator
from storage.database import Database
from storage.errors import CampaignNotFoundError
from storage.models import Campaign, CampaignStatus
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

    @property
    def report_book(self) -> Path | None: ...


class CampaignExporter(Protocol):
    """Writes a campaign's workbook (and zip) into ``directory``; wired in by :mod:`bot.cli`."""

    async def __call__(self, *, campaign: CampaignSummary, directory: Path, now: datetime) -> ExportedFiles: ...


class ExportUnavailableError(Exception):
    """This process was started without an exporter."""


def campaign_summary(campaign: Campaign) -> CampaignSummary:
    """The plain data of a stored campaign, its deadline in the campaign's time zone.

    The survey's id and question count are filled in when its survey version is loaded.
    """
    survey, questions = "", 0
    if "survey_version" not in inspect(campaign).unloaded:
        definition = campaign.survey_version.definition
        survey = campaign.survey_version.survey_id
        questions = sum(  # what a unit can answer: a note is no question
            1
            for section in definition.get("sections", ())
            for question in section.get("questions", ())
            if question.get("type") != "note"
        )
    return CampaignSummary(
        id=campaign.id,
        title=campaign.title,
        timezone=campaign.timezone,
        deadline=campaign.deadline.astimezone(ZoneInfo(campaign.timezone)),
        is_open=campaign.status is CampaignStatus.OPEN,
        survey=survey,
        questions=questions,
    )


def campaign_overview(progress: CampaignProgress) -> CampaignOverview:
    return CampaignOverview(
        campaign=campaign_summary(progress.campaign),
        units=progress.units,
        not_started=progress.not_started,
        in_progress=progress.in_progress,
        submitted=progress.submitted,
    )


def unit_status(progress: UnitProgress) -> UnitStatus:
    return UnitStatus(
        name=progress.name,
        state=UnitState(progress.status.value),
        unreachable=progress.unreachable,
        answered=progress.answered,
        last_activity=progress.last_activity_at,
    )


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

    async def is_coordinator(self, *, user: ChannelUser) -> bool:
        """Whether ``user`` is a coordinator now (nothing logged: for what only a coordinator is shown, like /help's part)."""
        async with self.database.read() as session:
            return await is_coordinator(
                session=session, telegram_ids=self.settings.admin_ids, channel=user.channel, external_id=user.external_id
            )

    async def authorize(self, *, user: ChannelUser, command: str) -> None:
        """Raise :class:`NotCoordinatorError` (and log it) unless ``user`` is a coordinator."""
        if not await self.is_coordinator(user=user):
            logger.warning(
                "coordinator command %s refused for %s account %s (%s)",
                command,
                user.channel,
                user.external_id,
                user.display_name or "no name",
            )
            raise NotCoordinatorError(command)

    async def campaigns(self, *, user: ChannelUser) -> list[CampaignOverview]:
        await self.authorize(user=user, command="campaigns")
        async with self.database.read() as session:
            return [campaign_overview(progress) for progress in await list_campaigns(session=session)]

    async def pick_campaign(
        self, *, user: ChannelUser, command: str, campaign_id: int | None
    ) -> CampaignSummary | CampaignChoice:
        """The campaign named, or the only open one, or the choice to offer.

        Raises :class:`NotCoordinatorError` and :class:`~storage.errors.CampaignNotFoundError`.
        """
        await self.authorize(user=user, command=command)
        async with self.database.read() as session:
            if campaign_id is not None:
                return campaign_summary(await get_campaign(session=session, campaign_id=campaign_id))
            open_campaigns = await list_campaigns(session=session, status=CampaignStatus.OPEN)
            if len(open_campaigns) == 1:
                return campaign_summary(open_campaigns[0].campaign)
            offered = open_campaigns or await list_campaigns(session=session)
        return CampaignChoice(campaigns=tuple(campaign_overview(progress) for progress in offered))

    async def status(self, *, user: ChannelUser, campaign_id: int | None) -> StatusReport | CampaignChoice:
        picked = await self.pick_campaign(user=user, command="status", campaign_id=campaign_id)
        if isinstance(picked, CampaignChoice):
            return picked
        async with self.database.read() as session:
            units = await list_unit_progress(session=session, campaign_id=picked.id)
        return StatusReport(
            campaign=picked, units=tuple(unit_status(unit) for unit in units), overdue=self.clock() >= picked.deadline
        )

    async def export(self, *, user: ChannelUser, campaign_id: int, directory: Path) -> ExportedFiles:
        """Write the campaign's workbook (and zip, when files were uploaded) into ``directory``.

        Checks the asking account like every other entry point.
        """
        await self.authorize(user=user, command="export")
        if self.exporter is None:
            raise ExportUnavailableError("no exporter was wired into this coordinator service")
        async with self.database.read() as session:
            campaign = campaign_summary(await get_campaign(session=session, campaign_id=campaign_id))
        return await self.exporter(campaign=campaign, directory=directory, now=self.clock())


__all__ = [
    "CampaignChoice",
    "CampaignNotFoundError",
    "CampaignExporter",
    "CampaignOverview",
    "CampaignSummary",
    "CoordinatorService",
    "ExportedFiles",
    "NotCoordinatorError",
    "StatusReport",
]

"""Campaigns: one survey version sent to a roster, due at a deadline."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.errors import CampaignNotFoundError, InvalidValueError
from storage.models import (
    DEFAULT_TIMEZONE,
    Campaign,
    CampaignStatus,
    Response,
    ResponseStatus,
    SurveyVersion,
    Unit,
)
from storage.rows import aware_now, is_row_id, require_aware

logger = logging.getLogger(__name__)

#: Reminders 3 days, 1 day and 2 hours before the deadline.
DEFAULT_REMINDER_OFFSETS: tuple[int, ...] = (
    int(timedelta(days=3).total_seconds()),
    int(timedelta(days=1).total_seconds()),
    int(timedelta(hours=2).total_seconds()),
)
TITLE_MAX_LENGTH = 200


@dataclass(frozen=True, slots=True)
class CampaignProgress:
    """A campaign with the counts of its units by response status."""

    campaign: Campaign
    units: int
    not_started: int
    in_progress: int
    submitted: int


def check_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValueError(
            f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai"
        ) from None


def normalize_reminder_offsets(offsets: Sequence[int]) -> list[int]:
    """Distinct positive offsets in seconds, largest (earliest reminder) first."""
    cleaned: set[int] = set()
    for offset in offsets:
        if isinstance(offset, bool) or not isinstance(offset, int) or offset <= 0:
            raise InvalidValueError(f"reminder offset {offset!r} must be a positive number of seconds")
        cleaned.add(offset)
    return sorted(cleaned, reverse=True)


async def create_campaign(
    *,
    session: AsyncSession,
    survey_version: SurveyVersion,
    title: str,
    deadline: datetime,
    timezone: str = DEFAULT_TIMEZONE,
    reminder_offsets: Sequence[int] = DEFAULT_REMINDER_OFFSETS,
    previous_campaign: Campaign | None = None,
    now: datetime | None = None,
) -> Campaign:
    """A new open campaign; the deadline must be timezone-aware and in the future.

    ``previous_campaign`` links it to last period's campaign (see :mod:`storage.periods`).
    """
    title = " ".join(title.split())
    if not title:
        raise InvalidValueError("the campaign title is empty")
    if len(title) > TITLE_MAX_LENGTH:
        raise InvalidValueError(f"the campaign title is longer than {TITLE_MAX_LENGTH} characters")
    require_aware(deadline, "the deadline")
    zone = check_timezone(timezone)
    if deadline <= aware_now(now):
        raise InvalidValueError(
            f"the deadline {deadline.astimezone(zone).isoformat(timespec='minutes')} is in the past"
        )
    campaign = Campaign(
        title=title,
        survey_version=survey_version,
        deadline=deadline,
        timezone=timezone,
        reminder_offsets=normalize_reminder_offsets(reminder_offsets),
        status=CampaignStatus.OPEN,
        previous_campaign_id=previous_campaign.id if previous_campaign is not None else None,
    )
    session.add(campaign)
    await session.flush()
    logger.info("created campaign %s %r", campaign.id, title)
    return campaign


async def get_campaign(
    *, session: AsyncSession, campaign_id: int, for_update: bool = False
) -> Campaign:
    """The campaign (with its survey version loaded), or :class:`CampaignNotFoundError`."""
    if not is_row_id(campaign_id):  # a typed number no row can have: no query, no driver overflow
        raise CampaignNotFoundError(campaign_id)
    statement = (
        select(Campaign)
        .where(Campaign.id == campaign_id)
        .options(selectinload(Campaign.survey_version))
    )
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    campaign = await session.scalar(statement)
    if campaign is None:
        raise CampaignNotFoundError(campaign_id)
    return campaign


async def list_campaigns(
    *, session: AsyncSession, status: CampaignStatus | None = None
) -> list[CampaignProgress]:
    """Every campaign, oldest first, with its unit counts by response status."""

    def count_status(value: ResponseStatus) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((Response.status == value, 1), else_=0)), 0)

    statement = (
        select(
            Campaign,
            func.count(Unit.id),
            count_status(ResponseStatus.NOT_STARTED),
            count_status(ResponseStatus.IN_PROGRESS),
            count_status(ResponseStatus.SUBMITTED),
        )
        .outerjoin(Unit, Unit.campaign_id == Campaign.id)
        .outerjoin(Response, Response.unit_id == Unit.id)
        .group_by(Campaign.id)
        .order_by(Campaign.id)
        .options(selectinload(Campaign.survey_version))
    )
    if status is not None:
        statement = statement.where(Campaign.status == status)
    rows = await session.execute(statement)
    return [
        CampaignProgress(
            campaign=campaign,
            units=int(units),
            not_started=int(not_started),
            in_progress=int(in_progress),
            submitted=int(submitted),
        )
        for campaign, units, not_started, in_progress, submitted in rows
    ]


async def close_campaign(
    *, session: AsyncSession, campaign: Campaign, now: datetime | None = None
) -> bool:
    """Close the campaign; False when it was closed already."""
    if campaign.status is CampaignStatus.CLOSED:
        return False
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = aware_now(now)
    await session.flush()
    logger.info("closed campaign %s", campaign.id)
    return True


async def reopen_campaign(*, session: AsyncSession, campaign: Campaign) -> bool:
    """Open the campaign again; False when it was open already."""
    if campaign.status is CampaignStatus.OPEN:
        return False
    campaign.status = CampaignStatus.OPEN
    campaign.closed_at = None
    await session.flush()
    logger.info("reopened campaign %s", campaign.id)
    return True

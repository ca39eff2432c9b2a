"""Setting a campaign up and running its lifecycle: create, close, reopen, move the deadline, set reminders.

One service for ``surveybot campaign create|close|reopen|deadline|set --remind`` and the
coordinator console's forms, so the two cannot drift. What a coordinator typed
wrong (an empty title, a past deadline, a previous campaign that shares no
question) is an expected outcome, returned as a :class:`SetupRejection` with
the field at fault; the caller words it. A campaign id that names no campaign
raises :class:`~storage.errors.CampaignNotFoundError`, as elsewhere.

Who may call is the caller's business: the CLI runs on the server; the console
checks the session and :meth:`bot.coordination.CoordinatorService.authorize`
on every request before it calls here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.core.previous import compare_surveys
from bot.core.survey import Survey
from bot.reminders import QUIET_HOURS, QuietHours, ReminderSlot, campaign_slots, spent_by_deadline_move
from bot.survey_cache import SurveyCache
from storage.campaigns import (
    TITLE_MAX_LENGTH,
    close_campaign,
    create_campaign,
    get_campaign,
    normalize_reminder_offsets,
    reopen_campaign,
)
from storage.contacts import add_email_contact
from storage.database import Database
from storage.errors import CampaignNotFoundError
from storage.rosters import RosterLine, add_units
from storage.surveys import store_survey

logger = logging.getLogger(__name__)


class SetupField(StrEnum):
    """The input a rejection is about (the console shows the message beside it)."""

    TITLE = "title"
    DEADLINE = "deadline"
    TIMEZONE = "timezone"
    PREVIOUS = "previous"


class SetupProblem(StrEnum):
    TITLE_EMPTY = "title_empty"
    TITLE_TOO_LONG = "title_too_long"
    DEADLINE_PAST = "deadline_past"
    ZONE_UNKNOWN = "zone_unknown"
    PREVIOUS_NOT_FOUND = "previous_not_found"
    #: No question of the new survey is asked with the same id and type in the previous campaign.
    PREVIOUS_NOTHING_CARRIES = "previous_nothing_carries"


@dataclass(frozen=True, slots=True)
class SetupRejection:
    """Why a campaign was not created (or its deadline not moved): nothing was stored."""

    field: SetupField
    problem: SetupProblem
    #: In English, for the terminal (the console words ``problem`` from its catalog).
    message: str


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    """Everything a new campaign is made of, parsed and checked by the caller's parsers."""

    survey: Survey
    title: str
    #: Timezone-aware.
    deadline: datetime
    #: The IANA zone the campaign's times are shown in.
    timezone: str
    #: Seconds before the deadline, largest first (``bot.core.durations.parse_reminder_offsets``).
    reminder_offsets: tuple[int, ...]
    roster: tuple[RosterLine, ...] = ()
    previous_campaign_id: int | None = None
    #: A WeCom group robot's webhook (checked by the caller) that gets each reminder slot's digest.
    wecom_group_webhook: str | None = None


@dataclass(frozen=True, slots=True)
class CreatedCampaign:
    campaign_id: int
    title: str
    deadline: datetime
    timezone: str
    reminder_offsets: tuple[int, ...]
    survey_id: str
    survey_version: str
    #: The stored survey version's row id and content hash.
    stored_version: int
    content_hash: str
    units: int
    contacts: int
    #: Units given a contact mobile number (mentioned by the WeCom group digest).
    mobiles: int = 0
    previous_campaign_id: int | None = None
    previous_title: str | None = None
    #: One line per question whose answer of last period does not carry over.
    mismatches: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeadlineMove:
    """A moved deadline and the reminders that now lie ahead."""

    campaign_id: int
    old_deadline: datetime
    new_deadline: datetime
    timezone: str
    #: Offsets never to be sent for this campaign any more (sent, or passed).
    spent_offsets: tuple[int, ...]
    #: The reminders still to come, in send order.
    upcoming: tuple[ReminderSlot, ...]


@dataclass(frozen=True, slots=True)
class ReminderChange:
    """A campaign's new reminder offsets and the reminders that now lie ahead."""

    campaign_id: int
    timezone: str
    #: Seconds before the deadline, largest first, as now stored.
    offsets: tuple[int, ...]
    #: Offsets never to be sent for this campaign (sent, or their time passed).
    spent_offsets: tuple[int, ...]
    #: The reminders still to come, in send order.
    upcoming: tuple[ReminderSlot, ...]


def check_title(title: str) -> str | SetupRejection:
    """The title as stored (spaces collapsed), or why not."""
    cleaned = " ".join(title.split())
    if not cleaned:
        return SetupRejection(SetupField.TITLE, SetupProblem.TITLE_EMPTY, "the campaign title is empty")
    if len(cleaned) > TITLE_MAX_LENGTH:
        return SetupRejection(
            SetupField.TITLE,
            SetupProblem.TITLE_TOO_LONG,
            f"the campaign title is longer than {TITLE_MAX_LENGTH} characters",
        )
    return cleaned


def check_deadline(deadline: datetime, *, now: datetime) -> SetupRejection | None:
    if deadline <= now:
        return SetupRejection(SetupField.DEADLINE, SetupProblem.DEADLINE_PAST, "the deadline is in the past")
    return None


class CampaignSetup:
    """Creates campaigns and runs their lifecycle over one database."""

    def __init__(self, *, database: Database, surveys: SurveyCache | None = None, quiet: QuietHours = QUIET_HOURS) -> None:
        self.database = database
        self.surveys = surveys or SurveyCache()
        self.quiet = quiet

    async def create(self, *, plan: CampaignPlan, now: datetime) -> CreatedCampaign | SetupRejection:
        """Store the survey version (if new), the campaign, its roster and the roster's e-mails, in one transaction."""
        title = check_title(plan.title)
        if isinstance(title, SetupRejection):
            return title
        past = check_deadline(plan.deadline, now=now)
        if past is not None:
            return past
        try:
            ZoneInfo(plan.timezone)
        except (ValueError, KeyError):
            return SetupRejection(
                SetupField.TIMEZONE,
                SetupProblem.ZONE_UNKNOWN,
                f"unknown time zone {plan.timezone!r}; use an IANA name such as Asia/Shanghai",
            )
        async with self.database.transaction() as session:
            previous = None
            mismatches: tuple[str, ...] = ()
            if plan.previous_campaign_id is not None:
                try:
                    previous = await get_campaign(session=session, campaign_id=plan.previous_campaign_id)
                except CampaignNotFoundError as error:
                    return SetupRejection(SetupField.PREVIOUS, SetupProblem.PREVIOUS_NOT_FOUND, str(error))
                earlier = self.surveys.compiled(version=previous.survey_version)
                comparison = compare_surveys(plan.survey, earlier)
                if not comparison.matched:
                    return SetupRejection(
                        SetupField.PREVIOUS,
                        SetupProblem.PREVIOUS_NOTHING_CARRIES,
                        f"no question of this survey is asked with the same id and type in campaign {previous.id} "
                        f"({earlier.id} version {earlier.version}), so nothing carries over; check that you named "
                        "last period's campaign of the same survey, or leave out --previous",
                    )
                mismatches = comparison.mismatches
            version = await store_survey(session=session, survey=plan.survey)
            campaign = await create_campaign(
                session=session,
                survey_version=version,
                title=title,
                deadline=plan.deadline,
                timezone=plan.timezone,
                reminder_offsets=plan.reminder_offsets,
                previous_campaign=previous,
                now=now,
            )
            campaign.wecom_group_webhook = plan.wecom_group_webhook
            contacts = 0
            if plan.roster:
                added = await add_units(session=session, campaign=campaign, names=[line.name for line in plan.roster])
                for unit, line in zip(added, plan.roster, strict=True):
                    unit.contact_mobile = line.mobile
                    if line.email is not None:
                        await add_email_contact(session=session, unit=unit, address=line.email, now=now)
                        contacts += 1
            created = CreatedCampaign(
                campaign_id=campaign.id,
                title=campaign.title,
                deadline=campaign.deadline,
                timezone=campaign.timezone,
                reminder_offsets=tuple(campaign.reminder_offsets),
                survey_id=version.survey_id,
                survey_version=version.version,
                stored_version=version.id,
                content_hash=version.content_hash,
                units=len(plan.roster),
                contacts=contacts,
                mobiles=sum(1 for line in plan.roster if line.mobile is not None),
                previous_campaign_id=previous.id if previous is not None else None,
                previous_title=previous.title if previous is not None else None,
                mismatches=mismatches,
            )
        logger.info(
            "campaign %s %r created on survey %s v%s with %d unit(s)",
            created.campaign_id,
            created.title,
            created.survey_id,
            created.survey_version,
            created.units,
        )
        return created

    async def close(self, *, campaign_id: int, now: datetime) -> bool:
        """Close the campaign (answers become read-only); False when it was closed already."""
        async with self.database.transaction() as session:
            campaign = await get_campaign(session=session, campaign_id=campaign_id, for_update=True)
            return await close_campaign(session=session, campaign=campaign, now=now)

    async def reopen(self, *, campaign_id: int) -> bool:
        """Open the campaign again (answers are taken until the deadline); False when it was open."""
        async with self.database.transaction() as session:
            campaign = await get_campaign(session=session, campaign_id=campaign_id, for_update=True)
            return await reopen_campaign(session=session, campaign=campaign)

    async def reminder_offsets(self, *, campaign_id: int) -> tuple[int, ...]:
        """The campaign's reminder offsets as stored (seconds before the deadline, largest first)."""
        async with self.database.read() as session:
            campaign = await get_campaign(session=session, campaign_id=campaign_id)
            return tuple(campaign.reminder_offsets or ())

    async def set_reminders(self, *, campaign_id: int, offsets: tuple[int, ...], now: datetime) -> ReminderChange:
        """Replace the reminder offsets; one whose time under the deadline has passed is spent, never sent late.

        The rule is a deadline move's that keeps the deadline
        (:func:`bot.reminders.spent_by_deadline_move`): a reminder already sent
        stays sent, and a new one whose time is past is not sent at once.
        """
        async with self.database.transaction() as session:
            campaign = await get_campaign(session=session, campaign_id=campaign_id, for_update=True)
            zone = ZoneInfo(campaign.timezone)
            stored = normalize_reminder_offsets(offsets)
            spent = spent_by_deadline_move(
                offsets=stored,
                spent=campaign.spent_reminder_offsets or (),
                old_deadline=campaign.deadline,
                new_deadline=campaign.deadline,
                created_at=campaign.created_at,
                now=now,
                zone=zone,
                quiet=self.quiet,
            )
            campaign.reminder_offsets = stored
            campaign.spent_reminder_offsets = spent
            await session.flush()
            upcoming = campaign_slots(deadline=campaign.deadline, offsets=stored, spent=spent, zone=zone, quiet=self.quiet)
            timezone = campaign.timezone
        logger.info("campaign %s: reminder offsets set to %s; spent: %s", campaign_id, stored, spent)
        return ReminderChange(
            campaign_id=campaign_id,
            timezone=timezone,
            offsets=tuple(stored),
            spent_offsets=tuple(spent),
            upcoming=tuple(slot for slot in upcoming if slot.send_at > now),
        )

    async def move_deadline(self, *, campaign_id: int, deadline: datetime, now: datetime) -> DeadlineMove | SetupRejection:
        """Move the deadline; the reminders not yet due move with it, those sent or passed are never sent again."""
        past = check_deadline(deadline, now=now)
        if past is not None:
            return past
        async with self.database.transaction() as session:
            campaign = await get_campaign(session=session, campaign_id=campaign_id, for_update=True)
            zone = ZoneInfo(campaign.timezone)
            old_deadline = campaign.deadline
            spent = spent_by_deadline_move(
                offsets=campaign.reminder_offsets or (),
                spent=campaign.spent_reminder_offsets or (),
                old_deadline=old_deadline,
                new_deadline=deadline,
                created_at=campaign.created_at,
                now=now,
                zone=zone,
                quiet=self.quiet,
            )
            campaign.deadline = deadline
            campaign.spent_reminder_offsets = spent
            await session.flush()
            upcoming = campaign_slots(
                deadline=deadline, offsets=campaign.reminder_offsets or (), spent=spent, zone=zone, quiet=self.quiet
            )
        logger.info(
            "campaign %s: deadline moved from %s to %s; reminder offsets spent: %s",
            campaign_id,
            old_deadline.isoformat(),
            deadline.isoformat(),
            spent,
        )
        return DeadlineMove(
            campaign_id=campaign_id,
            old_deadline=old_deadline,
            new_deadline=deadline,
            timezone=campaign.timezone,
            spent_offsets=tuple(spent),
            upcoming=tuple(slot for slot in upcoming if slot.send_at > now),
        )
